"""The JSON document of each command's result: built here, once; `--format json` prints it as is."""

from __future__ import annotations

import dataclasses
import json
import math
from enum import Enum
from typing import TYPE_CHECKING, Any

from mlmon import __version__

if TYPE_CHECKING:
    from mlmon.api.check_report import CheckReport
    from mlmon.api.compare_report import CompareReport
    from mlmon.api.drift import DriftReport
    from mlmon.api.selection import Freshness
    from mlmon.api.summary import SummaryReport
    from mlmon.api.trend_report import TrendReport
    from mlmon.read.reader import InputReport
    from mlmon.rules.alerts import Alert
    from mlmon.rules.persist import Firing
    from mlmon.stats.drift import FeatureDrift
    from mlmon.stats.performance import Metric, Performance, QualityReport
    from mlmon.stats.windows import Window

SCHEMA_VERSION = 1


def plain(value: Any) -> Any:
    """Dataclasses, enums and tuples to JSON-ready values; non-finite floats become null."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dump(doc: dict[str, Any]) -> str:
    """The document as the CLI prints it: strict JSON (no NaN), indented, a final newline."""
    return json.dumps(doc, indent=2, allow_nan=False, sort_keys=False) + "\n"


def input_json(r: InputReport) -> dict[str, Any]:
    return {
        "lines": r.lines,
        "records": r.records,
        "bad_lines": r.bad_lines,
        "reasons": r.reasons,
        "files": [{**plain(f), "bad_lines": f.bad_lines} for f in r.files],
        "examples": plain(r.examples),
        "lost": plain(r.lost),
        "left_out": [{"path": p, "what": w} for p, w in r.left_out],
    }


def freshness_json(fresh: Freshness | None) -> dict[str, Any] | None:
    """`newest`, `window_seconds`, `stale` (the age itself changes by the second: from `newest`)."""
    if fresh is None:
        return None
    return {"newest": fresh.newest, "window_seconds": fresh.window_seconds, "stale": fresh.stale}


def _head(command: str) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "command": command, "mlmon_version": __version__}


def summary_doc(rep: SummaryReport, *, by: str | None) -> dict[str, Any]:
    overall = plain(rep.result.overall)
    overall.pop("group")
    doc = {
        **_head("summary"),
        **overall,
        "records_read": rep.input.records,
        "filtered_out": rep.filtered_out,
        "by": by,
        "groups": plain(rep.result.groups),
        "input": input_json(rep.input),
        "not_measured": [{"metric": m.metric, "field": m.field, "option": m.option} for m in rep.missing],
        "freshness": freshness_json(rep.freshness),
        "alerts": plain(rep.alerts),
    }
    if rep.quality is not None:
        doc["quality"] = quality_json(rep.quality)
    return doc


def metric_json(m: Metric) -> dict[str, Any]:
    return {"value": m.value, "low": m.low, "high": m.high, "n": m.n, "reason": m.reason}


def metrics_json(p: Performance) -> dict[str, Any]:
    """The metrics by name (the rule is `quality.<name>`), each with its 95% bounds and n."""
    return {m.name: metric_json(m) for m in p.metrics}


def windows_json(windows: tuple[tuple[str, Performance], ...]) -> list[dict[str, Any]]:
    """trend's `quality.windows`: each window's start, labelled count and metrics."""
    return [{"window_start": start, "labelled": p.n, "metrics": metrics_json(p)} for start, p in windows]


def quality_json(q: QualityReport) -> dict[str, Any]:
    """The `quality` key of a command's JSON document."""
    a = q.accounting
    la = a.labels
    return {
        "task": q.task.value,
        "join_field": q.join_field,
        "label_field": q.label_field,
        "labelled": a.labelled,
        "coverage": a.coverage,
        "join": {
            "predictions": a.predictions, "labelled": a.labelled, "without_label": a.without_label,
            "without_key": a.without_key, "duplicate_predictions": a.duplicate_predictions,
            "ambiguous": a.ambiguous, "unusable": a.unusable,
            "labels_without_prediction": a.labels_without_prediction,
        },
        "waiting": None if a.waiting is None else dataclasses.asdict(a.waiting),
        "labels": {
            "rows": la.rows, "keys": la.keys, "duplicates": la.duplicates, "conflicting": la.conflicting,
            "without_key": la.without_key, "carried": la.carried, "lines": q.labels_input.lines,
            "bad_lines": q.labels_input.bad_lines,
            "reasons": dict(q.labels_input.reasons),
            "files": [f.source for f in q.labels_input.files],
        },
        "classes": list(q.overall.classes),
        "positive_class": q.overall.positive,
        "metrics": metrics_json(q.overall),
        "groups": [{"group": g.group, "labelled": g.performance.n, "metrics": metrics_json(g.performance)}
                   for g in q.groups],
        "reference": dict(q.reference),
    }


