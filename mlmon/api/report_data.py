"""build_report: what the HTML report shows, from the same library calls as summary, drift and trend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from mlmon.api.drift import DriftReport, detect_drift
from mlmon.api.selection import Budget, Selection, _read
from mlmon.api.summary import SummaryReport, summarize
from mlmon.api.trend_report import TrendReport, trend
from mlmon.read.reader import ReadOptions
from mlmon.read.records import FEATURE_PREFIX, FeatureSpec, ReadPlan
from mlmon.rules.alerts import SummaryThresholds
from mlmon.stats.baseline import Baseline
from mlmon.stats.distributions import Distribution, distributions
from mlmon.stats.drift import DriftAccumulator, DriftOptions
from mlmon.stats.summary import SummaryOptions
from mlmon.stats.windows import WindowOptions

NICE_WINDOWS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)
"""Window lengths (seconds) the report picks from when no --every is given."""
MAX_WINDOWS = 48


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


def log_distributions(
    paths: list[str],
    baseline: Baseline,
    *,
    plan: ReadPlan | None = None,
    options: ReadOptions | None = None,
    selection: Selection | None = None,
) -> tuple[Distribution, ...]:
    """Each baseline feature's distribution in the selected records and in the baseline."""
    base_plan = plan or ReadPlan()
    specs = tuple(FeatureSpec(f.name, f.kind) for f in baseline.features)
    plan = ReadPlan(
        fields=base_plan.fields, by=None, summary=False, features=specs,
        record_marker=base_plan.record_marker, log_timezone=base_plan.log_timezone,
    )
    acc = DriftAccumulator(baseline)
    require = tuple(FEATURE_PREFIX + s.name for s in specs)

    def update(t: pa.Table) -> None:
        acc.update(t)

    _read(paths, plan, require, options or ReadOptions(), selection or Selection(), update, None)
    return distributions(acc)


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
) -> ReportData:
    """The summary (per `by`), the trend per window (every `every_ns`, or a length that gives at
    most 48 windows) and, with a baseline, the drift and each feature's two distributions."""
    plan = plan or ReadPlan()
    grouped = ReadPlan(
        fields=plan.fields, by=by, record_marker=plan.record_marker,
        log_timezone=plan.log_timezone, success_values=plan.success_values,
    )
    s = summarize(paths, plan=grouped, options=options, selection=selection, summary=summary,
                  thresholds=thresholds, budget=budget, on_bytes=on_bytes)
    o = s.result.overall
    tr: TrendReport | None = None
    if o.records and o.first_timestamp is not None:
        every = every_ns if every_ns is not None else auto_every(o.span_seconds) * 1_000_000_000
        tr = trend(
            paths, windows=WindowOptions(every_ns=every, timezone=plan.log_timezone),
            plan=plan, options=options, selection=selection, summary=summary, thresholds=thresholds,
            baseline=baseline if every_ns is not None else None, drift=drift, budget=budget, by=by,
        )
    d: DriftReport | None = None
    dists: tuple[Distribution, ...] = ()
    if baseline is not None and o.records:
        d = detect_drift(paths, baseline, plan=plan, options=options, selection=selection, drift=drift,
                         budget=budget)
        dists = log_distributions(paths, baseline, plan=plan, options=options, selection=selection)
    return ReportData(s, tr, d, dists, every_ns is not None, by)
