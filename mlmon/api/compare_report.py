"""compare: each model version against the control version on the same span."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from mlmon.api.results import Result
from mlmon.api.selection import Budget, Freshness, Selection, _read, _serving_plan, freshness
from mlmon.errors import DataError
from mlmon.numfmt import p_value
from mlmon.read.reader import InputReport, ReadOptions, check_budget
from mlmon.read.records import ReadPlan
from mlmon.rules.alerts import Alert, Severity, TrafficRules, traffic_alerts
from mlmon.stats.baseline import Baseline
from mlmon.stats.compare import CompareAccumulator, CompareOptions, MetricComparison, VersionComparison
from mlmon.stats.summary import group_label, group_text

if TYPE_CHECKING:
    from mlmon.api.quality import LabelOptions, QualityAccumulator, VersusControl
    from mlmon.stats.performance import QualityReport


@dataclass(frozen=True)
class CompareReport(Result):
    """Each version against the control version. `to_pandas()`: one row per version and metric
    (`kind` "metric"), and per version and feature of its traffic (`kind` "traffic")."""

    input: InputReport
    records: int
    filtered_out: int
    by: str
    control: str
    baseline_source: str | None
    options: CompareOptions
    versions: tuple[VersionComparison, ...]
    verdict: str
    """worse when any version has a metric worse beyond tolerance; not_enough_data when some
    version could not be judged at all; no_records when the selection is empty (the `records`
    alert says so); else pass."""
    alerts: tuple[Alert, ...]
    freshness: Freshness | None = None
    """The newest record's age against the span read (None when no record has a time)."""
    quality: QualityReport | None = None
    """With labels: realized performance per version (its groups)."""
    versus_control: tuple[VersusControl, ...] = ()
    """With labels: each version's accuracy (or MAE) against the control's."""

    def to_dict(self) -> dict[str, Any]:
        from mlmon.api.documents import compare_doc

        return compare_doc(self)

    def _rows(self, doc: dict[str, Any]) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        rows = []
        for v in doc["versions"]:
            head = {"version": v["version"], "control": v["control"], "version_verdict": v["verdict"]}
            rows += [{**head, "kind": "metric", **m} for m in v["metrics"]]
            rows += [{**head, "kind": "traffic", **m} for m in v["traffic"]]
        return rows, ("version", "control", "kind", "metric", "verdict")


def compare(
    paths: list[str],
    *,
    control: str,
    by: str = "model_version",
    plan: ReadPlan | None = None,
    options: ReadOptions | None = None,
    selection: Selection | None = None,
    compare_options: CompareOptions | None = None,
    baseline: Baseline | None = None,
    budget: Budget | None = None,
    on_bytes: Callable[[int], None] | None = None,
    labels: LabelOptions | None = None,
) -> CompareReport:
    """Each version (by `by`) of the records in `paths` against the `control` version, on the same span."""
    plan, require = _serving_plan(plan, by, baseline)
    o = compare_options or CompareOptions()
    acc = CompareAccumulator(baseline, max_groups=o.max_groups, approx=o.approx)
    records = 0
    qacc: QualityAccumulator | None = None
    if labels is not None:
        from mlmon.api.quality import prepare, with_join

        qacc = prepare(labels, options)
        plan = with_join(plan, labels)

    def update(t: pa.Table) -> None:
        nonlocal records
        records += t.num_rows
        acc.update(t)
        if qacc is not None:
            qacc.update(t)

    sel = selection or Selection()
    got = _read(paths, plan, require, options or ReadOptions(), sel, update, on_bytes)
    report, filtered = got.report, got.filtered_out
    b = budget or Budget()
    check_budget(report, max_bad=b.max_bad, strict=b.strict)
    if records == 0:  # an empty window is no traffic, an incident: the records alert, not bad data
        empty = traffic_alerts(0, None, TrafficRules(), time.time_ns())
        source = baseline.source if baseline else None
        return CompareReport(report, 0, filtered, by, control, source, o, (), "no_records", empty)
    versions = acc.result(control, o)
    if not versions:
        raise DataError(f"only the control {control!r} has records: there is no other version to compare")
    verdicts = {v.verdict for v in versions}
    verdict = (
        "worse" if "worse" in verdicts else "not_enough_data" if "not_enough_data" in verdicts else "pass"
    )
    alerts = tuple(
        Alert(
            m.metric,
            Severity.CRITICAL,
            float(m.effect or 0.0),
            m.tolerance,
            f"{group_label(v.version)} is worse than {group_text(control)} on {m.metric}: "
            f"{effect_words(m.effect_measure)} {m.effect:.3g}{_bounds(m)}, not shown within "
            f"the tolerance {m.tolerance:g} (adjusted p {p_value(m.p_value_adjusted)})"
            if m.p_value_adjusted is not None
            else f"{group_label(v.version)} is worse than {group_text(control)} on {m.metric}: "
            f"{effect_words(m.effect_measure)} "
            f"{(m.effect or 0.0):.3g}{_bounds(m)}, not shown within the tolerance {m.tolerance:g}, "
            "95% interval excludes 0",
            v.version,
            v.version is None,
        )
        for v in versions
        for m in v.metrics
        if m.verdict == "worse"
    )
    quality = None if qacc is None else qacc.result(by=by)
    versus: tuple[VersusControl, ...] = ()
    if quality is not None:
        from mlmon.api.quality import versus_control

        name = "quality.accuracy" if quality.task.value == "classification" else "quality.mae"
        versus = versus_control(quality, control, tolerance=o.tol(name), min_records=o.min_records)
        worse = tuple(_quality_alert(v, control) for v in versus if v.verdict == "worse")
        if worse:
            alerts += worse
            verdict = "worse"
    return CompareReport(
        report, records, filtered, by, control, baseline.source if baseline else None, o, versions,
        verdict, alerts, freshness(got, sel), quality, versus,
    )


def _quality_alert(v: VersusControl, control: str) -> Alert:
    """A version whose realized accuracy (or MAE) is worse than the control's beyond tolerance."""
    what = "accuracy fell by (points)" if v.metric == "accuracy" else "MAE rose by (a share of the control's)"
    return Alert(
        f"quality.{v.metric}",
        Severity.CRITICAL,
        float(v.effect or 0.0),
        float(v.tolerance or 0.0),
        f"{group_label(v.version)} is worse than {group_text(control)} on its labelled predictions "
        f"({v.metric} {v.value or 0.0:.4g} against {v.control_value or 0.0:.4g}): {what} "
        f"{v.effect or 0.0:.3g} (95% bounds {v.effect_low or 0.0:.3g} to {v.effect_high or 0.0:.3g}), "
        f"not shown within the tolerance {v.tolerance or 0.0:g}",
        v.version,
        v.version is None,
    )


EFFECT_WORDS = {
    "relative_shift_of_median": "the median moved by (a share of the control's)",
    "relative_shift": "the percentile moved by (a share of the control's)",
    "difference": "the difference is",
    "total_variation": "the class shares differ by (total variation)",
    "ks_d": "the distributions differ by (KS D)",
}
"""Each compare effect measure in words, for alert texts people read."""


def effect_words(measure: str | None) -> str:
    return EFFECT_WORDS.get(measure or "", (measure or "effect").replace("_", " "))


def _bounds(m: MetricComparison) -> str:
    """` (95% bounds a to b)` of the effect, or nothing when it has none."""
    if m.effect_interval is None:
        return ""
    return f" (95% bounds {m.effect_interval[0]:.3g} to {m.effect_interval[1]:.3g})"
