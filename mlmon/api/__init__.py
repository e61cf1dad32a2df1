"""The library's entry points: read logs, select records, run accumulators, evaluate alerts.

One module per command; import from `mlmon.api` (the names below), not from the modules. Each
module is imported when one of its names is first used, so a program (or the `mlmon` command)
that runs one report does not load the others and their dependencies."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlmon.api.check_report import CheckReport, check
    from mlmon.api.compare_report import CompareReport, compare
    from mlmon.api.drift import DriftReport, detect_drift
    from mlmon.api.selection import Budget, Gates, Selection
    from mlmon.api.summary import MissingField, SummaryReport, summarize
    from mlmon.api.training import (
        SAMPLE_BYTES,
        load_training,
        log_feature_names,
        profile_log,
        sample_features,
    )
    from mlmon.api.trend_report import TrendReport, trend

_MODULES = {
    "check_report": ("CheckReport", "check"),
    "compare_report": ("CompareReport", "compare"),
    "drift": ("DriftReport", "detect_drift"),
    "selection": ("Budget", "Gates", "Selection"),
    "summary": ("MissingField", "SummaryReport", "summarize"),
    "training": ("SAMPLE_BYTES", "load_training", "log_feature_names", "profile_log", "sample_features"),
    "trend_report": ("TrendReport", "trend"),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}

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


def __getattr__(name: str) -> Any:
    """`mlmon.api.X`: imports X's module on first use, then X is an ordinary attribute."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
