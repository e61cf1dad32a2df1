"""Command-line options: their types and help, parsed once into the library's option objects."""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

import typer

from mlmon.api.options import MAX_DURATION_NS as MAX_DURATION_NS
from mlmon.api.options import budget as budget
from mlmon.api.options import check_tz as check_tz
from mlmon.api.options import gates as gates
from mlmon.api.options import parse_budget as parse_budget
from mlmon.api.options import parse_duration as parse_duration
from mlmon.api.options import parse_max_age as parse_max_age
from mlmon.api.options import parse_range as parse_range
from mlmon.api.options import parse_threshold as parse_threshold
from mlmon.api.options import read_options
from mlmon.api.options import selection as selection
from mlmon.errors import OptionError


class FailOn(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"
    NEVER = "never"


class Fmt(StrEnum):
    TABLE = "table"
    JSON = "json"


Logs = Annotated[
    list[str], typer.Argument(help="Log files, directories, globs, or - for stdin.", show_default=False)
]
FormatOpt = Annotated[Fmt, typer.Option("--format", "-f", help="table (for people) or json (for programs).")]
FailOnOpt = Annotated[FailOn, typer.Option(help="Exit 1 when an alert at or above this severity fires.")]
Since = Annotated[
    str | None,
    typer.Option(
        help="Only records at or after this time: ISO 8601, epoch seconds, now, or now-2h.",
        metavar="TIME",
        show_default=False,
    ),
]
Until = Annotated[
    str | None,
    typer.Option(
        help="Only records at or before this time (as --since); --until now --last 1h is the last hour.",
        metavar="TIME",
        show_default=False,
    ),
]
Last = Annotated[
    str | None,
    typer.Option(
        help="Only the last span (60m, 2h, 1d), ending at the newest record, or at --until.",
        metavar="SPAN",
        show_default=False,
    ),
]
MinRecords = Annotated[
    str | None,
    typer.Option(
        help="Alert when fewer records are selected, WARN[:CRIT], such as 1000:100; one number is critical. "
        "An empty selection always alerts.",
        metavar="WARN[:CRIT]",
        show_default=False,
    ),
]
MaxAge = Annotated[
    str | None,
    typer.Option(
        help="Alert when the newest selected record is older than this (30m, 2h; 30m:2h = warning, "
        "critical); one duration is critical.",
        metavar="DURATION",
        show_default=False,
    ),
]
TimestampField = Annotated[str, typer.Option(help="Dotted path of the timestamp field.")]
LatencyField = Annotated[str, typer.Option(help="Dotted path of the latency in ms.")]
StatusField = Annotated[str, typer.Option(help="Dotted path of the status text.")]
SuccessField = Annotated[
    str, typer.Option(help="Dotted path of a boolean success flag (used when there is no status).")
]
SuccessValue = Annotated[
    list[str] | None,
    typer.Option(help="Status values that mean success (repeatable; default success, ok)."),
]
PredictionField = Annotated[
    str, typer.Option(help="Dotted path of the prediction: an object, a number or a label.")
]
ClassField = Annotated[str, typer.Option(help="Dotted path of the predicted class.")]
ConfidenceField = Annotated[str, typer.Option(help="Dotted path of the confidence.")]
FeaturesField = Annotated[
    str, typer.Option(help="Dotted path of the features: a list (by position) or an object (by name).")
]
Marker = Annotated[
    str | None,
    typer.Option(
        help="Only lines containing this text are records; their JSON follows it (e.g. 'Prediction: ')."
    ),
]
LogTz = Annotated[
    str, typer.Option(help="Time zone of timestamps written without an offset (e.g. Europe/Berlin).")
]
MaxBad = Annotated[
    str, typer.Option(help="Bad lines allowed before exit 65: a share of record lines (1%) or a count.")
]
Strict = Annotated[bool, typer.Option(help="Any bad line or truncated file is fatal (exit 65).")]
MaxLine = Annotated[
    int,
    typer.Option(help="Lines (a CSV row too) longer than this many bytes are skipped, counted as oversized."),
]
MaxDecomp = Annotated[
    int | None, typer.Option(help="Stop when a compressed input expands past this many bytes.")
]


Width = Annotated[
    int | None,
    typer.Option(
        "--width",
        metavar="N",
        help=(
            "Lay tables out for N columns. Default: the terminal's width, else COLUMNS, else "
            "(redirected, e.g. cron mail) as wide as the content needs."
        ),
        show_default=False,
    ),
]
Include = Annotated[
    list[str] | None,
    typer.Option(
        "--include",
        metavar="GLOB",
        help=(
            "Read these files of a directory argument (repeatable; matched against the name or the "
            "path below the directory, e.g. '*.jsonl'). Default: log files by name (.jsonl, .ndjson, "
            ".json, .log, rotated .log.N, .csv, .tsv, .parquet, .pq; compressed too); the rest is "
            "left out with a note. Files named on the command line are always read."
        ),
        show_default=False,
    ),
]
ConfigFile = Annotated[
    str | None,
    typer.Option(
        "--config",
        help="Config file whose keys give this command's defaults; default: mlmon.toml, or "
        "[tool.mlmon] in pyproject.toml, from here up.",
        show_default=False,
    ),
]
"""Listed in help; the command group takes it from the arguments before the command's own options."""
NoConfig = Annotated[
    bool, typer.Option("--no-config", help="Use no config file, not even one found from here up.")
]
Quiet = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="Table output: only the verdict line (OK: ... / ALERT: ...) and the alerts, e.g. for cron mail.",
    ),
]


