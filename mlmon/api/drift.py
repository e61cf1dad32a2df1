"""detect_drift: each baseline feature of the selected records against the baseline."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from mlmon.api.results import Result
from mlmon.api.selection import Budget, Freshness, Gates, Selection, _Read, _read, _traffic, freshness
from mlmon.api.training import log_feature_names
from mlmon.errors import DataError
from mlmon.read.fields import absent_message
from mlmon.read.reader import InputReport, ReadOptions, check_budget
from mlmon.read.records import FEATURE_PREFIX, FeatureSpec, ReadPlan
from mlmon.rules.alerts import Alert, drift_alerts
from mlmon.stats.baseline import Baseline
from mlmon.stats.drift import DriftAccumulator, DriftOptions, FeatureDrift
from mlmon.stats.grouped import GroupDrift, GroupedDriftAccumulator
from mlmon.stats.summary import group_text


@dataclass(frozen=True)
class DriftReport(Result):
    """Each baseline feature of the selected records against the baseline (and per group with `by`).
    `to_pandas()`: one row per feature, overall (`scope` "overall") and per group."""

    input: InputReport
    records: int
    filtered_out: int
    baseline_source: str
    baseline_rows: int
    features: tuple[FeatureDrift, ...]
    alerts: tuple[Alert, ...]
    unknown_features: tuple[str, ...] = ()
    """Named features in the log's first records that the baseline does not have (not checked)."""
    by: str | None = None
    groups: tuple[GroupDrift, ...] = ()
    """With `by`: the drift of each group (model version) against the baseline."""
    freshness: Freshness | None = None
    """The newest record's age against the window (None when no record has a time)."""
    not_tested: tuple[str, ...] = ()
    """What the baseline gives nothing to test, each with why (no predictions profiled, no joint
    model: a baseline made before mlmon had them has neither)."""

    def to_dict(self) -> dict[str, Any]:
        from mlmon.api.documents import drift_doc

        return drift_doc(self)

    def _rows(self, doc: dict[str, Any]) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        def rows_of(part: dict[str, Any], scope: str, group: str | None) -> list[dict[str, Any]]:
            out = [{"scope": scope, "group": group, "role": "feature", **f} for f in part["features"]]
            out += [{"scope": scope, "group": group, "role": "prediction", **f} for f in part["predictions"]]
            if part["multivariate"] is not None:
                out.append({"scope": scope, "group": group, "role": "multivariate", **part["multivariate"]})
            return out

        rows = rows_of(doc, "overall", None)
        for g in doc.get("groups", []):
            rows += rows_of(g, "group", g["group"])
        return rows, ("scope", "group", "role", "name", "kind", "drift", "status", "effect_size")



def not_tested(baseline: Baseline) -> tuple[str, ...]:
    """The tests this baseline cannot run, in words: its predictions, its joint model."""
    out = []
    if not baseline.predictions:
        out.append("predictions: the baseline has no profile of the model's predictions (made before "
                   "mlmon profiled them, or from training data without them); give `mlmon baseline "
                   "--predictions FILE`, or build it from prediction logs")
    if baseline.multivariate is None:
        out.append(f"multivariate: {baseline.multivariate_note or 'the baseline has no joint model'}")
    return tuple(out)

def detect_drift(
    paths: list[str],
    baseline: Baseline,
    *,
    plan: ReadPlan | None = None,
    options: ReadOptions | None = None,
    selection: Selection | None = None,
    drift: DriftOptions | None = None,
    budget: Budget | None = None,
    gates: Gates | None = None,
    on_bytes: Callable[[int], None] | None = None,
    by: str | None = None,
) -> DriftReport:
    """Each baseline feature of the records in `paths` against the baseline (and, with `by`, of
    each group's records: a drift table per model version).

    An empty selection is a `records` alert; a features field that no record has is a DataError."""
    sel = selection or Selection()
    plan, require = drift_plan(plan, baseline, by)
    acc = DriftAccumulators(baseline, by)
    got = _read(paths, plan, require, options or ReadOptions(), sel, acc.update, on_bytes, accumulator=acc)
    return drift_report(acc, got, paths, plan=plan, selection=sel, drift=drift, budget=budget, gates=gates)


