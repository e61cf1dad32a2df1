"""Every field of compare's success-rate, class-count and KS rows and of its judging, by hand."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from mlmon.read.records import Kind
from mlmon.stats.classes import ClassCounter
from mlmon.stats.compare import (
    CompareOptions,
    MetricComparison,
    _array,
    _counts,
    _judge,
    _ks,
    _success,
    _values,
    _Version,
    compare_version,
    two_proportion_z,
)
from mlmon.stats.summary import Values

LOG_TERM = math.log(2 / 0.025)
"""ln(2 / a) with a = 2.5% a side: each side's sampling error bounded at 97.5%."""


def _wilson(s: int, n: int) -> tuple[float, float]:
    ci = stats.binomtest(s, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def _newcombe(s1: int, n1: int, s2: int, n2: int) -> tuple[float, float]:
    p1, p2 = s1 / n1, s2 / n2
    (l1, u1), (l2, u2) = _wilson(s1, n1), _wilson(s2, n2)
    return (p2 - p1 - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2),
            p2 - p1 + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2))


def _bh(ps: list[float]) -> list[float]:
    """Benjamini-Hochberg by hand: p(i) m / i, made monotone from the largest down, at most 1."""
    m = len(ps)
    order = sorted(range(m), key=lambda i: ps[i])
    adj = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, ps[i] * m / rank)
        adj[i] = running
    return adj


def _status(n: int, s: int) -> _Version:
    return _Version(records=n + 3, status_n=n, successes=s)


def _counter(counts: dict[str, int]) -> ClassCounter:
    c = ClassCounter()
    c.update(list(counts), list(counts.values()))
    return c


def _vals(x: np.ndarray) -> Values:
    v = Values()
    v.extend(np.asarray(x, dtype=np.float64))
    return v


# ---- success rate ---------------------------------------------------------------------------


@pytest.mark.parametrize(("s1", "n1", "s2", "n2"),
                         [(970, 1000, 930, 1200), (40, 50, 48, 60), (30, 30, 25, 31)])
def test_every_field_of_the_success_rate_row(s1: int, n1: int, s2: int, n2: int) -> None:
    o = CompareOptions()
    r = _success(_status(n1, s1), _status(n2, s2), o)
    p1, p2 = s1 / n1, s2 / n2
    pooled = (s1 + s2) / (n1 + n2)
    z = (p2 - p1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p = 2 * stats.norm.sf(abs(z))
    interval = _newcombe(s1, n1, s2, n2)
    assert (r.metric, r.test, r.n_control, r.n_treatment) == ("success_rate", "two_proportion_z", n1, n2)
    assert (r.control, r.treatment) == (p1, p2)
    assert r.difference == pytest.approx(p2 - p1, abs=1e-15) and r.effect == r.difference
    assert r.statistic == pytest.approx(z, rel=1e-12)
    assert r.p_value == pytest.approx(p, rel=1e-9)
    assert r.interval == pytest.approx(interval, rel=1e-9)
    assert r.effect_interval == r.interval
    assert r.effect_measure == "difference" and r.tolerance == 0.01
    assert r.p_value_adjusted is None and r.verdict == "not_enough_data"  # judged later, with the others
    assert r.interval is not None and r.interval[0] < r.difference < r.interval[1]


def test_success_rate_at_min_records_exactly_and_one_below() -> None:
    o = CompareOptions(min_records=30)
    at = _success(_status(30, 27), _status(30, 20), o)
    assert at.p_value is not None and at.statistic is not None
    for nc, nt in ((29, 30), (30, 29), (29, 500)):
        r = _success(_status(nc, nc - 2), _status(nt, nt - 5), o)
        assert (r.metric, r.test, r.n_control, r.n_treatment) == ("success_rate", "two_proportion_z", nc, nt)
        assert (r.control, r.treatment, r.difference, r.interval, r.statistic, r.p_value, r.effect,
                r.effect_measure, r.effect_interval, r.p_value_adjusted) == (None,) * 10
        assert r.verdict == "not_enough_data" and r.tolerance == 0.01


def test_two_proportion_z_without_variance_is_no_difference() -> None:
    assert two_proportion_z(50, 50, 80, 80) == (0.0, 1.0)
    assert two_proportion_z(0, 50, 0, 80) == (0.0, 1.0)
    z, p = two_proportion_z(50, 50, 79, 80)
    assert z < 0 and 0 < p < 1


# ---- class counts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [({"x": 300, "y": 200, "z": 100}, {"x": 250, "y": 250, "z": 150}),
     ({"x": 40, "y": 35}, {"x": 20, "y": 60}),
     ({"x": 500, "y": 300}, {"x": 200, "y": 100, "w": 100}),
     ({"x": 500, "y": 300, "v": 50}, {"x": 200, "y": 100})],
)
def test_every_field_of_a_class_count_row(a: dict[str, int], b: dict[str, int]) -> None:
    o = CompareOptions(tolerance=(("classes", 0.07),))
    r = _counts("classes", _counter(a), _counter(b), o)
    cats = sorted(set(a) | set(b))
    table = np.array([[a.get(k, 0) for k in cats], [b.get(k, 0) for k in cats]])
    ref = stats.chi2_contingency(table, correction=False)
    n1, n2 = sum(a.values()), sum(b.values())
    tv = 0.5 * sum(abs(a.get(k, 0) / n1 - b.get(k, 0) / n2) for k in cats)
    k = max(2, len(cats))
    margin = sum(math.sqrt((math.log(2**k - 2) + LOG_TERM) / (2 * n)) for n in (n1, n2))
    assert (r.metric, r.test, r.n_control, r.n_treatment) == ("classes", "chi_square", n1, n2)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert r.effect == pytest.approx(tv, rel=1e-12) and r.effect_measure == "total_variation"
    assert r.effect_interval == pytest.approx((max(0.0, tv - margin), min(1.0, tv + margin)), rel=1e-12)
    assert (r.control, r.treatment, r.difference, r.interval, r.p_value_adjusted) == (None,) * 5
    assert r.tolerance == 0.07 and r.verdict == "not_enough_data"


