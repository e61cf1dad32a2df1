"""compare --approx: values rounded to within 1%, tests on distinct values with counts, cross-checked
against scipy and numpy run on the rounded values themselves."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from test_compare import _data

from mlmon.read.records import CONFIDENCE, GROUP, LATENCY
from mlmon.stats.compare import APPROX_FOLD, CompareAccumulator, CompareOptions, quantile_interval
from mlmon.stats.sketch import RELATIVE_ACCURACY, round_relative
from mlmon.stats.summary import Values
from mlmon.stats.weighted import Weighted, ks, mann_whitney


def _weighted(x: np.ndarray) -> Weighted:
    v = Values()
    v.extend(x)
    return Weighted.of(v)


def test_round_relative_stays_within_one_percent_and_keeps_sign(rng: np.random.Generator) -> None:
    x = np.concatenate((rng.lognormal(2, 3, 10_000), -rng.lognormal(0, 1, 100), [0.0, np.inf]))
    r = round_relative(x)
    finite = np.isfinite(x) & (x != 0)
    assert np.all(np.abs(r[finite] - x[finite]) <= RELATIVE_ACCURACY * np.abs(x[finite]))
    assert np.all(np.sign(r) == np.sign(x)) and r[-1] == np.inf
    assert len(np.unique(r)) < 3000


def test_weighted_percentiles_and_order_statistics_equal_numpys(rng: np.random.Generator) -> None:
    x = np.round(rng.gamma(2, 10, 3001), 1)
    w = _weighted(x)
    assert len(w) == len(x)
    s = np.sort(x)
    for q in (0.0, 0.37, 0.5, 0.95, 0.99, 1.0):
        assert w.percentile(q) == pytest.approx(float(np.percentile(x, q * 100)), rel=1e-12)
    for k in (1, 17, 1500, 3001):
        assert w.order(k) == s[k - 1]
    assert quantile_interval(w, 0.95, 0.975) == quantile_interval(x, 0.95, 0.975)
    assert w.mean() == pytest.approx(x.mean())


def test_weighted_mann_whitney_and_ks_equal_scipy_asymptotic(rng: np.random.Generator) -> None:
    c = round_relative(rng.lognormal(3, 0.5, 2000))
    t = round_relative(rng.lognormal(3.05, 0.5, 1500))  # rounding makes ties: the tie correction counts
    u, p = mann_whitney(_weighted(t), _weighted(c))
    ref = stats.mannwhitneyu(t, c, alternative="two-sided", method="asymptotic")
    assert u == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)
    d, p = ks(_weighted(t), _weighted(c))
    ref = stats.ks_2samp(t, c, method="asymp")
    assert d == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)


def test_approx_compare_agrees_with_exact_and_holds_few_values(rng: np.random.Generator) -> None:
    t = _data(rng, 200_000, shift=1.3, err=0.05)
    exact, approx = CompareAccumulator(), CompareAccumulator(approx=True)
    for a in range(0, t.num_rows, 50_000):
        exact.update(t.slice(a, 50_000))
        approx.update(t.slice(a, 50_000))
    for v in approx.versions.values():
        for store in (v.latency, v.confidence):
            assert store.in_pages() < APPROX_FOLD
            assert store.distinct is not None and len(store.distinct) < 3000
    (e,) = exact.result("v1")
    (a,) = approx.result("v1")
    em, am = {m.metric: m for m in e.metrics}, {m.metric: m for m in a.metrics}
    assert {k: m.verdict for k, m in em.items()} == {k: m.verdict for k, m in am.items()}
    lat = np.array(t.column(LATENCY).to_pylist())
    g = np.array(t.column(GROUP).to_pylist())
    for name, q in (("p50", 50), ("p95", 95), ("p99", 99)):
        m = am[f"latency_ms.{name}"]
        for side, value in (("v1", m.control), ("v2", m.treatment)):
            lo = np.percentile(lat[g == side], q, method="lower")
            hi = np.percentile(lat[g == side], q, method="higher")
            assert lo * (1 - RELATIVE_ACCURACY) <= value <= hi * (1 + RELATIVE_ACCURACY)
    # the tests ran on the rounded values: scipy on them gives the same statistics
    rl = round_relative(lat)
    ref = stats.mannwhitneyu(rl[g == "v2"], rl[g == "v1"], alternative="two-sided", method="asymptotic")
    assert am["latency_ms"].statistic == pytest.approx(ref.statistic)
    conf = round_relative(np.array(t.column(CONFIDENCE).to_pylist()))
    ref = stats.ks_2samp(conf[g == "v2"], conf[g == "v1"], method="asymp")
    assert am["confidence"].statistic == pytest.approx(ref.statistic)
    assert am["success_rate"] == em["success_rate"]  # counts are exact either way
    assert am["confidence"].control == pytest.approx(em["confidence"].control, rel=1e-12)  # exact mean
    assert CompareOptions(approx=True).approx and a.verdict == e.verdict == "worse"


def test_approx_halves_merged_equal_the_whole(rng: np.random.Generator) -> None:
    t = _data(rng, 6000, err=0.05)
    whole = CompareAccumulator(approx=True)
    whole.update(t)
    a, b = CompareAccumulator(approx=True), CompareAccumulator(approx=True)
    a.update(t.slice(0, 2500))
    b.update(t.slice(2500))
    a.merge(b)
    for m, w in zip(a.result("v1")[0].metrics, whole.result("v1")[0].metrics, strict=True):
        assert m.metric == w.metric and m.verdict == w.verdict and m.statistic == pytest.approx(w.statistic)
        assert m.control == pytest.approx(w.control) and m.treatment == pytest.approx(w.treatment)


def test_weighted_percentiles_interpolate_between_distinct_values(rng: np.random.Generator) -> None:
    """All values distinct, so every percentile lies between two different order statistics:
    numpy's linear interpolation, to the last digits."""
    x = rng.normal(50, 10, 257)
    w = _weighted(x)
    for q in (0.0, 0.013, 0.25, 0.5, 0.61, 0.95, 0.999, 1.0):
        assert w.percentile(q) == pytest.approx(float(np.percentile(x, q * 100)), rel=1e-13, abs=0)


