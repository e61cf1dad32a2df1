"""Alert rules: thresholds on results, each crossing an Alert with a severity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from mlmon.numfmt import duration, number, p_value, percent, sd
from mlmon.stats.joint import CRITICAL as JOINT_CRITICAL
from mlmon.stats.joint import WARNING as JOINT_WARNING
from mlmon.stats.percentile import level as percentile_level
from mlmon.stats.summary import GroupSummary, SummaryResult, group_text

if TYPE_CHECKING:
    from mlmon.stats.drift import DriftOptions, FeatureDrift


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
    """The group (model version) it fired for; None for all records, or with `group_missing`."""
    group_missing: bool = False
    """It fired for the records without the --by field (`group` is then None)."""
    compared: float | None = None
    """`check`: the quantity compared with `threshold` (a 95% bound, or `value`); None elsewhere."""
    compared_kind: str | None = None
    """What `compared` is (`estimate`, `upper 95%`, ...: mlmon/rules/check.py COMPARED_KINDS)."""


@dataclass(frozen=True)
class Threshold:
    """A limit with a warning level, a critical level, or both (`WARN[:CRIT]` on the command line).

    For an upper limit (`--max-p99-ms 250:400`) a value above `critical` is critical and a value
    above `warning` a warning; for a lower limit (`--min-success-rate 0.99:0.95`) the same below."""

    warning: float | None = None
    critical: float | None = None

    def crossed(self, value: float, *, upper: bool) -> tuple[Severity, float] | None:
        """The severity that fired and its limit, or None when the value is within both."""
        for sev, limit in ((Severity.CRITICAL, self.critical), (Severity.WARNING, self.warning)):
            if limit is not None and (value > limit if upper else value < limit):
                return sev, limit
        return None


def threshold(value: Threshold | float | None, default: Severity) -> Threshold | None:
    """A Threshold from a Threshold or a bare number (which fires at `default` severity)."""
    if value is None or isinstance(value, Threshold):
        return value
    v = float(value)
    return Threshold(critical=v) if default is Severity.CRITICAL else Threshold(warning=v)


@dataclass(frozen=True)
class SummaryThresholds:
    """The summary's alert rules. A bare number keeps the rule's own severity: critical for
    success and error rates, warning for the others."""

    max_p95_ms: Threshold | float | None = None
    max_p99_ms: Threshold | float | None = None
    min_success_rate: Threshold | float | None = None
    max_error_rate: Threshold | float | None = None
    max_low_confidence_share: Threshold | float | None = None
    max_out_of_range: Threshold | float | None = None
    min_samples: int = 30
    """Rates from fewer values than this get no verdict (as drift's insufficient_data): one
    error in one request is not an alert. Latency percentiles need no such floor: they alert
    only when their 95% lower bound is beyond the limit, which few values rarely prove."""


RULES: dict[str, tuple[str, Severity, bool]] = {
    "max_p95_ms": ("latency_ms.p95", Severity.WARNING, True),
    "max_p99_ms": ("latency_ms.p99", Severity.WARNING, True),
    "min_success_rate": ("success_rate", Severity.CRITICAL, False),
    "max_error_rate": ("error_rate", Severity.CRITICAL, True),
    "max_low_confidence_share": ("confidence.low_share", Severity.WARNING, True),
    "max_out_of_range": ("predictions_out_of_range", Severity.WARNING, True),
}
"""Threshold field -> (metric name, severity of a bare number, whether it is an upper limit)."""


def rules(t: SummaryThresholds) -> dict[str, Threshold]:
    """The thresholds that are set, by metric name."""
    out: dict[str, Threshold] = {}
    for name, (metric, default, _) in RULES.items():
        th = threshold(getattr(t, name), default)
        if th is not None and (th.warning is not None or th.critical is not None):
            out[metric] = th
    return out


def records_text(group: str | None, *, overall: bool = False, missing: bool = False) -> str:
    """Which records a message is about: all records, the records without the --by field, or a
    group (its value quoted when it could be mistaken for one of the other two)."""
    if overall:
        return "all records"
    if missing or group is None:
        return "records without the --by field"
    return f"group {group_text(group)}"


def _where(g: GroupSummary, overall: bool) -> str:
    return records_text(g.group, overall=overall)


def _evaluated(result: SummaryResult) -> tuple[tuple[GroupSummary, bool], ...]:
    """The rows alerts are checked on, each with whether it is the overall: with a single group,
    only that group (it is all records)."""
    if len(result.groups) == 1 and result.groups[0].records == result.overall.records:
        return ((result.groups[0], False),)
    return ((result.overall, True), *((g, False) for g in result.groups))


def _ms(v: float) -> str:
    text = f"{v:,.1f}"
    return (text[:-2] if text.endswith(".0") else text) + " ms"


def _pct(digits: int) -> Callable[[float], str]:
    return lambda v: f"{v:.{digits}%}"


def _count(v: float) -> str:
    return f"{v:,.0f}"


def summary_alerts(
    result: SummaryResult,
    t: SummaryThresholds,
    *,
    prediction_range: tuple[float, float] | None = None,
    unchecked: bool = False,
) -> tuple[Alert, ...]:
    """Alerts of the thresholds that are set, per group; with a single group, once.

    Rates from fewer than `t.min_samples` values get no verdict; where that leaves a threshold
    unchecked on all records, a `records` warning says so (with `unchecked`). A percentile has
    a verdict at every n by one rule (mlmon/stats/percentile.py): it alerts when its 95% lower
    confidence bound is beyond the limit, that is when the data prove the limit crossed."""
    alerts: list[Alert] = []
    th = rules(t)
    upper = {metric: up for metric, _, up in RULES.values()}
    rng = "" if prediction_range is None else f" [{prediction_range[0]:g}, {prediction_range[1]:g}]"
    evaluated = _evaluated(result)
    for g, is_overall in evaluated:
        lat, c, out = g.latency_ms, g.confidence, g.predictions_out_of_range
        group = None if is_overall else g.group
        missing = not is_overall and g.group is None
        skipped: list[tuple[str, int]] = []
        checks: list[tuple[str, float | None, str, Callable[[float], str], int, float | None]] = [
            (f"latency_ms.{name}", value, f"latency {name}", _ms, lat.n, lat.bounds(name)[0])
            for name, value in (("p95", lat.p95), ("p99", lat.p99))
        ]
        checks += [
            ("success_rate", g.success_rate, "success rate", _pct(2), g.success_n, None),
            ("error_rate", g.error_rate, "error rate", _pct(2), g.success_n, None),
            (
                "confidence.low_share",
                c.low_share,
                f"share of predictions below confidence {c.low_threshold:g}",
                _pct(1),
                c.n,
                None,
            ),
        ]
        for metric, v, what, fmt, n, bound in checks:
            rule = th.get(metric)
            if rule is None or v is None:
                continue
            percentile = metric.startswith("latency_ms.")
            if n < t.min_samples and not percentile:  # a percentile has a verdict at every n
                skipped.append((metric, n))
                continue
            if percentile:  # one rule at every n: the 95% lower bound beyond the limit
                level, _ = percentile_level(v, *lat.bounds(metric[-3:]), rule.warning, rule.critical, True)
                if level is None or bound is None:
                    continue
                sev = Severity(level)
                limit = float(rule.critical if sev is Severity.CRITICAL else rule.warning)  # type: ignore[arg-type]
            else:
                hit = rule.crossed(v, upper=upper[metric])
                if hit is None:
                    continue
                sev, limit = hit
            op = ">" if upper[metric] else "<"
            proof = f"; proven: the 95% lower bound is {fmt(bound)}" if percentile and bound else ""
            alerts.append(
                Alert(
                    metric,
                    sev,
                    v,
                    limit,
                    f"{what} {fmt(v)} {op} {fmt(limit)}, the {sev.value} limit{proof} "
                    f"({_where(g, is_overall)}, n={n:,})",
                    group,
                    missing,
                )
            )
        rule = th.get("predictions_out_of_range")
        hit = None if rule is None or out is None else rule.crossed(float(out), upper=True)
        if hit is not None and out is not None:
            sev, limit = hit
            alerts.append(
                Alert(
                    "predictions_out_of_range",
                    sev,
                    float(out),
                    limit,
                    f"numeric predictions outside the expected range{rng} {out:,} > {limit:,.0f}, "
                    f"the {sev.value} limit ({_where(g, is_overall)}, n={g.prediction_values:,})",
                    group,
                    missing,
                )
            )
        if unchecked and skipped and g is evaluated[0][0]:
            few = min(n for _, n in skipped)
            names = ", ".join(f"{m} (n={n:,})" for m, n in skipped)
            alerts.append(
                Alert(
                    "records",
                    Severity.WARNING,
                    float(few),
                    float(t.min_samples),
                    f"not checked, too few values: {names}; rates and percentiles need at least "
                    f"--min-samples {t.min_samples} ({_where(g, is_overall)})",
                    group,
                    missing,
                )
            )
    return tuple(alerts)


@dataclass(frozen=True)
class TrafficRules:
    """Gates on the selected records themselves: enough of them, and a recent one.

    A bare number is critical. An empty selection is always a `records` alert."""

    min_records: Threshold | float | None = None
    max_age_seconds: Threshold | float | None = None


def traffic_alerts(
    records: int, newest_ns: int | None, rules: TrafficRules, now_ns: int, *, newest_text: str | None = None
) -> tuple[Alert, ...]:
    """`records` when too few records were selected, `age_seconds` when the newest is too old."""
    alerts: list[Alert] = []
    need = threshold(rules.min_records, Severity.CRITICAL)
    if need is None and records == 0:
        need = Threshold(critical=1.0)
    hit = None if need is None else need.crossed(records, upper=False)
    if hit is not None:
        sev, limit = hit
        alerts.append(
            Alert(
                "records",
                sev,
                float(records),
                limit,
                "0 records in the window: nothing was checked"
                if rules.min_records is None
                else f"{records:,} records in the window < {limit:,.0f}, the {sev.value} limit",
            )
        )
    age_rule = threshold(rules.max_age_seconds, Severity.CRITICAL)
    if age_rule is not None and newest_ns is not None:
        age = (now_ns - newest_ns) / 1e9
        hit = age_rule.crossed(age, upper=True)
        if hit is not None:
            sev, limit = hit
            when = f" ({newest_text})" if newest_text else ""
            old, lim = duration(age), duration(limit)
            if old == lim:  # just over the limit: rounding would show "2h old > 2h"
                old, lim = f"{age:,.0f}s", f"{limit:,.0f}s"
            alerts.append(
                Alert(
                    "age_seconds",
                    sev,
                    age,
                    limit,
                    f"the newest record{when} is {old} old > {lim}, the {sev.value} limit",
                )
            )
    return tuple(alerts)


def fmt_share(x: float) -> str:
    """A limit given as a share, in percent without trailing zeros: 0.2 -> 20%, 0.125 -> 12.5%."""
    return f"{x * 100:g}%"


def mean_deviation_text(f: FeatureDrift) -> str:
    """The signed deviation in its one unit: +33.1% of the baseline mean, or +0.35 sd."""
    if f.mean_deviation is None or f.mean is None or f.baseline_mean is None:
        return "-"
    signed = f.mean_deviation if f.mean >= f.baseline_mean else -f.mean_deviation
    plus = "+" if signed > 0 else ""
    if f.mean_deviation_kind == "relative":
        return percent(signed, signed=True)
    if f.mean_deviation_kind == "std":
        return plus + sd(signed)
    return plus + number(signed)


def _effect_name(f: FeatureDrift) -> str:
    if f.effect_measure == "error_rise_sd":
        return "reconstruction error rise (reference sd)"
    return "KS D" if f.effect_measure == "ks_d" else "total variation"


def _subject(f: FeatureDrift) -> str:
    """What a row is about, for messages: `feature age`, `prediction.class`, or the joint test."""
    if f.role == "prediction":
        return f.name
    if f.role == "multivariate":
        return "the joint distribution of the numeric features (PCA reconstruction error)"
    return f"feature {f.name}"


def missing_share_text(f: FeatureDrift) -> str:
    """The missing share against training's, with the rise's 95% interval and the record count."""
    low, high = f.missing_low or 0.0, f.missing_high or 0.0
    adj = "-" if f.missing_p_value_adjusted is None else p_value(f.missing_p_value_adjusted)
    return (
        f"{percent(f.missing_share or 0.0)} of records have no value for {_subject(f)} "
        f"(training {percent(f.baseline_missing_share or 0.0)}; rise 95% bounds "
        f"{percent(low, signed=True)} to {percent(high, signed=True)}; adjusted p {adj}; "
        f"{f.missing} of {f.records} records)"
    )


def missing_share_alert(f: FeatureDrift, o: DriftOptions) -> Alert:
    """`missing_share.<feature>`: the share of records without the feature rose (drift's limits)."""
    critical = f.missing_increased == "critical"
    limit = o.missing_critical if critical else o.missing_warning
    shown = "nan" if limit is None else fmt_share(limit)
    how = "the lower bound passes the critical" if critical else "the upper bound reaches the"
    return Alert(
        f"missing_share.{f.name}",
        Severity.CRITICAL if critical else Severity.WARNING,
        f.missing_share or 0.0,
        float("nan") if limit is None else limit,
        f"{missing_share_text(f)}: {how} limit {shown}",
    )


def out_of_range_text(f: FeatureDrift) -> str:
    """The share of values outside training's [min, max], with its bounds and what chance gives."""
    low, high = f.out_of_range_low or 0.0, f.out_of_range_high or 0.0
    adj = "-" if f.out_of_range_p_value_adjusted is None else p_value(f.out_of_range_p_value_adjusted)
    return (
        f"{percent(f.out_of_range_share or 0.0)} of {_subject(f)}'s values are outside the training "
        f"range (95% bounds {percent(low)} to {percent(high)}; chance {percent(f.out_of_range_expected)}; "
        f"adjusted p {adj}; {f.out_of_range} of {f.n} values)"
    )


def out_of_range_alert(f: FeatureDrift, o: DriftOptions) -> Alert:
    """`out_of_range.<feature>`: more values than chance fall outside training's [min, max]."""
    critical = f.out_of_range_breached == "critical"
    limit = o.out_of_range_critical if critical else o.out_of_range_warning
    shown = "nan" if limit is None else fmt_share(limit)
    how = "the lower bound passes the critical" if critical else "the upper bound reaches the"
    return Alert(
        f"out_of_range.{f.name}",
        Severity.CRITICAL if critical else Severity.WARNING,
        f.out_of_range_share or 0.0,
        float("nan") if limit is None else limit,
        f"{out_of_range_text(f)}: {how} limit {shown}",
    )


def drift_alerts(
    features: tuple[FeatureDrift, ...], o: DriftOptions, *, unknown: tuple[str, ...] = ()
) -> tuple[Alert, ...]:
    """Drift, mean deviation, unseen values and missing features; nothing for a feature with
    too few values (insufficient_data is no verdict of any kind)."""
    from mlmon.stats.drift import drift_level, unseen_breached

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
                    f"{_subject(f)} has no value in the log: it was not checked{hint}",
                )
            )
            continue
        if f.type_errors:
            share = f.type_errors / f.records if f.records else 1.0
            alerts.append(Alert(f"type_errors.{f.name}", Severity.WARNING, share, 0.0,
                                f"{_subject(f)}: {f.type_errors} of {f.records} records "
                                f"({percent(share)}) have a value of the wrong type for a {f.kind} "
                                "feature (not tested; the rest of each record is kept)"))
        if f.missing_increased is not None:
            alerts.append(missing_share_alert(f, o))
        if f.out_of_range_breached is not None:
            alerts.append(out_of_range_alert(f, o))
        if f.constant:
            alerts.append(Alert(f"constant.{f.name}", Severity.WARNING, 1.0, 1.0,
                                f"{_subject(f)} became constant: every one of its {f.n} values is the "
                                "same, where training had several (a stuck default or a broken feature "
                                "pipeline)"))
        if f.status != "ok":
            continue
        level = drift_level(f, o)
        if level is not None and f.effect_size is not None and f.p_value_adjusted is not None:
            low, high = f.effect_low or 0.0, f.effect_high or 0.0
            critical = level == "critical"
            sev = Severity.CRITICAL if critical else Severity.WARNING
            warn_at, crit_at = (JOINT_WARNING, JOINT_CRITICAL) if f.role == "multivariate" else (
                o.min_effect, o.critical_effect)
            limit = (
                f"critical limit {crit_at:g}, passed by the lower bound"
                if critical
                else f"limit {warn_at:g}"
            )
            alerts.append(
                Alert(
                    f"drift.{f.name}",
                    sev,
                    f.effect_size,
                    crit_at if critical else warn_at,
                    f"{_subject(f)} drifted: {_effect_name(f)} {f.effect_size:.3f} "
                    f"(95% bounds {low:.3f} to {high:.3f}; {limit}), "
                    f"adjusted p {p_value(f.p_value_adjusted)} < {o.p_threshold:g} (n={f.n})",
                )
            )
        if f.mean_shift and f.mean_deviation is not None and f.mean_p_value_adjusted is not None:
            limit = fmt_share(o.mean_tolerance) if f.mean_deviation_kind == "relative" else (
                f"{o.mean_tolerance:g} sd" if f.mean_deviation_kind == "std" else f"{o.mean_tolerance:g}"
            )
            alerts.append(
                Alert(
                    f"mean_deviation.{f.name}",
                    Severity.CRITICAL,  # a mean shown to move past the tolerance: a gate must stop
                    f.mean_deviation,
                    o.mean_tolerance,
                    f"{_subject(f)} mean {number(f.mean)} vs baseline "
                    f"{number(f.baseline_mean)}: {mean_deviation_text(f)} (limit {limit}), "
                    f"adjusted p {p_value(f.mean_p_value_adjusted)} < {o.p_threshold:g} (n={f.n})",
                )
            )
        if unseen_breached(f, o.max_unseen_share, o.p_threshold):
            crit = unseen_breached(f, o.critical_unseen_share, o.p_threshold)
            unseen_limit = o.critical_unseen_share if crit else o.max_unseen_share
            listed = ", ".join(f"{c} {percent(s)}" for c, s in f.unseen_categories[:3])
            more = f" and {f.unseen_distinct - 3} more" if f.unseen_distinct > 3 else ""
            expected = "" if not f.unseen_expected else f", {percent(f.unseen_expected)} expected"
            over = " over the expected share" if f.unseen_expected else ""
            alerts.append(
                Alert(
                    f"unseen.{f.name}",
                    Severity.CRITICAL if crit else Severity.WARNING,
                    f.unseen_share,
                    unseen_limit,
                    f"{_subject(f)}: {percent(f.unseen_share)} of values were never seen in training"
                    f"{expected} ({'critical ' if crit else ''}limit {fmt_share(unseen_limit)}{over}): "
                    f"{listed}{more} (n={f.n})",
                )
            )
    return tuple(alerts)


def worst(alerts: tuple[Alert, ...]) -> Severity | None:
    return max((a.severity for a in alerts), key=lambda s: s.rank, default=None)