def test_a_single_class_on_both_sides_is_no_difference() -> None:
    r = _counts("classes", _counter({"x": 40}), _counter({"x": 90}), CompareOptions())
    assert (r.statistic, r.p_value, r.effect) == (0.0, 1.0, 0.0)
    margin = sum(math.sqrt((math.log(2) + LOG_TERM) / (2 * n)) for n in (40, 90))  # k is at least 2
    assert r.effect_interval == pytest.approx((0.0, min(1.0, margin)))
    assert (r.n_control, r.n_treatment) == (40, 90)


def test_class_counts_at_min_records_exactly_and_one_below() -> None:
    o = CompareOptions(min_records=30)
    at = _counts("features.region", _counter({"x": 20, "y": 10}), _counter({"x": 10, "y": 20}), o)
    assert at.p_value is not None and at.tolerance == 0.10
    for a, b in (({"x": 20, "y": 9}, {"x": 10, "y": 20}), ({"x": 20, "y": 10}, {"x": 10, "y": 19})):
        r = _counts("features.region", _counter(a), _counter(b), o)
        assert (r.metric, r.test) == ("features.region", "chi_square")
        assert (r.n_control, r.n_treatment) == (sum(a.values()), sum(b.values()))
        assert (r.statistic, r.p_value, r.effect, r.effect_measure, r.effect_interval) == (None,) * 5
        assert r.verdict == "not_enough_data"


# ---- KS rows --------------------------------------------------------------------------------


def test_every_field_of_a_ks_row(rng: np.random.Generator) -> None:
    c, t = rng.beta(5, 2, 700), rng.beta(4, 2, 500)
    r = _ks("confidence", c, t, CompareOptions())
    ref = stats.ks_2samp(t, c)
    margin = sum(math.sqrt(LOG_TERM / (2 * n)) for n in (700, 500))
    d = float(ref.statistic)
    assert (r.metric, r.test, r.n_control, r.n_treatment) == ("confidence", "ks", 700, 500)
    assert r.control == pytest.approx(float(np.mean(c)), rel=1e-12)
    assert r.treatment == pytest.approx(float(np.mean(t)), rel=1e-12)
    assert r.difference == pytest.approx(float(np.mean(t) - np.mean(c)), rel=1e-9)
    assert (r.statistic, r.effect) == (d, d) and r.effect_measure == "ks_d"
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert r.effect_interval == pytest.approx((max(0.0, d - margin), min(1.0, d + margin)), rel=1e-12)
    assert (r.interval, r.p_value_adjusted) == (None, None) and r.tolerance == 0.10
    assert r.verdict == "not_enough_data"