@pytest.mark.parametrize("swap", [False, True])
def test_weighted_mann_whitney_with_heavy_ties_both_ways(rng: np.random.Generator, swap: bool) -> None:
    """Five distinct values only (the tie correction is large), either sample the larger:
    scipy's asymptotic test on the values themselves, to 1e-12."""
    c = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0], 300, p=[0.1, 0.2, 0.4, 0.2, 0.1])
    t = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0], 200, p=[0.05, 0.15, 0.4, 0.25, 0.15])
    if swap:
        t, c = c, t
    u, p = mann_whitney(_weighted(t), _weighted(c))
    ref = stats.mannwhitneyu(t, c, alternative="two-sided", method="asymptotic")
    assert u == pytest.approx(ref.statistic, rel=1e-12)
    assert p == pytest.approx(ref.pvalue, rel=1e-12)
    assert p < 0.05


def test_weighted_mann_whitney_of_balanced_or_identical_samples_is_one() -> None:
    # U exactly n1 n2 / 2: the continuity correction would put 2 P(Z > z) above 1
    same = _weighted(np.array([1.0, 2.0, 3.0]))
    u, p = mann_whitney(same, same)
    assert (u, p) == (4.5, 1.0)
    # every value equal on both sides: no spread to test, no evidence
    flat = _weighted(np.array([7.0, 7.0, 7.0]))
    u, p = mann_whitney(flat, _weighted(np.array([7.0, 7.0])))
    assert (u, p) == (3.0, 1.0)


def test_an_empty_sample_is_an_empty_weighted_one() -> None:
    from mlmon.stats.weighted import Rounded

    w = Weighted.of(Values())
    assert len(w) == 0 and w.values.shape == (0,) and w.counts.shape == (0,) and w.total is None
    r = Weighted.of(Rounded())
    assert len(r) == 0 and r.values.shape == (0,) and r.counts.shape == (0,) and r.total == 0.0


def test_rounded_values_fold_at_the_threshold_and_keep_the_sum_of_what_is_merged() -> None:
    from mlmon.stats.weighted import Rounded

    r = Rounded(fold_at=4)
    r.extend(np.array([1.0, 2.0, 2.0]))
    assert r.in_pages() == 3 and r.distinct is None
    r.extend(np.array([3.0]))  # the fourth value: folded
    assert r.in_pages() == 0 and r.distinct is not None and list(r.counts) == [1, 2, 1]
    plain = Values()
    plain.extend(np.array([10.5, 20.25]))
    r.merge(plain)
    assert r.total == 1.0 + 2.0 + 2.0 + 3.0 + 10.5 + 20.25
    other = Rounded()
    other.extend(np.array([0.125]))
    r.merge(other)
    assert r.total == 38.875
    assert Weighted.of(r).mean() == 38.875 / 7
