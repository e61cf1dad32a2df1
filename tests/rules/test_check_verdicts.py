"""The check rules' verdicts called directly (mlmon/rules/check.py): a limit at equality, each
summary metric's value and its reason for having none, the group that decided and the worst one,
and what an alert compares with its limit."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mlmon.rules.check import RuleResult, Status, evaluate, summary_value, with_compared, worst_status
from mlmon.rules.config import Rule
from mlmon.stats.drift import DriftOptions, FeatureDrift
from mlmon.stats.performance import GroupPerformance, Metric, Performance, QualityReport, Task
from mlmon.stats.summary import ConfidenceStats, GroupSummary, LatencyStats, SummaryResult

NOW = 1_800_000_000.0


def lat(n: int = 0, **kw: Any) -> LatencyStats:
    base: dict[str, Any] = {"mean": None, "p50": None, "p95": None, "p99": None, "max": None}
    base.update(kw)
    return LatencyStats(n, **base)


def group(name: str | None = None, records: int = 100, **kw: Any) -> GroupSummary:
    base: dict[str, Any] = {
        "first_timestamp": None,
        "last_timestamp": None,
        "span_seconds": None,
        "requests_per_second": None,
        "success_n": 0,
        "successes": 0,
        "errors": 0,
        "success_rate": None,
        "error_rate": None,
        "success_rate_ci95": None,
        "latency_ms": lat(),
        "classes": (),
        "classes_other": 0,
        "classes_distinct": 0,
        "classes_exact": True,
        "confidence": ConfidenceStats(0, None, 0.5, 0, None, ()),
        "prediction_values": 0,
        "predictions_out_of_range": None,
    }
    base.update(kw)
    return GroupSummary(name, records, **base)


def run(rule: Rule, overall: GroupSummary, *groups: GroupSummary) -> RuleResult:
    (r,) = evaluate((rule,), SummaryResult(overall, tuple(groups)), None, now=NOW)
    return r


@pytest.mark.parametrize("direction", ["above", "below"])
def test_a_value_at_a_limit_is_ok_and_just_past_it_alerts(direction: str) -> None:
    above = direction == "above"
    crit = 0.2 if above else 0.01
    rule = Rule("error_rate", "errors", warning=0.05, critical=crit, direction=direction)
    at = run(rule, group(error_rate=0.05))
    assert at.status is Status.OK and at.alert() is None
    beyond = run(rule, group(error_rate=0.0501 if above else 0.0499))
    assert beyond.status is Status.WARNING
    assert run(rule, group(error_rate=crit)).status is Status.WARNING
    assert run(rule, group(error_rate=0.2001 if above else 0.0099)).status is Status.CRITICAL


def test_each_summary_metric_reads_its_own_field() -> None:
    g = group(
        records=40,
        success_rate=0.9,
        error_rate=0.1,
        requests_per_second=2.5,
        latency_ms=lat(40, mean=11.0, p50=10.0, p95=20.0, p99=30.0, max=40.0),
        confidence=ConfidenceStats(40, 0.8, 0.5, 4, 0.1, ()),
        prediction_values=40,
        predictions_out_of_range=3,
        last_timestamp="2027-01-15T08:00:00Z",
    )
    now = 1_800_000_000.0 + 60  # 2027-01-15T08:01:00Z
    expect = {
        "records": 40.0,
        "success_rate": 0.9,
        "error_rate": 0.1,
        "latency_ms.mean": 11.0,
        "latency_ms.p50": 10.0,
        "latency_ms.p95": 20.0,
        "latency_ms.p99": 30.0,
        "latency_ms.max": 40.0,
        "confidence.mean": 0.8,
        "confidence.low_share": 0.1,
        "predictions_out_of_range": 3.0,
        "requests_per_second": 2.5,
        "age_seconds": 60.0,
    }
    for metric, value in expect.items():
        assert summary_value(g, metric, now=now) == (value, ""), metric
    assert summary_value(g, "nonsense", now=now) == (None, "unknown metric nonsense")


def test_an_age_is_never_negative_and_a_timestamp_offset_counts() -> None:
    g = group(last_timestamp="2027-01-15T09:00:00+01:00")  # 08:00 UTC
    assert summary_value(g, "age_seconds", now=NOW + 30) == (30.0, "")
    assert summary_value(g, "age_seconds", now=NOW - 30) == (0.0, "")  # a clock behind the log
    for bad in (None, "", "yesterday"):
        assert summary_value(group(last_timestamp=bad), "age_seconds", now=NOW) == (
            None,
            "no record has a timestamp",
        )


def test_each_metric_says_why_it_has_no_value() -> None:
    empty = group(records=0)
    assert summary_value(empty, "records", now=NOW) == (0.0, "")
    for metric in ("success_rate", "latency_ms.p99", "age_seconds"):
        assert summary_value(empty, metric, now=NOW) == (None, "no records")
    g = group(records=5)
    why = {
        "success_rate": "no record has a status or success field",
        "error_rate": "no record has a status or success field",
        "latency_ms.p95": "no record has a latency",
        "confidence.mean": "no record has a confidence",
        "confidence.low_share": "no record has a confidence",
        "predictions_out_of_range": "no prediction-range set",
        "requests_per_second": "too few timestamps for a rate",
    }
    for metric, reason in why.items():
        assert summary_value(g, metric, now=NOW) == (None, reason), metric
    few = group(records=5, latency_ms=lat(5, mean=1.0, max=2.0))
    assert summary_value(few, "latency_ms.p99", now=NOW) == (None, "no p99")
    assert summary_value(few, "latency_ms.max", now=NOW) == (2.0, "")
    ranged = group(records=5, predictions_out_of_range=0, prediction_values=0)
    assert summary_value(ranged, "predictions_out_of_range", now=NOW) == (None, "no numeric prediction")
    ranged = replace(ranged, prediction_values=1)
    assert summary_value(ranged, "predictions_out_of_range", now=NOW) == (0.0, "")


def test_no_data_names_the_reason_and_is_never_a_pass() -> None:
    r = run(Rule("latency_ms.p99", "slow", warning=1.0), group(records=0))
    assert r.status is Status.NO_DATA and r.value is None and r.alert() is None
    assert r.message == "latency_ms.p99: no data (no records)"
    assert (r.name, r.metric, r.warning, r.critical, r.direction) == (
        "slow",
        "latency_ms.p99",
        1.0,
        None,
        "above",
    )
    assert worst_status((r,)) is Status.NO_DATA
    assert worst_status(()) is Status.OK


def test_the_worst_status_ranks_no_data_over_critical_over_warning() -> None:
    def res(s: Status) -> RuleResult:
        return RuleResult("n", "records", s, 1.0, None, None, "above", "m")

    order = [Status.OK, Status.WARNING, Status.CRITICAL, Status.NO_DATA]
    assert [s.rank for s in order] == [0, 1, 2, 3]
    for i, s in enumerate(order):
        assert worst_status(tuple(res(x) for x in order[: i + 1])) is s
        assert worst_status(tuple(res(x) for x in reversed(order[: i + 1]))) is s


def test_messages_name_the_value_the_limit_and_the_records() -> None:
    rule = Rule("error_rate", "errors", warning=0.05, critical=0.25)
    ok = run(rule, group(error_rate=0.01))
    assert ok.message == "error_rate 0.01 (all records; warning 0.05, critical 0.25)"
    assert run(Rule("error_rate", "e"), group(error_rate=0.5)).message == (
        "error_rate 0.5 (all records; no threshold)"
    )
    warn = run(rule, group(error_rate=0.1))
    assert warn.message == "error_rate 0.1 > 0.05 (all records)"
    crit = run(rule, group(error_rate=0.5))
    assert crit.message == "error_rate 0.5 > 0.25 (all records)"
    low = run(Rule("records", "few", critical=100_000, direction="below"), group(records=5))
    assert low.message == "records 5 < 100,000 (all records)"


def test_a_rule_name_and_its_metric() -> None:
    r = run(Rule("error_rate", "error_rate", warning=0.5), group(error_rate=0.1))
    assert (r.name, r.metric) == ("error_rate", "error_rate")


def test_an_alert_carries_the_value_the_limit_and_the_group() -> None:
    rule = Rule("error_rate", "errors", warning=0.05, critical=0.25, by="model_version")
    r = run(rule, group(error_rate=0.1), group("v1", error_rate=0.02), group("v2", error_rate=0.3))
    assert r.status is Status.CRITICAL and r.group == "v2" and r.value == 0.3
    assert r.threshold == 0.25 and r.compared == 0.3 and r.compared_limit == 0.25
    assert r.compared_kind == "estimate"
    a = r.alert()
    assert a is not None
    assert (a.metric, a.severity.value, a.value, a.threshold, a.group, a.group_missing) == (
        "error_rate",
        "critical",
        0.3,
        0.25,
        "v2",
        False,
    )
    assert a.message == "error_rate 0.3 > 0.25 (group v2)"
    w = run(rule, group(error_rate=0.1), group("v1", error_rate=0.02))
    assert w.status is Status.WARNING and w.threshold == 0.05 and w.compared_limit == 0.05
    assert w.alert() is not None and w.alert().threshold == 0.05  # type: ignore[union-attr]


def test_the_worst_group_decides_and_ties_keep_the_first() -> None:
    rule = Rule("error_rate", "errors", warning=0.05, by="model_version")
    r = run(
        rule,
        group(error_rate=0.07),
        group("a", error_rate=0.06),
        group("b", error_rate=0.09),
        group("c", error_rate=0.08),
    )
    assert (r.status, r.group, r.value) == (Status.WARNING, "b", 0.09)
    tie = run(rule, group(error_rate=0.06), group("a", error_rate=0.06))
    assert (tie.group, tie.value) == (None, 0.06)  # the overall came first
    below = Rule("success_rate", "ok", warning=0.9, direction="below", by="model_version")
    r = run(below, group(success_rate=0.85), group("a", success_rate=0.8), group("b", success_rate=0.7))
    assert (r.group, r.value) == ("b", 0.7)
    # among ok values no group is singled out: the overall stays
    calm = run(rule, group(error_rate=0.01), group("a", error_rate=0.02))
    assert (calm.status, calm.group, calm.value) == (Status.OK, None, 0.01)


def test_a_group_without_the_field_that_decides_is_named_so() -> None:
    rule = Rule("error_rate", "errors", warning=0.05, by="model_version")
    r = run(rule, group(error_rate=0.04), group(None, error_rate=0.5), group("a", error_rate=0.01))
    assert r.status is Status.WARNING and r.group is None and r.group_missing
    assert r.message == "error_rate 0.5 > 0.05 (records without the --by field)"
    assert r.alert() is not None and r.alert().group_missing  # type: ignore[union-attr]
    assert r.worst_group is None and r.worst_group_missing and r.worst_value == 0.5
    assert r.groups == ((None, 0.5), ("a", 0.01)) and r.overall == 0.04 and r.by == "model_version"


def test_a_by_rule_lists_every_group_and_the_worst_even_when_ok() -> None:
    rule = Rule("error_rate", "errors", warning=0.5, by="model_version")
    r = run(
        rule,
        group(error_rate=0.02),
        group("a", error_rate=0.01),
        group("b", error_rate=0.03),
        group("c", records=0),
    )
    assert r.status is Status.OK
    assert (r.overall, r.worst_group, r.worst_value, r.worst_group_missing) == (0.02, "b", 0.03, False)
    assert r.groups == (("a", 0.01), ("b", 0.03), ("c", None))
    low = run(
        replace(rule, direction="below", warning=0.001),
        group(error_rate=0.02),
        group("a", error_rate=0.01),
        group("b", error_rate=0.03),
    )
    assert (low.worst_group, low.worst_value) == ("a", 0.01)
    none = run(rule, group(error_rate=0.02), group("c", records=0))
    assert (none.worst_group, none.worst_value, none.worst_group_missing) == (None, None, False)
    plain = run(Rule("error_rate", "errors", warning=0.5), group(error_rate=0.02), group("a", error_rate=0.9))
    assert plain.by is None and plain.groups == () and plain.status is Status.OK  # no `by`: the whole only


def test_for_and_the_runbook_pass_through() -> None:
    rule = Rule("error_rate", "errors", warning=0.05, for_runs=3, runbook_url="https://run.book/x")
    r = run(rule, group(error_rate=0.5))
    assert (r.for_runs, r.runbook_url) == (3, "https://run.book/x")


def test_a_percentile_alerts_only_when_its_bound_is_past_the_limit() -> None:
    rule = Rule("latency_ms.p99", "slow", warning=100.0, critical=500.0)
    unproven = lat(50, mean=50.0, p50=40.0, p95=90.0, p99=150.0, max=200.0, p99_lower=90.0, p99_upper=None)
    r = run(rule, group(latency_ms=unproven))
    assert r.status is Status.OK and r.proven is False and r.bound == 90.0
    assert r.message.endswith("; 95% lower bound 90; not proven (too few values to show it within the limit)")
    proven = replace(unproven, p99_lower=120.0, p99_upper=180.0)
    r = run(rule, group(latency_ms=proven))
    assert r.status is Status.WARNING and r.proven is True and r.bound == 120.0
    assert r.compared == 120.0 and r.compared_kind == "lower 95%" and r.compared_limit == 100.0
    assert r.message.endswith("; 95% lower bound 120") and "not proven" not in r.message
    a = r.alert()
    assert a is not None and a.value == 150.0 and a.threshold == 100.0
    ok = replace(unproven, p99=60.0, p99_lower=50.0, p99_upper=80.0)
    r = run(rule, group(latency_ms=ok))
    assert r.status is Status.OK and r.proven is True
    below = Rule("latency_ms.p50", "fast", warning=10.0, direction="below")
    r = run(below, group(latency_ms=replace(ok, p50=5.0, p50_lower=4.0, p50_upper=8.0)))
    assert r.status is Status.WARNING and r.bound == 8.0 and r.compared_kind == "upper 95%"
    assert "; 95% upper bound 8" in r.message
    # a plain latency metric is judged on its value
    r = run(Rule("latency_ms.max", "max", warning=100.0), group(latency_ms=ok))
    assert r.proven is None and r.bound is None and r.status is Status.WARNING


def test_with_compared_falls_back_to_the_estimate_and_leads_with_the_bound() -> None:
    base = RuleResult("n", "drift.x", Status.WARNING, 0.3, 0.1, 0.5, "above", "drift.x 0.3")
    out = with_compared(base, ("upper 95%", 0.4), ("lower 95%", 0.2))
    assert (out.warning_compared, out.warning_kind, out.critical_compared, out.critical_kind) == (
        0.4,
        "upper 95%",
        0.2,
        "lower 95%",
    )
    assert out.message == "drift.x: upper 95% 0.4 reaches the warning limit 0.1; drift.x 0.3"
    fallback = with_compared(base, ("upper 95%", None))
    assert (fallback.warning_compared, fallback.warning_kind) == (0.3, "estimate")
    assert (fallback.critical_compared, fallback.critical_kind) == (0.3, "estimate")
    assert fallback.message == "drift.x 0.3"
    ok = with_compared(replace(base, status=Status.OK), ("upper 95%", 0.4))
    assert ok.message == "drift.x 0.3"
    crit = with_compared(replace(base, status=Status.CRITICAL), ("upper 95%", 0.6), ("lower 95%", 0.55))
    assert crit.compared == 0.55 and crit.compared_limit == 0.5 and crit.compared_kind == "lower 95%"
    assert crit.message.startswith("drift.x: lower 95% 0.55 reaches the critical limit 0.5; ")
    bounded = with_compared(replace(base, bound=0.25), ("upper 95%", 0.4))
    assert bounded.message == "drift.x 0.3"  # a percentile's message names its bound already


def test_with_no_warning_limit_the_critical_one_is_compared() -> None:
    r = RuleResult(
        "n",
        "m",
        Status.OK,
        0.3,
        None,
        0.5,
        "above",
        "m",
        warning_compared=0.4,
        critical_compared=0.2,
        warning_kind="upper 95%",
        critical_kind="lower 95%",
    )
    assert (r.compared, r.compared_limit, r.compared_kind, r.threshold) == (0.2, 0.5, "lower 95%", None)
    w = replace(r, warning=0.1)
    assert (w.compared, w.compared_limit, w.compared_kind, w.threshold) == (0.4, 0.1, "upper 95%", 0.1)
    gone = replace(r, status=Status.CRITICAL, critical_missing=True, value=0.0)
    assert (gone.compared_limit, gone.threshold) == (1.0, 1.0)
    missing_ok = replace(r, critical_missing=True)
    assert (missing_ok.compared, missing_ok.compared_kind) == (0.4, "upper 95%")
    a = replace(r, status=Status.WARNING, warning=None, critical=None).alert()
    assert a is not None and a.threshold != a.threshold  # no limit: NaN, not a number made up


# --- per-feature rules: FeatureDrift rows made here, each field the verdict reads set by hand ----


def feature(name: str = "age", **kw: Any) -> FeatureDrift:
    base: dict[str, Any] = {
        "kind": "numeric",
        "n": 500,
        "baseline_n": 1000,
        "status": "ok",
        "test": "ks",
        "statistic": 0.3,
        "p_value": 1e-6,
        "p_value_adjusted": 1e-5,
        "p_method": "exact",
        "effect_size": 0.3,
        "effect_measure": "ks_d",
        "effect_low": 0.2,
        "effect_high": 0.4,
        "psi": None,
        "wasserstein_sd": None,
        "mean": 52.0,
        "baseline_mean": 50.0,
        "mean_deviation": 0.1,
        "mean_deviation_kind": "sd",
        "mean_se": 0.02,
        "mean_p_value": 0.5,
        "mean_p_value_adjusted": 0.5,
        "mean_shift": False,
        "drift": True,
        "records": 500,
    }
    base.update(kw)
    return FeatureDrift(name, **base)


def frule(metric: str, warning: float | None = None, critical: float | None = None, **kw: Any) -> Rule:
    return Rule(metric, kw.pop("name", metric), warning=warning, critical=critical, **kw)


def fcheck(rule: Rule, *features: FeatureDrift, drift: DriftOptions | None = None) -> list[RuleResult]:
    summary = SummaryResult(group(), ())
    return list(evaluate((rule,), summary, features, drift=drift, now=NOW))


def test_a_feature_rule_without_a_baseline_or_the_feature_is_no_data() -> None:
    rule = frule("drift.age", 0.1, 0.3, name="age drift", for_runs=2, runbook_url="https://r.b/x")
    (r,) = list(evaluate((rule,), SummaryResult(group(), ()), None, now=NOW))
    assert (r.status, r.name, r.metric, r.value, r.warning, r.critical) == (
        Status.NO_DATA,
        "age drift",
        "drift.age",
        None,
        0.1,
        0.3,
    )
    assert r.message == "drift.age: no data (no baseline given)"
    assert (r.for_runs, r.runbook_url) == (2, "https://r.b/x")
    (r,) = fcheck(rule, feature("income"))
    assert (
        r.status is Status.NO_DATA
        and r.message == "drift.age: no data (feature 'age' is not in the baseline)"
    )
    (r,) = fcheck(frule("drift.age"), feature("income"))
    assert (r.warning, r.critical) == (0.05, 0.25)  # the defaults it would have used


def test_drift_at_its_limits_and_what_it_compares() -> None:
    (r,) = fcheck(frule("drift.age", 0.4, 0.5), feature())  # upper bound 0.4 reaches 0.4
    assert r.status is Status.WARNING and r.value == 0.3
    assert (r.compared, r.compared_kind, r.compared_limit) == (0.4, "upper 95%", 0.4)
    assert r.message == (
        "drift.age: upper 95% 0.4 reaches the warning limit 0.4; drift.age 0.3 (95% bounds "
        "0.2 to 0.4; adjusted p 1e-5): drifted"
    )
    (r,) = fcheck(frule("drift.age", 0.41, 0.5), feature())
    assert r.status is Status.OK and r.message.endswith(": no drift")
    (r,) = fcheck(frule("drift.age", 0.1, 0.2), feature())  # lower bound 0.2 reaches 0.2
    assert r.status is Status.CRITICAL and (r.compared, r.compared_kind) == (0.2, "lower 95%")
    (r,) = fcheck(frule("drift.age", 0.41, 0.21), feature())
    assert r.status is Status.OK  # 0.4 < warning, 0.2 < critical
    (r,) = fcheck(frule("drift.age", 0.1, 0.2), feature(p_value_adjusted=0.05))
    assert r.status is Status.OK  # not significant at 0.05
    (r,) = fcheck(frule("drift.age", 0.1, 0.2), feature(p_value_adjusted=0.049))
    assert r.status is Status.CRITICAL
    (r,) = fcheck(frule("drift.age", 0.1), feature(effect_size=None))
    assert r.status is Status.NO_DATA and r.message == "drift.age: no data (no effect size)"
    (r,) = fcheck(frule("drift.age", 0.1), feature(p_value_adjusted=None, effect_low=None, effect_high=None))
    assert r.message == "drift.age 0.3 (95% bounds - to -; adjusted p -): no drift"
    assert (r.compared, r.compared_kind) == (0.3, "estimate")


def test_drift_without_limits_uses_the_options() -> None:
    (r,) = fcheck(frule("drift.age"), feature(effect_low=0.1, effect_high=0.2))
    assert (r.status, r.warning, r.critical) == (Status.WARNING, 0.05, 0.25)
    (r,) = fcheck(
        frule("drift.age"),
        feature(effect_low=0.1, effect_high=0.2),
        drift=DriftOptions(min_effect=0.21, critical_effect=0.5),
    )
    assert (r.status, r.warning, r.critical) == (Status.OK, 0.21, 0.5)
    (r,) = fcheck(
        frule("drift.age"), feature(effect_low=0.1, effect_high=0.2), drift=DriftOptions(critical_effect=0.1)
    )
    assert r.status is Status.CRITICAL


def test_a_star_rule_covers_the_features_it_applies_to_each_by_name() -> None:
    feats = (
        feature("age"),
        feature("country", kind="categorical", test="chi_square", effect_measure="tv"),
        feature("prediction.class", kind="categorical", role="prediction"),
        feature("prediction.value", role="prediction"),
        feature("multivariate", role="multivariate"),
    )
    got = fcheck(frule("drift.*", 0.1, name="any"), *feats)
    assert [(r.name, r.metric) for r in got] == [
        ("any:drift.age", "drift.age"),
        ("any:drift.country", "drift.country"),
        ("any:drift.prediction.class", "drift.prediction.class"),
        ("any:drift.prediction.value", "drift.prediction.value"),
    ]
    assert [r.name for r in fcheck(frule("drift.*", 0.1), *feats)][0] == "drift.age"
    got = fcheck(frule("drift.prediction.*", 0.1), *feats)
    assert [r.metric for r in got] == ["drift.prediction.class", "drift.prediction.value"]
    assert [r.metric for r in fcheck(frule("mean_deviation.*", 0.1), *feats)] == [
        "mean_deviation.age",
        "mean_deviation.prediction.value",
    ]
    assert [r.metric for r in fcheck(frule("out_of_range.*", 0.1), *feats)] == [
        "out_of_range.age",
        "out_of_range.prediction.value",
    ]
    assert [r.metric for r in fcheck(frule("unseen.*", 0.1), *feats)] == [
        "unseen.country",
        "unseen.prediction.class",
    ]
    assert [r.metric for r in fcheck(frule("type_errors.*"), *feats)] == [
        "type_errors.age",
        "type_errors.country",
    ]
    (r,) = fcheck(frule("drift.multivariate"), *feats)
    from mlmon.stats.joint import CRITICAL, WARNING

    assert (r.metric, r.warning, r.critical) == ("drift.multivariate", WARNING, CRITICAL)
    few = feature("hour", test="chi_square")
    assert [r.metric for r in fcheck(frule("unseen.*", 0.1), few)] == ["unseen.hour"]


def test_a_feature_that_vanished_or_had_too_few_values() -> None:
    (r,) = fcheck(frule("drift.age", 0.1), feature(status="missing", n=0))
    assert (r.status, r.value, r.critical_missing) == (Status.CRITICAL, 0.0, True)
    assert r.message == "drift.age: feature age has no value in the log: it was not checked"
    assert (r.compared, r.threshold, r.compared_limit) == (0.0, 1.0, 1.0)
    (r,) = fcheck(frule("drift.age", 0.1), feature(status="insufficient_data", n=12))
    assert r.status is Status.NO_DATA and r.message == "drift.age: no data (feature insufficient_data, n=12)"


def test_type_errors_share_against_its_limit() -> None:
    (r,) = fcheck(frule("type_errors.age"), feature(type_errors=0))
    assert (r.status, r.value, r.warning) == (Status.OK, 0.0, 0.0)
    (r,) = fcheck(frule("type_errors.age"), feature(type_errors=1, records=500))
    assert (r.status, r.value) == (Status.WARNING, 1 / 500)
    (r,) = fcheck(frule("type_errors.age", 0.01, 0.1), feature(type_errors=5, records=500))
    assert r.status is Status.OK  # 0.01 is not above 0.01
    (r,) = fcheck(frule("type_errors.age", 0.01), feature(type_errors=0, records=0))
    assert r.status is Status.NO_DATA and r.message == "type_errors.age: no data (no records)"


def test_unseen_values_against_the_limits_with_the_excess_shown() -> None:
    cat = feature("country", kind="categorical", unseen_share=0.03)
    (r,) = fcheck(frule("unseen.country", 0.03, 0.2), cat)
    assert r.status is Status.OK  # 0.03 is not beyond 0.03
    (r,) = fcheck(frule("unseen.country", 0.029, 0.2), cat)
    assert r.status is Status.WARNING and r.value == 0.03
    assert r.message == "unseen.country 0.03: warning" and (r.compared, r.compared_kind) == (0.03, "estimate")
    (r,) = fcheck(frule("unseen.country", 0.01, 0.02), cat)
    assert r.status is Status.CRITICAL and r.message == "unseen.country 0.03: critical"
    (r,) = fcheck(frule("unseen.country"), cat)
    assert (r.status, r.warning, r.critical) == (Status.WARNING, 0.01, 0.05)
    expected = replace(cat, unseen_share=0.3, unseen_expected=0.1, unseen_expected_se=0.001, n=1000)
    (r,) = fcheck(frule("unseen.country", 0.1, 0.5), expected)
    assert r.status is Status.WARNING
    assert (r.compared, r.compared_kind) == (pytest.approx(0.2), "excess over expected")
    assert r.message.startswith(
        "unseen.country: excess over expected 0.2 reaches the warning limit 0.1; "
        "unseen.country 0.3 (excess over expected 0.2): warning"
    )
    (r,) = fcheck(frule("unseen.country", 0.1, 0.5), replace(cat, unseen_share=0.0))
    assert r.message == "unseen.country 0: ok"


def test_a_mean_rule_at_the_default_tolerance_and_at_its_own() -> None:
    shifted = feature(mean_deviation=0.5, mean_p_value_adjusted=0.001, mean_shift=True)
    (r,) = fcheck(frule("mean_deviation.age"), shifted)
    assert (r.status, r.warning, r.critical, r.value) == (Status.CRITICAL, None, 0.2, 0.5)
    assert r.message == "mean_deviation.age 0.5; adjusted p 0.001 that it is beyond 0.2: critical"
    assert r.message.endswith(" that it is beyond 0.2: critical")
    (r,) = fcheck(frule("mean_deviation.age"), replace(shifted, mean_p_value_adjusted=0.05))
    assert r.status is Status.OK and r.message.endswith(": ok")
    (r,) = fcheck(frule("mean_deviation.age"), replace(shifted, mean_deviation=0.2))
    assert r.status is Status.OK  # at the tolerance, not beyond it
    (r,) = fcheck(frule("mean_deviation.age"), replace(shifted, mean_deviation=None))
    assert r.status is Status.NO_DATA and r.message == "mean_deviation.age: no data (no mean)"
    # limits of its own: the mean tests redone at each
    (r,) = fcheck(frule("mean_deviation.age", 0.3, 0.9), shifted)
    assert r.status is Status.WARNING and " that it is beyond 0.3: warning" in r.message
    (r,) = fcheck(frule("mean_deviation.age", 0.6, 0.9), shifted)
    assert r.status is Status.OK and r.message.startswith("mean_deviation.age 0.5; adjusted p ")
    assert r.message.endswith(" that it is beyond 0.6: ok")
    (r,) = fcheck(frule("mean_deviation.age", 0.1, 0.3), shifted)
    assert r.status is Status.CRITICAL and " that it is beyond 0.3: critical" in r.message


def test_missing_share_against_the_rise_over_training() -> None:
    f = feature(
        missing=50,
        records=500,
        missing_share=0.1,
        baseline_missing_share=0.02,
        missing_p_value_adjusted=0.001,
        missing_low=0.05,
        missing_high=0.11,
    )
    (r,) = fcheck(frule("missing_share.age", 0.11, 0.5), f)
    assert r.status is Status.WARNING and r.value == 0.1
    assert (r.compared, r.compared_kind, r.compared_limit) == (0.11, "rise upper 95%", 0.11)
    assert r.message == (
        "missing_share.age: rise upper 95% 0.11 reaches the warning limit 0.11; "
        "missing_share.age 0.1 vs training 0.02 (rise 95% bounds +0.05 to +0.11; "
        "adjusted p 0.001; 50 of 500 records): warning"
    )
    (r,) = fcheck(frule("missing_share.age", 0.12, 0.5), f)
    assert r.status is Status.OK
    (r,) = fcheck(frule("missing_share.age", 0.01, 0.05), f)
    assert r.status is Status.CRITICAL and (r.compared, r.compared_kind) == (0.05, "rise lower 95%")
    (r,) = fcheck(frule("missing_share.age", 0.01, 0.05), replace(f, missing_p_value_adjusted=0.05))
    assert r.status is Status.OK
    (r,) = fcheck(frule("missing_share.age"), f)
    assert (r.warning, r.critical) == (DriftOptions().missing_warning, DriftOptions().missing_critical)
    bare = replace(
        f, missing_p_value_adjusted=None, missing_low=None, missing_high=None, baseline_missing_share=None
    )
    (r,) = fcheck(frule("missing_share.age", 0.1), bare)
    assert r.message == (
        "missing_share.age 0.1 vs training - (rise 95% bounds - to -; adjusted p -; 50 of 500 records): ok"
    )
    (r,) = fcheck(frule("missing_share.age", 0.1), replace(f, missing_share=None))
    assert r.status is Status.NO_DATA and r.message == "missing_share.age: no data (no records)"
    gone = replace(f, status="missing", missing_share=1.0, missing=500)
    (r,) = fcheck(frule("missing_share.age", 0.1, 0.5, name="m"), gone)
    assert (r.status, r.value, r.name, r.warning, r.critical) == (Status.CRITICAL, 1.0, "m", 0.1, 0.5)
    assert r.message == (
        "missing_share.age 1: feature age has no value in the log (500 records), it was not "
        "checked (missing.age)"
    )
    assert (r.compared, r.compared_limit) == (1.0, 0.5)


def test_out_of_range_share_against_its_limits() -> None:
    f = feature(
        out_of_range=40,
        out_of_range_share=0.08,
        out_of_range_p_value_adjusted=0.001,
        out_of_range_low=0.06,
        out_of_range_high=0.1,
    )
    (r,) = fcheck(frule("out_of_range.age", 0.1, 0.5), f)
    assert r.status is Status.WARNING and r.value == 0.08
    assert (r.compared, r.compared_kind) == (0.1, "upper 95%")
    assert r.message == (
        "out_of_range.age: upper 95% 0.1 reaches the warning limit 0.1; "
        "out_of_range.age 0.08 (95% bounds 0.06 to 0.1; adjusted p 0.001; 40 of 500 values): warning"
    )
    (r,) = fcheck(frule("out_of_range.age", 0.11, 0.5), f)
    assert r.status is Status.OK
    (r,) = fcheck(frule("out_of_range.age", 0.01, 0.06), f)
    assert r.status is Status.CRITICAL and (r.compared, r.compared_kind) == (0.06, "lower 95%")
    (r,) = fcheck(frule("out_of_range.age"), f)
    assert (r.warning, r.critical, r.status) == (0.01, 0.10, Status.WARNING)
    (r,) = fcheck(frule("out_of_range.age", 0.01), replace(f, out_of_range_p_value_adjusted=0.05))
    assert r.status is Status.OK
    bare = replace(f, out_of_range_p_value_adjusted=None, out_of_range_low=None, out_of_range_high=None)
    (r,) = fcheck(frule("out_of_range.age", 0.01), bare)
    assert r.message == "out_of_range.age 0.08 (95% bounds - to -; adjusted p -; 40 of 500 values): ok"
    (r,) = fcheck(frule("out_of_range.age", 0.01), replace(f, n=29))
    assert r.status is Status.NO_DATA and r.message == "out_of_range.age: no data (feature ok, n=29)"
    (r,) = fcheck(frule("out_of_range.age", 0.01), replace(f, n=30))
    assert r.status is Status.WARNING  # min_samples values are enough
    (r,) = fcheck(
        frule("out_of_range.country", 0.01),
        replace(f, name="country", kind="categorical", out_of_range_share=None),
    )
    assert r.message == "out_of_range.country: no data (a categorical feature)"


def test_feature_rules_carry_for_and_the_runbook() -> None:
    (r,) = fcheck(frule("drift.age", 0.1, for_runs=4, runbook_url="https://r.b/d"), feature())
    assert (r.for_runs, r.runbook_url) == (4, "https://r.b/d")


def test_a_star_rule_names_its_feature_when_it_has_no_data() -> None:
    (r,) = fcheck(frule("drift.*", 0.1), feature(effect_size=None))
    assert (r.name, r.metric, r.message) == ("drift.age", "drift.age", "drift.age: no data (no effect size)")
    (r,) = fcheck(frule("mean_deviation.*", 0.1), feature(mean_deviation=None))
    assert (r.name, r.message) == ("mean_deviation.age", "mean_deviation.age: no data (no mean)")
    (r,) = fcheck(frule("missing_share.*", 0.1), feature(missing_share=None))
    assert (r.name, r.message) == ("missing_share.age", "missing_share.age: no data (no records)")
    (r,) = fcheck(frule("out_of_range.*", 0.1), feature(out_of_range_share=None))
    assert r.message == "out_of_range.age: no data (feature ok, n=500)"
    (r,) = fcheck(frule("drift.*", 0.1), feature(status="insufficient_data", n=3))
    assert r.message == "drift.age: no data (feature insufficient_data, n=3)"


def test_a_mean_rule_without_a_p_value_and_at_a_zero_limit() -> None:
    calm = feature(mean_deviation=0.1, mean_p_value_adjusted=0.5)
    (r,) = fcheck(frule("mean_deviation.age"), calm)
    assert r.message == "mean_deviation.age 0.1: ok"  # no warning limit: no p-value to show
    shifted = feature(mean_deviation=0.5, mean_p_value_adjusted=0.001, mean_shift=True, mean_se=0.01)
    (r,) = fcheck(frule("mean_deviation.age", 0.0, 0.9), shifted)
    assert r.status is Status.WARNING and r.message.endswith(" that it is beyond 0: warning")


# --- realized performance (quality.<m>, quality_drop.<m>): reports made here -----------------


def quality(
    overall: list[Metric],
    groups: dict[str | None, list[Metric]] | None = None,
    reference: tuple[tuple[str, float], ...] = (),
) -> QualityReport:
    def perf(ms: list[Metric]) -> Performance:
        return Performance(Task.CLASSIFICATION, 100, tuple(ms))

    return QualityReport(
        None,
        None,
        Task.CLASSIFICATION,
        perf(overall),  # type: ignore[arg-type]
        tuple(GroupPerformance(g, perf(ms)) for g, ms in (groups or {}).items()),
        reference,
    )


def qcheck(rule: Rule, q: QualityReport | None) -> RuleResult:
    (r,) = evaluate((rule,), SummaryResult(group(), ()), None, now=NOW, quality=q)
    return r


def test_a_quality_rule_alerts_when_its_interval_is_past_the_limit() -> None:
    rule = Rule(
        "quality.accuracy",
        "acc",
        warning=0.9,
        critical=0.8,
        direction="below",
        for_runs=2,
        runbook_url="https://r.b/q",
    )
    r = qcheck(rule, quality([Metric("accuracy", 0.85, 0.82, 0.88, 100)]))
    assert (r.status, r.value, r.bound, r.proven) == (Status.WARNING, 0.85, 0.88, True)
    assert (r.for_runs, r.runbook_url) == (2, "https://r.b/q")
    r = qcheck(rule, quality([Metric("accuracy", 0.85, 0.82, 0.9, 100)]))
    assert r.status is Status.OK and r.proven is False  # the upper bound reaches the limit
    r = qcheck(rule, quality([Metric("accuracy", 0.7, 0.65, 0.79, 100)]))
    assert r.status is Status.CRITICAL
    r = qcheck(Rule("quality.mae", "mae", warning=5.0), quality([Metric("mae", 6.0, 5.5, 6.5, 100)]))
    assert (r.status, r.bound) == (Status.WARNING, 5.5)


def test_a_quality_rule_without_labels_or_the_metric_has_no_data() -> None:
    rule = Rule("quality.accuracy", "acc", warning=0.9, direction="below", for_runs=3)
    r = qcheck(rule, None)
    assert r.status is Status.NO_DATA and r.for_runs == 3
    assert (
        r.message
        == "quality.accuracy: no data (no labels (give --labels FILE, or label-files in the config))"
    )
    r = qcheck(rule, quality([Metric("macro_f1", 0.9, 0.8, 0.95, 100)]))
    assert r.message == "quality.accuracy: no data (no metric accuracy for a classification model)"
    r = qcheck(rule, quality([Metric("accuracy", None, None, None, 0)]))
    assert r.message == "quality.accuracy: no data (no labelled prediction)"
    r = qcheck(rule, quality([Metric("accuracy", None, None, None, 0, "one class only")]))
    assert r.message == "quality.accuracy: no data (one class only)"


def test_a_per_class_metric_is_found_by_its_whole_name() -> None:
    rule = Rule("quality.f1.cat", "f1", warning=0.9, direction="below")
    r = qcheck(rule, quality([Metric("f1.cat", 0.5, 0.4, 0.6, 100), Metric("f1.dog", 0.95, 0.9, 0.99, 100)]))
    assert (r.status, r.value) == (Status.WARNING, 0.5)


def test_a_quality_drop_is_the_fall_from_the_reference() -> None:
    acc = Metric("accuracy", 0.8, 0.75, 0.85, 100)
    rule = Rule("quality_drop.accuracy", "drop", warning=0.05)
    r = qcheck(rule, quality([acc], reference=(("accuracy", 0.9),)))
    assert r.value == pytest.approx(0.1) and r.bound == pytest.approx(0.05) and r.status is Status.WARNING
    r = qcheck(rule, quality([replace(acc, high=None, low=None)], reference=(("accuracy", 0.9),)))
    assert r.value == pytest.approx(0.1) and r.bound is None and r.status is Status.OK and r.proven is False
    r = qcheck(rule, quality([replace(acc, low=None)], reference=(("accuracy", 0.9),)))
    assert r.bound == pytest.approx(0.05)  # the fall's lower bound is reference - the high one
    r = qcheck(rule, quality([replace(acc, high=None)], reference=(("accuracy", 0.9),)))
    assert r.bound is None
    mae = Metric("mae", 6.0, 5.5, 6.5, 100)
    r = qcheck(Rule("quality_drop.mae", "worse", warning=0.4), quality([mae], reference=(("mae", 5.0),)))
    assert (r.value, r.bound, r.status) == (1.0, 0.5, Status.WARNING)  # a rise of the error is its drop
    r = qcheck(
        Rule("quality_drop.mae", "worse", warning=0.4),
        quality([replace(mae, low=None, high=None)], reference=(("mae", 5.0),)),
    )
    assert (r.value, r.bound) == (1.0, None)
    r = qcheck(rule, quality([acc]))
    assert r.message == (
        "quality_drop.accuracy: no data (the baseline has no reference accuracy (mlmon baseline "
        "--reference-metric accuracy=VALUE))"
    )


def test_a_quality_rule_by_group_names_the_worst() -> None:
    rule = Rule("quality.accuracy", "acc", warning=0.9, direction="below", by="model_version")
    q = quality(
        [Metric("accuracy", 0.92, 0.91, 0.93, 100)],
        {
            "v1": [Metric("accuracy", 0.95, 0.93, 0.97, 50)],
            "v2": [Metric("accuracy", 0.7, 0.6, 0.8, 50)],
            None: [Metric("accuracy", None, None, None, 0)],
        },
    )
    r = qcheck(rule, q)
    assert (r.status, r.group, r.value, r.by) == (Status.WARNING, "v2", 0.7, "model_version")
    assert r.groups == (("v1", 0.95), ("v2", 0.7), (None, None))
    assert (r.worst_group, r.worst_value, r.overall) == ("v2", 0.7, 0.92)
    q = replace(
        q,
        groups=(
            GroupPerformance(
                None, Performance(Task.CLASSIFICATION, 9, (Metric("accuracy", 0.5, 0.4, 0.6, 9),))
            ),
        ),
    )
    r = qcheck(rule, q)
    assert r.group is None and r.group_missing and r.worst_group_missing
    assert qcheck(replace(rule, by=None), q).groups == ()


def test_a_vanished_feature_under_a_missing_share_rule_keeps_every_field() -> None:
    gone = feature(status="missing", missing_share=1.0, missing=500, records=500)
    (r,) = fcheck(frule("missing_share.age", 0.1, 0.5), gone)
    assert (r.direction, r.warning_compared, r.critical_compared) == ("above", 1.0, 1.0)
    assert (r.name, r.metric) == ("missing_share.age", "missing_share.age")
    (r,) = fcheck(frule("missing_share.age", 0.1, 0.5, direction="below"), gone)
    assert r.direction == "below"


def test_a_quality_drop_within_its_limit_is_proven_ok_by_the_other_bound() -> None:
    drop = Rule("quality_drop.accuracy", "drop", warning=0.05)
    r = qcheck(drop, quality([Metric("accuracy", 0.88, 0.86, 0.9, 100)], reference=(("accuracy", 0.9),)))
    assert (r.status, r.proven, r.bound) == (Status.OK, True, pytest.approx(0.0))
    r = qcheck(drop, quality([Metric("accuracy", 0.88, 0.84, 0.9, 100)], reference=(("accuracy", 0.9),)))
    assert (r.status, r.proven) == (Status.OK, False)  # a fall up to 0.06 is not ruled out
    worse = Rule("quality_drop.mae", "worse", warning=0.4)
    r = qcheck(worse, quality([Metric("mae", 5.1, 5.0, 5.2, 100)], reference=(("mae", 5.0),)))
    assert (r.status, r.proven) == (Status.OK, True)
    r = qcheck(worse, quality([Metric("mae", 5.1, 5.0, 5.5, 100)], reference=(("mae", 5.0),)))
    assert (r.status, r.proven) == (Status.OK, False)


def test_quality_rules_by_group_judge_each_group_on_its_interval() -> None:
    rule = Rule("quality.accuracy", "acc", warning=0.9, direction="below", by="model_version")
    q = quality(
        [Metric("accuracy", 0.95, 0.93, 0.97, 100)], {"v1": [Metric("accuracy", 0.85, 0.7, 0.95, 10)]}
    )  # below the limit, not shown to be
    r = qcheck(rule, q)
    assert r.status is Status.OK and r.worst_group == "v1"
    drop = Rule("quality_drop.accuracy", "drop", warning=0.05, by="model_version")
    q = quality(
        [Metric("accuracy", 0.9, 0.89, 0.91, 100)],
        {"v1": [Metric("accuracy", 0.7, 0.6, 0.8, 50)]},
        reference=(("accuracy", 0.9),),
    )
    r = qcheck(drop, q)
    assert (r.status, r.group, r.value) == (Status.WARNING, "v1", pytest.approx(0.2))


def test_a_quality_rule_without_labels_keeps_its_runbook() -> None:
    rule = Rule("quality.accuracy", "acc", warning=0.9, direction="below", runbook_url="https://r.b/q")
    assert qcheck(rule, None).runbook_url == "https://r.b/q"


def test_a_p95_and_a_single_latency_are_judged_on_their_interval() -> None:
    unproven = lat(1, mean=150.0, p50=150.0, p95=150.0, p99=150.0, max=150.0)
    for metric in ("latency_ms.p50", "latency_ms.p95", "latency_ms.p99"):
        r = run(Rule(metric, "slow", warning=100.0), group(latency_ms=unproven))
        assert (r.status, r.proven, r.bound) == (Status.OK, False, None), metric  # one value proves nothing
    proven = replace(unproven, n=500, p95_lower=120.0, p95_upper=160.0)
    r = run(Rule("latency_ms.p95", "slow", warning=100.0), group(latency_ms=proven))
    assert (r.status, r.bound) == (Status.WARNING, 120.0)


def test_no_data_results_of_feature_rules_keep_the_rules_fields() -> None:
    rule = frule("drift.age", 0.1, 0.3, name="d", direction="below")
    (r,) = list(evaluate((rule,), SummaryResult(group(), ()), None, now=NOW))
    assert (r.name, r.metric, r.direction) == ("d", "drift.age", "below")
    (r,) = fcheck(rule, feature("income"))
    assert (r.name, r.metric, r.direction, r.warning, r.critical) == ("d", "drift.age", "below", 0.1, 0.3)


def test_a_rule_with_one_limit_keeps_it_and_no_other() -> None:
    (r,) = fcheck(frule("drift.age", 0.3), feature(effect_low=0.26, effect_high=0.35))
    assert (r.warning, r.critical, r.status) == (0.3, None, Status.WARNING)  # not the default critical 0.25
    (r,) = fcheck(frule("drift.age", None, 0.5), feature(effect_low=0.26, effect_high=0.35))
    assert (r.warning, r.critical, r.status) == (None, 0.5, Status.OK)


def test_a_prediction_star_rule_takes_the_predictions_only() -> None:
    feats = (
        feature("price"),
        feature("predictionx"),
        feature("prediction.value", role="prediction"),
        feature("prediction.class", kind="categorical", role="prediction"),
    )
    assert [r.metric for r in fcheck(frule("drift.prediction.*", 0.1), *feats)] == [
        "drift.prediction.value",
        "drift.prediction.class",
    ]
    assert [r.metric for r in fcheck(frule("unseen.prediction.*", 0.1), *feats)] == [
        "unseen.prediction.class"
    ]


def test_a_vanished_feature_result_names_its_rule_and_limits() -> None:
    gone = feature(status="missing", n=0)
    (r,) = fcheck(frule("drift.*", 0.1, 0.3, name="all", direction="below"), gone)
    assert (r.name, r.metric, r.warning, r.critical, r.direction) == (
        "all:drift.age",
        "drift.age",
        0.1,
        0.3,
        "below",
    )
    assert (r.warning_compared, r.critical_compared) == (0.0, 0.0)


def test_unseen_values_use_the_runs_p_threshold() -> None:
    from mlmon.stats import novelty

    f = feature(
        "country",
        kind="categorical",
        unseen_share=0.14,
        unseen_expected=0.1,
        unseen_expected_se=0.01,
        n=1000,
        baseline_n=1000,
    )
    p = novelty.p_value(140, 1000, 0.1, 0.01, 1000, 0.01)
    assert 1e-9 < p < 0.05
    (r,) = fcheck(frule("unseen.country", 0.01, 0.5), f, drift=DriftOptions(p_threshold=p * 2))
    assert r.status is Status.WARNING
    (r,) = fcheck(frule("unseen.country", 0.01, 0.5), f, drift=DriftOptions(p_threshold=p / 2))
    assert r.status is Status.OK


def test_an_alert_carries_what_was_compared_with_the_limit() -> None:
    rule = Rule("latency_ms.p99", "slow", warning=100.0)
    proven = lat(500, mean=50.0, p50=40.0, p95=90.0, p99=150.0, max=200.0, p99_lower=120.0, p99_upper=180.0)
    a = run(rule, group(latency_ms=proven)).alert()
    assert a is not None and (a.compared, a.compared_kind, a.threshold) == (120.0, "lower 95%", 100.0)
    a = run(Rule("error_rate", "e", warning=0.0), group(error_rate=0.1)).alert()
    assert a is not None and (a.compared, a.compared_kind) == (0.1, "estimate")
    assert a.message == "error_rate 0.1 > 0 (all records)"  # a zero limit is written as 0


def test_no_data_keeps_both_limits() -> None:
    r = run(Rule("records", "few", warning=100, critical=10, direction="below"), group(records=0))
    assert r.status is Status.CRITICAL  # zero records is a value: below both limits, not no data
    r = run(Rule("error_rate", "e", warning=0.1, critical=0.2), group(records=0))
    assert (r.status, r.warning, r.critical) == (Status.NO_DATA, 0.1, 0.2)


def test_a_group_without_a_value_does_not_hide_the_groups_after_it() -> None:
    rule = Rule("error_rate", "errors", warning=0.05, by="model_version")
    r = run(rule, group(error_rate=0.01), group("a", records=0), group("b", error_rate=0.5))
    assert (r.status, r.group, r.value) == (Status.WARNING, "b", 0.5)


def test_a_tie_below_the_limit_keeps_the_first() -> None:
    rule = Rule("success_rate", "ok", warning=0.9, direction="below", by="model_version")
    r = run(rule, group(success_rate=0.8), group("a", success_rate=0.8))
    assert (r.status, r.group, r.value) == (Status.WARNING, None, 0.8)


def test_every_rule_after_a_quality_or_feature_rule_is_judged() -> None:
    rules = (
        Rule("quality.accuracy", "acc", warning=0.9, direction="below"),
        Rule("drift.age", "d", warning=0.1),
        Rule("error_rate", "e", warning=0.05),
    )
    out = evaluate(rules, SummaryResult(group(error_rate=0.5), ()), None, now=NOW)
    assert [(r.name, r.status) for r in out] == [
        ("acc", Status.NO_DATA),
        ("d", Status.NO_DATA),
        ("e", Status.WARNING),
    ]


def test_the_age_of_each_group_is_measured_from_now() -> None:
    rule = Rule("age_seconds", "stale", warning=100.0, by="model_version")
    r = run(
        rule,
        group(last_timestamp="2027-01-15T08:00:00Z"),
        group("a", last_timestamp="2027-01-15T07:00:00Z"),
        group("b", last_timestamp="2027-01-15T08:00:00Z"),
    )
    assert (r.status, r.group, r.value) == (Status.WARNING, "a", 3600.0)
    assert r.groups == (("a", 3600.0), ("b", 0.0))