MaxRatio = Annotated[
    float,
    typer.Option(
        "--max-decompression-ratio",
        help=(
            "Stop (exit 65) when a compressed input expands more than this many times "
            "(checked past 16 MiB of output), as a decompression bomb does."
        ),
    ),
]
LargeWindow = Annotated[
    bool,
    typer.Option(
        "--allow-large-window",
        help="Read zstd files written with a window over 128 MiB (zstd --long); they need that much memory.",
    ),
]

EngineName = Annotated[
    str,
    typer.Option(
        "--engine",
        help=(
            "local: read here, file after file. dask: one task per file on a Dask cluster "
            "(--scheduler, or one started on this machine), the results merged; the same answers "
            "(pip install 'mlmon[dask]')."
        ),
    ),
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDRESS",
        help=(
            "--engine dask: the Dask scheduler (tcp://host:8786); without it a cluster starts on "
            "this machine."
        ),
    ),
]


def reading(params: Mapping[str, Any]) -> Any:
    """The reading options among a command's parameters (its `locals()`: fields, record window,
    bad lines, limits, engine, --include) as one mlmon.api.reading.Reading, for the library."""
    from mlmon.api.reading import FIELDS, Reading

    return Reading(**{name: value for name, value in params.items() if name in FIELDS})


def read_options_given(max_line_bytes: int, max_decompressed_bytes: int | None) -> Any:
    """ReadOptions from the read options every log command takes; --max-decompression-ratio
    and --allow-large-window are taken from the running command's parameters."""
    params = _current_params()
    return read_options(
        max_line_bytes,
        max_decompressed_bytes,
        params.get("max_decompression_ratio"),
        bool(params.get("allow_large_window", False)),
        params.get("engine") or "local",  # the commands that take --engine and --scheduler
        params.get("scheduler") or None,
    )


def _current_params() -> dict[str, Any]:
    """The running command's parsed parameters ({} outside a command)."""
    try:
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - a typer that uses click itself
        from click import get_current_context  # type: ignore[import-not-found,no-redef,unused-ignore]
    ctx = get_current_context(silent=True)
    return dict(ctx.params) if ctx is not None else {}


_RANGES: dict[str, tuple[float, float, bool, str]] = {
    "p_threshold": (0.0, 1.0, True, "in (0, 1]"),
    "low_confidence": (0.0, 1.0, False, "from 0 to 1"),
    "min_effect": (0.0, math.inf, False, "at least 0"),
    "critical_effect": (0.0, math.inf, False, "at least 0"),
    "mean_tolerance": (0.0, math.inf, False, "at least 0"),
    "max_line_bytes": (1.0, math.inf, False, "at least 1"),
    "max_decompressed_bytes": (1.0, math.inf, False, "at least 1"),
    "width": (1.0, math.inf, False, "at least 1"),
    "max_decompression_ratio": (1.0, math.inf, False, "at least 1"),
    "window_rows": (1.0, math.inf, False, "at least 1"),
}
"""Parameter -> (lowest, highest, lowest excluded?, in words), checked for every command."""

