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
from mlmon.api.counters import (
    CONF_BUCKET,
    CONF_COUNT,
    CONF_SUM,
    KINDS,
    LATENCY_COUNT,
    LATENCY_SUM,
    PREDICTIONS,
    Key,
    parse,
    run_counts,
    version_of,
)
from mlmon.escape import prom_label
from mlmon.rules.check import Status
from mlmon.stats.performance import QualityReport
from mlmon.stats.summary import GroupSummary

STATUS_VALUE = {Status.OK: 0, Status.WARNING: 1, Status.CRITICAL: 2, Status.NO_DATA: 3}


MISSING_LABEL = "model_version_missing"
"""Set to "true" on the series of records without the --by field (model_version is then "");
empty, which Prometheus reads as no label, on the others. A value "" or "(none)" stays apart."""


def _labels(version: str, missing: bool) -> dict[str, str]:
    return {"model_version": version, MISSING_LABEL: "true"} if missing else {"model_version": version}


def _order(k: Key) -> tuple[str, bool, int, float, str]:
    """Series of one group together, buckets by their upper bound (as a scrape lists them)."""
    # a bucket's bound is a number (counters.parse leaves any other in the state)
    le = float(k.extra) if k.kind == CONF_BUCKET else 0.0
    return k.version, k.missing, KINDS.index(k.kind), le, k.extra


