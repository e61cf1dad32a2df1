"""Reading: sources, framing, JSON lines, CSV/Parquet, canonical columns and line accounting."""
