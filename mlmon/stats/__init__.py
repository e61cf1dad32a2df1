"""Statistics: mergeable accumulators and their frozen results (summary, drift, baselines)."""