def test_ks_rows_at_min_records_exactly_and_one_below(rng: np.random.Generator) -> None:
    o = CompareOptions(min_records=30, tolerance=(("features", 0.2),))
    at = _ks("features.age", rng.normal(size=30), rng.normal(size=30), o)
    assert at.p_value is not None and at.tolerance == 0.2 and at.test == "ks"
    for nc, nt in ((29, 30), (30, 29)):
        r = _ks("features.age", rng.normal(size=nc), rng.normal(size=nt), o)
        assert (r.metric, r.test, r.n_control, r.n_treatment) == ("features.age", "ks", nc, nt)
        assert (r.control, r.treatment, r.statistic, r.p_value, r.effect, r.effect_interval) == (None,) * 6
        assert r.verdict == "not_enough_data"


def test_array_and_values_of_empty_and_null_columns() -> None:
    assert _array(Values()).shape == (0,)
    assert list(_array(_vals(np.array([1.5, 2.5])))) == [1.5, 2.5]
    assert _values(pa.chunked_array([pa.array([None, None], pa.float64())])) is None
    got = _values(pa.chunked_array([pa.array([1.0, None, 3.0])]))
    assert got is not None and list(got) == [1.0, 3.0] and got.dtype == np.float64
    ints = _values(pa.chunked_array([pa.array([4, None, 7], pa.int64())]))  # whole milliseconds
    assert ints is not None and ints.dtype == np.float64 and list(ints) == [4.0, 7.0]


# ---- judging --------------------------------------------------------------------------------


def _row(metric: str, effect: float | None, interval: tuple[float, float] | None, p_adj: float | None,
         tolerance: float, difference: float | None = None) -> MetricComparison:
    return MetricComparison(metric=metric, test="t", n_control=100, n_treatment=100, control=None,
                            treatment=None, difference=difference, interval=None, statistic=None,
                            p_value=p_adj, p_value_adjusted=p_adj, effect=effect, effect_measure="m",
                            tolerance=tolerance, verdict="not_enough_data", effect_interval=interval)


def test_a_bound_exactly_at_the_tolerance_is_same_and_past_it_is_judged() -> None:
    o = CompareOptions(alpha=0.05)
    # the upper bound of a rise; the lower bound of a fall
    assert _judge(_row("latency_ms", 0.05, (0.01, 0.25), 0.001, 0.25), o).verdict == "same"
    assert _judge(_row("latency_ms", 0.05, (0.01, 0.2500001), 0.001, 0.25), o).verdict == "worse"
    assert _judge(_row("latency_ms", -0.05, (-0.25, 0.3), 0.001, 0.25), o).verdict == "same"
    assert _judge(_row("latency_ms", -0.05, (-0.2500001, 0.9), 0.001, 0.25), o).verdict == "better"
    # the other bound does not count
    assert _judge(_row("latency_ms", 0.05, (-0.9, 0.2), 0.001, 0.25), o).verdict == "same"
    assert _judge(_row("latency_ms", -0.05, (-0.2, 0.9), 0.001, 0.25), o).verdict == "same"
    # no interval: the point estimate, both ways
    assert _judge(_row("latency_ms.p99", 0.25, None, 0.001, 0.25), o).verdict == "same"
    assert _judge(_row("latency_ms.p99", -0.26, None, 0.001, 0.25), o).verdict == "better"
    assert _judge(_row("latency_ms.p99", 0.26, None, 0.001, 0.25), o).verdict == "worse"
    # the point estimate beyond a bound that is not (a bound never hides the estimate)
    assert _judge(_row("latency_ms", 0.3, (0.0, 0.1), 0.001, 0.25), o).verdict == "worse"
    assert _judge(_row("latency_ms", -0.3, (-0.1, 0.0), 0.001, 0.25), o).verdict == "better"
    # a zero effect reads the upper bound: an unchanged median whose slower bound is past the
    # tolerance is worse, never better
    assert _judge(_row("latency_ms", 0.0, (-0.5, 0.3), 0.001, 0.25), o).verdict == "worse"
    assert _judge(_row("classes", 0.0, (-0.5, 0.3), 0.001, 0.25), o).verdict == "worse"
    assert _judge(_row("classes", 0.0, (-0.5, 0.2), 0.001, 0.25), o).verdict == "same"


