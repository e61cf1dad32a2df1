"""Alert rules: WARN[:CRIT] thresholds, the limit of the severity that fired, one alert per group."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from mlmon.rules.alerts import Severity, SummaryThresholds, Threshold, summary_alerts
from mlmon.stats.summary import SummaryAccumulator, SummaryOptions, SummaryResult


def _result(latency: np.ndarray, ok: np.ndarray, groups: list[str] | None = None,
            values: np.ndarray | None = None, prediction_range: tuple[float, float] | None = None
            ) -> SummaryResult:
    n = len(latency)
    t = pa.table(
        {
            "group": pa.array(groups or ["v1"] * n, pa.string()),
            "latency_ms": pa.array(latency),
            "success": pa.array(ok),
            "pred_class": pa.nulls(n, pa.string()),
            "confidence": pa.nulls(n, pa.float64()),
            "pred_value": pa.array(values) if values is not None else pa.nulls(n, pa.float64()),
            "timestamp": pa.array([i * 10**9 for i in range(n)], pa.timestamp("ns", tz="UTC")),
        }
    )
    acc = SummaryAccumulator(SummaryOptions(prediction_range=prediction_range))
    acc.update(t)
    return acc.result()


def _two_groups(n: int = 4000, seed: int = 1) -> tuple[SummaryResult, np.ndarray]:
    rng = np.random.default_rng(seed)
    lat = rng.lognormal(4, 0.6, n)
    ok = rng.random(n) > 0.03
    return _result(lat, ok, ["v1", "v2"] * (n // 2)), lat


def test_warn_and_crit_limits_pick_the_severity_and_report_its_limit() -> None:
    result, lat = _two_groups()
    p99 = float(np.percentile(lat, 99))
    # an alert needs the percentile proven above the limit: limits just under its 95% lower bound
    low = result.overall.latency_ms.p99_lower
    assert low is not None and low < p99
    cases = [
        (Threshold(warning=low - 1, critical=p99 + 1), Severity.WARNING, low - 1),
        (Threshold(warning=low - 2, critical=low - 1), Severity.CRITICAL, low - 1),
        (Threshold(critical=low - 1), Severity.CRITICAL, low - 1),
        (low - 1, Severity.WARNING, low - 1),  # a bare number keeps the rule's own severity
    ]
    for rule, severity, limit in cases:
        (a,) = [a for a in summary_alerts(result, SummaryThresholds(max_p99_ms=rule)) if a.group is None]
        assert a.metric == "latency_ms.p99" and a.severity is severity
        assert a.threshold == limit and a.value == pytest.approx(p99)
        assert f"the {severity.value} limit" in a.message
    top = max(float(np.percentile(lat[i::2], 99)) for i in (0, 1))
    assert not summary_alerts(result, SummaryThresholds(max_p99_ms=Threshold(warning=top + 1)))


def test_lower_limits_fire_below_and_bare_success_rate_is_critical() -> None:
    result, _ = _two_groups()
    rate = result.overall.success_rate
    assert rate is not None
    warn = [a for a in summary_alerts(result, SummaryThresholds(
        min_success_rate=Threshold(warning=rate + 0.001, critical=rate - 0.001))) if a.group is None]
    assert [(a.severity, a.threshold) for a in warn] == [(Severity.WARNING, rate + 0.001)]
    crit = [a for a in summary_alerts(result, SummaryThresholds(min_success_rate=rate + 0.001))
            if a.group is None]
    assert [(a.severity, a.metric) for a in crit] == [(Severity.CRITICAL, "success_rate")]
    # one unit per quantity: the rate and its limit are both percentages
    assert f"{rate:.2%} < {rate + 0.001:.2%}" in crit[0].message


def test_a_single_group_alerts_once() -> None:
    n = 3000
    lat = np.full(n, 500.0)
    result = _result(lat, np.ones(n, bool))
    alerts = summary_alerts(result, SummaryThresholds(max_p99_ms=250))
    assert [(a.metric, a.group) for a in alerts] == [("latency_ms.p99", "v1")]


def test_out_of_range_alert_shows_the_range() -> None:
    n = 100
    values = np.linspace(-50, 1500, n)
    result = _result(np.full(n, 10.0), np.ones(n, bool), values=values, prediction_range=(0, 1000))
    outside = int(((values < 0) | (values > 1000)).sum())
    (a,) = summary_alerts(result, SummaryThresholds(max_out_of_range=Threshold(warning=5, critical=10)),
                          prediction_range=(0, 1000))
    assert a.severity is Severity.CRITICAL and a.value == outside and a.threshold == 10
    assert "[0, 1000]" in a.message and f"{outside:,} " in a.message
