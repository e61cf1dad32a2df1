"""Rules: thresholds evaluated against results, giving alerts with severities."""