JOINT_KEYS = ("name", "status", "test", "n", "baseline_n", "records", "missing", "mean", "baseline_mean",
              "statistic", "p_value", "p_value_adjusted", "p_method", "effect_size", "effect_measure",
              "effect_low", "effect_high", "drift")
"""The fields of the joint test's row in the JSON (the others do not apply to it). `mean` and
`baseline_mean` are the mean reconstruction errors, `missing` the records lacking a feature."""


def drifted_names(rows: tuple[FeatureDrift, ...]) -> list[str]:
    """The features and predictions that drifted (what `drift.*` covers); the joint test's verdict
    is `multivariate.drift`."""
    return [f.name for f in rows if f.drift and f.role != "multivariate"]


def drift_rows_json(rows: tuple[FeatureDrift, ...]) -> dict[str, Any]:
    """`features`, `predictions` (the model's outputs tested as features are) and `multivariate`
    (the joint test, or null when the baseline has no joint model) of a drift result."""
    joint = next((f for f in rows if f.role == "multivariate"), None)
    return {
        "features": plain(tuple(f for f in rows if f.role == "feature")),
        "predictions": plain(tuple(f for f in rows if f.role == "prediction")),
        "multivariate": None if joint is None else {k: plain(getattr(joint, k)) for k in JOINT_KEYS},
    }


def _drift_groups_json(rep: DriftReport) -> dict[str, Any]:
    """With --by: `by` and `groups`, each with the keys of the top level (`features`, `drifted`)."""
    if rep.by is None:
        return {}
    groups = [
        {"group": g.group, "records": g.records, **drift_rows_json(g.features),
         "drifted": drifted_names(g.features)}
        for g in rep.groups
    ]
    return {"by": rep.by, "groups": groups}


def drift_doc(rep: DriftReport) -> dict[str, Any]:
    return {
        **_head("drift"),
        "records": rep.records,
        "records_read": rep.input.records,
        "filtered_out": rep.filtered_out,
        "baseline": {"source": rep.baseline_source, "rows": rep.baseline_rows},
        **drift_rows_json(rep.features),
        "drifted": drifted_names(rep.features),
        "unknown_features": list(rep.unknown_features),
        "not_tested": list(rep.not_tested),
        **_drift_groups_json(rep),
        "freshness": freshness_json(rep.freshness),
        "input": input_json(rep.input),
        "alerts": plain(rep.alerts),
    }


def compare_doc(rep: CompareReport) -> dict[str, Any]:
    from mlmon.stats.sketch import RELATIVE_ACCURACY

    doc = {
        **_head("compare"),
        "by": rep.by,
        "control": rep.control,
        "verdict": rep.verdict,
        "records": rep.records,
        "records_read": rep.input.records,
        "filtered_out": rep.filtered_out,
        "baseline": rep.baseline_source,
        "alpha": rep.options.alpha,
        "approx": rep.options.approx,
        "relative_error": RELATIVE_ACCURACY if rep.options.approx else 0.0,
        "versions": plain(rep.versions),
        "freshness": freshness_json(rep.freshness),
        "input": input_json(rep.input),
        "alerts": plain(rep.alerts),
    }
    if rep.quality is not None:
        doc["quality"] = {**quality_json(rep.quality), "versus_control": plain(rep.versus_control)}
    return doc


def every_text(rep: TrendReport) -> str:
    """The window length as given: `1h`, `30m`, `1000 records`."""
    o = rep.options
    if o.every_records is not None:
        return f"{o.every_records} records"
    ns = o.every_ns or 0
    for unit, size in (("w", 604800e9), ("d", 86400e9), ("h", 3600e9), ("m", 60e9), ("s", 1e9)):
        if ns % size == 0:
            return f"{ns / size:g}{unit}"
    return f"{ns / 1e6:g}ms"


