"""build_report: what the HTML report shows, from the same library calls as summary, drift and trend."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from mlmon.api.drift import DriftAccumulators, DriftReport, drift_plan, drift_report
from mlmon.api.quality import LabelOptions, by_window, prepare, with_join
from mlmon.api.selection import Budget, Selection, _read, _serving_plan
from mlmon.api.summary import SummaryReport, summary_report
from mlmon.api.trend_report import TrendAccumulators, TrendReport, trend_report
from mlmon.errors import DataError
from mlmon.read.fields import absent_message
from mlmon.read.reader import ReadOptions
from mlmon.read.records import FEATURE_PREFIX, SUMMARY_FIELDS, TIMESTAMP, TYPE_ERRORS, ReadPlan
from mlmon.rules.alerts import SummaryThresholds
from mlmon.stats.baseline import Baseline
from mlmon.stats.distributions import Distribution, distributions
from mlmon.stats.drift import DriftOptions
from mlmon.stats.summary import SummaryAccumulator, SummaryOptions
from mlmon.stats.windows import WindowOptions

NICE_WINDOWS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)
"""Window lengths (seconds) the report picks from when no --every is given."""
MAX_WINDOWS = 48


if TYPE_CHECKING:
    from mlmon.api.quality import LabelOptions


@dataclass(frozen=True)
class ReportData:
    """Everything one report shows: each part is the result its own command prints as JSON."""

    summary: SummaryReport
    trend: TrendReport | None
    """Serving health over time per model version; None when no record has a timestamp."""
    drift: DriftReport | None
    """None without a baseline."""
    distributions: tuple[Distribution, ...]
    every_given: bool
    """--every was given: the windows hold drift per feature too."""
    by: str = "model_version"


def auto_every(span_seconds: float | None) -> int:
    """The shortest nice window length that covers `span_seconds` in at most MAX_WINDOWS windows."""
    span = span_seconds or 0.0
    for s in NICE_WINDOWS:
        if span / s < MAX_WINDOWS:
            return s
    return NICE_WINDOWS[-1]


def _any_valid(t: pa.Table, columns: tuple[str, ...]) -> pa.Table:
    """The rows of `t` with a value in at least one of `columns` (all rows when each has one)."""
    present = [t.column(c) for c in columns if c in t.column_names]
    if not present:
        return t.slice(0, 0)
    if all(c.null_count == 0 for c in present):
        return t
    keep = pc.is_valid(present[0])
    for c in present[1:]:
        keep = pc.or_(keep, pc.is_valid(c))
    return t.filter(keep)


class ReportWindows:
    """The report's windows: `every_ns`, or, when not given, the length `auto_every` picks for the
    span read so far: windows start at a minute and are merged into longer ones as the span
    grows, so one read finds the length and fills the windows."""

    def __init__(self, every_ns: int | None, *, timezone: str, summary: SummaryOptions | None,
                 baseline: Baseline | None, drift: DriftOptions | None, by: str | None) -> None:
        self.auto = every_ns is None
        every = every_ns if every_ns is not None else NICE_WINDOWS[0] * 1_000_000_000
        self.accs = TrendAccumulators(WindowOptions(every_ns=every, timezone=timezone), summary=summary,
                                      baseline=baseline, drift=drift, by=by)
        self.first: int | None = None
        self.last: int | None = None

    def update(self, t: pa.Table) -> None:
        if self.auto and t.num_rows:  # the length first: a chunk never makes more windows than needed
            mm = pc.min_max(pc.cast(t.column(TIMESTAMP), pa.int64()))
            lo, hi = mm["min"].as_py(), mm["max"].as_py()
            if lo is not None and hi is not None:
                self.first = lo if self.first is None else min(self.first, lo)
                self.last = hi if self.last is None else max(self.last, hi)
                every = auto_every((self.last - self.first) / 1e9) * 1_000_000_000
                if every > (self.accs.windows.every_ns or 0):
                    self.accs.coarsen(every)
        self.accs.update(t)


def build_report(
    paths: list[str],
    *,
    baseline: Baseline | None = None,
    plan: ReadPlan | None = None,
    options: ReadOptions | None = None,
    selection: Selection | None = None,
    summary: SummaryOptions | None = None,
    thresholds: SummaryThresholds | None = None,
    drift: DriftOptions | None = None,
    every_ns: int | None = None,
    by: str = "model_version",
    budget: Budget | None = None,
    on_bytes: Callable[[int], None] | None = None,
    labels: LabelOptions | None = None,
) -> ReportData:
    """The summary (per `by`), the trend per window (every `every_ns`, or a length that gives at
    most 48 windows) and, with a baseline, the drift and each feature's two distributions, from
    one read of the logs.

    Each part takes the records its own command would: the summary those with a serving field,
    the drift those with a feature, the windows (with `every_ns` and a baseline: drift per
    window) those trend takes; so each part's numbers are the ones summary, drift and trend
    give. The input accounting is the read's: a line is a record when it has either. With
    `labels`, the summary holds the realized quality of the labelled predictions, as
    `summarize(labels=...)` does."""
    plan = plan or ReadPlan()
    sel = selection or Selection()
    read_plan, require = _serving_plan(plan, by, baseline)
    qacc = prepare(labels, options)
    if qacc is not None and labels is not None:
        read_plan = with_join(read_plan, labels)
    sacc = SummaryAccumulator(summary)
    dacc = DriftAccumulators(baseline, None) if baseline is not None else None
    win = ReportWindows(every_ns, timezone=plan.log_timezone, summary=summary,
                        baseline=baseline if every_ns is not None else None, drift=drift, by=by)
    feature_cols = tuple(c for c in require if c.startswith(FEATURE_PREFIX)) + (TYPE_ERRORS,)

    def update(t: pa.Table) -> None:
        served = _any_valid(t, SUMMARY_FIELDS) if dacc is not None else t
        sacc.update(served)
        if qacc is not None:
            qacc.update(served)
        win.update(t if every_ns is not None and dacc is not None else served)
        if dacc is not None:
            dacc.update(_any_valid(t, feature_cols))

    got = _read(paths, read_plan, require, options or ReadOptions(), sel, update, on_bytes)
    s = summary_report(sacc, got, plan=read_plan, selection=sel, thresholds=thresholds, budget=budget,
                       quality=qacc)
    o = s.result.overall
    tr: TrendReport | None = None
    if o.records and o.first_timestamp is not None:
        tr = trend_report(win.accs, got, selection=sel, thresholds=thresholds, drift=drift, budget=budget)
        if qacc is not None and s.quality is not None:  # realized quality window by window, as trend's
            bounds = [(w.window_start, w.start_ns, w.end_ns) for w in tr.windows]
            tr = dataclasses.replace(tr, quality=s.quality, quality_windows=by_window(
                qacc, bounds, positive=s.quality.overall.positive))
    d: DriftReport | None = None
    dists: tuple[Distribution, ...] = ()
    if dacc is not None and o.records:
        fields = read_plan.fields.features
        if dacc.records == 0 and not any(n == fields or n.startswith(fields + ".")
                                         for n in got.report.fields_seen):
            raise DataError(absent_message("--features-field", fields, "drift needs", got.report.fields_seen))
        dplan, _ = drift_plan(plan, dacc.baseline, None)
        d = drift_report(dacc, got, paths, plan=dplan, selection=sel, drift=drift, budget=budget)
        dists = distributions(dacc.overall)
        if dacc.overall.predictions is not None:  # the model's outputs against the baseline's
            dists += distributions(dacc.overall.predictions)
    return ReportData(s, tr, d, dists, every_ns is not None, by)
