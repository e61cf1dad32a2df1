"""Missing values per feature: the test, its interval, the counting, and the BH family they join."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from mlmon.read.records import FEATURE_PREFIX
from mlmon.stats.baseline import build
from mlmon.stats.drift import DriftAccumulator, DriftOptions
from mlmon.stats.quality import fisher_greater, missing_level, missing_test, newcombe, range_test, wilson


@pytest.mark.parametrize(("x", "n"), [(0, 10), (3, 10), (81, 263), (1000, 1000), (7, 100000)])
def test_wilson_is_scipys(x: int, n: int) -> None:
    ci = stats.binomtest(x, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson(x, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_newcombe_matches_the_papers_worked_examples() -> None:
    # Newcombe (1998), Stat Med 17:873, table II, method 10: 56/70 - 48/80 and 9/10 - 3/10
    assert newcombe(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    assert newcombe(9, 10, 3, 10) == pytest.approx((0.1705, 0.8090), abs=5e-5)


@pytest.mark.parametrize(("x1", "n1", "x0", "n0"),
                         [(10, 1000, 50, 1000), (100, 1000, 50, 1000), (1, 30, 0, 5000), (5, 40, 2, 60)])
def test_fisher_is_scipys(x1: int, n1: int, x0: int, n0: int) -> None:
    ref = stats.fisher_exact([[x1, n1 - x1], [x0, n0 - x0]], alternative="greater").pvalue
    assert fisher_greater(x1, n1, x0, n0) == pytest.approx(ref, rel=1e-9, abs=1e-300)


def test_no_missing_value_is_not_tested_and_too_few_records_neither() -> None:
    t = missing_test(0, 1000, 50, 950, min_records=30)
    assert t.share == 0 and t.baseline_share == 0.05 and t.p_value is None
    assert missing_test(5, 10, 0, 100, min_records=30).p_value is None
    assert missing_test(5, 40, 0, 100, min_records=30).p_value is not None


def test_verdict_uses_the_bounds_of_the_rise() -> None:
    kw = {"p_threshold": 0.05, "warning": 0.01, "critical": 0.1}
    assert missing_level(0.01, 0.05, 0.09, **kw) == "warning"
    assert missing_level(0.01, 0.12, 0.2, **kw) == "critical"
    assert missing_level(0.2, 0.12, 0.2, **kw) is None  # not significant
    assert missing_level(0.01, 0.001, 0.008, **kw) is None  # shown to be under a point
    assert missing_level(0.01, 0.12, 0.2, p_threshold=0.05, warning=None, critical=None) is None


def _stationary_and_shifted(n: int, base_share: float, log_share: float, runs: int,
                            rng: np.random.Generator) -> float:
    hits = 0
    for _ in range(runs):
        base_missing = int(rng.binomial(20_000, base_share))
        t = missing_test(int(rng.binomial(n, log_share)), n, base_missing, 20_000 - base_missing,
                         min_records=30)
        hits += missing_level(t.p_value, t.low, t.high, p_threshold=0.05, warning=0.01,
                              critical=0.1) is not None
    return hits / runs


def test_calibration_and_power_of_the_single_test(rng: np.random.Generator) -> None:
    # the benchmark measures it with the whole run (benchmarks/drift_verdicts.py); here the test alone
    assert _stationary_and_shifted(1000, 0.05, 0.05, 400, rng) <= 0.06
    assert _stationary_and_shifted(1000, 0.0, 0.10, 200, rng) == 1.0
    assert _stationary_and_shifted(1000, 0.05, 0.15, 200, rng) >= 0.95


def _baseline(rng: np.random.Generator, n: int = 4000) -> object:
    income = rng.normal(50, 10, n)
    income[rng.random(n) < 0.05] = np.nan
    city = pa.array([None if rng.random() < 0.02 else str(c) for c in rng.choice(["a", "b"], n)])
    return build(pa.table({"age": rng.normal(40, 5, n), "income": income, "city": city}), source="t")


def _log(rng: np.random.Generator, n: int, null_share: dict[str, float]) -> pa.Table:
    cols: dict[str, pa.Array] = {}
    for name, values in (("age", rng.normal(40, 5, n)), ("income", rng.normal(50, 10, n))):
        mask = rng.random(n) < null_share.get(name, 0.0)
        cols[FEATURE_PREFIX + name] = pa.array(values, pa.float64(), mask=mask)
    mask = rng.random(n) < null_share.get("city", 0.0)
    cols[FEATURE_PREFIX + "city"] = pa.array(rng.choice(["a", "b"], n), pa.string(), mask=mask)
    return pa.table(cols)


def test_accumulator_counts_nulls_merges_and_joins_bh(rng: np.random.Generator) -> None:
    base = _baseline(rng)
    a, b = DriftAccumulator(base), DriftAccumulator(base)  # type: ignore[arg-type]
    t1 = _log(rng, 600, {"age": 0.1, "income": 0.05})
    t2 = _log(rng, 500, {"age": 0.1, "city": 0.3})
    a.update(t1)
    b.update(t2)
    a.merge(b)
    rows = {f.name: f for f in a.result(DriftOptions())}
    for name in ("age", "income", "city"):
        col = FEATURE_PREFIX + name
        expected = t1.column(col).null_count + t2.column(col).null_count
        assert rows[name].missing == expected and rows[name].records == 1100
        assert rows[name].missing_share == expected / 1100
    assert rows["income"].baseline_missing_share == pytest.approx(
        base.features[1].numeric.dropped / 4000)  # type: ignore[attr-defined]
    assert rows["age"].missing_increased == "warning" and rows["city"].missing_increased == "critical"
    # one BH family: drift, mean and missing p-values together, as scipy adjusts them
    family = [(f.name, k) for f in rows.values() for k in ("p_value", "mean_p_value", "missing_p_value")
              if getattr(f, k) is not None]
    ps = np.array([getattr(rows[n], k) for n, k in family])
    adj = stats.false_discovery_control(ps, method="bh")
    for (n, k), want in zip(family, adj, strict=True):
        assert getattr(rows[n], k + "_adjusted") == pytest.approx(min(1.0, want), rel=1e-12)
    assert any(k == "missing_p_value" for _, k in family)


def test_entirely_absent_feature_stays_missing_not_missing_share(rng: np.random.Generator) -> None:
    base = _baseline(rng)
    acc = DriftAccumulator(base)  # type: ignore[arg-type]
    acc.update(_log(rng, 300, {"age": 1.0}))
    age = next(f for f in acc.result() if f.name == "age")
    assert age.status == "missing" and age.missing_share == 1.0
    assert age.missing_p_value is None and age.missing_increased is None


def test_outside_count_follows_the_beta_binomial_law(rng: np.random.Generator) -> None:
    """The count of n new values outside the range of N training values (continuous, same law) is
    beta-binomial(n, 2, N - 1): checked on 4,000 simulated pairs against scipy's pmf."""
    big_n, n, sims = 40, 60, 4000
    counts = np.array([np.count_nonzero((x < t.min()) | (x > t.max()))
                       for t, x in ((rng.normal(size=big_n), rng.normal(size=n)) for _ in range(sims))])
    observed = np.bincount(counts, minlength=n + 1)[:8].astype(float)
    expected = stats.betabinom.pmf(np.arange(8), n, 2, big_n - 1) * sims
    assert stats.chisquare(observed[:8], expected * observed.sum() / expected.sum()).pvalue > 0.001
    t = range_test(7, n, big_n, min_samples=30)
    assert t.p_value == pytest.approx(stats.betabinom.sf(6, n, 2, big_n - 1), rel=1e-12)
    assert t.expected == 2 / 41 and (t.low, t.high) == wilson(7, n)
    assert range_test(0, n, big_n, min_samples=30).p_value is None