def window_json(w: Window, breaches: tuple[Alert, ...]) -> dict[str, Any]:
    summary = plain(w.summary)
    summary.pop("group")
    doc: dict[str, Any] = {"window_start": w.window_start, "window_end": w.window_end, "status": w.status,
                           "partial": w.partial}
    doc.update(summary)
    if w.features:
        doc.update(drift_rows_json(w.features))  # features, predictions, multivariate
        doc["drifted"] = list(w.drifted)
    if w.smoothed:
        doc["smoothed"] = dict(w.smoothed)
    doc["alerts"] = plain(breaches)
    return doc


def firing_json(f: Firing) -> dict[str, Any]:
    return {**plain(f.alert), "since": f.since, "windows": f.windows}


def _trend_groups_json(rep: TrendReport) -> dict[str, Any]:
    """With --by: `by` and `groups`, each with `group`, `records`, its `windows` and its `alerts`."""
    if rep.by is None:
        return {}
    groups = [
        {
            "group": g.group,
            "records": g.records,
            "windows": [window_json(w, b) for w, b in zip(g.windows, g.breaches, strict=True)],
            "alerts": [firing_json(f) for f in g.firing],
        }
        for g in rep.groups
    ]
    return {"by": rep.by, "groups": groups}


def trend_doc(rep: TrendReport) -> dict[str, Any]:
    from mlmon.stats.sketch import RELATIVE_ACCURACY

    doc = {
        **_head("trend"),
        "every": every_text(rep),
        "timezone": rep.options.timezone,
        "min_records": rep.options.min_records,
        "latency_method": "ddsketch" if rep.options.approx else "linear",
        "latency_relative_error": RELATIVE_ACCURACY if rep.options.approx else 0.0,
        "records": rep.records,
        "records_read": rep.input.records,
        "filtered_out": rep.filtered_out,
        "without_timestamp": rep.without_timestamp,
        "out_of_order": rep.out_of_order,
        "baseline": rep.baseline_source,
        "windows": [window_json(w, b) for w, b in zip(rep.windows, rep.breaches, strict=True)],
        **_trend_groups_json(rep),
        "freshness": freshness_json(rep.freshness),
        "input": input_json(rep.input),
        "alerts": [firing_json(f) for f in rep.firing],
        "evidence": [plain(e) for e in rep.evidence],
    }
    if rep.quality is not None:
        doc["quality"] = {**quality_json(rep.quality), "windows": windows_json(rep.quality_windows)}
    return doc


def result_json(r: Any) -> dict[str, Any]:
    """One rule's result (a rules.check.RuleResult): its fields, the threshold, and the quantity
    compared with the limit (`compared`, `compared_kind`) beside the point estimate."""
    doc: dict[str, Any] = plain(r)
    doc["threshold"] = plain(r.threshold)
    doc["compared"] = plain(r.compared)
    doc["compared_kind"] = r.compared_kind
    doc["estimate"] = plain(r.value)
    return doc


def check_doc(
    rep: CheckReport,
    *,
    config: str | None,
    notifications: list[dict[str, Any]],
    labels: dict[str, str] | None = None,
    forgotten: list[str] | None = None,
) -> dict[str, Any]:
    """`labels`: the run's identity labels (shown when there are any); `forgotten`: with a state,
    the groups the run dropped past the retention (shown, even empty, whenever a state is kept)."""
    from mlmon.rules.check import worst_status

    doc = {
        **_head("check"),
        "config": config,
        "status": worst_status(rep.results).value,
        "records": rep.records,
        "records_read": rep.input.records,
        "filtered_out": rep.filtered_out,
        "results": [result_json(r) for r in rep.results],
        "alerts": plain(rep.alerts),
        "notifications": notifications,
        "freshness": freshness_json(rep.freshness),
        "input": input_json(rep.input),
    }
    if rep.quality is not None:
        doc["quality"] = quality_json(rep.quality)
    if labels:
        doc["labels"] = dict(sorted(labels.items()))
    if forgotten is not None:
        doc["forgotten"] = list(forgotten)
    return doc
