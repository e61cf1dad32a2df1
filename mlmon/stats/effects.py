"""Effect sizes for drift, with their uncertainty: bounds on KS D and total variation, smoothed PSI,
Wasserstein distance on a baseline grid, Welch's z for a mean, and overflow-free moments."""

from __future__ import annotations

import math

import numpy as np

CONFIDENCE = 0.95
"""Level of the effect bounds: each side's sampling error is bounded at (1 + CONFIDENCE) / 2."""
_LOG_TERM = math.log(4 / (1 - CONFIDENCE))  # ln(2 / a) with a = (1 - CONFIDENCE) / 2 per sample
HUGE = 2.0**500
"""Values beyond this are scaled by a power of two before squares and sums (no overflow)."""
REL_TOL = 1e-9
"""Gates compare with this relative tolerance: a D of exactly 0.1 computed as
0.09999999999999998 still reaches 0.1 (D and PSI are far coarser than 1e-9)."""


def at_least(x: float, limit: float) -> bool:
    """x >= limit, allowing for rounding in the last bits."""
    return x >= limit - REL_TOL * max(1.0, abs(limit))


def beyond(x: float, limit: float) -> bool:
    """x > limit by more than rounding."""
    return x > limit + REL_TOL * max(1.0, abs(limit))


def pow2_scale(*xs: float) -> float:
    """1, or a power of two that brings the largest finite |x| below 2 when it is huge."""
    m = max((abs(x) for x in xs if math.isfinite(x)), default=0.0)
    if m <= HUGE:
        return 1.0
    return math.ldexp(1.0, math.frexp(m)[1] - 1)


def moments(v: np.ndarray) -> tuple[float, float, float]:
    """(mean, m2 / scale**2, scale) of finite values, where m2 is the sum of squared deviations;
    values near +-1.7e308 are scaled first, so nothing overflows."""
    scale = 1.0
    if len(v):
        lo, hi = float(v.min()), float(v.max())
        scale = pow2_scale(lo, hi)
    w = v / scale if scale != 1.0 else v
    mean_s = float(w.mean())
    m2_s = float(((w - mean_s) ** 2).sum())
    return mean_s * scale, m2_s, scale


def dkw_margin(n: int) -> float:
    """Dvoretzky-Kiefer-Wolfowitz: the empirical CDF of n values is within this of the true one
    everywhere, with probability (1 + CONFIDENCE) / 2."""
    return math.sqrt(_LOG_TERM / (2 * n)) if n > 0 else 1.0


def l1_margin(n: int, k: int) -> float:
    """Bretagnolle-Huber-Carol: the empirical shares of n values over k columns are within this
    total variation of the true ones, with probability (1 + CONFIDENCE) / 2."""
    if n <= 0:
        return 1.0
    return math.sqrt((math.log(max(2**k - 2, 1)) + _LOG_TERM) / (2 * n))


def bounds(effect: float, margin: float, *, at_most: float = 1.0) -> tuple[float, float]:
    return max(0.0, effect - margin), min(at_most, effect + margin)


def psi(base_counts: np.ndarray, log_counts: np.ndarray) -> float:
    """Population stability index on counts, each cell smoothed by half a count (Jeffreys), so an
    empty cell in a small window adds a bounded term rather than log(0)."""
    b = np.asarray(base_counts, dtype=float) + 0.5
    a = np.asarray(log_counts, dtype=float) + 0.5
    e, g = b / b.sum(), a / a.sum()
    return float(np.sum((g - e) * np.log(g / e)))


def wasserstein_sd(
    edges: np.ndarray, cdf: np.ndarray, log_cdf: np.ndarray, tails: tuple[float, float], std: float
) -> float | None:
    """Wasserstein-1 distance between the baseline and the log, in baseline standard deviations.

    Both CDFs are taken at the baseline's edges and held constant to the next edge: not exact
    even for a baseline of every distinct value, since the log's values between two edges count
    at the lower edge (drift uses scipy's exact distance when it holds the raw values); `tails`
    are the log's mean distance below the first edge and above the last, already divided by the
    log's n."""
    if not len(edges) or not std > 0 or not math.isfinite(std):
        return None
    scale = pow2_scale(float(edges[0]), float(edges[-1]), std)
    gaps = np.diff(edges / scale)
    inner = float(np.sum(np.abs(log_cdf[:-1] - cdf[:-1]) * gaps))
    return (inner + (tails[0] + tails[1]) / scale) / (std / scale)


def welch_p(
    diff_s: float, var_log_s: float, n: int, var_base_s: float, n_base: int, margin_s: float = 0.0
) -> float:
    """p-value of Welch's z that two means differ by more than `margin_s` (all in the same scaled
    units), each mean with its own sample's variance: one-sided in |diff|, the normal upper tail
    at (|diff| - margin) / se. With margin 0 it is half the usual two-sided p-value."""
    se2 = var_log_s / n + var_base_s / n_base
    excess = abs(diff_s) - margin_s
    if not se2 > 0:
        return 0.0 if excess > 0 else 1.0
    return 0.5 * math.erfc(excess / math.sqrt(se2) / math.sqrt(2))  # normal sf(z)
