"""What an alert says, word for word: the traffic gates (too few records, a stale log) with their
units, and the drift, mean and missing-feature alerts with their numbers, limits and hints. The
message is what on-call reads first; a wrong unit or a lost hint is a wrong answer."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa
import pytest

from mlmon.read.records import FEATURE_PREFIX
from mlmon.rules.alerts import Severity, Threshold, TrafficRules, drift_alerts, traffic_alerts
from mlmon.stats import baseline as bl
from mlmon.stats.drift import DriftAccumulator, DriftOptions, FeatureDrift

NOW = 1_800_000_000 * 10**9
S = 10**9


def _one(alerts: tuple) -> tuple[str, Severity, float, float, str]:  # type: ignore[type-arg]
    (a,) = alerts
    return a.metric, a.severity, a.value, a.threshold, a.message


def test_no_records_and_no_gate_is_critical_nothing_checked() -> None:
    assert _one(traffic_alerts(0, None, TrafficRules(), NOW)) == (
        "records", Severity.CRITICAL, 0.0, 1.0, "0 records in the window: nothing was checked")
    assert traffic_alerts(1, None, TrafficRules(), NOW) == ()


@pytest.mark.parametrize(("records", "gate", "want"), [
    (5, Threshold(warning=100, critical=10),
     (Severity.CRITICAL, 10.0, "5 records in the window < 10, the critical limit")),
    (50, Threshold(warning=100, critical=10),
     (Severity.WARNING, 100.0, "50 records in the window < 100, the warning limit")),
    (1234, 2000, (Severity.CRITICAL, 2000.0, "1,234 records in the window < 2,000, the critical limit")),
    (0, 2000, (Severity.CRITICAL, 2000.0, "0 records in the window < 2,000, the critical limit")),
])
def test_too_few_records_names_the_count_and_the_limit(records: int, gate: object, want: tuple) -> None:  # type: ignore[type-arg]
    got = traffic_alerts(records, None, TrafficRules(min_records=gate), NOW)
    metric, sev, value, limit, message = _one(got)
    assert (metric, value) == ("records", float(records))
    assert (sev, limit, message) == want


def test_enough_records_is_quiet_even_at_the_limit() -> None:
    gate = TrafficRules(min_records=Threshold(warning=100, critical=10))
    assert traffic_alerts(100, None, gate, NOW) == ()
    assert traffic_alerts(101, None, gate, NOW) == ()


@pytest.mark.parametrize(("age_s", "gate", "want"), [
    # the unit is the limit's: hours for 1 h, days for 1 d, minutes for 60 s, seconds below
    (5400, 3600, (Severity.CRITICAL, "is 1.5 h old > 1 h, the critical limit")),
    (2 * 86400, 86400, (Severity.CRITICAL, "is 2 d old > 1 d, the critical limit")),
    (90, 60, (Severity.CRITICAL, "is 1.5 min old > 1 min, the critical limit")),
    (61, 59, (Severity.CRITICAL, "is 61 s old > 59 s, the critical limit")),
    (1_000_000, 59, (Severity.CRITICAL, "is 1,000,000 s old > 59 s, the critical limit")),
    (3600, Threshold(warning=1800, critical=7200),
     (Severity.WARNING, "is 60 min old > 30 min, the warning limit")),
    (7201, Threshold(warning=1800, critical=7200),
     (Severity.CRITICAL, "is 2 h old > 2 h, the critical limit")),
    (10 * 3600 + 360, 36000, (Severity.CRITICAL, "is 10.1 h old > 10 h, the critical limit")),
])
def test_a_stale_log_says_how_old_in_the_limits_unit(age_s: int, gate: object, want: tuple) -> None:  # type: ignore[type-arg]
    newest = NOW - age_s * S
    metric, sev, value, limit, message = _one(
        traffic_alerts(10, newest, TrafficRules(max_age_seconds=gate), NOW,
                       newest_text="2027-01-15T08:00:00Z"))
    assert metric == "age_seconds" and value == age_s
    assert (sev, message) == (want[0], f"the newest record (2027-01-15T08:00:00Z) {want[1]}")
    assert limit == (gate if isinstance(gate, int) else gate.critical if sev is Severity.CRITICAL  # type: ignore[attr-defined]
                     else gate.warning)  # type: ignore[attr-defined]


def test_a_log_exactly_as_old_as_the_limit_is_fresh_and_no_time_no_parentheses() -> None:
    assert traffic_alerts(10, NOW - 3600 * S, TrafficRules(max_age_seconds=3600), NOW) == ()
    (a,) = traffic_alerts(10, NOW - 3601 * S, TrafficRules(max_age_seconds=3600), NOW)
    assert a.message == "the newest record is 1 h old > 1 h, the critical limit"
    # no record at all: nothing to be old (the records gate speaks instead)
    assert traffic_alerts(10, None, TrafficRules(max_age_seconds=1), NOW) == ()


@pytest.fixture(scope="module")
def row() -> FeatureDrift:
    """A real row of a real drift run, to set the numbers of each case on."""
    rng = np.random.default_rng(3)
    b = bl.build(pa.table({"age": rng.normal(40, 10, 400)}), source="t", max_edges=None)
    acc = DriftAccumulator(b)
    acc.update(pa.table({FEATURE_PREFIX + "age": rng.normal(40, 10, 300)}))
    (r,) = acc.result(None)
    return r


def test_a_missing_feature_is_critical_and_names_up_to_five_unknown_ones(row: FeatureDrift) -> None:
    gone = replace(row, status="missing")
    assert _one(drift_alerts((gone,), DriftOptions())) == (
        "missing.age", Severity.CRITICAL, 0.0, 1.0, "feature age has no value in the log: it was not checked")
    unknown = ("Age", "a_ge", "x", "y", "z", "w")
    (a,) = drift_alerts((gone,), DriftOptions(), unknown=unknown)
    assert a.message == ("feature age has no value in the log: it was not checked; "
                         "the log has features the baseline does not: Age, a_ge, x, y, z")


def test_too_few_values_is_no_alert_of_any_kind(row: FeatureDrift) -> None:
    few = replace(row, status="insufficient_data", p_value_adjusted=1e-9, effect_low=0.9, effect_high=0.95,
                  effect_size=0.92, mean_shift=True, unseen_share=0.9)
    assert drift_alerts((few,), DriftOptions()) == ()


@pytest.mark.parametrize(("low", "high", "measure", "want"), [
    (0.26, 0.31, "ks_d", (Severity.CRITICAL, 0.25,
                          "feature age drifted: KS D 0.285 (95% bounds 0.260 to 0.310; critical limit 0.25, "
                          "passed by the lower bound), adjusted p 0.0001 < 0.05 (n=300)")),
    (0.08, 0.31, "ks_d", (Severity.WARNING, 0.1,
                          "feature age drifted: KS D 0.285 (95% bounds 0.080 to 0.310; limit 0.1), "
                          "adjusted p 0.0001 < 0.05 (n=300)")),
    (0.08, 0.31, "total_variation", (Severity.WARNING, 0.1,
                                     "feature age drifted: total variation 0.285 (95% bounds 0.080 to 0.310; "
                                     "limit 0.1), adjusted p 0.0001 < 0.05 (n=300)")),
])
def test_a_drift_alert_says_the_effect_its_bounds_the_limit_and_p(
    row: FeatureDrift, low: float, high: float, measure: str, want: tuple  # type: ignore[type-arg]
) -> None:
    o = DriftOptions(min_effect=0.1, critical_effect=0.25, p_threshold=0.05)
    f = replace(row, n=300, effect_size=0.285, effect_low=low, effect_high=high, effect_measure=measure,
                p_value_adjusted=1e-4, mean_shift=False, unseen_share=0.0, unseen_expected=None)
    alerts = [a for a in drift_alerts((f,), o) if a.metric.startswith("drift.")]
    assert [(a.severity, a.threshold, a.message) for a in alerts] == [want]
    assert alerts[0].value == 0.285
    # not significant after adjustment: no alert, however large the effect
    quiet = drift_alerts((replace(f, p_value_adjusted=0.05),), o)
    assert not [a for a in quiet if a.metric.startswith("drift.")]


@pytest.mark.parametrize(("kind", "deviation", "limit_text", "dev_text"), [
    ("relative", 0.25, "10%", "+25.0%"),
    ("std", 0.4, "0.1 sd", "+0.4 sd"),
])
def test_a_mean_alert_says_both_means_the_deviation_and_the_limit(
    row: FeatureDrift, kind: str, deviation: float, limit_text: str, dev_text: str
) -> None:
    o = DriftOptions(mean_tolerance=0.1)
    f = replace(row, n=300, mean=50.0, baseline_mean=40.0, mean_deviation=deviation, mean_deviation_kind=kind,
                mean_shift=True, mean_p_value_adjusted=0.001, p_value_adjusted=0.5, unseen_share=0.0,
                unseen_expected=None)
    (a,) = [a for a in drift_alerts((f,), o) if a.metric.startswith("mean_deviation.")]
    assert (a.severity, a.value, a.threshold) == (Severity.WARNING, deviation, 0.1)
    assert a.message == (f"feature age mean 50 vs baseline 40: {dev_text} (limit {limit_text}), "
                         "adjusted p 0.001 < 0.05 (n=300)")
    # a mean below the baseline's is a negative deviation
    (down,) = [a for a in drift_alerts((replace(f, mean=30.0),), o) if a.metric.startswith("mean_deviation.")]
    assert f"baseline 40: -{dev_text[1:]} (limit" in down.message


def test_an_unseen_alert_lists_the_commonest_new_values_and_counts_the_rest(row: FeatureDrift) -> None:
    from mlmon.numfmt import percent

    seen = (("XX", 0.03), ("YY", 0.01), ("ZZ", 0.005), ("QQ", 0.004), ("RR", 0.001))
    f = replace(row, n=300, unseen_share=0.05, unseen_categories=seen, unseen_distinct=5,
                unseen_expected=None,
                unseen_expected_se=None, p_value_adjusted=0.5, mean_shift=False)
    (a,) = drift_alerts((f,), DriftOptions(max_unseen_share=0.01))
    assert (a.metric, a.severity, a.value, a.threshold) == ("unseen.age", Severity.WARNING, 0.05, 0.01)
    listed = ", ".join(f"{c} {percent(s)}" for c, s in seen[:3])
    assert a.message == (f"feature age: {percent(0.05)} of values were never seen in training (limit 1%): "
                         f"{listed} and 2 more (n=300)")
    three = replace(f, unseen_categories=seen[:3], unseen_distinct=3)
    (b,) = drift_alerts((three,), DriftOptions(max_unseen_share=0.01))
    assert b.message.endswith(f": {listed} (n=300)")
    # at the limit: not beyond it, no alert
    assert drift_alerts((replace(f, unseen_share=0.01),), DriftOptions(max_unseen_share=0.01)) == ()