_INT64_MAX = 2**63 - 1


_PATH_PARAMS = frozenset(
    {"logs", "log", "data", "path", "paths", "baseline", "reference", "output", "outputs", "config", "state",
     "include", "file", "files"}
)
"""Parameters that name files or globs: their bytes need not be UTF-8 (a file name is bytes)."""


def check_texts(params: dict[str, Any], flags: dict[str, str]) -> None:
    """Every text option that is not a file name: valid UTF-8. A byte the locale cannot decode
    reaches Python as a lone surrogate (`--by $'\\xff'`), which no field name, marker, status or
    time can hold: a usage error (exit 2), never an internal error."""
    for name, value in params.items():
        if name in _PATH_PARAMS:
            continue
        for v in value if isinstance(value, list | tuple) else [value]:
            if not isinstance(v, str) or v.isascii():
                continue
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                flag = flags.get(name, "--" + name.replace("_", "-"))
                shown = v.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                raise OptionError(f"{flag}: '{shown}' is not valid UTF-8 text") from None


def check_numbers(params: dict[str, Any], flags: dict[str, str]) -> None:
    """Every numeric option of every command: finite (no NaN, no infinity: `1e400` is
    infinity), whole numbers that fit 64 bits, and within the range in _RANGES.

    `params` are the parsed values by parameter name; `flags` maps a name to its flag."""
    for name, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | float):
                continue
            flag = flags.get(name, "--" + name.replace("_", "-"))
            if isinstance(v, float) and not math.isfinite(v):
                raise OptionError(f"{flag}: {v} is not a finite number")
            if isinstance(v, int) and abs(v) > _INT64_MAX:
                raise OptionError(f"{flag}: {v} is too large")
            if name in _RANGES:
                lo, hi, open_low, words = _RANGES[name]
                if not (lo < v if open_low else lo <= v) or v > hi:
                    raise OptionError(f"{flag} must be {words} (got {v:g})")


LabelsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--labels",
        "--label-files",
        metavar="FILE",
        help="Files of true labels (JSON lines, CSV or Parquet; repeatable, globs and folders too), "
        "joined to the predictions by --join-field: realized performance (accuracy, F1, AUC, MAE...).",
        show_default=False,
    ),
]
LabelField = Annotated[
    str,
    typer.Option(help="Dotted path of the true label (a class) or value (regression) in the labels files."),
]
JoinField = Annotated[
    str,
    typer.Option(help="Dotted path of the key (a request id) in the labels files and the prediction log."),
]


class TaskChoice(StrEnum):
    AUTO = "auto"
    CLASSIFICATION = "classification"
    REGRESSION = "regression"


TaskOpt = Annotated[
    TaskChoice,
    typer.Option(
        "--task",
        help="auto: classification when the predictions carry a class, else regression (a bare whole "
        "number read as a value: give classification).",
    ),
]
PositiveClass = Annotated[
    str | None,
    typer.Option(
        help="Binary classification: the class whose probability ROC AUC and the Brier score use "
        "(default: the larger of the two, 1 of 0/1).",
        show_default=False,
    ),
]


def _labels(
    labels: list[str] | None, label_field: str, join_field: str, task: TaskChoice, positive: str | None
) -> Any:
    """LabelOptions from the labels options, or None without --labels."""
    if not labels:
        if positive is not None or task is not TaskChoice.AUTO:
            raise OptionError("--task and --positive-class need --labels FILE")
        return None
    from mlmon.api.quality import LabelOptions
    from mlmon.stats.performance import Task

    chosen = None if task is TaskChoice.AUTO else Task(task.value)
    return LabelOptions(tuple(labels), label_field, join_field, chosen, positive)
