"""Percentile verdicts by one rule at every n: distribution-free confidence bounds on order statistics."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from statistics import NormalDist

import numpy as np

ALPHA = 0.05
"""Each bound is one-sided at this error rate: an alert needs the lower bound beyond the limit."""
EXACT_VARIANCE = 10_000.0
"""Up to this binomial variance n q (1 - q) the ranks come from the exact binomial CDF (at most a
few ten thousand terms); beyond it from the normal approximation with continuity correction,
whose error in the tail is then below 1% of ALPHA (skewness under 0.01)."""
_WIDTH = 12.0
"""Binomial terms further than this many standard deviations from the mean are left out (< 1e-30)."""


def _bound_ranks(n: int, q: float, alpha: float = ALPHA) -> tuple[float | None, float | None]:
    """0-based fractional ranks (lower, upper) of the one-sided (1 - alpha) confidence bounds of
    the q-quantile of n values.

    The k-th smallest of n values (0-based) lies at or below the true q-quantile with probability
    1 - F(k), F the Binomial(n, q) CDF, for any continuous distribution. The lower bound's rank
    is the k where that coverage is 1 - alpha, interpolated linearly between the two order
    statistics either side (so the rank, and the alert rate at the limit, moves smoothly with
    n rather than in steps); the upper bound's rank is where it is alpha. None where even the
    smallest (largest) value does not reach the coverage: too few values to bound that side."""
    if n <= 0:
        return None, None
    var = n * q * (1 - q)
    if var > EXACT_VARIANCE:
        sd, z = math.sqrt(var), NormalDist().inv_cdf(alpha)
        lo, hi = n * q + z * sd - 0.5, n * q - z * sd - 0.5
        return (lo if lo >= 0 else None), (hi if hi <= n - 1 else None)
    cdf, start = _binomial_cdf(n, q)

    def at(k: int) -> float:
        return 0.0 if k < start else 1.0 if k - start >= len(cdf) else float(cdf[k - start])

    # lower: the largest k with F(k) <= alpha, moved up by the share of the step to F(k + 1)
    j = start + int(np.searchsorted(cdf, alpha, side="right")) - 1  # F(j) <= alpha < F(j + 1)
    lower = None
    if j >= 0:
        f0, f1 = at(j), at(j + 1)
        lower = min(float(n - 1), j + ((alpha - f0) / (f1 - f0) if f1 > f0 else 0.0))
    # upper: the smallest k with F(k) >= 1 - alpha, moved down by the share of the step from F(k - 1)
    k = start + int(np.searchsorted(cdf, 1 - alpha, side="left"))  # F(k - 1) < 1 - alpha <= F(k)
    upper = None
    if k <= n - 1:
        f0, f1 = at(k - 1), at(k)
        upper = max(0.0, k - ((f1 - (1 - alpha)) / (f1 - f0) if f1 > f0 else 0.0))
    return lower, upper


bound_ranks = functools.lru_cache(maxsize=4096)(_bound_ranks)
"""_bound_ranks, cached (a run asks the same n and q for every group and window). The cache wraps
a plain function, which mutation testing can reach (it leaves decorated functions alone)."""


def _binomial_cdf(n: int, q: float) -> tuple[np.ndarray, int]:
    """Binomial(n, q) CDF over the ranks within _WIDTH standard deviations of the mean: (values,
    first rank). Each term from the one before it (log ratios summed), anchored by lgamma."""
    sd = math.sqrt(n * q * (1 - q))
    start = max(0, math.floor(n * q - _WIDTH * sd - 1))
    stop = min(n, math.ceil(n * q + _WIDTH * sd + 1))
    i = np.arange(start + 1, stop + 1, dtype=np.float64)
    log0 = (math.lgamma(n + 1) - math.lgamma(start + 1) - math.lgamma(n - start + 1)
            + (start * math.log(q) if start else 0.0) + ((n - start) * math.log1p(-q) if n > start else 0.0))
    logs = log0 + np.concatenate(([0.0], np.cumsum(np.log((n - i + 1) / i) + math.log(q) - math.log1p(-q))))
    cdf = np.cumsum(np.exp(logs))
    return np.minimum(cdf, 1.0), start


def at_rank(rank: float | None, kth: Callable[[int], float], n: int) -> float | None:
    """The value at a fractional 0-based rank: the order statistics either side, interpolated."""
    if rank is None:
        return None
    k = math.floor(rank)
    t = rank - k
    a = kth(k)
    if t <= 0 or k + 1 >= n:
        return a
    b = kth(k + 1)
    return a + t * (b - a)


def ranks_needed(n: int, qs: tuple[float, ...]) -> list[int]:
    """The 0-based ranks whose values the bounds of these quantiles take (for one partition)."""
    out: set[int] = set()
    for q in qs:
        for r in bound_ranks(n, q):
            if r is not None:
                out.update(k for k in (math.floor(r), math.floor(r) + 1) if 0 <= k < n)
    return sorted(out)


def level(
    point: float, lower: float | None, upper: float | None,
    warning: float | None, critical: float | None, above: bool,
) -> tuple[str | None, bool]:
    """The verdict on a percentile against its limits, the same for every n and every command:
    (`critical`, `warning` or None for ok; proven). A limit is crossed when the data prove it:
    the 95% lower bound above an upper limit (the upper bound below a lower limit). An ok is
    proven when the other bound is within the nearest limit; else it is ok, not proven."""
    beyond = lower if above else upper

    def crossed(limit: float | None) -> bool:
        if limit is None or beyond is None:
            return False
        return beyond > limit if above else beyond < limit

    if crossed(critical):
        return "critical", True
    if crossed(warning):
        return "warning", True
    limits = [x for x in (warning, critical) if x is not None]
    if not limits:
        return None, True
    nearest = min(limits) if above else max(limits)
    within = upper if above else lower
    proven = within is not None and (within <= nearest if above else within >= nearest)
    return None, proven
