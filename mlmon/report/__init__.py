"""Reports: results and alerts to text (tables, JSON). Renderers return values; they never print."""
