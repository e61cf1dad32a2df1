"""`mlmon check` results in the Prometheus text exposition format (made by prometheus_client)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
    SummaryMetricFamily,
)

from mlmon.api import CheckReport
from mlmon.rules.check import Status
from mlmon.stats.summary import CONFIDENCE_EDGES, GroupSummary

STATUS_VALUE = {Status.OK: 0, Status.WARNING: 1, Status.CRITICAL: 2, Status.NO_DATA: 3}


def prediction_counts(g: GroupSummary) -> dict[str, int]:
    """Records of a group by status: success, error, unknown (no status field)."""
    return {"success": g.successes, "error": g.errors, "unknown": g.records - g.success_n}


MISSING_LABEL = "model_version_missing"
"""Set to "true" on the series of records without the --by field (model_version is then "");
empty, which Prometheus reads as no label, on the others. A value "" or "(none)" stays apart."""
_MISSING_KIND = "predictions-missing"


def _version(g: GroupSummary, rep: CheckReport) -> tuple[str, str]:
    """(model_version, model_version_missing) labels of a group: the overall (shown only without
    groups) and the records without the field both have model_version "", told apart by the second."""
    if g is rep.summary.overall or g.group is not None:
        return g.group if g is not rep.summary.overall and g.group is not None else "", ""
    return "", "true"


def _labels(version: str, missing: str) -> dict[str, str]:
    return {"model_version": version, MISSING_LABEL: missing} if missing else {"model_version": version}


def add_totals(totals: dict[str, float], rep: CheckReport) -> dict[str, float]:
    """Cumulative `predictions_total` across runs (--state): this run's counts added."""
    out = dict(totals)
    for g in rep.summary.groups or (rep.summary.overall,):
        version, missing = _version(g, rep)
        kind = _MISSING_KIND if missing else "predictions"
        for status, n in prediction_counts(g).items():
            key = f"{kind}|{version}|{status}"
            out[key] = out.get(key, 0) + n
    return out


class _Collector:
    def __init__(
        self, rep: CheckReport | None, *, now: float, success: bool, totals: dict[str, float] | None
    ) -> None:
        self.rep, self.now, self.success, self.totals = rep, now, success, totals

    def collect(self) -> Iterator[Metric]:
        run = GaugeMetricFamily("mlmon_run_success", "1 when the last run checked every rule, else 0.")
        run.add_metric([], 1.0 if self.success else 0.0)
        yield run
        last = GaugeMetricFamily("mlmon_last_run_timestamp_seconds", "When the last run ended (Unix time).")
        last.add_metric([], self.now)
        yield last
        rep = self.rep
        if rep is None:
            return
        groups: tuple[GroupSummary, ...] = rep.summary.groups or (rep.summary.overall,)
        total = CounterMetricFamily(
            "predictions",
            "Predictions in the logs read, by model version and status.",
            labels=["model_version", "status"],
        )
        lat = SummaryMetricFamily(
            "prediction_latency_seconds", "Prediction latency in seconds.", labels=["model_version"]
        )
        conf = HistogramMetricFamily(
            "model_confidence", "Confidence of the predictions.", labels=["model_version"]
        )
        # samples are added one by one: only the series of records without the field carry
        # model_version_missing, so every other series keeps its labels
        if self.totals is not None:
            for key, value in sorted(self.totals.items()):
                kind, rest = key.split("|", 1)
                version, status = rest.rsplit("|", 1)
                if kind in ("predictions", _MISSING_KIND):
                    labels = _labels(version, "true" if kind == _MISSING_KIND else "")
                    total.add_sample("predictions_total", {**labels, "status": status}, value)
        for g in groups:
            labels = _labels(*_version(g, rep))
            if self.totals is None:
                for status, n in prediction_counts(g).items():
                    total.add_sample("predictions_total", {**labels, "status": status}, n)
            ls = g.latency_ms
            if ls.n:
                lat.add_sample("prediction_latency_seconds_count", labels, ls.n)
                lat.add_sample("prediction_latency_seconds_sum", labels, (ls.mean or 0.0) * ls.n / 1000)
                for q, v in (("0.5", ls.p50), ("0.95", ls.p95), ("0.99", ls.p99)):
                    if v is not None:
                        lat.add_sample("prediction_latency_seconds", {**labels, "quantile": q}, v / 1000)
            c = g.confidence
            if c.n:
                running = 0
                for edge, (_label, count) in zip(CONFIDENCE_EDGES, c.histogram, strict=True):
                    running += count
                    conf.add_sample("model_confidence_bucket", {**labels, "le": f"{edge}"}, running)
                conf.add_sample("model_confidence_bucket", {**labels, "le": "+Inf"}, c.n)
                conf.add_sample("model_confidence_count", labels, c.n)
                conf.add_sample("model_confidence_sum", labels, (c.mean or 0.0) * c.n)
        yield total
        yield lat
        yield conf
        if rep.features is not None:
            stat = GaugeMetricFamily(
                "mlmon_feature_drift_statistic",
                "Drift effect size per feature: KS D for numbers, PSI for categories.",
                labels=["feature", "measure"],
            )
            flag = GaugeMetricFamily(
                "mlmon_feature_drift",
                "1 when the feature drifted (significant and large enough).",
                labels=["feature"],
            )
            missing = GaugeMetricFamily(
                "mlmon_feature_missing_share",
                "Share of records without a value for the feature (null, absent key, empty cell).",
                labels=["feature"],
            )
            outside = GaugeMetricFamily(
                "mlmon_feature_out_of_range_share",
                "Share of the feature's numeric values outside the training [min, max].",
                labels=["feature"],
            )
            for f in rep.features:
                if f.out_of_range_share is not None:
                    outside.add_metric([f.name], f.out_of_range_share)
                if f.effect_size is not None:
                    stat.add_metric([f.name, f.effect_measure or ""], f.effect_size)
                flag.add_metric([f.name], 1.0 if f.drift else 0.0)
                if f.missing_share is not None:
                    missing.add_metric([f.name], f.missing_share)
            yield stat
            yield flag
            yield missing
            yield outside
        alerts = GaugeMetricFamily("mlmon_alerts", "Rules firing, by severity.", labels=["severity"])
        for sev in ("warning", "critical"):
            alerts.add_metric([sev], sum(1 for a in rep.alerts if a.severity.value == sev))
        yield alerts
        rules = GaugeMetricFamily(
            "mlmon_rule_status",
            "Each rule: 0 ok, 1 warning, 2 critical, 3 no data.",
            labels=["rule", "metric"],
        )
        for r in rep.results:
            rules.add_metric([r.name, r.metric], STATUS_VALUE[r.status])
        yield rules
        records = GaugeMetricFamily("mlmon_records", "Valid records the last run checked.")
        records.add_metric([], rep.records)
        yield records


def registry(
    rep: CheckReport | None, *, now: float, success: bool, totals: dict[str, float] | None = None
) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(_Collector(rep, now=now, success=success, totals=totals))
    return reg


def check_prometheus(
    rep: CheckReport | None, *, now: float, success: bool, totals: dict[str, float] | None = None
) -> str:
    """The exposition text; `rep` None (a failed run) gives only mlmon_run_success 0 and the time.
    `totals` (with --state) makes predictions_total count across runs."""
    return generate_latest(registry(rep, now=now, success=success, totals=totals)).decode("utf-8")
