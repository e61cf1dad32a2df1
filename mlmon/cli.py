"""The `mlmon` command: options in, one library call, a renderer, an exit code out."""

from __future__ import annotations

import contextlib
import importlib.abc
import os
import re
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from mlmon.errors import ExitCode, MlmonError, OptionError, OutputError

app = typer.Typer(
    name="mlmon",
    help=(
        "Is my model in production still healthy? mlmon reads the prediction logs a model "
        "service writes (JSON lines, plain or behind a Python logging prefix; CSV or Parquet "
        "feature logs; .gz/.bz2/.zst) and reports serving health and data drift.\n\n"
        "Exit codes: 0 ok, 1 alert at or above --fail-on, 2 usage error, 65 bad data, "
        "66 input missing, 70 internal error, 130 interrupted."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class FailOn(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"
    NEVER = "never"


class Fmt(StrEnum):
    TABLE = "table"
    JSON = "json"


_state = {"debug": False}


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
) -> None:
    _state["debug"] = debug


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(message: str, code: ExitCode) -> NoReturn:
    from mlmon.render import safe

    _stderr().print(f"mlmon: error: {safe(message)}", markup=False)
    raise typer.Exit(int(code))


def _tune_memory() -> None:
    """Keep peak memory low on big logs (measured in benchmarks/README.md).

    Arrow's default pool keeps freed blocks, and glibc raises its mmap threshold as large
    blocks are freed, after which they come from the heap and are not given back. So the CLI,
    which owns its process, uses the system allocator with a fixed 8 MiB mmap threshold: a
    kept latency page (8 MiB) or a freed block that size goes straight back to the operating
    system, while smaller buffers stay on the faster heap. Up to 16 MiB free at the top of the
    heap is kept rather than trimmed: each block's 4 MiB buffers then reuse warm pages (trimming
    them cost 0.2 s of page faults per 1M lines). The library leaves these choices to its
    caller; ARROW_DEFAULT_MEMORY_POOL, MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ set
    by the user win."""
    if sys.platform.startswith("linux"):
        import ctypes

        m_trim_threshold, m_mmap_threshold = -1, -3
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6")
            if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
                libc.mallopt(m_mmap_threshold, 8 << 20)
            if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
                libc.mallopt(m_trim_threshold, 16 << 20)
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())


class _WithoutPandas(importlib.abc.MetaPathFinder):
    """pyarrow looks for pandas the first time it converts Python or NumPy values, and
    importing pandas takes about 0.2 s while holding the interpreter lock. The console script
    never uses pandas, so its process answers that look with "not installed". Only `main`
    installs this: the library, and the app run inside another program, leave pandas alone."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {fullname!r} in the mlmon CLI", name=fullname)
        return None


def _skip_pandas() -> None:
    if "pandas" not in sys.modules and not any(isinstance(f, _WithoutPandas) for f in sys.meta_path):
        sys.meta_path.insert(0, _WithoutPandas())


@contextlib.contextmanager
def _handled() -> Iterator[None]:
    """Map every way a command can end to its exit code, in one place."""
    try:
        _tune_memory()
        yield
    except typer.Exit:
        raise
    except MlmonError as exc:
        report = getattr(exc, "report", None)
        if report is not None:
            _diagnostics(report)
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _stderr().print("mlmon: interrupted", markup=False)
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except BrokenPipeError:
        _silence_stdout()
        raise typer.Exit(int(ExitCode.OK)) from None
    except MemoryError:
        _fail("out of memory", ExitCode.INTERNAL)
    except Exception as exc:
        if _state["debug"]:
            raise
        _fail(
            f"internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)",
            ExitCode.INTERNAL,
        )


def _silence_stdout() -> None:
    """The reader went away (`| head`): point stdout at /dev/null so the exit is quiet,
    as other Unix tools do (Python would otherwise complain while flushing)."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNITS = {"ms": 1e6, "s": 1e9, None: 1e9, "m": 60e9, "h": 3600e9, "d": 86400e9, "w": 604800e9}


def parse_duration(text: str) -> int:
    """`90s`, `60m`, `2h`, `1d` to nanoseconds."""
    m = _DURATION.match(text)
    if not m or float(m.group(1)) <= 0:
        raise OptionError(f"--last: {text!r} is not a duration like 30s, 60m, 2h or 1d")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def parse_budget(text: str) -> float | int:
    t = text.strip()
    try:
        if t.endswith("%"):
            v = float(t[:-1]) / 100
            if not 0 <= v < 1:
                raise ValueError
            return v
        v = float(t)
    except ValueError:
        raise OptionError(f"--max-bad-lines: {text!r} is not a share (1%, 0.5%) or a count (100)") from None
    if v < 0:
        raise OptionError("--max-bad-lines must not be negative")
    return v if v < 1 else int(v)


def parse_range(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lo, hi = (float(x) for x in text.split(","))
    except ValueError:
        raise OptionError(f"--prediction-range: {text!r} is not LOW,HIGH (e.g. 0,1000)") from None
    if lo > hi:
        raise OptionError("--prediction-range: LOW is above HIGH")
    return lo, hi


Logs = Annotated[
    list[str], typer.Argument(help="Log files, directories, globs, or - for stdin.", show_default=False)
]
FormatOpt = Annotated[Fmt, typer.Option("--format", "-f", help="table (for people) or json (for programs).")]
FailOnOpt = Annotated[FailOn, typer.Option(help="Exit 1 when an alert at or above this severity fires.")]
Since = Annotated[str | None, typer.Option(help="Only records at or after this time (ISO 8601).")]
Until = Annotated[str | None, typer.Option(help="Only records at or before this time (ISO 8601).")]
Last = Annotated[
    str | None, typer.Option(help="Only the last span (60m, 2h, 1d) up to the newest record or --until.")
]
TimestampField = Annotated[str, typer.Option(help="Dotted path of the timestamp field.")]
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
MaxLine = Annotated[int, typer.Option(help="Lines longer than this many bytes are skipped and counted.")]
MaxDecomp = Annotated[
    int | None, typer.Option(help="Stop when a compressed input expands past this many bytes.")
]


def _read_options(max_line_bytes: int, max_decompressed_bytes: int | None) -> Any:
    from mlmon.reader import ReadOptions

    if max_line_bytes < 1:
        raise OptionError("--max-line-bytes must be positive")
    return ReadOptions(max_line_bytes=max_line_bytes, max_decompressed_bytes=max_decompressed_bytes)


def _instant(text: str, option: str, tz: str) -> int:
    from mlmon.records import parse_instant

    ns = parse_instant(text, tz)
    if ns is None:
        raise OptionError(f"{option}: {text!r} is not an ISO 8601 time (2026-11-01T10:00:00Z)")
    return ns


def _selection(
    since: str | None, until: str | None, last: str | None, tz: str, window_rows: int | None = None
) -> Any:
    from mlmon.api import Selection

    return Selection(
        since_ns=_instant(since, "--since", tz) if since else None,
        until_ns=_instant(until, "--until", tz) if until else None,
        last_ns=parse_duration(last) if last else None,
        window_rows=window_rows,
    )


def _check_tz(tz: str) -> None:
    import zoneinfo

    if tz.upper() in ("UTC", "Z"):
        return
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise OptionError(f"--log-timezone: unknown time zone {tz!r} (e.g. UTC, Europe/Berlin)") from None


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[int], None] | None]:
    """A transient progress line on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TransferSpeedColumn

    with Progress(
        SpinnerColumn(),
        "reading",
        DownloadColumn(),
        TransferSpeedColumn(),
        BarColumn(),
        console=_stderr(),
        transient=True,
    ) as prog:
        task = prog.add_task("read", total=None)
        yield lambda n: prog.advance(task, n)


def _emit(text_or_renderable: Any, fmt: Fmt) -> None:
    if fmt is Fmt.JSON:
        sys.stdout.write(text_or_renderable)
        sys.stdout.flush()
    else:
        width = None if sys.stdout.isatty() else 120
        Console(highlight=False, width=width).print(text_or_renderable)


def _diagnostics(report: Any) -> None:
    from mlmon.records import NOT_BAD
    from mlmon.render import example_lines, safe

    err = _stderr()
    for f in report.truncated:
        err.print(
            f"mlmon: warning: {safe(f.source)}: {safe(f.truncated)}; its complete lines were read",
            markup=False,
        )
    bad = tuple(e for e in report.examples if e.reason not in NOT_BAD)
    if report.bad_lines:
        err.print(f"mlmon: warning: {report.bad_lines} bad line(s) not used; the first:", markup=False)
        for line in example_lines(bad):
            err.print("  " + line, markup=False)


def _exit_for(alerts: tuple[Any, ...], fail_on: FailOn) -> NoReturn:
    from mlmon.alerts import Severity, worst

    w = worst(alerts)
    if fail_on is not FailOn.NEVER and w is not None and w.rank >= Severity(fail_on.value).rank:
        raise typer.Exit(int(ExitCode.ALERT))
    raise typer.Exit(int(ExitCode.OK))


@app.command()
def summary(
    logs: Logs,
    fmt: FormatOpt = Fmt.TABLE,
    by: Annotated[
        str, typer.Option(help="Group by this field (dotted path); '' for no grouping.")
    ] = "model_version",
    since: Since = None,
    until: Until = None,
    last: Last = None,
    low_confidence: Annotated[float, typer.Option(help="Confidence below this counts as low.")] = 0.5,
    prediction_range: Annotated[
        str | None, typer.Option(help="LOW,HIGH: numeric predictions outside it are counted (e.g. 0,1000).")
    ] = None,
    max_p95_ms: Annotated[
        float | None, typer.Option(help="Alert (warning) when p95 latency is above this.")
    ] = None,
    max_p99_ms: Annotated[
        float | None, typer.Option(help="Alert (warning) when p99 latency is above this.")
    ] = None,
    min_success_rate: Annotated[
        float | None, typer.Option(help="Alert (critical) below this success rate (0.99).")
    ] = None,
    max_error_rate: Annotated[
        float | None, typer.Option(help="Alert (critical) above this error rate (0.01).")
    ] = None,
    max_low_confidence_share: Annotated[
        float | None, typer.Option(help="Alert (warning) when more than this share has low confidence.")
    ] = None,
    max_out_of_range: Annotated[
        int | None,
        typer.Option(
            help="Alert (warning) when more numeric predictions than this are out of --prediction-range."
        ),
    ] = None,
    fail_on: FailOnOpt = FailOn.WARNING,
    timestamp_field: TimestampField = "timestamp",
    latency_field: Annotated[str, typer.Option(help="Dotted path of the latency in ms.")] = "latency_ms",
    status_field: Annotated[str, typer.Option(help="Dotted path of the status text.")] = "status",
    success_field: Annotated[
        str, typer.Option(help="Dotted path of a boolean success flag (used when there is no status).")
    ] = "success",
    success_value: Annotated[
        list[str] | None,
        typer.Option(help="Status values that mean success (repeatable; default success, ok)."),
    ] = None,
    prediction_field: Annotated[
        str, typer.Option(help="Dotted path of the prediction: an object, a number or a label.")
    ] = "prediction",
    class_field: Annotated[
        str, typer.Option(help="Dotted path of the predicted class.")
    ] = "prediction.class",
    confidence_field: Annotated[
        str, typer.Option(help="Dotted path of the confidence.")
    ] = "prediction.confidence",
    record_marker: Marker = None,
    log_timezone: LogTz = "UTC",
    max_bad_lines: MaxBad = "1%",
    strict: Strict = False,
    max_line_bytes: MaxLine = 16 << 20,
    max_decompressed_bytes: MaxDecomp = None,
) -> None:
    """Serving health and model behaviour: counts, success rate, latency percentiles,
    class shares and confidence, per model version and overall.

    Example: mlmon summary logs/*.jsonl.gz --last 60m --max-p99-ms 250 --min-success-rate 0.99
    """
    with _handled():
        from mlmon.alerts import SummaryThresholds
        from mlmon.api import summarize
        from mlmon.records import FieldMap, ReadPlan
        from mlmon.render import summary_json, summary_table
        from mlmon.summary import SummaryOptions

        _check_tz(log_timezone)
        fields = FieldMap(
            timestamp=timestamp_field,
            latency=latency_field,
            status=status_field,
            success=success_field,
            prediction=prediction_field,
            pred_class=class_field,
            confidence=confidence_field,
        )
        values = (
            frozenset(v.lower() for v in success_value) if success_value else frozenset({"success", "ok"})
        )
        plan = ReadPlan(
            fields=fields,
            by=by or None,
            record_marker=record_marker,
            log_timezone=log_timezone,
            success_values=values,
        )
        with _progress() as on_bytes:
            rep = summarize(
                logs,
                plan=plan,
                options=_read_options(max_line_bytes, max_decompressed_bytes),
                selection=_selection(since, until, last, log_timezone),
                summary=SummaryOptions(
                    low_confidence=low_confidence, prediction_range=parse_range(prediction_range)
                ),
                thresholds=SummaryThresholds(
                    max_p95_ms,
                    max_p99_ms,
                    min_success_rate,
                    max_error_rate,
                    max_low_confidence_share,
                    max_out_of_range,
                ),
                budget=_budget(max_bad_lines, strict),
                on_bytes=on_bytes,
            )
        _diagnostics(rep.input)
        _emit(summary_json(rep, by=plan.by) if fmt is Fmt.JSON else summary_table(rep, by=plan.by), fmt)
    _exit_for(rep.alerts, fail_on)


def _budget(max_bad_lines: str, strict: bool) -> Any:
    from mlmon.api import Budget

    return Budget(max_bad=parse_budget(max_bad_lines), strict=strict)


@app.command()
def baseline(
    training_data: Annotated[
        str, typer.Argument(help="Training data: CSV, Parquet or JSON lines (may be compressed).")
    ],
    output: Annotated[str, typer.Option("--output", "-o", help="Where to write the baseline JSON.")],
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            help="Columns that are not features (repeatable); the timestamp field is always left out."
        ),
    ] = None,
    timestamp_field: TimestampField = "timestamp",
    grid: Annotated[
        int, typer.Option(help="Quantile edges kept per numeric feature (more = finer KS).")
    ] = 1001,
) -> None:
    """Profile training data into a baseline file for `mlmon drift --baseline`.

    Per numeric feature: n, mean, std, min, max and a quantile grid; per categorical
    feature (text, booleans): category counts. Versioned JSON with a checksum, never pickle.
    """
    with _handled():
        from mlmon.api import load_training
        from mlmon.baseline import save
        from mlmon.render import safe

        if grid < 11:
            raise OptionError("--grid must be at least 11")
        b = load_training(training_data, exclude={timestamp_field, *(exclude or [])}, max_edges=grid)
        try:
            save(b, output)
        except OSError as exc:
            raise OutputError(f"cannot write baseline {output!r}: {exc.strerror or exc}") from None
        _stderr().print(
            f"mlmon: wrote {safe(output)}: {len(b.features)} features from {b.rows} rows "
            f"({sum(1 for f in b.features if f.numeric)} numeric, "
            f"{sum(1 for f in b.features if f.categorical)} categorical)",
            markup=False,
            highlight=False,
        )


@app.command()
def drift(
    logs: Logs,
    baseline_path: Annotated[
        str | None, typer.Option("--baseline", "-b", help="A baseline made by `mlmon baseline`.")
    ] = None,
    reference: Annotated[
        str | None, typer.Option(help="Training data to profile on the fly (exact KS) instead of --baseline.")
    ] = None,
    fmt: FormatOpt = Fmt.TABLE,
    p_threshold: Annotated[float, typer.Option(help="Drift needs a BH-adjusted p-value below this.")] = 0.05,
    min_effect: Annotated[
        float,
        typer.Option(help="...and an effect (KS D, or PSI for categories) at least this; 0 = p-value only."),
    ] = 0.1,
    mean_tolerance: Annotated[
        float,
        typer.Option(help="Alert when a mean moves more than this share of the baseline mean (0.2 = 20%)."),
    ] = 0.2,
    min_samples: Annotated[
        int, typer.Option(help="Fewer values than this give insufficient_data, not a verdict.")
    ] = 30,
    critical_effect: Annotated[
        float, typer.Option(help="Drift with an effect at least this is critical, else a warning.")
    ] = 0.25,
    window_rows: Annotated[
        int | None, typer.Option(help="Compare only the newest N records (by timestamp).")
    ] = None,
    since: Since = None,
    until: Until = None,
    last: Last = None,
    fail_on: FailOnOpt = FailOn.WARNING,
    timestamp_field: TimestampField = "timestamp",
    features_field: FeaturesField = "input.features",
    record_marker: Marker = None,
    log_timezone: LogTz = "UTC",
    max_bad_lines: MaxBad = "1%",
    strict: Strict = False,
    max_line_bytes: MaxLine = 16 << 20,
    max_decompressed_bytes: MaxDecomp = None,
) -> None:
    """Data drift of each feature against the training baseline: mean deviation (the 20% rule),
    KS for numbers, chi-square for categories, Benjamini-Hochberg across features.

    Example: mlmon drift logs/today.jsonl --baseline baseline.json --format json
    """
    with _handled():
        from mlmon.api import detect_drift, load_training
        from mlmon.baseline import load
        from mlmon.drift import DriftOptions
        from mlmon.records import FieldMap, ReadPlan
        from mlmon.render import drift_json, drift_table

        if (baseline_path is None) == (reference is None):
            raise OptionError("give exactly one of --baseline FILE or --reference TRAINING_DATA")
        if window_rows is not None and window_rows < 1:
            raise OptionError("--window-rows must be at least 1")
        if not 0 < p_threshold <= 1 or min_effect < 0 or min_samples < 2:
            raise OptionError("--p-threshold must be in (0, 1], --min-effect >= 0, --min-samples >= 2")
        _check_tz(log_timezone)
        if baseline_path is not None:
            base = load(baseline_path)
        else:
            base = load_training(str(reference), exclude={timestamp_field}, max_edges=None)
        plan = ReadPlan(
            fields=FieldMap(timestamp=timestamp_field, features=features_field),
            record_marker=record_marker,
            log_timezone=log_timezone,
        )
        with _progress() as on_bytes:
            rep = detect_drift(
                logs,
                base,
                plan=plan,
                options=_read_options(max_line_bytes, max_decompressed_bytes),
                selection=_selection(since, until, last, log_timezone, window_rows),
                drift=DriftOptions(
                    p_threshold=p_threshold,
                    min_effect=min_effect,
                    mean_tolerance=mean_tolerance,
                    min_samples=min_samples,
                    critical_effect=critical_effect,
                ),
                budget=_budget(max_bad_lines, strict),
                on_bytes=on_bytes,
            )
        _diagnostics(rep.input)
        _emit(drift_json(rep) if fmt is Fmt.JSON else drift_table(rep), fmt)
    _exit_for(rep.alerts, fail_on)


def main() -> None:
    """Console-script entry point."""
    _skip_pandas()
    try:
        app()
    except BrokenPipeError:
        _silence_stdout()
        sys.exit(int(ExitCode.OK))
    except KeyboardInterrupt:
        sys.stderr.write("mlmon: interrupted\n")
        sys.exit(int(ExitCode.INTERRUPTED))

