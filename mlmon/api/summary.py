"""summarize: serving health and model behaviour of the selected records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from mlmon.api.results import Result
from mlmon.api.selection import Budget, Freshness, Gates, Selection, _Read, _read, _traffic, freshness
from mlmon.errors import DataError
from mlmon.read.fields import absent_message
from mlmon.read.reader import InputReport, ReadOptions, check_budget
from mlmon.read.records import SUMMARY_FIELDS, ReadPlan
from mlmon.rules.alerts import Alert, SummaryThresholds, summary_alerts
from mlmon.rules.alerts import rules as threshold_rules
from mlmon.stats.summary import SummaryAccumulator, SummaryOptions, SummaryResult

if TYPE_CHECKING:  # the labels' modules are imported by a run with labels only
    from mlmon.api.quality import LabelOptions, QualityAccumulator
    from mlmon.stats.performance import QualityReport


@dataclass(frozen=True)
class MissingField:
    """A metric with no value in any selected record, because no record has its field."""

    metric: str
    field: str
    option: str
    message: str


@dataclass(frozen=True)
class SummaryReport(Result):
    """Serving health of the selected records: overall and per group (`by`), with its alerts.
    `to_pandas()`: one row per group, the overall first (`group` None, `scope` "overall")."""

    input: InputReport
    records: int
    """Valid records selected (after --since/--until/--last)."""
    filtered_out: int
    result: SummaryResult
    alerts: tuple[Alert, ...]
    missing: tuple[MissingField, ...] = ()
    """Metrics not measured: no selected record has their field (no threshold asked for them)."""
    freshness: Freshness | None = None
    """The newest record's age against the window (None when no record has a time)."""
    quality: QualityReport | None = None
    """Realized performance against the labels (None without labels)."""
    by: str | None = None
    """The grouping field (None: no grouping)."""

    def to_dict(self) -> dict[str, Any]:
        from mlmon.api.documents import summary_doc

        return summary_doc(self, by=self.by)

    def _rows(self, doc: dict[str, Any]) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        from mlmon.api.documents import plain

        overall = plain(self.result.overall)
        rows = [{**overall, "scope": "overall"}]
        rows += [{**g, "scope": "group"} for g in doc["groups"]]
        return rows, ("scope", "group", "records")


def _summary_missing(
    result: SummaryResult, plan: ReadPlan, t: SummaryThresholds, seen: frozenset[str]
) -> tuple[MissingField, ...]:
    """Metrics whose field no record has. A threshold on one is a data error (exit 65)."""
    o = result.overall
    f = plan.fields
    set_rules = threshold_rules(t)
    candidates = [
        (("latency_ms.p95", "latency_ms.p99"), "latency_ms", o.latency_ms.n, f.latency, "--latency-field"),
        (("success_rate", "error_rate"), "success_rate", o.success_n, f.status, "--status-field"),
        (("confidence.low_share",), "confidence", o.confidence.n, f.confidence, "--confidence-field"),
        (
            ("predictions_out_of_range",),
            "prediction_values",
            o.prediction_values,
            f.prediction,
            "--prediction-field",
        ),
    ]
    out: list[MissingField] = []
    for metrics, name, n, path, option in candidates:
        if n or not o.records:
            continue
        asked = [m for m in metrics if m in set_rules]
        if name == "success_rate":
            also = f" nor {f.success!r} (--success-field)"
        else:
            also = ""
        if asked:
            need = f"the {asked[0]} threshold needs"
            raise DataError(
                absent_message(option, path, need, seen).replace(f"({option})", f"({option}){also}", 1)
            )
        if name in ("confidence", "prediction_values"):
            continue  # a log of labels has no confidence, a classifier no numeric value: normal
        msg = absent_message(option, path, f"{name} needs", seen).replace(
            f"({option})", f"({option}){also}", 1
        )
        out.append(MissingField(name, path, option, msg))
    return tuple(out)


def summarize(
    paths: list[str],
    *,
    plan: ReadPlan | None = None,
    options: ReadOptions | None = None,
    selection: Selection | None = None,
    summary: SummaryOptions | None = None,
    thresholds: SummaryThresholds | None = None,
    budget: Budget | None = None,
    gates: Gates | None = None,
    on_bytes: Callable[[int], None] | None = None,
    labels: LabelOptions | None = None,
) -> SummaryReport:
    """Serving health and model behaviour of the records in `paths`.

    An empty selection is a `records` alert, not an error; a threshold on a metric whose field
    no record has is a DataError naming the field."""
    plan = plan or ReadPlan()
    sel = selection or Selection()
    acc = SummaryAccumulator(summary)
    qacc: QualityAccumulator | None = None
    if labels is not None:
        from mlmon.api.quality import prepare, with_join

        qacc = prepare(labels, options)
        plan = with_join(plan, labels)

    def update(t: pa.Table) -> None:
        acc.update(t)
        if qacc is not None:
            qacc.update(t)

    # --engine dask merges the summary's accumulator; the labels' join is read here only
    got = _read(
        paths, plan, SUMMARY_FIELDS, options or ReadOptions(), sel, update, on_bytes,
        accumulator=acc if qacc is None else None,
    )
    return summary_report(acc, got, plan=plan, selection=sel, thresholds=thresholds, budget=budget,
                          gates=gates, quality=qacc)


def summary_report(
    acc: SummaryAccumulator,
    got: _Read,
    *,
    plan: ReadPlan,
    selection: Selection,
    thresholds: SummaryThresholds | None = None,
    budget: Budget | None = None,
    gates: Gates | None = None,
    quality: QualityAccumulator | None = None,
) -> SummaryReport:
    """The summary of what `acc` (and `quality`, with labels) took from the read `got` (a read
    that may feed other accumulators too: `mlmon report` reads its logs once)."""
    sel, qacc = selection, quality
    b = budget or Budget()
    check_budget(got.report, max_bad=b.max_bad, strict=b.strict)
    result = acc.result()
    t = thresholds or SummaryThresholds()
    records = result.overall.records
    traffic = _traffic(got, records, plan, gates or Gates(), sel)
    missing = _summary_missing(result, plan, t, got.report.fields_seen)
    checked = summary_alerts(result, t, prediction_range=acc.options.prediction_range, unchecked=True)
    if any(a.metric == "records" for a in traffic):  # one `records` alert: too few records says it
        checked = tuple(a for a in checked if a.metric != "records")
    alerts = traffic + checked
    fresh = freshness(got, sel, (gates or Gates()).now_ns)
    realized = None if qacc is None else qacc.result(by=plan.by)
    return SummaryReport(got.report, records, got.filtered_out, result, alerts, missing, fresh, realized,
                         by=plan.by)