def test_out_of_range_is_counted_at_the_baselines_min_and_max(rng: np.random.Generator) -> None:
    base = _baseline(rng)
    prof = base.features[0].numeric  # type: ignore[attr-defined]
    n = 500
    age = rng.normal(40, 5, n)
    age[:40] = prof.max + 1.0  # 8% above training's max, exactly at the max counts as inside
    age[40:45] = prof.min
    tbl = _log(rng, n, {}).set_column(0, FEATURE_PREFIX + "age", pa.array(age))
    acc = DriftAccumulator(base)  # type: ignore[arg-type]
    acc.update(tbl)
    row = next(f for f in acc.result() if f.name == "age")
    want = int(np.count_nonzero((age < prof.min) | (age > prof.max)))
    assert row.out_of_range == want and row.out_of_range_share == want / n
    assert row.out_of_range_breached == "warning" and row.out_of_range_p_value_adjusted is not None


def test_constant_feature_is_named(rng: np.random.Generator) -> None:
    base = _baseline(rng)
    tbl = _log(rng, 300, {})
    tbl = tbl.set_column(0, FEATURE_PREFIX + "age", pa.array(np.full(300, 41.0)))
    tbl = tbl.set_column(2, FEATURE_PREFIX + "city", pa.array(["a"] * 300))
    acc = DriftAccumulator(base)  # type: ignore[arg-type]
    acc.update(tbl)
    rows = {f.name: f for f in acc.result()}
    assert rows["age"].constant and rows["city"].constant and not rows["income"].constant
    from mlmon.rules.alerts import drift_alerts

    metrics = {a.metric for a in drift_alerts(tuple(rows.values()), DriftOptions())}
    assert {"constant.age", "constant.city"} <= metrics


