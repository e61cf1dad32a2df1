"""Data quality per feature: missing values and values outside training's range, each tested."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlmon.stats import effects as fx
from mlmon.stats.prefetch import scipy_stats

Z95 = 1.959963984540054
"""The normal quantile of a two-sided 95% interval."""
MISSING_WARNING = 0.01
"""Default warning limit of `missing_share.<feature>`: the missing share rose by at least this
much (one percentage point) over training's, as far as its 95% interval shows."""
MISSING_CRITICAL = 0.10
"""Default critical limit: even the lower 95% bound of the rise reaches ten percentage points."""


@dataclass(frozen=True)
class MissingTest:
    """The log's missing share against training's: the values a feature's drift row carries."""

    missing: int
    """Records without a value for the feature (JSON null, an absent key, an empty CSV cell,
    a Parquet null)."""
    records: int
    """Records the feature's share is over (the records the drift run read)."""
    share: float | None
    baseline_share: float | None
    p_value: float | None
    """One-sided Fisher exact test that the log's share is above training's; None when the
    log has no missing value (nothing to test) or too few records."""
    low: float | None
    """Lower 95% bound of log share - training share (Newcombe's hybrid score interval)."""
    high: float | None
    """Upper 95% bound of the same difference."""


def wilson(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion x / n."""
    if n <= 0:
        return 0.0, 1.0
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(x1: int, n1: int, x0: int, n0: int) -> tuple[float, float]:
    """95% interval of p1 - p0 for two independent proportions: Newcombe's hybrid score method
    (method 10 of Newcombe 1998), built from the two Wilson intervals."""
    p1, p0 = x1 / n1, x0 / n0
    l1, u1 = wilson(x1, n1)
    l0, u0 = wilson(x0, n0)
    d = p1 - p0
    low = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return max(-1.0, low), min(1.0, high)


def fisher_greater(x1: int, n1: int, x0: int, n0: int) -> float:
    """One-sided Fisher exact p-value that the first share (x1 of n1) is above the second (x0 of
    n0): P(X >= x1) for X hypergeometric with the table's margins, as scipy's
    `fisher_exact([[x1, n1 - x1], [x0, n0 - x0]], alternative="greater")` gives it."""
    stats = scipy_stats()
    total, hits = n1 + n0, x1 + x0
    return float(min(1.0, max(0.0, stats.hypergeom.sf(x1 - 1, total, hits, n1))))


def fisher_greater_many(x1: np.ndarray, n1: np.ndarray, x0: np.ndarray, n0: np.ndarray) -> np.ndarray:
    """fisher_greater for many tables in one call (the run's features together)."""
    stats = scipy_stats()
    sf = np.asarray(stats.hypergeom.sf(x1 - 1, n1 + n0, x1 + x0, n1), dtype=float)
    p: np.ndarray = np.clip(sf, 0.0, 1.0)
    return p


def missing_test(
    missing: int, records: int, base_missing: int, base_n: int, *, min_records: int, defer: bool = False
) -> MissingTest:
    """The log's missing share (missing of records) against the baseline's (base_missing of
    base_missing + base_n): a test that accounts for both sample sizes, and the interval of the
    rise. A log with no missing value, or fewer than min_records records, is not tested. With
    `defer`, a due p-value is NaN, for fisher_greater_many to fill in with the other features'."""
    base_total = base_n + base_missing
    share = missing / records if records else None
    base_share = base_missing / base_total if base_total else None
    if not records or not base_total or missing == 0 or records < min_records:
        return MissingTest(missing, records, share, base_share, None, None, None)
    low, high = newcombe(missing, records, base_missing, base_total)
    p = math.nan if defer else fisher_greater(missing, records, base_missing, base_total)
    return MissingTest(missing, records, share, base_share, p, low, high)


def missing_level(
    p_adjusted: float | None, low: float | None, high: float | None, *,
    p_threshold: float, warning: float | None, critical: float | None,
) -> str | None:
    """The missing-share verdict, drift's rule on the rise of the share: the BH-adjusted p-value
    is below p_threshold and the upper 95% bound of the rise reaches `warning` (`warning`), or
    its lower bound reaches `critical` too (`critical`). A limit of None is never reached."""
    if p_adjusted is None or not p_adjusted < p_threshold:
        return None
    if critical is not None and low is not None and fx.at_least(low, critical):
        return "critical"
    if warning is not None and high is not None and fx.at_least(high, warning):
        return "warning"
    return None


OUT_OF_RANGE_WARNING = 0.01
"""Default warning limit of `out_of_range.<feature>`: the share of values outside training's
[min, max] may be this large (its upper 95% bound reaches it) and is more than chance."""
OUT_OF_RANGE_CRITICAL = 0.10
"""Default critical limit: even the lower 95% bound of the share reaches ten percent."""


@dataclass(frozen=True)
class RangeTest:
    """The log's values outside training's [min, max] against what chance puts there."""

    outside: int
    share: float | None
    expected: float | None
    """The share expected outside by chance: 2 / (training n + 1), the chance that a new value of
    the same continuous distribution falls below the smallest or above the largest of n."""
    p_value: float | None
    """One-sided test of the count against that chance: the beta-binomial(n, 2, training n - 1)
    upper tail (the exact law of the count for continuous values; conservative with ties). None
    when no value is outside, or there are fewer than min_samples values."""
    low: float | None
    """Wilson 95% bounds of the share."""
    high: float | None


def range_p_values(outside: np.ndarray, n: np.ndarray, base_n: np.ndarray) -> np.ndarray:
    """The out-of-range test's p-values for many features in one call: the beta-binomial(n, 2,
    base_n - 1) upper tail at each count."""
    stats = scipy_stats()
    sf = np.asarray(stats.betabinom.sf(outside - 1, n, 2, base_n - 1), dtype=float)
    p: np.ndarray = np.clip(sf, 0.0, 1.0)
    return p


def range_test(outside: int, n: int, base_n: int, *, min_samples: int, defer: bool = False) -> RangeTest:
    """Values outside training's range: their share, and a test that it is more than chance.
    With `defer`, a due p-value is NaN, for range_p_values to fill in."""
    share = outside / n if n else None
    expected = 2 / (base_n + 1) if base_n > 1 else None
    if not n or outside == 0 or n < min_samples or expected is None:
        return RangeTest(outside, share, expected, None, None, None)
    low, high = wilson(outside, n)
    p = math.nan if defer else float(range_p_values(*(np.array([v]) for v in (outside, n, base_n)))[0])
    return RangeTest(outside, share, expected, p, low, high)
