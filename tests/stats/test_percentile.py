"""Percentile verdicts by one rule at every n: the bounds against scipy's binomial, their
coverage by simulation, and the decision every command takes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom, norm

from mlmon.stats import percentile as pct
from mlmon.stats.summary import latency_stats, latency_stats_of_counts


def _ranks_by_scipy(n: int, q: float, alpha: float = 0.05) -> tuple[float | None, float | None]:
    """The ranks where the coverage 1 - F(k) crosses 1 - alpha and alpha, interpolated linearly
    between the integer ranks either side (F: scipy's binomial CDF)."""
    f = binom.cdf(np.arange(n + 1), n, q)
    below = np.flatnonzero(f[:n] <= alpha)
    lower = None
    if len(below):
        j = int(below[-1])
        step = f[j + 1] - f[j]
        lower = min(n - 1.0, j + ((alpha - f[j]) / step if step > 0 else 0.0))
    above = np.flatnonzero(f[:n] >= 1 - alpha)
    upper = None
    if len(above):
        k = int(above[0])
        prev = f[k - 1] if k else 0.0
        upper = max(0.0, k - ((f[k] - (1 - alpha)) / (f[k] - prev) if f[k] > prev else 0.0))
    return lower, upper


@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
def test_bound_ranks_equal_scipys_binomial(q: float) -> None:
    for n in [*range(1, 120), 150, 299, 300, 999, 1000, 1001, 5000, 40_000, 200_000]:
        if n * q * (1 - q) > pct.EXACT_VARIANCE:
            continue
        got, want = pct.bound_ranks(n, q), _ranks_by_scipy(n, q)
        for g, w in zip(got, want, strict=True):
            assert (g is None) == (w is None), (n, q)
            if g is not None:
                assert g == pytest.approx(w, abs=1e-6), (n, q)


def test_bound_ranks_beyond_the_exact_range_are_normal_quantiles() -> None:
    n, q = 5_000_000, 0.99
    sd = np.sqrt(n * q * (1 - q))
    lo, hi = pct.bound_ranks(n, q)
    assert lo == pytest.approx(n * q + norm.ppf(0.05) * sd - 0.5)
    assert hi == pytest.approx(n * q + norm.ppf(0.95) * sd - 0.5)
    # and they meet the exact ranks where the two methods meet
    n = int(pct.EXACT_VARIANCE / (q * (1 - q))) + 1
    exact = _ranks_by_scipy(n, q)
    for g, w in zip(pct.bound_ranks(n, q), exact, strict=True):
        assert g is not None and w is not None and abs(g - w) < 1.0


def test_bounds_are_interpolated_order_statistics_and_agree_for_counts() -> None:
    rng = np.random.default_rng(5)
    for n in (1, 2, 30, 59, 150, 999, 1000, 4000):
        values = np.round(rng.lognormal(3, 1, n), 1)
        s = np.sort(values)
        stats = latency_stats(values.copy())
        distinct, counts = np.unique(values, return_counts=True)
        by_counts = latency_stats_of_counts(distinct, counts)
        for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            for side, r in zip(("lower", "upper"), _ranks_by_scipy(n, q), strict=True):
                want = None
                if r is not None:
                    k = int(np.floor(r))
                    want = s[k] + (r - k) * (s[min(k + 1, n - 1)] - s[k])
                got = getattr(stats, f"{name}_{side}")
                assert (got is None) == (want is None), (n, name, side)
                if want is not None:
                    assert got == pytest.approx(want, rel=1e-9)
                    assert getattr(by_counts, f"{name}_{side}") == pytest.approx(want, rel=1e-9)


def test_a_single_slow_request_proves_a_p99_above_a_low_limit() -> None:
    """One value is below the true p99 with probability 0.99: one latency of 900 ms proves the
    p99 above 100 ms at 95% (a limit it crosses), but cannot show it below anything."""
    s = latency_stats(np.array([900.0]))
    assert s.p99_lower == 900.0 and s.p99_upper is None
    assert pct.level(900.0, s.p99_lower, s.p99_upper, 100.0, None, True) == ("warning", True)
    assert pct.level(900.0, s.p99_lower, s.p99_upper, 1000.0, None, True) == (None, False)


@pytest.mark.parametrize("n", [20, 60, 200, 1000])
def test_alert_rate_at_the_limit_is_near_alpha_at_every_n(n: int) -> None:
    """True p99 at the limit (lognormal latencies): the share of samples whose lower bound is
    above it is at most about 5%, at every n (no cliff)."""
    rng = np.random.default_rng(n)
    limit = float(np.exp(norm.ppf(0.99)))
    runs = 4000
    hits = 0
    for _ in range(runs):
        s = latency_stats(rng.lognormal(0, 1, n))
        hits += pct.level(s.p99 or 0.0, s.p99_lower, s.p99_upper, limit, None, True)[0] is not None
    rate = hits / runs
    assert 0.02 < rate < 0.065, rate


def test_level_decides_both_directions_and_proves_ok() -> None:
    assert pct.level(5.0, 4.0, 6.0, 3.0, None, True) == ("warning", True)
    assert pct.level(5.0, 4.0, 6.0, 3.0, 3.5, True) == ("critical", True)
    assert pct.level(5.0, 4.0, 6.0, 4.5, None, True) == (None, False)  # within the interval
    assert pct.level(5.0, 4.0, 6.0, 7.0, None, True) == (None, True)  # shown below
    assert pct.level(5.0, 4.0, 6.0, 7.0, 6.5, False) == ("critical", True)  # a lower limit
    assert pct.level(5.0, 4.0, 6.0, 3.0, None, False) == (None, True)


@pytest.mark.parametrize("q", [0.01, 0.05, 0.25])
def test_bound_ranks_of_low_quantiles_equal_scipys_binomial(q: float) -> None:
    """A low percentile (the lower limits of a p50 in a check's rule, or any q): its upper
    bound sits near rank 0 for small n and is held there, never below the smallest value."""
    for n in [*range(1, 80), 150, 1000, 5000]:
        got, want = pct.bound_ranks(n, q), _ranks_by_scipy(n, q)
        for g, w in zip(got, want, strict=True):
            assert (g is None) == (w is None), (n, q)
            if g is not None:
                assert g == pytest.approx(w, abs=1e-6), (n, q)
    # five values and q = 0.01: F(0) = 0.99^5 = 0.951 reaches 0.95 at rank 0, so the upper
    # bound is the smallest value itself, and the lower bound cannot be given
    assert 0.99**5 >= 0.95
    assert pct.bound_ranks(5, 0.01) == (None, 0.0)


def test_normal_ranks_to_the_half_rank() -> None:
    """Beyond the exact range the ranks are the normal quantiles with continuity correction:
    checked to 1e-6 of a rank (a half-rank slip would move the bound by one order statistic)."""
    for n, q in ((5_000_000, 0.99), (2_000_000, 0.5), (3_000_000, 0.95)):
        sd = np.sqrt(n * q * (1 - q))
        lo, hi = pct.bound_ranks(n, q)
        assert lo == pytest.approx(n * q + norm.ppf(0.05) * sd - 0.5, abs=1e-6)
        assert hi == pytest.approx(n * q + norm.ppf(0.95) * sd - 0.5, abs=1e-6)


def test_no_values_have_no_bounds() -> None:
    assert pct.bound_ranks(0, 0.5) == (None, None)
    assert pct.ranks_needed(0, (0.5, 0.99)) == []


def test_ranks_needed_are_the_order_statistics_either_side_of_every_bound() -> None:
    for n in (1, 2, 3, 5, 20, 59, 300, 1000):
        qs = (0.5, 0.95, 0.99)
        want: set[int] = set()
        for q in qs:
            for r in _ranks_by_scipy(n, q):
                if r is not None:
                    want |= {k for k in (int(np.floor(r)), int(np.floor(r)) + 1) if 0 <= k < n}
        assert pct.ranks_needed(n, qs) == sorted(want), n
    # one value: its lower p99 bound is that value, rank 0
    assert pct.ranks_needed(1, (0.99,)) == [0]


def test_level_at_equality_a_bound_on_the_limit_proves_nothing_crossed() -> None:
    """An upper limit is crossed when the lower bound is above it, not at it; a lower limit
    when the upper bound is below it, not at it."""
    assert pct.level(5.0, 4.0, 6.0, 4.0, None, True) == (None, False)
    assert pct.level(5.0, 4.0, 6.0, 3.0, 4.0, True) == ("warning", True)
    assert pct.level(5.0, 4.0, 6.0, 6.0, None, False) == (None, False)
    assert pct.level(5.0, 4.0, 6.0, 7.0, 6.0, False) == ("warning", True)


def test_level_at_equality_a_bound_on_the_limit_proves_ok() -> None:
    """The other bound at the nearest limit still shows the percentile within it."""
    assert pct.level(5.0, 4.0, 6.0, 6.0, None, True) == (None, True)
    assert pct.level(5.0, 4.0, 6.0, 4.0, None, False) == (None, True)


def test_level_of_a_lower_limit_reads_the_upper_bound_to_cross_and_the_lower_to_prove() -> None:
    # the interval holds the limit: neither crossed nor proven ok
    assert pct.level(5.0, 4.0, 6.0, 4.5, None, False) == (None, False)
    assert pct.level(5.0, 4.0, 6.0, 5.5, None, True) == (None, False)
    # lower limits: warning 3, critical 2 (the warning is the higher one, the nearest)
    assert pct.level(5.0, 4.0, 6.0, 3.0, 2.0, False) == (None, True)
    assert pct.level(5.0, 2.5, 6.0, 3.0, 2.0, False) == (None, False)
    assert pct.level(2.2, 1.5, 1.9, 3.0, 2.0, False) == ("critical", True)
    assert pct.level(2.8, 2.1, 2.9, 3.0, 2.0, False) == ("warning", True)
    # upper limits: warning 7, critical 9 (the warning is the lower one, the nearest)
    assert pct.level(5.0, 4.0, 8.0, 7.0, 9.0, True) == (None, False)
    assert pct.level(5.0, 4.0, 6.0, 7.0, 9.0, True) == (None, True)
    assert pct.level(8.0, 7.5, 8.5, 7.0, 9.0, True) == ("warning", True)


def test_level_without_limits_is_ok_and_proven() -> None:
    assert pct.level(5.0, 4.0, 6.0, None, None, True) == (None, True)
    assert pct.level(5.0, None, None, None, None, False) == (None, True)


def test_level_without_the_bound_it_needs_is_not_proven() -> None:
    # too few values for the lower bound: an upper limit is not crossed, ok is not proven
    assert pct.level(900.0, None, 950.0, 100.0, None, True) == (None, False)
    assert pct.level(900.0, 850.0, None, 1000.0, None, True) == (None, False)
    assert pct.level(1.0, 0.5, None, 2.0, None, False) == (None, False)