def drift_plan(plan: ReadPlan | None, baseline: Baseline, by: str | None) -> tuple[ReadPlan, tuple[str, ...]]:
    """What drift reads: the baseline's features (and `by`), and a record needs one of them."""
    specs = tuple(FeatureSpec(f.name, f.kind) for f in baseline.features)
    base_plan = plan or ReadPlan()
    out = ReadPlan(
        fields=base_plan.fields,
        by=by,
        summary=bool(baseline.predictions),  # the serving fields hold the predictions
        features=specs,
        record_marker=base_plan.record_marker,
        log_timezone=base_plan.log_timezone,
    )
    return out, tuple(FEATURE_PREFIX + s.name for s in specs)


class DriftAccumulators:
    """Drift's state over one read: the accumulator of all records (and one per `by` group)."""

    def __init__(self, baseline: Baseline, by: str | None) -> None:
        self.baseline = baseline
        self.by = by
        self.grouped = GroupedDriftAccumulator(baseline) if by else None
        self.overall = self.grouped.overall if self.grouped is not None else DriftAccumulator(baseline)
        self.records = 0

    def update(self, t: pa.Table) -> None:
        self.records += t.num_rows
        if self.grouped is not None:
            self.grouped.update(t)
        else:
            self.overall.update(t)

    def merge(self, other: DriftAccumulators) -> None:
        """Take in the state of another read of other files (--engine dask)."""
        self.records += other.records
        if self.grouped is not None and other.grouped is not None:
            self.grouped.merge(other.grouped)  # its overall is this overall
        else:
            self.overall.merge(other.overall)

    def file_done(self) -> None:
        """The end of an input file (see DriftAccumulator.file_done)."""
        (self.grouped if self.grouped is not None else self.overall).file_done()


def drift_report(
    accs: DriftAccumulators,
    got: _Read,
    paths: list[str],
    *,
    plan: ReadPlan,
    selection: Selection,
    drift: DriftOptions | None = None,
    budget: Budget | None = None,
    gates: Gates | None = None,
) -> DriftReport:
    """The drift of what `accs` took from the read `got` (a read that may feed other
    accumulators too: `mlmon report` reads its logs once)."""
    sel, baseline, by = selection, accs.baseline, accs.by
    acc, grouped, records = accs.overall, accs.grouped, accs.records
    report = got.report
    if (
        report.records == 0
        and report.reasons.get("missing_field")
        and all(f.format == "jsonl" for f in report.files)
        and not any(
            n == plan.fields.features or n.startswith(plan.fields.features + ".") for n in report.fields_seen
        )
    ):
        raise DataError(
            absent_message("--features-field", plan.fields.features, "drift needs", report.fields_seen)
        )
    b = budget or Budget()
    check_budget(report, max_bad=b.max_bad, strict=b.strict)
    o = drift or DriftOptions()
    features = acc.result(o)
    traffic = _traffic(got, records, plan, gates or Gates(), sel)
    too_few = any(a.metric == "records" for a in traffic)  # --min-records said it: an alert, not 65
    if records and not too_few and all(f.status == "insufficient_data" for f in features):
        # nothing was checked: that is not a pass, and too little data is no verdict either
        raise DataError(
            f"too few values for a drift verdict: {records} record(s) selected, and every feature "
            f"has fewer than --min-samples ({o.min_samples}) values (or its baseline has)"
        )
    known = set(baseline.columns)
    unknown = tuple(sorted(log_feature_names(paths, plan) - known))
    # an empty window is the records alert alone: no feature is missing from records never seen
    alerts = traffic + (drift_alerts(features, o, unknown=unknown) if records else ())
    groups = grouped.result(o) if grouped is not None else ()
    for g in groups:
        where = f"{by} {group_text(g.group)}" if g.group is not None else f"records without {by}"
        alerts += tuple(dataclasses.replace(a, group=g.group, group_missing=g.group is None,
                                            message=f"{a.message} ({where})")
                        for a in drift_alerts(g.features, o))
    return DriftReport(
        report, records, got.filtered_out, baseline.source, baseline.rows, features, alerts, unknown,
        by, groups, freshness(got, sel, (gates or Gates()).now_ns), not_tested(baseline),
    )