def test_an_adjusted_p_value_exactly_at_alpha_is_not_a_real_difference() -> None:
    o = CompareOptions(alpha=0.05)
    assert _judge(_row("latency_ms", 0.5, (0.4, 0.6), 0.05, 0.1), o).verdict == "same"
    assert _judge(_row("latency_ms", 0.5, (0.4, 0.6), 0.0499999, 0.1), o).verdict == "worse"
    o2 = CompareOptions(alpha=0.01)
    assert _judge(_row("latency_ms", 0.5, (0.4, 0.6), 0.03, 0.1), o2).verdict == "same"


def test_untested_rows_are_left_as_they_are() -> None:
    o = CompareOptions()
    for row in (_row("latency_ms", None, None, 0.001, 0.1), _row("latency_ms", 0.5, None, None, 0.1)):
        assert _judge(row, o) is row


@pytest.mark.parametrize(
    ("metric", "effect", "difference", "verdict"),
    [("latency_ms", 0.5, None, "worse"), ("latency_ms", -0.5, None, "better"),
     ("latency_ms.p95", 0.5, None, "worse"), ("latency_ms.p50", -0.5, None, "better"),
     ("success_rate", -0.5, None, "worse"), ("success_rate", 0.5, None, "better"),
     ("confidence", 0.5, -0.1, "worse"), ("confidence", 0.5, 0.1, "better"),
     ("confidence", 0.5, None, "worse"), ("confidence", 0.5, 0.0, "worse"),
     ("features.age", 0.5, -0.1, "different"), ("features.region", 0.5, None, "different"),
     ("classes", 0.5, None, "worse")],
)
def test_the_direction_of_each_metric(metric: str, effect: float, difference: float | None,
                                      verdict: str) -> None:
    r = _judge(_row(metric, effect, None, 0.001, 0.1, difference), CompareOptions())
    assert r.verdict == verdict
    assert (r.metric, r.effect, r.difference, r.p_value_adjusted) == (metric, effect, difference, 0.001)


def test_tolerances_by_metric() -> None:
    o = CompareOptions(tolerance=(("features", 0.3), ("features.age", 0.4), ("success_rate", 0.02)))
    assert (o.tol("features.age"), o.tol("features.region"), o.tol("success_rate")) == (0.4, 0.3, 0.02)
    assert (o.tol("classes"), o.tol("latency_ms.p99")) == (0.05, 0.10)
    assert CompareOptions().tol("features.x") == 0.10


# ---- a version: Benjamini-Hochberg across its tests, and its verdict ------------------------


def _version(rng: np.random.Generator, n: int, *, shift: float, ok: int, classes: dict[str, int],
             conf: tuple[float, float], age: float, region: dict[str, int]) -> _Version:
    v = _Version(records=n + 7, status_n=n, successes=ok, latency=_vals(rng.lognormal(3, 0.4, n) * shift),
                 confidence=_vals(rng.beta(*conf, n)), classes=_counter(classes))
    v.numeric["age"] = _vals(rng.normal(age, 10, n))
    v.categorical["region"] = _counter(region)
    return v


