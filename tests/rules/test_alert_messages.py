"""What an alert says, word for word: the traffic gates (too few records, a stale log) with their
units, and the drift, mean and missing-feature alerts with their numbers, limits and hints. The
message is what on-call reads first; a wrong unit or a lost hint is a wrong answer."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa
import pytest

from mlmon.read.records import FEATURE_PREFIX
from mlmon.rules.alerts import (
    Alert,
    Severity,
    SummaryThresholds,
    Threshold,
    TrafficRules,
    drift_alerts,
    mean_deviation_text,
    records_text,
    summary_alerts,
    traffic_alerts,
    worst,
)
from mlmon.stats import baseline as bl
from mlmon.stats.drift import DriftAccumulator, DriftOptions, FeatureDrift
from mlmon.stats.summary import SummaryAccumulator, SummaryOptions, SummaryResult

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
    # ages for people (as the verdict line's "newest ... ago"), never "860.4 h"
    (5400, 3600, (Severity.CRITICAL, "is 1h 30m old > 1h, the critical limit")),
    (2 * 86400, 86400, (Severity.CRITICAL, "is 2 days old > 1 day, the critical limit")),
    (35 * 86400 + 1440, 86400, (Severity.CRITICAL, "is 35 days old > 1 day, the critical limit")),
    (247, 60, (Severity.CRITICAL, "is 4m 7s old > 1m, the critical limit")),
    (61, 59, (Severity.CRITICAL, "is 1m 1s old > 59s, the critical limit")),
    (1_000_000, 59, (Severity.CRITICAL, "is 11 days old > 59s, the critical limit")),
    (3600, Threshold(warning=1800, critical=7200),
     (Severity.WARNING, "is 1h old > 30m, the warning limit")),
    # just over the limit: both in seconds, so the age never reads as equal to the limit
    (7201, Threshold(warning=1800, critical=7200),
     (Severity.CRITICAL, "is 7,201s old > 7,200s, the critical limit")),
    (10 * 3600 + 360, 36000, (Severity.CRITICAL, "is 10h 6m old > 10h, the critical limit")),
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
    assert a.message == "the newest record is 3,601s old > 3,600s, the critical limit"
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
    # a mean shown past the tolerance is critical: a --fail-on critical gate stops on it
    assert (a.severity, a.value, a.threshold) == (Severity.CRITICAL, deviation, 0.1)
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


def _summary(groups: list[str | None], ok: list[bool], confidence: list[float] | None = None
             ) -> SummaryResult:
    n = len(groups)
    t = pa.table({
        "group": pa.array(groups, pa.string()),
        "latency_ms": pa.array([10.0] * n),
        "success": pa.array(ok),
        "pred_class": pa.nulls(n, pa.string()),
        "confidence": pa.array(confidence, pa.float64()) if confidence else pa.nulls(n, pa.float64()),
        "pred_value": pa.nulls(n, pa.float64()),
        "timestamp": pa.array([i * 10**9 for i in range(n)], pa.timestamp("ns", tz="UTC")),
    })
    acc = SummaryAccumulator(SummaryOptions())
    acc.update(t)
    return acc.result()


# v1: 60 records, 6 errors (90%); v2: 60, none; 40 records without the --by field, 8 errors (80%);
# all records: 160, 14 errors (91.25%)
GROUPS: list[str | None] = ["v1"] * 60 + ["v2"] * 60 + [None] * 40
OK = [i % 10 != 0 for i in range(60)] + [True] * 60 + [i % 5 != 0 for i in range(40)]


def test_summary_alerts_say_which_records_each_is_about() -> None:
    alerts = summary_alerts(_summary(GROUPS, OK), SummaryThresholds(min_success_rate=0.95))
    got = [(a.metric, a.severity, a.group, a.group_missing, a.message) for a in alerts]
    assert got == [
        ("success_rate", Severity.CRITICAL, None, False,
         "success rate 91.25% < 95.00%, the critical limit (all records, n=160)"),
        ("success_rate", Severity.CRITICAL, "v1", False,
         "success rate 90.00% < 95.00%, the critical limit (group v1, n=60)"),
        ("success_rate", Severity.CRITICAL, None, True,
         "success rate 80.00% < 95.00%, the critical limit (records without the --by field, n=40)"),
    ]
    errors = summary_alerts(_summary(GROUPS, OK), SummaryThresholds(max_error_rate=Threshold(warning=0.09)))
    # all records: 8.75% errors, within the limit
    assert [a.message for a in errors] == [
        "error rate 10.00% > 9.00%, the warning limit (group v1, n=60)",
        "error rate 20.00% > 9.00%, the warning limit (records without the --by field, n=40)",
    ]


def test_a_rate_from_exactly_min_samples_values_is_judged_and_from_fewer_is_not() -> None:
    at = summary_alerts(_summary(GROUPS, OK), SummaryThresholds(min_success_rate=0.95, min_samples=40))
    assert [(a.group, a.group_missing) for a in at] == [(None, False), ("v1", False), (None, True)]
    above = summary_alerts(_summary(GROUPS, OK), SummaryThresholds(min_success_rate=0.95, min_samples=41))
    assert [(a.group, a.group_missing) for a in above] == [(None, False), ("v1", False)]


def test_a_threshold_left_unchecked_on_all_records_is_a_records_warning() -> None:
    t = SummaryThresholds(min_success_rate=0.95, min_samples=161)
    assert summary_alerts(_summary(GROUPS, OK), t) == ()
    (a,) = summary_alerts(_summary(GROUPS, OK), t, unchecked=True)
    assert (a.metric, a.severity, a.value, a.threshold) == ("records", Severity.WARNING, 160.0, 161.0)
    assert a.group is None
    assert a.message == ("not checked, too few values: success_rate (n=160); rates and percentiles need at "
                         "least --min-samples 161 (all records)")


def test_a_single_group_alerts_once_for_that_group() -> None:
    (a,) = summary_alerts(_summary(["v1"] * 60, OK[:60]), SummaryThresholds(min_success_rate=0.95))
    assert (a.group, a.group_missing) == ("v1", False)
    assert a.message == "success rate 90.00% < 95.00%, the critical limit (group v1, n=60)"


def test_low_confidence_share_names_the_confidence_it_counts_below() -> None:
    conf = [0.3 if i % 4 == 0 else 0.9 for i in range(60)]  # 25% below 0.5
    (a,) = summary_alerts(_summary(["v1"] * 60, [True] * 60, conf),
                          SummaryThresholds(max_low_confidence_share=0.2))
    assert (a.metric, a.severity) == ("confidence.low_share", Severity.WARNING)
    assert a.message == ("share of predictions below confidence 0.5 25.0% > 20.0%, the warning limit "
                         "(group v1, n=60)")


def test_a_latency_alert_is_in_milliseconds_with_the_bound_that_proves_it() -> None:
    n = 2000
    t = pa.table({
        "group": pa.array(["v1"] * n), "latency_ms": pa.array([1234.56] * n), "success": pa.array([True] * n),
        "pred_class": pa.nulls(n, pa.string()), "confidence": pa.nulls(n, pa.float64()),
        "pred_value": pa.nulls(n, pa.float64()),
        "timestamp": pa.array([i * 10**9 for i in range(n)], pa.timestamp("ns", tz="UTC")),
    })
    acc = SummaryAccumulator(SummaryOptions())
    acc.update(t)
    th = SummaryThresholds(max_p99_ms=1000, max_p95_ms=Threshold(warning=500, critical=1234.5))
    assert [a.message for a in summary_alerts(acc.result(), th)] == [
        "latency p95 1,234.6 ms > 1,234.5 ms, the critical limit; proven: the 95% lower bound is 1,234.6 ms "
        "(group v1, n=2,000)",
        "latency p99 1,234.6 ms > 1,000 ms, the warning limit; proven: the 95% lower bound is 1,234.6 ms "
        "(group v1, n=2,000)",
    ]


def test_records_text_names_the_records() -> None:
    assert records_text("v1") == "group v1"
    assert records_text(None) == "records without the --by field"
    assert records_text("v1", overall=True) == "all records"
    assert records_text("v1", missing=True) == "records without the --by field"


def test_the_worst_severity_is_critical_whatever_the_order() -> None:
    def alert(sev: Severity) -> Alert:
        return Alert("records", sev, 0.0, 1.0, "")

    mixed = (alert(Severity.WARNING), alert(Severity.CRITICAL), alert(Severity.WARNING))
    assert worst(mixed) is Severity.CRITICAL
    assert worst((alert(Severity.WARNING),)) is Severity.WARNING
    assert worst(()) is None


def test_a_missing_or_thin_feature_does_not_hide_the_next_ones_alerts(row: FeatureDrift) -> None:
    o = DriftOptions(min_effect=0.1, critical_effect=0.25)
    drifted = replace(row, name="b", n=300, effect_size=0.285, effect_low=0.26, effect_high=0.31,
                      effect_measure="ks_d", p_value_adjusted=1e-4, mean_shift=False, unseen_share=0.0,
                      unseen_expected=None)
    gone = replace(row, name="a", status="missing")
    thin = replace(row, name="c", status="insufficient_data")
    got = [a.metric for a in drift_alerts((gone, thin, drifted), o)]
    assert got == ["missing.a", "drift.b"]


def test_an_unseen_alert_against_the_share_the_baseline_expects(row: FeatureDrift) -> None:
    from mlmon.numfmt import percent

    # 3% unseen where 1% is expected: 2 points over, past the 1% limit, short of the critical 5%
    f = replace(row, n=20000, unseen_share=0.03, unseen_categories=(("XX", 0.03),), unseen_distinct=1,
                unseen_expected=0.01, unseen_expected_se=0.0005, baseline_n=20000, p_value_adjusted=0.5,
                mean_shift=False)
    (a,) = drift_alerts((f,), DriftOptions(max_unseen_share=0.01))
    assert a.severity is Severity.WARNING
    assert a.message == (f"feature age: {percent(0.03)} of values were never seen in training, "
                         f"{percent(0.01)} expected (limit 1% over the expected share): XX {percent(0.03)} "
                         "(n=20000)")


@pytest.mark.parametrize(("kind", "mean", "want"), [
    ("absolute", 42.5, "+2.5"),
    ("absolute", 37.5, "-2.5"),
    ("relative", 30.0, "-25.0%"),
])
def test_mean_deviation_text_is_signed_in_its_unit(
    row: FeatureDrift, kind: str, mean: float, want: str
) -> None:
    deviation = abs(mean - 40) / (40 if kind == "relative" else 1)
    f = replace(row, mean=mean, baseline_mean=40.0, mean_deviation=deviation, mean_deviation_kind=kind)
    assert mean_deviation_text(f) == want
    for gone in ({"mean": None}, {"baseline_mean": None}, {"mean_deviation": None}):
        assert mean_deviation_text(replace(f, **gone)) == "-"  # type: ignore[arg-type]