def test_batched_p_values_are_the_single_ones(rng: np.random.Generator) -> None:
    from mlmon.stats.quality import fisher_greater_many, range_p_values

    x1, n1 = rng.integers(1, 50, 20), rng.integers(60, 2000, 20)
    x0, n0 = rng.integers(0, 50, 20), rng.integers(60, 5000, 20)
    got = fisher_greater_many(x1, n1, x0, n0)
    want = [stats.fisher_exact([[a, b - a], [c, d - c]], alternative="greater").pvalue
            for a, b, c, d in zip(x1, n1, x0, n0, strict=True)]
    assert got == pytest.approx(want, rel=1e-9, abs=1e-300)
    got = range_p_values(x1, n1, n0)
    assert got == pytest.approx([range_test(int(a), int(b), int(c), min_samples=1).p_value
                                 for a, b, c in zip(x1, n1, n0, strict=True)], rel=1e-12)


def test_a_rare_flag_all_zero_by_chance_is_not_constant(rng: np.random.Generator) -> None:
    """A 5% flag with no 1 in 50 values happens 0.95^50 = 7.7% of the time (scipy's binomial):
    not a constant feature; in 300 values it is (0.95^300 is 2e-7)."""
    train = (rng.random(2000) < 0.05).astype(float)
    b = build(pa.table({"flag": pa.array(train), "x": pa.array(rng.normal(size=2000))}), source="t",
              max_edges=None)
    for n, constant in ((50, False), (300, True)):
        acc = DriftAccumulator(b)
        acc.update(pa.table({FEATURE_PREFIX + "flag": pa.array(np.zeros(n)),
                             FEATURE_PREFIX + "x": pa.array(rng.normal(size=n))}))
        row = {f.name: f for f in acc.result()}["flag"]
        chance = stats.binom.pmf(0, n, np.mean(train)) + stats.binom.pmf(n, n, np.mean(train))
        assert bool(chance < 0.05 / 2) is constant
        assert row.constant is constant