def test_a_version_is_adjusted_together_and_judged(rng: np.random.Generator) -> None:
    c = _version(rng, 1500, shift=1.0, ok=1480, classes={"a": 900, "b": 600}, conf=(5, 2), age=40,
                 region={"eu": 800, "us": 700})
    t = _version(rng, 1200, shift=1.4, ok=1100, classes={"a": 500, "b": 700}, conf=(3, 2), age=45,
                 region={"eu": 640, "us": 560})
    features = (("age", Kind.NUMERIC), ("region", Kind.CATEGORICAL), ("absent", Kind.NUMERIC),
                ("gone", Kind.CATEGORICAL))
    v = compare_version("v2", t, "v1", c, features, CompareOptions())
    assert (v.version, v.control, v.records, v.control_records) == ("v2", "v1", 1207, 1507)
    assert [m.metric for m in v.metrics] == ["latency_ms", "latency_ms.p50", "latency_ms.p95",
                                             "latency_ms.p99", "success_rate", "classes", "confidence"]
    assert [m.metric for m in v.traffic] == ["features.age", "features.region", "features.absent",
                                             "features.gone"]
    every = v.metrics + v.traffic
    tested = [m for m in every if m.p_value is not None]
    assert len(tested) == len(every) - 2  # the features neither version has
    for absent in v.traffic[2:]:
        assert (absent.n_control, absent.n_treatment, absent.verdict, absent.p_value_adjusted) == (
            0, 0, "not_enough_data", None)
    assert [m.p_value_adjusted for m in tested] == pytest.approx(_bh([m.p_value for m in tested]), rel=1e-9)
    got = {m.metric: m.verdict for m in every}
    assert got["latency_ms"] == "worse" and got["success_rate"] == "worse"
    assert got["classes"] == "worse" and got["confidence"] == "worse"
    assert got["features.age"] == "different" and got["features.region"] == "same"
    assert v.verdict == "worse"
    # each row's verdict is _judge's on its adjusted p-value
    for m in every:
        assert _judge(m, CompareOptions()) .verdict == m.verdict


def test_a_version_with_one_test_keeps_its_p_value_and_passes(rng: np.random.Generator) -> None:
    c = _Version(records=200, status_n=200, successes=198)
    t = _Version(records=100, status_n=100, successes=99)
    v = compare_version(None, t, "v1", c, (), CompareOptions())
    (s,) = [m for m in v.metrics if m.p_value is not None]
    assert s.metric == "success_rate" and s.p_value_adjusted == s.p_value
    assert s.verdict == "same" and v.verdict == "pass" and v.version is None
    assert {m.verdict for m in v.metrics if m is not s} == {"not_enough_data"}
    # none tested: not enough data
    few = compare_version("v2", _Version(records=5, status_n=5, successes=5), "v1", c, (), CompareOptions())
    assert few.verdict == "not_enough_data"
    assert all(m.p_value_adjusted is None for m in few.metrics)


def test_adjusted_p_values_on_a_small_case_by_hand(rng: np.random.Generator) -> None:
    """Two tests: the success rate and the classes; BH of two p-values is min(p_max, 2 p_min)."""
    c = _Version(records=400, status_n=400, successes=390, classes=_counter({"a": 200, "b": 200}))
    t = _Version(records=300, status_n=300, successes=280, classes=_counter({"a": 170, "b": 130}))
    v = compare_version("v2", t, "v1", c, (), CompareOptions())
    m = {x.metric: x for x in v.metrics}
    ps, pc_ = m["success_rate"].p_value, m["classes"].p_value
    assert ps is not None and pc_ is not None
    lo, hi = min(ps, pc_), max(ps, pc_)
    adj_lo, adj_hi = min(hi, 2 * lo), hi
    want = {ps: adj_lo if ps == lo else adj_hi, pc_: adj_lo if pc_ == lo else adj_hi}
    assert m["success_rate"].p_value_adjusted == pytest.approx(want[ps], rel=1e-12)
    assert m["classes"].p_value_adjusted == pytest.approx(want[pc_], rel=1e-12)


# ---- the accumulator: what each version holds, and the versions' order ----------------------


def _baseline() -> object:
    from types import SimpleNamespace

    return SimpleNamespace(features=(SimpleNamespace(name="age", numeric=object()),
                                     SimpleNamespace(name="region", numeric=None),
                                     SimpleNamespace(name="size", numeric=object())))


