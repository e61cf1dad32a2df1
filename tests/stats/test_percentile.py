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
