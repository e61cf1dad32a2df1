"""check: every configured rule in one pass over the logs."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from mlmon.api.report_data import ReportWindows
from mlmon.api.results import Result
from mlmon.api.selection import Budget, Freshness, Selection, _Read, _read, _serving_plan, freshness
from mlmon.api.trend_report import TrendReport, trend_report
from mlmon.read.reader import InputReport, ReadOptions, check_budget
from mlmon.read.records import ReadPlan
from mlmon.read.sources import Source
from mlmon.rules.alerts import Alert
from mlmon.rules.check import RuleResult, evaluate
from mlmon.rules.config import Rule, default_rules
from mlmon.stats.baseline import Baseline
from mlmon.stats.distributions import Distribution, distributions
from mlmon.stats.drift import DriftAccumulator, DriftOptions, FeatureDrift
from mlmon.stats.summary import SummaryAccumulator, SummaryOptions, SummaryResult

if TYPE_CHECKING:
    from mlmon.api.quality import LabelFollow, LabelOptions, QualityAccumulator
    from mlmon.stats.performance import QualityReport


@dataclass(frozen=True)
class CheckReport(Result):
    """One `check` run: what was read, the summary, the drift of each feature, and each rule's result.
    `to_pandas()`: one row per rule."""

    input: InputReport
    records: int
    filtered_out: int
    summary: SummaryResult
    features: tuple[FeatureDrift, ...] | None
    """None when no baseline was given."""
    results: tuple[RuleResult, ...]
    alerts: tuple[Alert, ...]
    now: float
    """The run's time (seconds since the epoch): `age_seconds` is measured from it."""
    freshness: Freshness | None = None
    """The newest record's age against the window (None when no record has a time)."""
    trend: TrendReport | None = None
    """With `views` (an HTML output): the records window by window, for the page's plots."""
    distributions: tuple[Distribution, ...] = ()
    """With `views` and a baseline: each feature's distribution in the log and the baseline."""
    quality: QualityReport | None = None
    """Realized performance against the labels (None without labels)."""

    def to_dict(self, *, config: str | None = None, notifications: list[dict[str, Any]] | None = None
                ) -> dict[str, Any]:
        """The JSON document of `mlmon check` (`config`: the config file's path, `notifications`:
        what each delivery did)."""
        from mlmon.api.documents import check_doc

        return check_doc(self, config=config, notifications=notifications or [])

    def _rows(self, doc: dict[str, Any]) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        return list(doc["results"]), ("name", "metric", "group", "status", "compared", "threshold")


def check(
    paths: list[str] | list[Source],
    rules: tuple[Rule, ...],
    *,
    baseline: Baseline | None = None,
    plan: ReadPlan | None = None,
    options: ReadOptions | None = None,
    selection: Selection | None = None,
    summary: SummaryOptions | None = None,
    drift: DriftOptions | None = None,
    budget: Budget | None = None,
    now: float | None = None,
    on_bytes: Callable[[int], None] | None = None,
    incremental: bool = False,
    views: bool = False,
    labels: LabelOptions | None = None,
    label_follow: LabelFollow | None = None,
) -> CheckReport:
    """Every rule in one pass over the logs: the summary and the drift accumulators share the read.

    Zero selected records is not an error here: each rule that needs records says `no_data`.
    `incremental` (--state): new lines none of which is a record, and none bad (log lines of
    the service, blank lines), are no data as no new line is, not a layout mlmon cannot read.
    With a baseline, `missing_share.*` runs at its default limits unless a rule names it.
    `views` (for the HTML page) also fills windows (of the length `mlmon report` picks) and keeps
    each feature's distribution, in the same read.
    `label_follow` (--state with labels): only the labels files' new lines are read, and the
    predictions and labels earlier runs kept waiting join with this run's.
    """

    if baseline is not None:
        rules = rules + default_rules(rules)
    plan, require = _serving_plan(plan, (plan or ReadPlan()).by, baseline)
    sacc = SummaryAccumulator(summary)
    dacc = DriftAccumulator(baseline) if baseline is not None else None
    qacc: QualityAccumulator | None = None
    if labels is not None:
        from mlmon.api.quality import prepare, with_join

        qacc = prepare(labels, options, label_follow)
        plan = with_join(plan, labels)
    win = (
        ReportWindows(None, timezone=plan.log_timezone, summary=summary, baseline=None, drift=None,
                      by=plan.by)
        if views
        else None
    )

    def update(t: pa.Table) -> None:
        sacc.update(t)
        if dacc is not None:
            dacc.update(t)
        if qacc is not None:
            qacc.update(t)
        if win is not None:
            win.update(t)

    got: _Read | None = None
    sel = selection or Selection()
    if paths:
        got = _read(paths, plan, require, options or ReadOptions(), sel, update, on_bytes)
        report, filtered = got.report, got.filtered_out
    else:  # nothing new since the last run (--state): every rule that needs records has no data
        report, filtered = InputReport((), 0, 0, {}, 0, ()), 0
    b = budget or Budget()
    quiet = incremental and report.records == 0 and report.bad_lines == 0
    if report.lines and not quiet:
        # no new line at all (an incremental run on a quiet log) is "no data", not bad data
        check_budget(report, max_bad=b.max_bad, strict=b.strict)
    result = sacc.result()
    o = drift or DriftOptions()
    features = dacc.result(o) if dacc is not None else None
    t = time.time() if now is None else now
    reference = baseline.reference_performance if baseline is not None else ()
    quality = None if qacc is None else qacc.result(by=plan.by, reference=reference)
    results = evaluate(rules, result, features, drift=o, now=t, quality=quality)
    alerts = tuple(a for a in (r.alert() for r in results) if a is not None)
    fresh = None if got is None else freshness(got, sel, round(t * 1e9))
    tr: TrendReport | None = None
    dists: tuple[Distribution, ...] = ()
    if win is not None and got is not None and result.overall.records:
        if result.overall.first_timestamp is not None:
            tr = trend_report(win.accs, got, selection=sel, drift=o, budget=b)
        if dacc is not None:
            dists = distributions(dacc)
            if dacc.predictions is not None:
                dists += distributions(dacc.predictions)
    return CheckReport(report, result.overall.records, filtered, result, features, results, alerts, t, fresh,
                       tr, dists, quality)
