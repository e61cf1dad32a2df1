"""mlmon: is my model in production still healthy? Serving health and drift from prediction logs.

The library (docs/python.md): `mlmon.summarize(source)`, `mlmon.detect_drift(source, baseline=...)`,
`mlmon.trend(source, every="1h")`, `mlmon.compare(source, control="v1")`, `mlmon.check(config)` and
`mlmon.Baseline`. A source is a path, a list of paths, a pandas DataFrame or a pyarrow Table; options
are keyword arguments named as the command line's flags; every result has to_dict(), to_json() and
to_pandas(). Each name is imported on first use: `import mlmon` loads nothing heavy."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from mlmon.api.baseline import Baseline
    from mlmon.api.check_report import CheckReport
    from mlmon.api.compare_report import CompareReport
    from mlmon.api.drift import DriftReport
    from mlmon.api.entry import compare, detect_drift, summarize, trend
    from mlmon.api.reading import Reading
    from mlmon.api.summary import SummaryReport
    from mlmon.api.trend_report import TrendReport
    from mlmon.errors import (
        BaselineError,
        ConfigError,
        DataError,
        ExitCode,
        MlmonError,
        NoInputError,
        OptionError,
        OutputError,
    )
    from mlmon.run.check_run import CheckRun
    from mlmon.run.config_run import check

_HOME = {
    "summarize": "mlmon.api.entry",
    "detect_drift": "mlmon.api.entry",
    "trend": "mlmon.api.entry",
    "compare": "mlmon.api.entry",
    "check": "mlmon.run.config_run",
    "CheckRun": "mlmon.run.check_run",
    "Baseline": "mlmon.api.baseline",
    "Reading": "mlmon.api.reading",
    "SummaryReport": "mlmon.api.summary",
    "DriftReport": "mlmon.api.drift",
    "TrendReport": "mlmon.api.trend_report",
    "CompareReport": "mlmon.api.compare_report",
    "CheckReport": "mlmon.api.check_report",
    **dict.fromkeys(
        ("MlmonError", "DataError", "NoInputError", "OptionError", "ConfigError", "BaselineError",
         "OutputError", "ExitCode"),
        "mlmon.errors",
    ),
}

__all__ = [
    "Baseline",
    "BaselineError",
    "CheckReport",
    "CheckRun",
    "CompareReport",
    "ConfigError",
    "DataError",
    "DriftReport",
    "ExitCode",
    "MlmonError",
    "NoInputError",
    "OptionError",
    "OutputError",
    "Reading",
    "SummaryReport",
    "TrendReport",
    "__version__",
    "check",
    "compare",
    "detect_drift",
    "summarize",
    "trend",
]


def __getattr__(name: str) -> Any:
    """`mlmon.X`: imports X's module on first use, then X is an ordinary attribute."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