def test_wilson_of_no_records_is_the_whole_range_and_one_record_is_scipys() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    for x in (0, 1):
        ci = stats.binomtest(x, 1).proportion_ci(confidence_level=0.95, method="wilson")
        assert wilson(x, 1) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_wilson_bounds_never_leave_zero_to_one() -> None:
    """At 0 of n and n of n the formula's bound is 0 or 1 up to rounding, which can step past
    it (0 of 21, 16 of 16): the interval is held inside [0, 1]."""
    for n in range(1, 400):
        low, high = wilson(0, n)
        assert 0.0 <= low and high <= 1.0, n
        low, high = wilson(n, n)
        assert 0.0 <= low and high <= 1.0, n
    assert wilson(0, 21)[0] == 0.0 and wilson(16, 16)[1] == 1.0


def test_missing_level_at_the_p_threshold_is_not_significant() -> None:
    kw = {"warning": 0.01, "critical": 0.1}
    assert missing_level(0.05, 0.05, 0.09, p_threshold=0.05, **kw) is None
    assert missing_level(0.0499, 0.05, 0.09, p_threshold=0.05, **kw) == "warning"
    assert missing_level(None, 0.05, 0.09, p_threshold=0.05, **kw) is None


def test_untested_missing_counts_keep_what_was_counted() -> None:
    t = missing_test(0, 0, 5, 95, min_records=30)  # no record read
    assert (t.missing, t.records, t.share, t.baseline_share, t.p_value) == (0, 0, None, 0.05, None)
    t = missing_test(5, 100, 0, 0, min_records=30)  # training had no record of the feature
    assert (t.missing, t.records, t.share, t.baseline_share) == (5, 100, 0.05, None)
    assert (t.p_value, t.low, t.high) == (None, None, None)
    t = missing_test(5, 29, 0, 100, min_records=30)  # one record short
    assert (t.missing, t.records, t.share, t.p_value) == (5, 29, 5 / 29, None)


def test_missing_test_at_exactly_min_records_is_tested() -> None:
    t = missing_test(5, 30, 1, 99, min_records=30)
    ref = stats.fisher_exact([[5, 25], [1, 99]], alternative="greater").pvalue
    assert t.p_value == pytest.approx(ref, rel=1e-9)
    assert (t.low, t.high) == newcombe(5, 30, 1, 100)


def test_a_deferred_missing_test_leaves_the_p_value_for_the_batch() -> None:
    import math

    t = missing_test(5, 100, 1, 99, min_records=30, defer=True)
    assert t.p_value is not None and math.isnan(t.p_value)
    assert (t.low, t.high) == newcombe(5, 100, 1, 100)


def test_range_test_needs_two_training_values_for_a_chance_and_tests_at_min_samples() -> None:
    import math

    # one training value: no range to be outside of by chance, nothing tested
    t = range_test(3, 100, 1, min_samples=30)
    assert (t.outside, t.share, t.expected, t.p_value, t.low) == (3, 0.03, None, None, None)
    assert range_test(3, 100, 0, min_samples=30).expected is None
    # two: the chance is 2 / 3
    t = range_test(3, 100, 2, min_samples=30)
    assert t.expected == 2 / 3 and t.p_value == pytest.approx(stats.betabinom.sf(2, 100, 2, 1), rel=1e-12)
    # exactly min_samples values: tested; one fewer: not
    t = range_test(3, 30, 100, min_samples=30)
    assert t.p_value == pytest.approx(stats.betabinom.sf(2, 30, 2, 99), rel=1e-12)
    t = range_test(3, 29, 100, min_samples=30)
    assert (t.outside, t.share, t.expected, t.p_value) == (3, 3 / 29, 2 / 101, None)
    t = range_test(0, 500, 100, min_samples=30)
    assert (t.outside, t.share, t.expected, t.p_value) == (0, 0.0, 2 / 101, None)
    t = range_test(3, 100, 100, min_samples=30, defer=True)
    assert t.p_value is not None and math.isnan(t.p_value) and (t.low, t.high) == wilson(3, 100)