class _Collector:
    def __init__(
        self,
        rep: CheckReport | None,
        *,
        now: float,
        success: bool,
        totals: dict[str, float] | None,
        labels: dict[str, str],
    ) -> None:
        self.rep, self.now, self.success, self.totals = rep, now, success, totals
        self.labels = labels

    def collect(self) -> Iterator[Metric]:
        for family in self._families():
            # the identity (--label, labels = {...}) on every series; every label value (log text:
            # versions, features, rule names) through the Prometheus escaper (mlmon/escape.py)
            family.samples = [
                s._replace(labels={k: prom_label(v) for k, v in {**self.labels, **s.labels}.items()})
                for s in family.samples
            ]
            yield family

    def _families(self) -> Iterator[Metric]:
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
        # the counters: this run's counts, or (--state) the totals of every run; samples are
        # added one by one: only the series of records without the field carry
        # model_version_missing, so every other series keeps its labels
        if self.totals is not None:
            known = [(k, v) for k, v in ((parse(t), v) for t, v in self.totals.items()) if k is not None]
            counts = sorted(known, key=lambda kv: _order(kv[0]))
        else:
            counts = list(run_counts(rep).items())
        name = {
            PREDICTIONS: (total, "predictions_total", "status"),
            LATENCY_COUNT: (lat, "prediction_latency_seconds_count", ""),
            LATENCY_SUM: (lat, "prediction_latency_seconds_sum", ""),
            CONF_BUCKET: (conf, "model_confidence_bucket", "le"),
            CONF_COUNT: (conf, "model_confidence_count", ""),
            CONF_SUM: (conf, "model_confidence_sum", ""),
        }
        for k, value in counts:
            family, sample, extra = name[k.kind]
            labels = _labels(k.version, k.missing)
            family.add_sample(sample, {**labels, extra: k.extra} if extra else labels, value)
        # the quantiles are this run's (a summary's quantiles cannot be added up across runs)
        for g in groups:
            labels = _labels(*version_of(g, rep))
            ls = g.latency_ms
            if ls.n:
                for q, v in (("0.5", ls.p50), ("0.95", ls.p95), ("0.99", ls.p99)):
                    if v is not None:
                        lat.add_sample("prediction_latency_seconds", {**labels, "quantile": q}, v / 1000)
        yield total
        yield lat
        yield conf
        if rep.features is not None:
            stat = GaugeMetricFamily(
                "mlmon_feature_drift_statistic",
                "Drift effect size per feature (label measure): KS D for numbers, total variation for "
                "categories.",
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
            pstat = GaugeMetricFamily(
                "mlmon_prediction_drift_statistic",
                "Drift effect size of the model's predictions against the baseline's (label measure): "
                "KS D for confidence and value, total variation for the class.",
                labels=["prediction", "measure"],
            )
            pflag = GaugeMetricFamily(
                "mlmon_prediction_drift", "1 when the prediction drifted (significant and large enough).",
                labels=["prediction"],
            )
            jstat = GaugeMetricFamily(
                "mlmon_multivariate_drift_statistic",
                "Joint drift of the numeric features: the rise of the mean PCA reconstruction error, in "
                "reference standard deviations.",
            )
            jflag = GaugeMetricFamily(
                "mlmon_multivariate_drift", "1 when the joint distribution of the numeric features drifted.")
            for f in rep.features:
                if f.role == "prediction":
                    if f.effect_size is not None:
                        pstat.add_metric([f.name, f.effect_measure or ""], f.effect_size)
                    pflag.add_metric([f.name], 1.0 if f.drift else 0.0)
                    continue
                if f.role == "multivariate":
                    if f.effect_size is not None:
                        jstat.add_metric([], f.effect_size)
                    jflag.add_metric([], 1.0 if f.drift else 0.0)
                    continue
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
            if any(f.role == "prediction" for f in rep.features):
                yield pstat
                yield pflag
            if any(f.role == "multivariate" for f in rep.features):
                yield jstat
                yield jflag
        if rep.quality is not None:
            yield from quality_families(rep.quality)
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


def quality_families(q: QualityReport) -> Iterator[Metric]:
    """Realized performance: each metric with its 95% bounds, overall (model_version "") and per
    group (model_version_missing="true" on the records without the --by field), and the labelled
    predictions' count."""
    value = GaugeMetricFamily(
        "mlmon_quality",
        "Realized performance against the labels: accuracy, macro_f1, auc, brier, ece, f1.<class>, "
        "mae, rmse, mape...; bound: value, low or high (95% interval).",
        labels=["metric", "model_version", "bound"],
    )
    labelled = GaugeMetricFamily(
        "mlmon_quality_labelled", "Predictions joined to a label (the metrics' n).", labels=["model_version"]
    )
    # the labelled predictions without the --by field carry model_version_missing="true", as every
    # other series of those records does: model_version "" alone is the overall's, and two series
    # with one name and the same labels make node_exporter refuse the whole file
    rows = [("", False, q.overall), *((g.group or "", g.group is None, g.performance) for g in q.groups)]
    for group, missing, p in rows:
        labels = _labels(group, missing)
        labelled.add_sample("mlmon_quality_labelled", labels, p.n)
        for m in p.metrics:
            for bound, v in (("value", m.value), ("low", m.low), ("high", m.high)):
                if v is not None:
                    value.add_sample("mlmon_quality", {"metric": m.name, **labels, "bound": bound}, v)
    yield value
    yield labelled
    w = q.accounting.waiting
    if w is not None:  # --state: what waits for its other half, and what the limits dropped this run
        waiting = GaugeMetricFamily(
            "mlmon_quality_waiting", "Predictions awaiting a label, labels awaiting a prediction (--state).",
            labels=["kind"],
        )
        expired = GaugeMetricFamily(
            "mlmon_quality_expired",
            "Predictions and labels dropped this run past the wait limits (--state).",
            labels=["kind"],
        )
        for kind, n, gone in (("predictions", w.predictions, w.expired_predictions),
                              ("labels", w.labels, w.expired_labels)):
            waiting.add_metric([kind], n)
            expired.add_metric([kind], gone)
        yield waiting
        yield expired


def registry(
    rep: CheckReport | None,
    *,
    now: float,
    success: bool,
    totals: dict[str, float] | None = None,
    labels: dict[str, str] | None = None,
) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(_Collector(rep, now=now, success=success, totals=totals, labels=labels or {}))
    return reg


def check_prometheus(
    rep: CheckReport | None,
    *,
    now: float,
    success: bool,
    totals: dict[str, float] | None = None,
    labels: dict[str, str] | None = None,
) -> str:
    """The exposition text; `rep` None (a failed run) gives only mlmon_run_success 0 and the time.
    `totals` (with --state) makes every counter (`predictions_total`, `_count`, `_sum`, `_bucket`)
    count across runs; `labels` (the run's identity) are added to every series."""
    return generate_latest(registry(rep, now=now, success=success, totals=totals, labels=labels)).decode(
        "utf-8"
    )
