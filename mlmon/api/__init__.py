"""The library's entry points: read logs, select records, run accumulators, evaluate alerts.

One module per command; import from `mlmon.api` (the names below), not from the modules."""

from mlmon.api.check_report import CheckReport, check
from mlmon.api.compare_report import CompareReport, compare
from mlmon.api.drift import DriftReport, detect_drift
from mlmon.api.selection import Budget, Gates, Selection
from mlmon.api.summary import MissingField, SummaryReport, summarize
from mlmon.api.training import SAMPLE_BYTES, load_training, log_feature_names, profile_log, sample_features
from mlmon.api.trend_report import TrendReport, trend

__all__ = [
    "SAMPLE_BYTES",
    "Budget",
    "CheckReport",
    "CompareReport",
    "DriftReport",
    "Gates",
    "MissingField",
    "Selection",
    "SummaryReport",
    "TrendReport",
    "check",
    "compare",
    "detect_drift",
    "load_training",
    "log_feature_names",
    "profile_log",
    "sample_features",
    "summarize",
    "trend",
]