def test_each_version_holds_its_counts_and_values_with_nulls_dropped() -> None:
    from mlmon.read.records import CONFIDENCE, FEATURE_PREFIX, GROUP, LATENCY, PRED_CLASS, SUCCESS
    from mlmon.stats.compare import CompareAccumulator

    acc = CompareAccumulator(_baseline())  # type: ignore[arg-type]
    assert acc.features == (("age", Kind.NUMERIC), ("region", Kind.CATEGORICAL), ("size", Kind.NUMERIC))
    assert CompareAccumulator().features == ()
    acc.update(pa.table({
        GROUP: ["v1", "v2", "v1", "v1", "v2"],
        SUCCESS: pa.array([True, None, False, True, True]),
        LATENCY: pa.array([10.0, 20.0, None, 12.0, 22.0]),
        CONFIDENCE: pa.array([None, None, None, None, None], pa.float64()),
        PRED_CLASS: pa.array(["a", "b", None, "a", "b"]),
        # no feature:age column in this part: the features after it are still read
        FEATURE_PREFIX + "region": pa.array(["eu", None, "us", "eu", None]),
        FEATURE_PREFIX + "size": pa.array([1.0, 2.0, None, 3.0, None]),
    }))
    acc.update(pa.table({GROUP: ["v2"], SUCCESS: pa.array([None], pa.bool_()),
                         FEATURE_PREFIX + "age": pa.array([33.0]),
                         FEATURE_PREFIX + "region": pa.array([None], pa.string())}))
    acc.update(pa.table({GROUP: pa.array([], pa.string()), LATENCY: pa.array([], pa.float64())}))
    v1, v2 = acc.versions["v1"], acc.versions["v2"]
    assert (v1.records, v1.status_n, v1.successes) == (3, 3, 2)
    assert (v2.records, v2.status_n, v2.successes) == (3, 1, 1)  # a part of nulls adds no success
    assert sorted(_array(v1.latency)) == [10.0, 12.0] and sorted(_array(v2.latency)) == [20.0, 22.0]
    assert len(_array(v1.confidence)) == 0 and len(_array(v2.confidence)) == 0
    assert v1.classes.exact == {"a": 2} and v2.classes.exact == {"b": 2}
    assert v1.categorical["region"].exact == {"eu": 2, "us": 1}
    assert "region" not in v2.categorical  # only nulls: nothing counted, nothing held
    assert sorted(_array(v1.numeric["size"])) == [1.0, 3.0] and list(_array(v2.numeric["size"])) == [2.0]
    assert list(_array(v2.numeric["age"])) == [33.0] and "age" not in v1.numeric
    assert set(v1.numeric) == {"size"} and set(v2.numeric) == {"age", "size"}


def test_a_one_row_part_is_counted_and_too_many_versions_are_refused() -> None:
    from mlmon.errors import OptionError
    from mlmon.read.records import GROUP, SUCCESS
    from mlmon.stats.compare import CompareAccumulator

    acc = CompareAccumulator(max_groups=3)
    acc.update(pa.table({GROUP: ["v1"], SUCCESS: [False]}))
    v1 = acc.versions["v1"]
    assert (v1.records, v1.status_n, v1.successes) == (1, 1, 0)
    with pytest.raises(OptionError) as err:
        acc.update(pa.table({GROUP: [f"r{i}" for i in range(5)], SUCCESS: [True] * 5}))
    assert str(err.value).endswith("; compare model versions, not request ids")
    assert CompareAccumulator().max_groups == CompareOptions().max_groups == 100


