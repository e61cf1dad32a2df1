"""Every field of the alerts a user reads or a gate acts on, word for word: the data-quality alerts
(wrong types, missing share, values outside training's range, a feature gone constant), the
unseen-value alert at the run's own p threshold, the predictions-out-of-range rule with and
without a range, and which records each alert is about. A wrong severity, a value of 0 where the
share was meant, or a lost group is a silent wrong answer; these pin each one."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pytest

from mlmon.numfmt import percent
from mlmon.read.records import FEATURE_PREFIX
from mlmon.rules.alerts import (
    Severity,
    SummaryThresholds,
    Threshold,
    drift_alerts,
    mean_deviation_text,
    missing_share_alert,
    out_of_range_alert,
    summary_alerts,
)
from mlmon.stats import baseline as bl
from mlmon.stats import novelty
from mlmon.stats.drift import DriftAccumulator, DriftOptions, FeatureDrift
from mlmon.stats.summary import SummaryAccumulator, SummaryOptions, SummaryResult


@pytest.fixture(scope="module")
def row() -> FeatureDrift:
    """A real row of a real drift run (no alert of its own), to set the numbers of each case on."""
    rng = np.random.default_rng(3)
    b = bl.build(pa.table({"age": rng.normal(40, 10, 400)}), source="t", max_edges=None)
    acc = DriftAccumulator(b)
    acc.update(pa.table({FEATURE_PREFIX + "age": rng.normal(40, 10, 300)}))
    (r,) = acc.result(None)
    return replace(r, n=300, p_value_adjusted=0.5, mean_shift=False, unseen_share=0.0, unseen_expected=None)


def _fields(a: object) -> tuple:  # type: ignore[type-arg]
    return tuple(getattr(a, k) for k in ("metric", "severity", "value", "threshold", "message", "group",
                                         "group_missing"))


def test_row_alone_raises_nothing(row: FeatureDrift) -> None:
    assert drift_alerts((row,), DriftOptions()) == ()


# --- values of the wrong type -----------------------------------------------------------------------

def test_wrong_types_are_a_warning_with_their_share_of_records(row: FeatureDrift) -> None:
    f = replace(row, type_errors=3, records=40, kind="numeric")
    (a,) = drift_alerts((f,), DriftOptions())
    assert _fields(a) == (
        "type_errors.age", Severity.WARNING, 0.075, 0.0,
        "feature age: 3 of 40 records (7.5%) have a value of the wrong type for a numeric feature "
        "(not tested; the rest of each record is kept)", None, False)


def test_wrong_types_with_no_records_counted_are_all_of_them(row: FeatureDrift) -> None:
    (a,) = drift_alerts((replace(row, type_errors=2, records=0, kind="categorical"),), DriftOptions())
    assert (a.value, a.message) == (
        1.0, "feature age: 2 of 0 records (100.0%) have a value of the wrong type for a categorical feature "
        "(not tested; the rest of each record is kept)")


# --- a feature gone constant -------------------------------------------------------------------------

def test_a_constant_feature_is_a_warning_naming_its_value_count(row: FeatureDrift) -> None:
    (a,) = drift_alerts((replace(row, constant=True),), DriftOptions())
    assert _fields(a) == (
        "constant.age", Severity.WARNING, 1.0, 1.0,
        "feature age became constant: every one of its 300 values is the same, where training had several "
        "(a stuck default or a broken feature pipeline)", None, False)


# --- missing share -------------------------------------------------------------------------------------

def _missing(row: FeatureDrift, level: str | None) -> FeatureDrift:
    return replace(row, missing_increased=level, missing=90, records=300, missing_share=0.3,
                   baseline_missing_share=0.01, missing_low=0.22, missing_high=0.35,
                   missing_p_value_adjusted=2e-5)


MISSING_TEXT = ("30.0% of records have no value for feature age (training 1.0%; rise 95% bounds +22.0% "
                "to +35.0%; adjusted p 2e-5; 90 of 300 records)")


@pytest.mark.parametrize(("level", "severity", "limit", "how"), [
    ("warning", Severity.WARNING, 0.1, "the upper bound reaches the limit 10%"),
    ("critical", Severity.CRITICAL, 0.2, "the lower bound passes the critical limit 20%"),
])
def test_a_risen_missing_share_names_the_bounds_and_the_limit_that_fired(
    row: FeatureDrift, level: str, severity: Severity, limit: float, how: str
) -> None:
    o = DriftOptions(missing_warning=0.1, missing_critical=0.2)
    (a,) = drift_alerts((_missing(row, level),), o)
    assert _fields(a) == ("missing_share.age", severity, 0.3, limit, f"{MISSING_TEXT}: {how}", None, False)
    assert missing_share_alert(_missing(row, level), o) == a


def test_a_missing_share_without_a_limit_says_nan_and_unset_numbers_read_zero(row: FeatureDrift) -> None:
    f = replace(_missing(row, "warning"), missing_low=None, missing_high=None, missing_share=None,
                baseline_missing_share=None, missing_p_value_adjusted=None)
    a = missing_share_alert(f, DriftOptions(missing_warning=None))
    assert a.value == 0.0 and math.isnan(a.threshold)
    assert a.message == ("0.0% of records have no value for feature age (training 0.0%; rise 95% bounds 0.0% "
                         "to 0.0%; adjusted p -; 90 of 300 records): the upper bound reaches the limit nan")


# --- values outside training's range ---------------------------------------------------------------

def _outside(row: FeatureDrift, level: str | None) -> FeatureDrift:
    return replace(row, out_of_range_breached=level, out_of_range=60, out_of_range_share=0.2,
                   out_of_range_low=0.16, out_of_range_high=0.25, out_of_range_expected=0.005,
                   out_of_range_p_value_adjusted=3e-9)


OUTSIDE_TEXT = ("20.0% of feature age's values are outside the training range (95% bounds 16.0% to 25.0%; "
                "chance 0.5%; adjusted p 3e-9; 60 of 300 values)")


@pytest.mark.parametrize(("level", "severity", "limit", "how"), [
    ("warning", Severity.WARNING, 0.05, "the upper bound reaches the limit 5%"),
    ("critical", Severity.CRITICAL, 0.15, "the lower bound passes the critical limit 15%"),
])
def test_values_outside_the_training_range_name_the_bounds_chance_and_limit(
    row: FeatureDrift, level: str, severity: Severity, limit: float, how: str
) -> None:
    o = DriftOptions(out_of_range_warning=0.05, out_of_range_critical=0.15)
    (a,) = drift_alerts((_outside(row, level),), o)
    assert _fields(a) == ("out_of_range.age", severity, 0.2, limit, f"{OUTSIDE_TEXT}: {how}", None, False)
    assert out_of_range_alert(_outside(row, level), o) == a


def test_out_of_range_without_a_limit_says_nan_and_unset_numbers_read_zero(row: FeatureDrift) -> None:
    f = replace(_outside(row, "critical"), out_of_range_low=None, out_of_range_high=None,
                out_of_range_share=None, out_of_range_p_value_adjusted=None)
    a = out_of_range_alert(f, DriftOptions(out_of_range_critical=None))
    assert (a.severity, a.value) == (Severity.CRITICAL, 0.0) and math.isnan(a.threshold)
    assert a.message == ("0.0% of feature age's values are outside the training range (95% bounds 0.0% to "
                         "0.0%; chance 0.5%; adjusted p -; 60 of 300 values): the lower bound passes the "
                         "critical limit nan")


def test_quality_alerts_come_in_order_beside_drift(row: FeatureDrift) -> None:
    f = replace(_outside(_missing(row, "warning"), "warning"), type_errors=1, records=300, constant=True)
    got = [a.metric for a in drift_alerts((f,), DriftOptions())]
    assert got == ["type_errors.age", "missing_share.age", "out_of_range.age", "constant.age"]


# --- drift with unset bounds, mean limits in their unit ----------------------------------------------

@pytest.mark.parametrize(("low", "high", "shown"), [
    (None, 0.33, "(95% bounds 0.000 to 0.330; limit 0.05)"),
    (0.27, None, "(95% bounds 0.270 to 0.000; critical limit 0.25, passed by the lower bound)"),
])
def test_a_drift_alert_shows_an_unknown_bound_as_zero(
    row: FeatureDrift, low: float | None, high: float | None, shown: str
) -> None:
    f = replace(row, effect_size=0.3, effect_low=low, effect_high=high, effect_measure="ks_d",
                p_value_adjusted=1e-4)
    (a,) = drift_alerts((f,), DriftOptions(min_effect=0.05, critical_effect=0.25))
    assert shown in a.message


def test_a_drift_alert_shows_each_bound_as_measured(row: FeatureDrift) -> None:
    f = replace(row, effect_size=0.3, effect_low=0.27, effect_high=0.33, effect_measure="ks_d",
                p_value_adjusted=1e-4)
    (a,) = drift_alerts((f,), DriftOptions(min_effect=0.05, critical_effect=0.25))
    assert "(95% bounds 0.270 to 0.330; critical limit 0.25, passed by the lower bound)" in a.message


def test_an_absolute_mean_limit_has_no_unit(row: FeatureDrift) -> None:
    f = replace(row, mean=2.5, baseline_mean=0.0, mean_deviation=2.5, mean_deviation_kind="absolute",
                mean_shift=True, mean_p_value_adjusted=0.001)
    (a,) = drift_alerts((f,), DriftOptions(mean_tolerance=0.1))
    assert a.message == ("feature age mean 2.5 vs baseline 0: +2.5 (limit 0.1), adjusted p 0.001 < 0.05 "
                         "(n=300)")


@pytest.mark.parametrize(("kind", "want"), [("absolute", "0"), ("relative", "0.0%"), ("std", "0 sd")])
def test_a_mean_equal_to_the_baseline_has_no_sign(row: FeatureDrift, kind: str, want: str) -> None:
    f = replace(row, mean=40.0, baseline_mean=40.0, mean_deviation=0.0, mean_deviation_kind=kind)
    assert mean_deviation_text(f) == want


# --- unseen values at the run's p threshold ------------------------------------------------------------

def _unseen(row: FeatureDrift, share: float) -> FeatureDrift:
    return replace(row, n=2000, baseline_n=20000, unseen_share=share, unseen_categories=(("XX", share),),
                   unseen_distinct=1, unseen_expected=0.01, unseen_expected_se=0.002)


def test_an_unseen_share_is_judged_at_the_runs_p_threshold(row: FeatureDrift) -> None:
    f = _unseen(row, 0.025)
    # 2.5% unseen where 1% is expected: p = 0.11 that it is more than 1 point over
    p = novelty.p_value(50, 2000, 0.01, 0.002, 20000, 0.01)
    assert 0.05 < p < 0.2
    assert drift_alerts((f,), DriftOptions(max_unseen_share=0.01)) == ()
    (a,) = drift_alerts((f,), DriftOptions(max_unseen_share=0.01, p_threshold=0.2))
    assert (a.metric, a.severity, a.threshold) == ("unseen.age", Severity.WARNING, 0.01)


def test_a_critical_unseen_share_is_judged_at_the_runs_p_threshold(row: FeatureDrift) -> None:
    f = _unseen(row, 0.068)
    p = novelty.p_value(136, 2000, 0.01, 0.002, 20000, 0.05)
    assert 0.05 < p < 0.2
    o = DriftOptions(max_unseen_share=0.01, critical_unseen_share=0.05)
    (a,) = drift_alerts((f,), o)
    assert (a.severity, a.threshold) == (Severity.WARNING, 0.01)
    (a,) = drift_alerts((f,), replace(o, p_threshold=0.2))
    assert (a.severity, a.threshold) == (Severity.CRITICAL, 0.05)
    assert a.message == (f"feature age: {percent(0.068)} of values were never seen in training, "
                         f"{percent(0.01)} expected (critical limit 5% over the expected share): "
                         f"XX {percent(0.068)} (n=2000)")


def test_four_unseen_values_list_three_and_one_more(row: FeatureDrift) -> None:
    seen = (("A", 0.02), ("B", 0.01), ("C", 0.01), ("D", 0.01))
    f = replace(row, unseen_share=0.05, unseen_categories=seen, unseen_distinct=4)
    (a,) = drift_alerts((f,), DriftOptions(max_unseen_share=0.01))
    assert a.message.endswith(f"C {percent(0.01)} and 1 more (n=300)")


# --- the summary's rules -----------------------------------------------------------------------------

def _summary(groups: list[str | None], *, ok: list[bool | None] | None = None,
             confidence: list[float | None] | None = None, values: list[float] | None = None,
             latency: float = 10.0, prediction_range: tuple[float, float] | None = None) -> SummaryResult:
    n = len(groups)
    t = pa.table({
        "group": pa.array(groups, pa.string()),
        "latency_ms": pa.array([latency] * n),
        "success": pa.array(ok if ok is not None else [True] * n, pa.bool_()),
        "pred_class": pa.nulls(n, pa.string()),
        "confidence": pa.array(confidence, pa.float64()) if confidence else pa.nulls(n, pa.float64()),
        "pred_value": pa.array(values, pa.float64()) if values else pa.nulls(n, pa.float64()),
        "timestamp": pa.array([i * 10**9 for i in range(n)], pa.timestamp("ns", tz="UTC")),
    })
    acc = SummaryAccumulator(SummaryOptions(prediction_range=prediction_range))
    acc.update(t)
    return acc.result()


# v1: 50 predictions, 5 outside [0, 1]; 50 records without the --by field, 10 outside
GROUPS: list[str | None] = ["v1"] * 50 + [None] * 50
VALUES = [2.0 if i % 10 == 0 else 0.5 for i in range(50)] + [-1.0 if i % 5 == 0 else 0.5 for i in range(50)]


def test_predictions_out_of_range_per_group_name_the_range_and_the_records() -> None:
    res = _summary(GROUPS, values=VALUES, prediction_range=(0.0, 1.0))
    got = summary_alerts(res, SummaryThresholds(max_out_of_range=Threshold(warning=4, critical=12)),
                         prediction_range=(0.0, 1.0))
    assert [_fields(a) for a in got] == [
        ("predictions_out_of_range", Severity.CRITICAL, 15.0, 12.0,
         "numeric predictions outside the expected range [0, 1] 15 > 12, the critical limit "
         "(all records, n=100)",
         None, False),
        ("predictions_out_of_range", Severity.WARNING, 5.0, 4.0,
         "numeric predictions outside the expected range [0, 1] 5 > 4, the warning limit (group v1, n=50)",
         "v1", False),
        ("predictions_out_of_range", Severity.WARNING, 10.0, 4.0,
         "numeric predictions outside the expected range [0, 1] 10 > 4, the warning limit "
         "(records without the --by field, n=50)", None, True),
    ]


def test_predictions_out_of_range_without_a_range_given_to_the_message() -> None:
    res = _summary(["v1"] * 50, values=VALUES[:50], prediction_range=(0.0, 1.0))
    (a,) = summary_alerts(res, SummaryThresholds(max_out_of_range=4))
    assert a.message == ("numeric predictions outside the expected range 5 > 4, the warning limit "
                         "(group v1, n=50)")
    assert (a.group, a.group_missing) == ("v1", False)


def test_predictions_out_of_range_at_the_limit_or_uncounted_is_quiet() -> None:
    counted = _summary(["v1"] * 50, values=VALUES[:50], prediction_range=(0.0, 1.0))
    assert summary_alerts(counted, SummaryThresholds(max_out_of_range=5)) == ()  # 5 outside, limit 5
    assert summary_alerts(counted, SummaryThresholds()) == ()  # counted, no rule
    uncounted = _summary(["v1"] * 50, values=VALUES[:50])  # no range: nothing counted
    assert summary_alerts(uncounted, SummaryThresholds(max_out_of_range=0)) == ()


def test_a_rule_that_passes_does_not_stop_the_next_rules() -> None:
    conf: list[float | None] = [0.3 if i % 2 else 0.9 for i in range(60)]  # half below 0.5
    res = _summary(["v1"] * 60, confidence=conf)
    th = SummaryThresholds(max_p95_ms=1000, min_success_rate=0.9, max_error_rate=0.5,
                           max_low_confidence_share=0.2)
    assert [a.metric for a in summary_alerts(res, th)] == ["confidence.low_share"]
    only_p99 = summary_alerts(_summary(["v1"] * 2000, latency=500.0), SummaryThresholds(max_p99_ms=100))
    assert [a.metric for a in only_p99] == ["latency_ms.p99"]


def test_a_rate_with_too_few_values_does_not_stop_a_rate_with_enough() -> None:
    # 60 records with a confidence; only 10 with a success field
    ok: list[bool | None] = [True] * 10 + [None] * 50
    conf: list[float | None] = [0.3 if i % 2 else 0.9 for i in range(60)]
    res = _summary(["v1"] * 60, ok=ok, confidence=conf)
    th = SummaryThresholds(min_success_rate=0.99, max_low_confidence_share=0.2)
    got = summary_alerts(res, th, unchecked=True)
    assert [(a.metric, a.severity) for a in got] == [
        ("confidence.low_share", Severity.WARNING), ("records", Severity.WARNING)]
    assert got[1].message.startswith("not checked, too few values: success_rate (n=10); ")


def test_the_unchecked_warning_lists_every_rule_and_is_about_the_one_group() -> None:
    res = _summary(["v1"] * 20)
    th = SummaryThresholds(min_success_rate=0.99, max_error_rate=0.01)
    (a,) = summary_alerts(res, th, unchecked=True)
    assert _fields(a) == (
        "records", Severity.WARNING, 20.0, 30.0,
        "not checked, too few values: success_rate (n=20), error_rate (n=20); rates and percentiles need at "
        "least --min-samples 30 (group v1)", "v1", False)
    # records all without the --by field have no group: the warning is about all records
    (b,) = summary_alerts(_summary([None] * 20), th, unchecked=True)
    assert (b.group, b.group_missing) == (None, False)
    assert b.message.endswith("(all records)")


# --- the model's predictions and the joint test: their own subject and limits --------------------------

JOINT = "the joint distribution of the numeric features (PCA reconstruction error)"


@pytest.mark.parametrize(("low", "severity", "limit", "text"), [
    # a lower bound past --critical-effect (0.25) but short of the joint test's own 0.5: a warning
    (0.3, Severity.WARNING, 0.1, "limit 0.1"),
    (0.6, Severity.CRITICAL, 0.5, "critical limit 0.5, passed by the lower bound"),
])
def test_joint_drift_has_its_own_limits_and_unit(
    row: FeatureDrift, low: float, severity: Severity, limit: float, text: str
) -> None:
    from mlmon.stats import joint

    assert (joint.WARNING, joint.CRITICAL) == (0.1, 0.5)
    f = replace(row, name="multivariate", kind="multivariate", role="multivariate",
                effect_measure="error_rise_sd", effect_size=0.8, effect_low=low, effect_high=1.0,
                p_value_adjusted=1e-4)
    (a,) = drift_alerts((f,), DriftOptions(min_effect=0.05, critical_effect=0.25))
    assert _fields(a) == (
        "drift.multivariate", severity, 0.8, limit,
        f"{JOINT} drifted: reconstruction error rise (reference sd) 0.800 (95% bounds {low:.3f} to 1.000; "
        f"{text}), adjusted p 0.0001 < 0.05 (n=300)", None, False)


def test_a_prediction_is_named_as_itself_in_every_alert(row: FeatureDrift) -> None:
    p = replace(row, name="prediction.class", role="prediction", effect_measure="tv", effect_size=0.3,
                effect_low=0.2, effect_high=0.4, p_value_adjusted=1e-4)
    (a,) = drift_alerts((p,), DriftOptions())
    assert (a.metric, a.threshold, a.message) == (
        "drift.prediction.class", 0.05,
        "prediction.class drifted: total variation 0.300 (95% bounds 0.200 to 0.400; limit 0.05), "
        "adjusted p 0.0001 < 0.05 (n=300)")
    (gone,) = drift_alerts((replace(p, status="missing"),), DriftOptions())
    assert gone.message == "prediction.class has no value in the log: it was not checked"
    quiet = replace(p, p_value_adjusted=0.5)
    (m,) = drift_alerts((_missing(quiet, "warning"),), DriftOptions(missing_warning=0.1))
    assert m.message.startswith("30.0% of records have no value for prediction.class (training 1.0%;")
