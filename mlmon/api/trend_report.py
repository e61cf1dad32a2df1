"""trend: the selected records window by window, with alerts that persist."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from mlmon.api.results import Result
from mlmon.api.selection import Budget, Freshness, Selection, _iso, _Read, _read, _serving_plan, freshness
from mlmon.errors import DataError
from mlmon.numfmt import p_value
from mlmon.read.reader import InputReport, ReadOptions, check_budget
from mlmon.read.records import ReadPlan
from mlmon.rules.alerts import Alert, Severity, SummaryThresholds, TrafficRules, traffic_alerts
from mlmon.rules.persist import Firing, persisting, window_alerts
from mlmon.stats import evidence as ev
from mlmon.stats.baseline import Baseline
from mlmon.stats.drift import DriftOptions
from mlmon.stats.evidence import Evidence
from mlmon.stats.grouped_windows import GroupedWindowAccumulator
from mlmon.stats.summary import SummaryOptions, group_text
from mlmon.stats.windows import Window, WindowAccumulator, WindowOptions, mark_partial

if TYPE_CHECKING:
    from mlmon.api.quality import LabelOptions, QualityAccumulator
    from mlmon.stats.performance import Performance, QualityReport


@dataclass(frozen=True)
class TrendReport(Result):
    """The selected records window by window, with the alerts firing now. `to_pandas()`: one row
    per window, overall (`scope` "overall") and per group."""

    input: InputReport
    records: int
    """Valid records selected, in a window or not."""
    filtered_out: int
    without_timestamp: int
    """Selected records without a time: they belong to no window (counted, never dropped silently)."""
    options: WindowOptions
    windows: tuple[Window, ...]
    baseline_source: str | None
    breaches: tuple[tuple[Alert, ...], ...]
    """Per window, the thresholds it crossed (the evidence)."""
    alerts: tuple[Alert, ...]
    """Alerts firing now: crossed in each of the last --for windows; the last window decides."""
    firing: tuple[Firing, ...]
    out_of_order: int = 0
    """With record-count windows: records older than one read before them (windows follow read
    order, so they may overlap in time)."""
    by: str | None = None
    groups: tuple[TrendGroup, ...] = ()
    """With `by`: each group's windows, the thresholds each crossed, and what fires now."""
    freshness: Freshness | None = None
    """The newest record's age against the span read (None when no record has a time)."""
    evidence: tuple[Evidence, ...] = ()
    """With a baseline: every window where a feature's evidence, accumulated over the latest
    windows, passes the test held to 5% per 48 windows (mlmon/stats/evidence.py); the last
    window's fire."""
    partial_excluded: bool = False
    """The last window is partial (still filling) and was not judged: the verdict, --for and the
    evidence come from the complete windows (--include-partial judges it)."""
    quality: QualityReport | None = None
    """Realized performance over all the labelled predictions (None without labels)."""
    quality_windows: tuple[tuple[str, Performance], ...] = ()
    """With labels: each window's realized performance (window start, metrics), in window order."""

    def to_dict(self) -> dict[str, Any]:
        from mlmon.api.documents import trend_doc

        return trend_doc(self)

    def _rows(self, doc: dict[str, Any]) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        rows = [{"scope": "overall", "group": None, **w} for w in doc["windows"]]
        for g in doc.get("groups", []):
            rows += [{"scope": "group", "group": g["group"], **w} for w in g["windows"]]
        return rows, ("scope", "group", "window_start", "window_end", "status", "records")


def _where(by: str | None, group: str | None) -> str:
    return f"records without {by}" if group is None else f"{by} {group_text(group)}"


@dataclass(frozen=True)
class TrendGroup:
    """One group's (model version's) windows, judged as the whole is: the last window decides."""

    group: str | None
    """The --by field's value; None for the records without the field."""
    records: int
    windows: tuple[Window, ...]
    breaches: tuple[tuple[Alert, ...], ...]
    firing: tuple[Firing, ...]


