"""Alert rules: thresholds on results, each crossing an Alert with a severity."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mlmon.numfmt import number, p_value
from mlmon.stats.drift import DriftOptions, FeatureDrift
from mlmon.stats.summary import GroupSummary, SummaryResult


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "critical": 2}[self.value]


@dataclass(frozen=True)
class Alert:
    """A threshold crossed on valid data."""

    metric: str
    """The metric's one name, as in the JSON output (`latency_ms.p99`, `drift.age`)."""
    severity: Severity
    value: float
    threshold: float
    message: str
    group: str | None = None
    """The group (model version) it fired for; None for all records."""


@dataclass(frozen=True)
class SummaryThresholds:
    max_p95_ms: float | None = None
    max_p99_ms: float | None = None
    min_success_rate: float | None = None
    max_error_rate: float | None = None
    max_low_confidence_share: float | None = None
    max_out_of_range: int | None = None


def _where(g: GroupSummary) -> str:
    return "all records" if g.group == "(all)" else f"group {g.group}"


def summary_alerts(result: SummaryResult, t: SummaryThresholds) -> tuple[Alert, ...]:
    alerts: list[Alert] = []
    for g in (result.overall, *result.groups):
        group = None if g.group == "(all)" else g.group
        lat = g.latency_ms
        for name, limit, value in (("p95", t.max_p95_ms, lat.p95), ("p99", t.max_p99_ms, lat.p99)):
            if limit is not None and value is not None and name not in lat.insufficient and value > limit:
                alerts.append(
                    Alert(
                        f"latency_ms.{name}",
                        Severity.WARNING,
                        value,
                        limit,
                        f"latency {name} {value:.1f} ms > {limit:g} ms ({_where(g)}, n={lat.n})",
                        group,
                    )
                )
        if (
            t.min_success_rate is not None
            and g.success_rate is not None
            and g.success_rate < t.min_success_rate
        ):
            alerts.append(
                Alert(
                    "success_rate",
                    Severity.CRITICAL,
                    g.success_rate,
                    t.min_success_rate,
                    f"success rate {g.success_rate:.2%} < {t.min_success_rate:.2%} "
                    f"({_where(g)}, n={g.success_n})",
                    group,
                )
            )
        if t.max_error_rate is not None and g.error_rate is not None and g.error_rate > t.max_error_rate:
            alerts.append(
                Alert(
                    "error_rate",
                    Severity.CRITICAL,
                    g.error_rate,
                    t.max_error_rate,
                    f"error rate {g.error_rate:.2%} > {t.max_error_rate:.2%} ({_where(g)}, n={g.success_n})",
                    group,
                )
            )
        c = g.confidence
        if (
            t.max_low_confidence_share is not None
            and c.low_share is not None
            and c.low_share > t.max_low_confidence_share
        ):
            alerts.append(
                Alert(
                    "confidence.low_share",
                    Severity.WARNING,
                    c.low_share,
                    t.max_low_confidence_share,
                    f"{c.low_share:.1%} of predictions below confidence {c.low_threshold:g} > "
                    f"{t.max_low_confidence_share:.1%} ({_where(g)}, n={c.n})",
                    group,
                )
            )
        out = g.predictions_out_of_range
        if out and t.max_out_of_range is not None and out > t.max_out_of_range:
            alerts.append(
                Alert(
                    "predictions_out_of_range",
                    Severity.WARNING,
                    float(out),
                    float(t.max_out_of_range),
                    f"{out} numeric predictions outside the expected range "
                    f"({_where(g)}, n={g.prediction_values})",
                    group,
                )
            )
    return tuple(alerts)


def drift_alerts(features: tuple[FeatureDrift, ...], o: DriftOptions) -> tuple[Alert, ...]:
    alerts: list[Alert] = []
    for f in features:
        if f.drift and f.effect_size is not None and f.p_value_adjusted is not None:
            sev = Severity.CRITICAL if f.effect_size >= o.critical_effect else Severity.WARNING
            what = "KS D" if f.effect_measure == "ks_d" else "PSI"
            alerts.append(
                Alert(
                    f"drift.{f.name}",
                    sev,
                    f.effect_size,
                    o.min_effect,
                    f"feature {f.name} drifted: {what} {f.effect_size:.3f} >= {o.min_effect:g}, "
                    f"adjusted p {p_value(f.p_value_adjusted)} < {o.p_threshold:g} (n={f.n})",
                )
            )
        if f.mean_shift and f.mean_deviation is not None:
            unit = (
                "of the baseline mean"
                if f.mean_deviation_kind == "relative"
                else "baseline std"
                if f.mean_deviation_kind == "std"
                else "absolute"
            )
            shown = (
                f"{f.mean_deviation:.1%} {unit}"
                if f.mean_deviation_kind == "relative"
                else f"{f.mean_deviation:.3g} {unit}"
            )
            alerts.append(
                Alert(
                    f"mean_deviation.{f.name}",
                    Severity.WARNING,
                    f.mean_deviation,
                    o.mean_tolerance,
                    f"feature {f.name} mean {number(f.mean)} vs baseline {number(f.baseline_mean)}: "
                    f"off by {shown} > {o.mean_tolerance:g} (n={f.n})",
                )
            )
    return tuple(alerts)


def worst(alerts: tuple[Alert, ...]) -> Severity | None:
    return max((a.severity for a in alerts), key=lambda s: s.rank, default=None)