def test_versions_merge_with_their_features_and_come_out_in_order() -> None:
    from mlmon.errors import OptionError
    from mlmon.read.records import FEATURE_PREFIX, GROUP, SUCCESS
    from mlmon.stats.compare import CompareAccumulator

    def part(groups: list[str | None], age: list[float], region: list[str]) -> pa.Table:
        return pa.table({GROUP: pa.array(groups, pa.string()), SUCCESS: [True] * len(groups),
                         FEATURE_PREFIX + "age": age, FEATURE_PREFIX + "region": region})

    a = CompareAccumulator(_baseline())  # type: ignore[arg-type]
    b = CompareAccumulator(_baseline())  # type: ignore[arg-type]
    a.update(part(["v2", "v1"], [1.0, 2.0], ["x", "y"]))
    b.update(part(["v2", "v3", None], [4.0, 5.0, 6.0], ["x", "z", "z"]))
    a.merge(b)
    assert a.versions["v3"] is b.versions["v3"] and a.versions[None] is b.versions[None]
    v2 = a.versions["v2"]
    assert sorted(_array(v2.numeric["age"])) == [1.0, 4.0] and v2.categorical["region"].exact == {"x": 2}
    assert (v2.records, v2.status_n, v2.successes) == (2, 2, 2)
    got = a.result("v1", CompareOptions(min_records=1))
    assert [v.version for v in got] == ["v2", "v3", None]
    assert {v.control for v in got} == {"v1"}
    assert [v.records for v in got] == [2, 1, 1] and {v.control_records for v in got} == {1}
    with pytest.raises(OptionError) as err:
        a.result("v9")
    assert str(err.value) == "--control 'v9' has no records (versions seen: v1, v2, v3, (none))"
    many = CompareAccumulator()
    many.update(pa.table({GROUP: [f"v{i:02d}" for i in range(12, 0, -1)], SUCCESS: [True] * 12}))
    with pytest.raises(OptionError) as err:
        many.result("w")
    assert str(err.value).endswith("(versions seen: " + ", ".join(f"v{i:02d}" for i in range(1, 11)) + ")")
    with pytest.raises(OptionError) as err:
        CompareAccumulator().result("v1")
    assert str(err.value) == "--control 'v1' has no records (versions seen: none)"


def test_version_merge_adds_features_it_lacks_and_merges_those_it_has() -> None:
    a = _Version(records=2)
    a.numeric["age"] = _vals(np.array([1.0]))
    a.categorical["region"] = _counter({"x": 1})
    b = _Version(records=3)
    b.numeric["age"] = _vals(np.array([2.0, 3.0]))
    b.numeric["size"] = _vals(np.array([9.0]))
    b.categorical["region"] = _counter({"x": 2, "y": 1})
    b.categorical["os"] = _counter({"linux": 4})
    a.merge(b)
    assert a.records == 5
    assert sorted(_array(a.numeric["age"])) == [1.0, 2.0, 3.0] and list(_array(a.numeric["size"])) == [9.0]
    assert type(a.numeric["size"]) is Values
    assert a.categorical["region"].exact == {"x": 3, "y": 1} and a.categorical["os"].exact == {"linux": 4}
    assert list(_array(b.numeric["size"])) == [9.0] and b.categorical["os"].exact == {"linux": 4}


# ---- latency: scipy's method at the edges, every row kept ------------------------------------


def test_mann_whitney_method_at_nine_values_and_every_percentile_row_kept(rng: np.random.Generator) -> None:
    from mlmon.stats.compare import _latency

    o = CompareOptions(min_records=5)
    for c, t in ((np.arange(5.0) + 0.5, np.arange(9.0)), (np.arange(8.0) + 0.25, np.arange(40.0))):
        (mw, *_) = _latency(c, t, o)
        ref = stats.mannwhitneyu(t, c, alternative="two-sided", method="asymptotic")
        assert mw.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    # 20 values a side: exactly ten in the median's half, so the p50 is tested
    rows = _latency(rng.normal(50, 5, 20), rng.normal(50, 5, 20), CompareOptions(min_records=20))
    assert [r.metric for r in rows] == ["latency_ms", "latency_ms.p50", "latency_ms.p95", "latency_ms.p99"]
    assert rows[1].p_value is not None and rows[2].p_value is None and rows[3].p_value is None
    assert rows[3].test == "order_statistics" and rows[3].n_control == 20


def test_exact_samples_use_scipys_small_sample_ks(rng: np.random.Generator) -> None:
    c = _Version(records=60, confidence=_vals(rng.beta(5, 2, 60)))
    t = _Version(records=50, confidence=_vals(rng.beta(3, 2, 50)))
    v = compare_version("v2", t, "v1", c, (), CompareOptions())
    conf = {m.metric: m for m in v.metrics}["confidence"]
    ref = stats.ks_2samp(_array(t.confidence), _array(c.confidence))
    assert conf.p_value == pytest.approx(ref.pvalue, rel=1e-12) and conf.p_value_adjusted == conf.p_value


# ---- classes past the exact cap ------------------------------------------------------------