def trend(
    paths: list[str],
    *,
    windows: WindowOptions,
    plan: ReadPlan | None = None,
    options: ReadOptions | None = None,
    selection: Selection | None = None,
    summary: SummaryOptions | None = None,
    thresholds: SummaryThresholds | None = None,
    baseline: Baseline | None = None,
    drift: DriftOptions | None = None,
    for_windows: int = 1,
    budget: Budget | None = None,
    on_bytes: Callable[[int], None] | None = None,
    by: str | None = None,
    evidence: bool = True,
    include_partial: bool = False,
    labels: LabelOptions | None = None,
) -> TrendReport:
    """The records in `paths` window by window: a summary (and drift) per window, alerts that persist
    (and, with `by`, the same for each group's records: windows per model version)."""
    plan, require = _serving_plan(plan, by, baseline)
    accs = TrendAccumulators(windows, summary=summary, baseline=baseline, drift=drift, by=by)
    qacc: QualityAccumulator | None = None
    if labels is not None:
        from mlmon.api.quality import prepare, with_join

        qacc = prepare(labels, options)
        plan = with_join(plan, labels)

    def update(t: pa.Table) -> None:
        accs.update(t)
        if qacc is not None:
            qacc.update(t)

    sel = selection or Selection()
    got = _read(paths, plan, require, options or ReadOptions(), sel, update, on_bytes)
    rep = trend_report(accs, got, selection=sel, thresholds=thresholds, drift=drift, for_windows=for_windows,
                       budget=budget, evidence=evidence, include_partial=include_partial)
    if qacc is None:
        return rep
    from mlmon.api.quality import by_window

    quality = qacc.result(by=by)
    bounds = [(w.window_start, w.start_ns, w.end_ns) for w in rep.windows]
    per_window = by_window(qacc, bounds, positive=quality.overall.positive)
    return dataclasses.replace(rep, quality=quality, quality_windows=per_window)


class TrendAccumulators:
    """Trend's state over one read: the windows of all records (and of each `by` group)."""

    def __init__(self, windows: WindowOptions, *, summary: SummaryOptions | None = None,
                 baseline: Baseline | None = None, drift: DriftOptions | None = None,
                 by: str | None = None) -> None:
        self.windows = windows
        self.baseline = baseline
        self.by = by
        self.grouped = (
            GroupedWindowAccumulator(windows, summary=summary, baseline=baseline, drift=drift) if by else None
        )
        self.overall = (
            self.grouped.overall
            if self.grouped is not None
            else WindowAccumulator(windows, summary=summary, baseline=baseline, drift=drift)
        )
        self.records = 0

    def update(self, t: pa.Table) -> None:
        self.records += t.num_rows
        if self.grouped is not None:
            self.grouped.update(t)
        else:
            self.overall.update(t)

    def coarsen(self, every_ns: int) -> None:
        """Longer clock windows (see WindowAccumulator.coarsen)."""
        if self.grouped is not None:
            self.grouped.coarsen(every_ns)
        else:
            self.overall.coarsen(every_ns)
        self.windows = dataclasses.replace(self.windows, every_ns=every_ns)


