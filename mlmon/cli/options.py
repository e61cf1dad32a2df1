"""Command-line options: their types and help, parsed once into the library's option objects."""

from __future__ import annotations

import math
import re
from enum import StrEnum
from typing import Annotated, Any

import typer

from mlmon.errors import OptionError


class FailOn(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"
    NEVER = "never"


class Fmt(StrEnum):
    TABLE = "table"
    JSON = "json"


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNITS = {"ms": 1e6, "s": 1e9, None: 1e9, "m": 60e9, "h": 3600e9, "d": 86400e9, "w": 604800e9}


MAX_DURATION_NS = 2**63 - 1
"""The longest span a nanosecond clock of 64 bits can hold: about 292 years."""


def parse_duration(text: str, option: str = "--last") -> int:
    """`90s`, `60m`, `2h`, `1d` to nanoseconds; longer than ~292 years is a usage error."""
    m = _DURATION.match(text)
    if not m or float(m.group(1)) <= 0:
        raise OptionError(f"{option}: {text!r} is not a duration like 30s, 60m, 2h or 1d")
    ns = float(m.group(1)) * _UNITS[m.group(2)]
    if not math.isfinite(ns) or ns >= MAX_DURATION_NS:
        raise OptionError(f"{option}: {text!r} is longer than mlmon's clock spans (about 292 years, 106000d)")
    return max(int(ns), 1)


def parse_budget(text: str) -> float | int:
    """`1%`, `0.5%` (a share of record lines), `0.01` (a share below 1) or `100` (a count).
    `100%` allows every line to be bad; NaN, infinity and negative values are refused."""
    t = text.strip()
    try:
        if t.endswith("%"):
            v = float(t[:-1]) / 100
            if not 0 <= v <= 1:
                raise ValueError
            return v if v < 1 else math.inf
        v = float(t)
        if not math.isfinite(v):
            raise ValueError
    except ValueError:
        raise OptionError(
            f"--max-bad-lines: {text!r} is not a share (0% to 100%, e.g. 1%) or a count (100)"
        ) from None
    if v < 0:
        raise OptionError("--max-bad-lines must not be negative")
    if v >= 1 and v != int(v):  # 1.5 was read as a count of 1; 1.5% was perhaps meant
        raise OptionError(f"--max-bad-lines: {text!r} is not a whole count; for a share write {t}%")
    return v if v < 1 else int(v)


def parse_range(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lo, hi = (float(x) for x in text.split(","))
        if math.isnan(lo) or math.isnan(hi):
            raise ValueError
    except ValueError:
        raise OptionError(f"--prediction-range: {text!r} is not LOW,HIGH (e.g. 0,1000)") from None
    if lo > hi:
        raise OptionError("--prediction-range: LOW is above HIGH")
    return lo, hi


_THRESHOLD_RULES: dict[str, tuple[bool, float, float, bool]] = {
    "--max-p95-ms": (True, 0.0, math.inf, False),
    "--max-p99-ms": (True, 0.0, math.inf, False),
    "--min-success-rate": (False, 0.0, 1.0, False),
    "--max-error-rate": (True, 0.0, 1.0, False),
    "--max-low-confidence-share": (True, 0.0, 1.0, False),
    "--max-out-of-range": (True, 0.0, math.inf, True),
    "--min-records": (False, 0.0, math.inf, True),
}
"""Option -> (upper limit?, lowest value, highest value, whole numbers only?)."""


def parse_threshold(text: str | None, option: str) -> Any:
    """`WARN[:CRIT]` (`250`, `250:400`, `:400`) to a rules.alerts.Threshold, checked for range and order.

    A bare number is returned as a float, so the rule keeps its own severity."""
    from mlmon.rules.alerts import Threshold

    if text is None:
        return None
    upper, lo, hi, whole = _THRESHOLD_RULES[option]
    parts = text.split(":")
    example = "250:400" if upper else "0.99:0.95"
    if len(parts) > 2 or not any(p.strip() for p in parts):
        raise OptionError(f"{option}: {text!r} is not WARN[:CRIT] (e.g. {example})")
    values: list[float | None] = []
    for p in parts:
        if not p.strip():
            values.append(None)
            continue
        try:
            v = float(p)
        except ValueError:
            raise OptionError(
                f"{option}: {p.strip()!r} is not a number (WARN[:CRIT], e.g. {example})"
            ) from None
        if not math.isfinite(v) or not lo <= v <= hi or (whole and v != int(v)):
            what = "a whole number" if whole else "a number"
            span = f"at least {lo:g}" if hi == math.inf else f"from {lo:g} to {hi:g}"
            raise OptionError(f"{option}: {p.strip()!r} must be {what} {span}")
        values.append(v)
    if len(values) == 1:
        return values[0]
    warn, crit = values
    if warn is not None and crit is not None and (crit < warn if upper else crit > warn):
        side = "above" if upper else "below"
        raise OptionError(
            f"{option}: the critical limit {crit:g} must be {side} the warning limit {warn:g} "
            f"(WARN:CRIT, e.g. {example})"
        )
    return Threshold(warning=warn, critical=crit)


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


def _read_options(max_line_bytes: int, max_decompressed_bytes: int | None) -> Any:
    """ReadOptions from the read options every log command takes; --max-decompression-ratio
    and --allow-large-window are taken from the running command's parameters."""
    from mlmon.read.reader import ReadOptions
    from mlmon.read.sources import DEFAULT_MAX_RATIO

    params = _current_params()
    ratio = float(params.get("max_decompression_ratio") or DEFAULT_MAX_RATIO)
    if ratio < 1:
        raise OptionError("--max-decompression-ratio must be at least 1")

    if max_line_bytes < 1:
        raise OptionError("--max-line-bytes must be positive")
    if max_decompressed_bytes is not None and max_decompressed_bytes < 1:
        raise OptionError("--max-decompressed-bytes must be positive")
    return ReadOptions(
        max_line_bytes=max_line_bytes,
        max_decompressed_bytes=max_decompressed_bytes,
        max_decompression_ratio=ratio,
        allow_large_window=bool(params.get("allow_large_window", False)),
        **_engine(params),
    )


def _engine(params: dict[str, Any]) -> dict[str, Any]:
    """--engine and --scheduler of the commands that take them."""
    engine = str(params.get("engine") or "local").strip().lower()
    scheduler = params.get("scheduler")
    if engine not in ("local", "dask"):
        raise OptionError(f"--engine {engine!r}: choose local or dask")
    if scheduler and engine != "dask":
        raise OptionError("--scheduler needs --engine dask")
    return {"engine": engine, "scheduler": scheduler or None}


def _current_params() -> dict[str, Any]:
    """The running command's parsed parameters ({} outside a command)."""
    try:
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - a typer that uses click itself
        from click import get_current_context  # type: ignore[import-not-found,no-redef,unused-ignore]
    ctx = get_current_context(silent=True)
    return dict(ctx.params) if ctx is not None else {}


_RELATIVE = re.compile(r"^\s*now\s*(?:([-+])\s*(.+))?$", re.IGNORECASE)
_EPOCH = re.compile(r"^\s*\d+(\.\d+)?\s*$")


def _instant(text: str, option: str, tz: str, now_ns: int | None = None) -> int:
    """ISO 8601, epoch seconds (ms, us, ns by magnitude, as in logs), `now`, `now-2h`, `now+30m`."""
    import time

    from mlmon.read.records import parse_instant

    m = _RELATIVE.match(text)
    if m:
        now = time.time_ns() if now_ns is None else now_ns
        if not m.group(1):
            return now
        span = parse_duration(m.group(2), option)
        return now - span if m.group(1) == "-" else now + span
    if _EPOCH.match(text):
        import pyarrow as pa

        from mlmon.read.records import parse_timestamps

        arr, bad = parse_timestamps(pa.array([None], pa.string()), pa.array([float(text)]), tz)
        ns = arr.cast(pa.int64())[0].as_py()
        if not bad[0] and ns is not None:
            return int(ns)
    ns = parse_instant(text, tz)
    year = re.match(r"\s*([+-]?\d{4,})-", text)
    if ns is None and year and not 1678 <= int(year.group(1)) <= 2261:
        raise OptionError(f"{option}: {text!r} is outside the times mlmon can hold (years 1678 to 2261)")
    if ns is None:
        raise OptionError(
            f"{option}: {text!r} is not a time: ISO 8601 (2026-11-01T10:00:00Z), epoch seconds, "
            "now, or now-2h"
        )
    return ns


def _selection(
    since: str | None,
    until: str | None,
    last: str | None,
    tz: str,
    window_rows: int | None = None,
    now_ns: int | None = None,
) -> Any:
    from mlmon.api import Selection

    given = (("--since", since, "now-1h"), ("--until", until, "now"), ("--last", last, "1h"))
    for option, value, example in given:
        if value is not None and not value.strip():
            # `--last "$WINDOW"` with WINDOW unset read the whole log as if no window was asked for
            raise OptionError(f"{option}: the value is empty; give one ({option} {example}) or leave it out")
    return Selection(
        since_ns=_instant(since, "--since", tz, now_ns) if since else None,
        until_ns=_instant(until, "--until", tz, now_ns) if until else None,
        last_ns=parse_duration(last) if last else None,
        window_rows=window_rows,
    )


def parse_max_age(text: str | None) -> Any:
    """`--max-age WARN[:CRIT]` durations (`1h`, `30m:2h`, `:2h`) to a Threshold in seconds; a bare
    duration is critical."""
    from mlmon.rules.alerts import Threshold

    if text is None:
        return None
    parts = text.split(":")
    if len(parts) > 2 or not any(p.strip() for p in parts):
        raise OptionError(f"--max-age: {text!r} is not WARN[:CRIT] durations (e.g. 1h or 30m:2h)")
    secs = [parse_duration(p, "--max-age") / 1e9 if p.strip() else None for p in parts]
    if len(secs) == 1:
        return secs[0]
    warn, crit = secs
    if warn is not None and crit is not None and crit < warn:
        raise OptionError(
            f"--max-age: the critical age {parts[1]} must not be below the warning age {parts[0]}"
        )
    return Threshold(warning=warn, critical=crit)


def _gates(min_records: str | None, max_age: str | None, now_ns: int) -> Any:
    from mlmon.api import Gates
    from mlmon.rules.alerts import TrafficRules

    return Gates(
        TrafficRules(
            min_records=parse_threshold(min_records, "--min-records"),
            max_age_seconds=parse_max_age(max_age),
        ),
        now_ns=now_ns,
    )


def _check_tz(tz: str) -> None:
    import zoneinfo

    if tz.upper() in ("UTC", "Z"):
        return
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise OptionError(f"--log-timezone: unknown time zone {tz!r} (e.g. UTC, Europe/Berlin)") from None


def _budget(max_bad_lines: str, strict: bool) -> Any:
    from mlmon.api import Budget

    return Budget(max_bad=parse_budget(max_bad_lines), strict=strict)



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
