"""Alert rules: thresholds on results, each crossing an Alert with a severity."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mlmon.stats.drift import DriftOptions, FeatureDrift
from mlmon.stats.effects import at_least, beyond
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


def fmt_p(p: float) -> str:
    """A p-value as tables and alert texts both show it (2 significant digits)."""
    return "<1e-300" if p < 1e-300 else f"{p:.2g}"


def fmt_num(v: float) -> str:
    """A value people can read: 68,430 (not 6.843e+04), 0.0048, 1.5e-07."""
    a = abs(v)
    if a >= 1e15 or (0 < a < 1e-4):
        return f"{v:.4g}"
    if a >= 1000:
        return f"{v:,.0f}"
    return f"{v:.4g}"


def fmt_share(x: float) -> str:
    """A limit given as a share, in percent without trailing zeros: 0.2 -> 20%, 0.125 -> 12.5%."""
    return f"{x * 100:g}%"


def mean_deviation_text(f: FeatureDrift) -> str:
    """The signed deviation in its one unit: +33.1% of the baseline mean, or +0.35 sd."""
    if f.mean_deviation is None or f.mean is None or f.baseline_mean is None:
        return "-"
    signed = f.mean_deviation if f.mean >= f.baseline_mean else -f.mean_deviation
    if f.mean_deviation_kind == "relative":
        return f"{signed:+.1%}"
    if f.mean_deviation_kind == "std":
        return f"{signed:+.3g} sd"
    return f"{signed:+.3g}"


def _effect_name(f: FeatureDrift) -> str:
    return "KS D" if f.effect_measure == "ks_d" else "total variation"


def drift_alerts(
    features: tuple[FeatureDrift, ...], o: DriftOptions, *, unknown: tuple[str, ...] = ()
) -> tuple[Alert, ...]:
    """Drift, mean deviation, unseen values and missing features; nothing for a feature with
    too few values (insufficient_data is no verdict of any kind)."""
    alerts: list[Alert] = []
    for f in features:
        if f.status == "missing":
            hint = ""
            if unknown:
                hint = f"; the log has features the baseline does not: {', '.join(unknown[:5])}"
            alerts.append(
                Alert(
                    f"missing.{f.name}",
                    Severity.CRITICAL,
                    0.0,
                    1.0,
                    f"feature {f.name} has no value in the log: it was not checked{hint}",
                )
            )
            continue
        if f.status != "ok":
            continue
        if f.drift and f.effect_size is not None and f.p_value_adjusted is not None:
            low, high = f.effect_low or 0.0, f.effect_high or 0.0
            critical = f.effect_low is not None and at_least(f.effect_low, o.critical_effect)
            sev = Severity.CRITICAL if critical else Severity.WARNING
            limit = (
                f"critical limit {o.critical_effect:g}, passed by the lower bound"
                if critical
                else f"limit {o.min_effect:g}"
            )
            alerts.append(
                Alert(
                    f"drift.{f.name}",
                    sev,
                    f.effect_size,
                    o.critical_effect if critical else o.min_effect,
                    f"feature {f.name} drifted: {_effect_name(f)} {f.effect_size:.3f} "
                    f"(95% bounds {low:.3f} to {high:.3f}; {limit}), "
                    f"adjusted p {fmt_p(f.p_value_adjusted)} < {o.p_threshold:g} (n={f.n})",
                )
            )
        if f.mean_shift and f.mean_deviation is not None and f.mean_p_value_adjusted is not None:
            limit = fmt_share(o.mean_tolerance) if f.mean_deviation_kind == "relative" else (
                f"{o.mean_tolerance:g} sd" if f.mean_deviation_kind == "std" else f"{o.mean_tolerance:g}"
            )
            alerts.append(
                Alert(
                    f"mean_deviation.{f.name}",
                    Severity.WARNING,
                    f.mean_deviation,
                    o.mean_tolerance,
                    f"feature {f.name} mean {fmt_num(f.mean or 0.0)} vs baseline "
                    f"{fmt_num(f.baseline_mean or 0.0)}: {mean_deviation_text(f)} (limit {limit}), "
                    f"adjusted p {fmt_p(f.mean_p_value_adjusted)} < {o.p_threshold:g} (n={f.n})",
                )
            )
        if beyond(f.unseen_share, o.max_unseen_share):
            listed = ", ".join(f"{c} {s:.1%}" for c, s in f.unseen_categories[:3])
            more = f" and {f.unseen_distinct - 3} more" if f.unseen_distinct > 3 else ""
            alerts.append(
                Alert(
                    f"unseen.{f.name}",
                    Severity.WARNING,
                    f.unseen_share,
                    o.max_unseen_share,
                    f"feature {f.name}: {f.unseen_share:.1%} of values were never seen in training "
                    f"(limit {fmt_share(o.max_unseen_share)}): {listed}{more} (n={f.n})",
                )
            )
    return tuple(alerts)


def worst(alerts: tuple[Alert, ...]) -> Severity | None:
    return max((a.severity for a in alerts), key=lambda s: s.rank, default=None)
