"""detect_drift: each baseline feature of the selected records against the baseline."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from mlmon.api.results import Result
from mlmon.api.selection import Budget, Freshness, Gates, Selection, _read, _traffic, freshness
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

    def to_dict(self) -> dict[str, Any]:
        from mlmon.api.documents import drift_doc

        return drift_doc(self)

    def _rows(self, doc: dict[str, Any]) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        rows = [{"scope": "overall", "group": None, **f} for f in doc["features"]]
        for g in doc.get("groups", []):
            rows += [{"scope": "group", "group": g["group"], **f} for f in g["features"]]
        return rows, ("scope", "group", "name", "kind", "drift", "status", "effect_size")


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
    specs = tuple(FeatureSpec(f.name, f.kind) for f in baseline.features)
    base_plan = plan or ReadPlan()
    plan = ReadPlan(
        fields=base_plan.fields,
        by=by,
        summary=False,
        features=specs,
        record_marker=base_plan.record_marker,
        log_timezone=base_plan.log_timezone,
    )
    require = tuple(FEATURE_PREFIX + s.name for s in specs)
    grouped = GroupedDriftAccumulator(baseline) if by else None
    acc = grouped.overall if grouped is not None else DriftAccumulator(baseline)
    records = 0

    def update(t: pa.Table) -> None:
        nonlocal records
        records += t.num_rows
        if grouped is not None:
            grouped.update(t)
        else:
            acc.update(t)

    got = _read(paths, plan, require, options or ReadOptions(), sel, update, on_bytes)
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
        by, groups, freshness(got, sel, (gates or Gates()).now_ns),
    )
