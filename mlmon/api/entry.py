"""The public entry points (`mlmon.summarize`, ...): a source and keyword options named as the
command line's flags in, a result with to_dict / to_json / to_pandas out. The commands of the CLI
call these, so a notebook and `mlmon COMMAND --format json` get the same document.

The reading options every log command shares (fields, record window, bad lines, limits, engine)
are one `Reading` value (`reading=`); each of them is also taken as a keyword argument of its
own name, on top of `reading`."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from mlmon.api import options as opt
from mlmon.api.frames import renamed, sources
from mlmon.api.reading import Reading, Span, span
from mlmon.errors import OptionError

if TYPE_CHECKING:
    from mlmon.api.compare_report import CompareReport
    from mlmon.api.drift import DriftReport
    from mlmon.api.summary import SummaryReport
    from mlmon.api.trend_report import TrendReport
    from mlmon.rules.alerts import SummaryThresholds

OnBytes = Callable[[int], None]
Progress = Callable[[list[str]], AbstractContextManager[OnBytes | None]]
"""Given the files about to be read, a context whose value is called with each count of bytes
read (the CLI's progress line), or None."""

Threshold = str | float | None
"""`WARN[:CRIT]` as the flag takes it (`"250:400"`, `":400"`), or one number."""


@contextlib.contextmanager
def _no_progress(files: list[str]) -> Iterator[None]:
    yield None


def _text(value: Threshold) -> str | None:
    """A threshold as the flag's text: numbers as written (`250`, `0.99`)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OptionError(f"a threshold must be WARN[:CRIT] text or a number, not {type(value).__name__}")
    return repr(value) if isinstance(value, float) else str(value)


def _thresholds(p95: Threshold, p99: Threshold, success: Threshold, error: Threshold,
                low_confidence: Threshold, out_of_range: Threshold, **more: Any) -> SummaryThresholds:
    """The summary's alert rules from the threshold options, each checked (in this order)."""
    from mlmon.rules.alerts import SummaryThresholds

    return SummaryThresholds(
        max_p95_ms=opt.parse_threshold(_text(p95), "--max-p95-ms"),
        max_p99_ms=opt.parse_threshold(_text(p99), "--max-p99-ms"),
        min_success_rate=opt.parse_threshold(_text(success), "--min-success-rate"),
        max_error_rate=opt.parse_threshold(_text(error), "--max-error-rate"),
        max_low_confidence_share=opt.parse_threshold(_text(low_confidence), "--max-low-confidence-share"),
        max_out_of_range=opt.parse_threshold(_text(out_of_range), "--max-out-of-range"),
        **more,
    )


def _range(value: str | Sequence[float] | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if len(value) != 2:
        raise OptionError("--prediction-range: give LOW,HIGH (e.g. (0, 1000))")
    return f"{value[0]!r},{value[1]!r}"


_LOCAL_ONLY = ("engine", "scheduler", "include")
"""Reading options of `summarize` and `detect_drift` that `trend` and `compare` do not take."""


def _now_ns(now: float | None) -> int:
    return time.time_ns() if now is None else round(now * 1e9)


def summarize(
    source: Any,
    *,
    by: str | None = "model_version",
    low_confidence: float = 0.5,
    top_classes: int = 20,
    prediction_range: str | Sequence[float] | None = None,
    max_p95_ms: Threshold = None,
    max_p99_ms: Threshold = None,
    min_success_rate: Threshold = None,
    max_error_rate: Threshold = None,
    max_low_confidence_share: Threshold = None,
    max_out_of_range: Threshold = None,
    min_samples: int = 30,
    min_records: Threshold = None,
    max_age: Span = None,
    labels: str | list[str] | None = None,
    label_field: str = "label",
    join_field: str = "request_id",
    task: str = "auto",
    positive_class: str | None = None,
    now: float | None = None,
    on_note: Callable[[str], None] | None = None,
    progress: Progress | None = None,
    reading: Reading | None = None,
    **options: Any,
) -> SummaryReport:
    """Serving health and model behaviour of `source` (`mlmon summary`): counts, success rate with
    its interval, latency percentiles, class shares and confidence, per `by` group and overall;
    thresholds (`max_p99_ms="250:400"`) become alerts. With `labels` (files of ground truth joined
    on `join_field`), the realized quality too. `now` (epoch seconds) is the clock of `now-...`
    times and `max_age`. `reading` and `options`: the reading options (`Reading`)."""
    from mlmon.api.summary import summarize as run
    from mlmon.stats.summary import SummaryOptions

    read = Reading.of(reading, options, "summarize")
    now_ns = _now_ns(now)
    opt.check_tz(read.log_timezone)
    thresholds = _thresholds(max_p95_ms, max_p99_ms, min_success_rate, max_error_rate,
                             max_low_confidence_share, max_out_of_range, min_samples=min_samples)
    if min_samples < 1:
        raise OptionError("--min-samples must be at least 1")
    if max_out_of_range is not None and prediction_range is None:
        raise OptionError("--max-out-of-range needs --prediction-range LOW,HIGH")
    plan = read.plan(by or None)
    with sources(source) as (paths, names):
        paths = read.picked(paths, on_note, read.serving())
        with (progress or _no_progress)(paths) as on_bytes:
            rep = run(
                paths,
                plan=plan,
                options=read.limits(),
                selection=read.selection(now_ns=now_ns),
                summary=SummaryOptions(
                    low_confidence=low_confidence,
                    prediction_range=opt.parse_range(_range(prediction_range)),
                    top_classes=top_classes,
                ),
                thresholds=thresholds,
                gates=opt.gates(_text(min_records), span(max_age, "--max-age"), now_ns),
                budget=read.budget(),
                on_bytes=on_bytes,
                labels=opt.label_options(labels, label_field, join_field, task, positive_class),
            )
    return renamed(rep, names)  # type: ignore[no-any-return]


def detect_drift(
    source: Any,
    baseline: Any = None,
    *,
    reference: Any = None,
    p_threshold: float = 0.05,
    min_effect: float = 0.05,
    mean_tolerance: float = 0.2,
    min_samples: int = 30,
    critical_effect: float = 0.25,
    max_unseen_share: float = 0.01,
    critical_unseen_share: float = 0.05,
    window_rows: int | None = None,
    by: str | None = None,
    min_records: Threshold = None,
    max_age: Span = None,
    now: float | None = None,
    on_note: Callable[[str], None] | None = None,
    progress: Progress | None = None,
    reading: Reading | None = None,
    **options: Any,
) -> DriftReport:
    """Data drift of each feature of `source` against `baseline` (a Baseline or a baseline file) or
    `reference` (training data: a path or a DataFrame, profiled exactly), as `mlmon drift`: KS,
    chi-square, the mean test and unseen categories, Benjamini-Hochberg across all tests.
    `reading` and `options`: the reading options (`Reading`)."""
    from mlmon.api.baseline import as_baseline
    from mlmon.api.drift import detect_drift as run
    from mlmon.stats.drift import DriftOptions

    read = Reading.of(reading, options, "detect_drift")
    now_ns = _now_ns(now)
    if (baseline is None) == (reference is None):
        raise OptionError("give exactly one of --baseline FILE or --reference TRAINING_DATA")
    if window_rows is not None and window_rows < 1:
        raise OptionError("--window-rows must be at least 1")
    if not 0 < p_threshold <= 1 or not 0 <= min_effect <= 1 or min_samples < 2:
        raise OptionError("--p-threshold must be in (0, 1], --min-effect in [0, 1], --min-samples >= 2")
    shares = (critical_effect, max_unseen_share, critical_unseen_share)
    if not all(0 <= s <= 1 for s in shares) or not 0 <= mean_tolerance < 1e300:
        raise OptionError(
            "--critical-effect, --max-unseen-share and --critical-unseen-share must be in [0, 1], "
            "--mean-tolerance a finite number >= 0"
        )
    opt.check_tz(read.log_timezone)
    if reference is not None and isinstance(reference, str | os.PathLike):
        from mlmon.api.training import load_training

        base = load_training(os.fspath(reference), exclude={read.timestamp_field}, max_edges=None,
                             max_bytes=read.max_decompressed_bytes,
                             max_ratio=read.max_decompression_ratio)
    else:
        base = as_baseline(baseline, reference, timestamp_field=read.timestamp_field, grid=None)
    plan = read.plan(None)
    with sources(source) as (paths, names):
        paths = read.picked(paths, on_note)
        with (progress or _no_progress)(paths) as on_bytes:
            rep = run(
                paths,
                base,
                plan=plan,
                options=read.limits(),
                selection=read.selection(window_rows, now_ns=now_ns),
                gates=opt.gates(_text(min_records), span(max_age, "--max-age"), now_ns),
                drift=DriftOptions(
                    p_threshold=p_threshold,
                    min_effect=min_effect,
                    mean_tolerance=mean_tolerance,
                    min_samples=min_samples,
                    critical_effect=critical_effect,
                    max_unseen_share=max_unseen_share,
                    critical_unseen_share=critical_unseen_share,
                ),
                budget=read.budget(),
                on_bytes=on_bytes,
                by=by or None,
            )
    return renamed(rep, names)  # type: ignore[no-any-return]


def trend(
    source: Any,
    *,
    every: str | dt.timedelta | int = "1h",
    by: str | None = None,
    min_window_records: int = 30,
    smooth: int | None = None,
    approx: bool = False,
    baseline: Any = None,
    reference: Any = None,
    p_threshold: float = 0.05,
    min_effect: float = 0.05,
    critical_effect: float = 0.25,
    low_confidence: float = 0.5,
    prediction_range: str | Sequence[float] | None = None,
    max_p95_ms: Threshold = None,
    max_p99_ms: Threshold = None,
    min_success_rate: Threshold = None,
    max_error_rate: Threshold = None,
    max_low_confidence_share: Threshold = None,
    max_out_of_range: Threshold = None,
    for_windows: int = 1,
    evidence: bool = True,
    include_partial: bool = False,
    labels: str | list[str] | None = None,
    label_field: str = "label",
    join_field: str = "request_id",
    task: str = "auto",
    positive_class: str | None = None,
    progress: Progress | None = None,
    reading: Reading | None = None,
    **options: Any,
) -> TrendReport:
    """`source` window by window (`mlmon trend`): `every` a clock span (`"1h"`, a timedelta) or a
    number of records; per window the summary (and, with a baseline, the drift), and the alerts
    that fire now (crossed in each of the last `for_windows` windows); with `labels`, the realized
    quality window by window. `reading` and `options`: the reading options (`Reading`) but
    `engine`, `scheduler` and `include`."""
    from mlmon.api.baseline import as_baseline
    from mlmon.api.trend_report import trend as run
    from mlmon.stats.baseline import GRID_EDGES
    from mlmon.stats.drift import DriftOptions
    from mlmon.stats.summary import SummaryOptions
    from mlmon.stats.windows import WindowOptions

    read = Reading.of(reading, options, "trend", without=_LOCAL_ONLY)
    whole = isinstance(every, int) and not isinstance(every, bool)
    every_text = str(every) if whole else span(every, "--every")  # type: ignore[arg-type]
    every_ns, every_records = opt.parse_every(str(every_text))
    if for_windows < 1:
        raise OptionError("--for must be at least 1 window")
    if min_window_records < 1:
        raise OptionError("--min-window-records must be at least 1")
    if smooth is not None and smooth < 1:
        raise OptionError("--smooth must be at least 1 window")
    if baseline is not None and reference is not None:
        raise OptionError("give at most one of --baseline FILE or --reference TRAINING_DATA")
    opt.check_tz(read.log_timezone)
    # training data on the grid a saved baseline has: a window's drift state is then ~16 KB a feature
    base = as_baseline(baseline, reference, timestamp_field=read.timestamp_field, grid=GRID_EDGES)
    plan = read.plan(None)
    windows = WindowOptions(every_ns=every_ns, every_records=every_records, timezone=read.log_timezone,
                            min_records=min_window_records, approx=approx, smooth=smooth)
    with sources(source) as (paths, names), (progress or _no_progress)(paths) as on_bytes:
        rep = run(
            paths,
            windows=windows,
            plan=plan,
            options=read.limits(engine=False),
            selection=read.selection(),
            summary=SummaryOptions(low_confidence=low_confidence,
                                   prediction_range=opt.parse_range(_range(prediction_range))),
            thresholds=_thresholds(max_p95_ms, max_p99_ms, min_success_rate, max_error_rate,
                                   max_low_confidence_share, max_out_of_range),
            baseline=base,
            drift=DriftOptions(p_threshold=p_threshold, min_effect=min_effect,
                               critical_effect=critical_effect),
            for_windows=for_windows,
            evidence=evidence,
            include_partial=include_partial,
            budget=read.budget(),
            on_bytes=on_bytes,
            by=by or None,
            labels=opt.label_options(labels, label_field, join_field, task, positive_class),
        )
    return renamed(rep, names)  # type: ignore[no-any-return]


def compare(
    source: Any,
    *,
    control: str,
    by: str = "model_version",
    tolerance: Sequence[str] | dict[str, float] | None = None,
    alpha: float = 0.05,
    min_group_records: int = 30,
    baseline: Any = None,
    reference: Any = None,
    approx: bool = False,
    labels: str | list[str] | None = None,
    label_field: str = "label",
    join_field: str = "request_id",
    task: str = "auto",
    positive_class: str | None = None,
    progress: Progress | None = None,
    reading: Reading | None = None,
    **options: Any,
) -> CompareReport:
    """Each version (`by`) of `source` against the `control` version on the same span (`mlmon
    compare`): success rate, latency, classes, confidence, and with a baseline each feature of
    the traffic; `tolerance` (`{"success_rate": 0.005}`) is the difference that still passes.
    `reading` and `options`: the reading options (`Reading`) but `engine`, `scheduler` and
    `include`."""
    from mlmon.api.baseline import as_baseline
    from mlmon.api.compare_report import compare as run
    from mlmon.stats.compare import CompareOptions

    read = Reading.of(reading, options, "compare", without=_LOCAL_ONLY)
    if isinstance(tolerance, dict):
        tolerance = [f"{k}={v!r}" for k, v in tolerance.items()]
    tolerances = opt.parse_tolerances(list(tolerance) if tolerance else None)
    if not 0 < alpha < 1:
        raise OptionError("--alpha must be between 0 and 1")
    if min_group_records < 2:
        raise OptionError("--min-group-records must be at least 2")
    if not by:
        raise OptionError("--by must name the field that holds the version")
    if baseline is not None and reference is not None:
        raise OptionError("give at most one of --baseline FILE or --reference TRAINING_DATA")
    opt.check_tz(read.log_timezone)
    base = as_baseline(baseline, reference, timestamp_field=read.timestamp_field, grid=None)
    plan = read.plan(by)
    with sources(source) as (paths, names), (progress or _no_progress)([]) as on_bytes:
        rep = run(
            paths,
            control=control,
            by=by,
            plan=plan,
            options=read.limits(engine=False),
            selection=read.selection(),
            compare_options=CompareOptions(alpha=alpha, min_records=min_group_records, tolerance=tolerances,
                                           approx=approx),
            baseline=base,
            budget=read.budget(),
            on_bytes=on_bytes,
            labels=opt.label_options(labels, label_field, join_field, task, positive_class),
        )
    return renamed(rep, names)  # type: ignore[no-any-return]
