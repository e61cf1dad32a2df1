"""Approximate latency percentiles (--approx): LatencySketch against a DDSketch fed value by value,
against numpy's order statistics within 1%, and the bounds, counts, mean and max it reports."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ddsketch import DDSketch
from scipy.stats import binom

from mlmon.stats.sketch import RELATIVE_ACCURACY, LatencySketch, round_relative


def _one_by_one(values: np.ndarray) -> DDSketch:
    """The library's own sketch, each value added on its own (the definition of the buckets)."""
    ref = DDSketch(RELATIVE_ACCURACY)
    for v in values.tolist():
        ref.add(v)
    return ref


def _sketch(*chunks: np.ndarray) -> LatencySketch:
    s = LatencySketch()
    for c in chunks:
        s.extend(np.asarray(c, dtype=np.float64))
    return s


def test_percentiles_are_the_librarys_and_within_one_percent_of_numpys(rng: np.random.Generator) -> None:
    lat = np.round(rng.lognormal(3.0, 1.0, 3000), 2)
    lat[:40] = 0.0  # zeros go to the sketch's zero count
    s = _sketch(lat[:1000], lat[1000:], np.empty(0))
    got = s.stats()
    ref = _one_by_one(lat)
    top = float(lat.max())
    srt = np.sort(lat)
    for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        want = min(float(ref.get_quantile_value(q)), top)
        assert getattr(got, name) == want, name
        exact = srt[math.floor(q * (len(lat) - 1))]  # the record at that rank
        assert abs(getattr(got, name) - exact) <= RELATIVE_ACCURACY * exact, name
    assert (got.n, got.max, got.method) == (3000, top, "ddsketch")
    assert got.mean == pytest.approx(lat.mean(), rel=1e-12)
    assert got.insufficient == ()  # 3000 * 0.01 = 30 values above p99
    assert s.sketch.count == 3000 and s.sketch._zero_count == 40


def test_every_value_lands_in_the_librarys_bucket(rng: np.random.Generator) -> None:
    """Each value, one at a time: the sketch's only quantile is the library's value for it."""
    from ddsketch.mapping import LogarithmicMapping

    smallest = LogarithmicMapping(RELATIVE_ACCURACY).min_possible  # and below: the zero bucket
    for v in [*np.round(rng.lognormal(2, 2, 200), 3).tolist(), 1e-9, 0.011, 1.0, 99_999.5, smallest,
              np.nextafter(smallest, 1.0), 0.0]:
        s = _sketch(np.array([v]))
        ref = _one_by_one(np.array([v]))
        assert s._quantile(0.5) == min(float(ref.get_quantile_value(0.5)), v)
        assert s.sketch._store.count + s.sketch._zero_count == 1


def test_a_quantile_never_exceeds_the_exact_max() -> None:
    """A bucket's value can be up to 1% above its values; the reported one stays at the max."""
    v = 100.0
    ref = _one_by_one(np.array([v]))
    assert ref.get_quantile_value(0.99) > v  # the library's bucket value is above it
    got = _sketch(np.array([v, v, v])).stats()
    assert got.p50 == got.p95 == got.p99 == got.max == v


def test_bounds_are_the_order_statistics_at_scipys_binomial_ranks(rng: np.random.Generator) -> None:
    lat = np.round(rng.gamma(2.0, 40.0, 500), 1) + 1.0
    s = _sketch(lat)
    got = s.stats()
    n, alpha = len(lat), 0.05
    srt = np.sort(lat)
    ref = _one_by_one(lat)
    for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        f = binom.cdf(np.arange(n + 1), n, q)
        j = int(np.flatnonzero(f[:n] <= alpha)[-1])
        lower = j + (alpha - f[j]) / (f[j + 1] - f[j])
        k = int(np.flatnonzero(f[:n] >= 1 - alpha)[0]) if (f[:n] >= 1 - alpha).any() else None
        for side, rank in (("lower", lower), ("upper", None if k is None else
                                              k - (f[k] - (1 - alpha)) / (f[k] - f[k - 1]))):
            bound = getattr(got, f"{name}_{side}")
            if rank is None:
                assert bound is None, (name, side)
                continue
            want = min(float(ref.get_quantile_value(rank / (n - 1))), float(lat.max()))
            assert bound == want, (name, side)
            exact = srt[math.floor(rank + 1e-9)]
            assert abs(bound - exact) <= RELATIVE_ACCURACY * exact + 1e-12, (name, side)
    assert got.p95_lower is not None and got.p95_lower <= got.p95 <= got.p95_upper  # type: ignore[operator]


@pytest.mark.parametrize("n", [1, 19, 20, 199, 200, 999, 1000])
def test_counts_at_the_tail_limit(n: int) -> None:
    """Fewer than 10 values above a percentile marks it rough (n (1 - q) < 10, exactly)."""
    got = _sketch(np.arange(1.0, n + 1.0)).stats()
    want = tuple(name for name, p in (("p50", 50), ("p95", 95), ("p99", 99)) if n * (100 - p) < 1000)
    assert got.insufficient == want
    assert got.n == n and got.max == float(n)
    assert got.mean == pytest.approx((n + 1) / 2)