def test_compared_counts_exact_when_both_are_even_with_many_classes() -> None:
    from mlmon.stats.compare import SKETCH_COLUMNS, compared_counts

    k = SKETCH_COLUMNS + 500
    a = _counter({f"c{i}": 1 + i % 3 for i in range(k)})
    b = _counter({f"c{i}": 2 for i in range(k)})
    got = compared_counts(a, b)
    assert got == (dict(a.exact or {}), dict(b.exact or {}))


def test_a_side_past_the_cap_is_compared_on_its_heavy_classes_and_a_rest_column() -> None:
    from mlmon.stats.classes import EXACT_CLASSES
    from mlmon.stats.compare import compared_counts

    heavy = {"(rest)": 30_000, "(rest)'": 20_000, "a": 10_000}
    big = _counter({**heavy, **{f"r{i}": 1 for i in range(EXACT_CLASSES + 2000)}})
    small = _counter({"(rest)": 500, "a": 300, "b": 7})
    assert big.exact is None and small.exact is not None
    for x, y in ((small, big), (big, small)):
        got_x, got_y = compared_counts(x, y)
        got_big, got_small = (got_y, got_x) if x is small else (got_x, got_y)
        assert sum(got_big.values()) == big.total and sum(got_small.values()) == small.total
        for name, count in heavy.items():
            assert got_big[name] == big.lower_bound(name) and count - 100 < got_big[name] <= count
        # the rest column takes the first name no class has: (rest) and (rest)' are classes
        assert got_big["(rest)''"] >= EXACT_CLASSES and "(rest)'''" not in got_big
        assert got_small["(rest)"] == 500 and got_small["a"] == 300
        assert got_small.get("(rest)''", 0) == 7 - got_small.get("b", 0)


def test_quantile_difference_p_at_its_ends() -> None:
    from mlmon.stats.compare import P_FLOOR, quantile_difference_p

    c = np.arange(1000.0)
    assert quantile_difference_p(c, c.copy(), 0.5) == 1.0
    ties = np.ones(100)  # equal order statistics do not exclude 0
    assert quantile_difference_p(ties, ties.copy(), 0.5) == 1.0
    assert quantile_difference_p(c, c + 1e6, 0.5) == P_FLOOR
    assert quantile_difference_p(c + 1e6, c, 0.95) == P_FLOOR


def test_traffic_rows_do_not_decide_the_versions_verdict(rng: np.random.Generator) -> None:
    def version(age: float, ok: int | None) -> _Version:
        v = _Version(records=400, status_n=400 if ok is not None else 0, successes=ok or 0)
        v.numeric["age"] = _vals(rng.normal(age, 1, 400))
        return v

    features = (("age", Kind.NUMERIC),)
    # fed different traffic, nothing of the model's own measured: not enough data
    v = compare_version("v2", version(60, None), "v1", version(20, None), features, CompareOptions())
    assert [m.verdict for m in v.traffic] == ["different"] and v.verdict == "not_enough_data"
    assert {m.verdict for m in v.metrics} == {"not_enough_data"}
    # and with a success rate that holds: pass, the traffic row still different
    v = compare_version("v2", version(60, 396), "v1", version(20, 396), features, CompareOptions())
    assert [m.verdict for m in v.traffic] == ["different"] and v.verdict == "pass"


def test_quantile_interval_ranks_are_clamped_to_the_sample() -> None:
    from mlmon.stats.compare import quantile_interval

    x = np.arange(20.0, 0.0, -1.0)  # 20 .. 1, unsorted
    lo_rank = int(stats.binom.ppf(0.0125, 20, 0.95))
    assert int(stats.binom.ppf(0.9875, 20, 0.95)) + 1 > 20  # the upper rank is past the sample
    assert quantile_interval(x, 0.95, 0.975) == (float(max(lo_rank, 1)), 20.0)
    hi_rank = int(stats.binom.ppf(0.9875, 20, 0.05)) + 1
    assert int(stats.binom.ppf(0.0125, 20, 0.05)) < 1  # the lower rank is below the sample
    assert quantile_interval(x, 0.05, 0.975) == (1.0, float(min(hi_rank, 20)))