def trend_report(
    accs: TrendAccumulators,
    got: _Read,
    *,
    selection: Selection,
    thresholds: SummaryThresholds | None = None,
    drift: DriftOptions | None = None,
    for_windows: int = 1,
    budget: Budget | None = None,
    evidence: bool = True,
    include_partial: bool = False,
) -> TrendReport:
    """The windows `accs` took from the read `got` (a read that may feed other accumulators
    too: `mlmon report` reads its logs once), judged."""
    sel, windows, baseline, by = selection, accs.windows, accs.baseline, accs.by
    grouped, acc, records = accs.grouped, accs.overall, accs.records
    report, filtered = got.report, got.filtered_out
    b = budget or Budget()
    check_budget(report, max_bad=b.max_bad, strict=b.strict)
    if records == 0:  # an empty window is no traffic, an incident: the records alert, not bad data
        now = time.time_ns()
        empty = traffic_alerts(0, None, TrafficRules(), now)
        start = _iso(sel.since_ns if sel.since_ns is not None else now)
        fire = tuple(Firing(a.metric, a.severity, start, 0, a) for a in empty)
        return TrendReport(
            report, 0, filtered, 0, windows, (), baseline.source if baseline else None, (), empty, fire,
            by=by,
        )
    if records == acc.without_timestamp:
        raise DataError(f"none of the {records} selected records has a timestamp: trend needs one")
    end = sel.until_ns if sel.until_ns is not None else got.newest_selected_ns
    clock = windows.every_ns is not None
    result = mark_partial(acc.result(drift), end) if clock else acc.result(drift)
    skip = bool(result) and result[-1].partial and not include_partial
    t = thresholds or SummaryThresholds()
    o = drift or DriftOptions()
    rng = acc.summary_options.prediction_range
    breaches = tuple(window_alerts(w, t, o if baseline else None, prediction_range=rng) for w in result)
    accumulate = evidence and baseline is not None
    judged = len(result) - 1 if skip else len(result)
    firing = _firing(result[:judged], breaches[:judged], for_windows, baseline, o, accumulate)
    found = ev.accumulate(result[:judged], baseline, o) if accumulate and baseline is not None else ()
    groups: list[TrendGroup] = []
    for g in grouped.result(drift) if grouped is not None else ():
        gw = mark_partial(g.windows, end) if clock else g.windows
        gb = tuple(window_alerts(w, t, o if baseline else None, prediction_range=rng) for w in gw)
        n = len(gw) - 1 if skip and gw and gw[-1].partial else len(gw)
        gf = tuple(
            dataclasses.replace(f, alert=dataclasses.replace(
                f.alert, group=g.group, group_missing=g.group is None,
                message=f"{f.alert.message} ({_where(by, g.group)})"))
            for f in _firing(gw[:n], gb[:n], for_windows, baseline, o, accumulate)
        )
        groups.append(TrendGroup(g.group, g.records, gw, gb, gf))
    firing += tuple(f for g in groups for f in g.firing)
    return TrendReport(
        report,
        records,
        filtered,
        acc.without_timestamp,
        windows,
        result,
        baseline.source if baseline else None,
        breaches,
        tuple(f.alert for f in firing),
        firing,
        acc.out_of_order,
        by,
        tuple(groups),
        freshness(got, sel),
        evidence=found,
        partial_excluded=skip,
    )


FEATURE_ALERTS = ("drift.", "mean_deviation.", "unseen.")


def _firing(
    windows: tuple[Window, ...], breaches: tuple[tuple[Alert, ...], ...], for_windows: int,
    baseline: Baseline | None, o: DriftOptions, accumulate: bool,
) -> tuple[Firing, ...]:
    """What fires now. Serving thresholds: crossed in each of the last --for windows. Features:
    by default through accumulated evidence (each window's own feature alerts stay in
    `breaches`, shown, but 48 windows of 2% each alert in 72% of stationary logs); with
    evidence off, as the serving thresholds."""
    if not accumulate or baseline is None:
        return persisting(windows, breaches, for_windows)
    serving = tuple(tuple(a for a in b if not a.metric.startswith(FEATURE_ALERTS)) for b in breaches)
    out = list(persisting(windows, serving, for_windows))
    if not windows:
        return tuple(out)
    last = windows[-1].window_start
    for e in ev.accumulate(windows, baseline, o):
        if e.last != last:
            continue
        what = (f"mean {e.shift_sd:+.3g} sd from the baseline over {e.windows} window(s), n={e.n:,}"
                if e.shift_sd is not None else f"drift test in this window, n={e.n:,}")
        alert = Alert(f"evidence.{e.feature}", Severity.WARNING, e.p_value, e.threshold,
                      f"feature {e.feature}: {what}; p {p_value(e.p_value)} < {p_value(e.threshold)}, "
                      f"the false-alarm limit over the log's windows (since {e.first})")
        out.append(Firing(alert.metric, Severity.WARNING, e.first, e.windows, alert))
    return tuple(out)