def test_one_value_has_bounds_at_rank_zero() -> None:
    got = _sketch(np.array([250.0])).stats()
    assert (got.n, got.mean, got.p50, got.p99, got.max) == (1, 250.0, 250.0, 250.0, 250.0)
    # one value lies below the true p99 with probability 0.99 >= 0.95: it bounds it from below
    assert got.p99_lower == 250.0 and got.p99_upper is None
    assert got.p50_lower is None and got.p50_upper is None  # 0.5 < 0.95 either way


def test_two_values_bound_the_p99_from_below_by_the_larger() -> None:
    """Two values: both lie below the true p99 with probability 0.99**2 = 0.98 >= 0.95, so the
    lower bound's rank is 1 (the larger value); nothing bounds it from above."""
    got = _sketch(np.array([100.0, 10.0])).stats()
    assert got.p99_lower == 100.0 and got.p99_upper is None
    assert got.p50 == min(float(_one_by_one(np.array([10.0, 100.0])).get_quantile_value(0.5)), 100.0)
    assert abs(got.p50 - 10.0) <= 0.1  # the record at rank floor(0.5 * 1) = 0, within 1%


def test_another_accuracy_is_the_librarys_sketch_at_that_accuracy(rng: np.random.Generator) -> None:
    lat = np.round(rng.lognormal(3.0, 1.0, 400), 2)
    s = LatencySketch(0.05)
    s.extend(lat)
    ref = DDSketch(0.05)
    for v in lat.tolist():
        ref.add(v)
    srt = np.sort(lat)
    got = s.stats()
    for name, q in (("p50", 0.5), ("p95", 0.95)):
        assert getattr(got, name) == min(float(ref.get_quantile_value(q)), float(lat.max()))
        exact = srt[math.floor(q * (len(lat) - 1))]
        assert abs(getattr(got, name) - exact) <= 0.05 * exact
    # at 5% the buckets are coarser: fewer of them than at 1%
    fine = _sketch(lat)
    assert len(s.sketch._store.bins) < len(fine.sketch._store.bins)


def test_no_values() -> None:
    s = _sketch(np.empty(0), np.empty(0))
    got = s.stats()
    assert (got.n, got.mean, got.p50, got.p95, got.p99, got.max) == (0, None, None, None, None, None)
    assert got.method == "ddsketch" and got.insufficient == ("p50", "p95", "p99")
    assert (s.n, s.total, s.top) == (0, 0.0, -math.inf)


def test_all_zeros_and_tiny_values_are_the_zero_bucket() -> None:
    got = _sketch(np.array([0.0, 0.0, 1e-12, 0.0])).stats()
    assert (got.n, got.p50, got.p99) == (4, 0.0, 0.0)
    assert got.max == 1e-12 and got.mean == pytest.approx(1e-12 / 4)


def test_merge_equals_one_sketch_and_ignores_an_empty_one(rng: np.random.Generator) -> None:
    a_vals, b_vals = rng.lognormal(3, 1, 700), rng.lognormal(4, 1, 300)
    whole = _sketch(a_vals, b_vals)
    a, b = _sketch(a_vals), _sketch(b_vals)
    a.merge(LatencySketch())
    a.merge(b)
    assert (a.n, a.top) == (whole.n, whole.top) == (1000, max(a_vals.max(), b_vals.max()))
    assert a.total == pytest.approx(whole.total, rel=1e-12)
    ga, gw = a.stats(), whole.stats()
    for name in ("p50", "p95", "p99", "p50_lower", "p50_upper", "p95_lower", "p95_upper", "p99_lower"):
        assert getattr(ga, name) == getattr(gw, name), name
    assert ga.mean == pytest.approx(np.concatenate([a_vals, b_vals]).mean(), rel=1e-12)
    # the smaller max merged in does not lower it; an empty sketch merged changes nothing
    e = LatencySketch()
    e.merge(_sketch(np.array([5.0])))
    e.merge(_sketch(np.array([3.0])))
    assert (e.n, e.top, e.total) == (2, 5.0, 8.0)
    b.merge(LatencySketch())
    assert b.n == 300


def test_round_relative_is_each_values_bucket_with_its_sign() -> None:
    from ddsketch.mapping import LogarithmicMapping

    m = LogarithmicMapping(RELATIVE_ACCURACY)
    x = np.array([12.34, -12.34, 0.0, 1e-12, -1e-12, math.inf, -math.inf, 7.0, 7.0, 1e300, m.min_possible,
                  -m.min_possible, np.nextafter(m.min_possible, 1.0)])
    r = round_relative(x)
    for v, got in zip(x.tolist(), r.tolist(), strict=True):
        if math.isinf(v):
            assert got == v
        elif abs(v) <= m.min_possible:
            assert got == 0.0
        else:
            assert got == math.copysign(m.value(m.key(abs(v))), v)
            assert abs(got - v) <= RELATIVE_ACCURACY * abs(v)
    assert r.dtype == np.float64
    assert math.isnan(round_relative(np.array([math.nan]))[0])
    assert round_relative(np.array([0.0, 1e-309, -2e-308])).tolist() == [0.0, 0.0, 0.0]
