"""Tests on values held as sorted distinct values with counts (compare --approx): bounded memory."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlmon.stats.summary import Values


class Rounded(Values):
    """Values rounded to within 1% on the way in (sketch.round_relative) and folded into distinct
    values with counts every `fold_at` values; the exact sum is kept, so the mean stays exact."""

    __slots__ = ("total", "fold_at")

    def __init__(self, fold_at: int = 1 << 16) -> None:
        super().__init__()
        self.total = 0.0
        self.fold_at = fold_at

    def extend(self, v: np.ndarray) -> None:
        from mlmon.stats.sketch import round_relative

        self.total += float(v.sum())
        super().extend(round_relative(v))
        if self.in_pages() >= self.fold_at:
            self.fold()

    def merge(self, other: Values) -> None:
        super().merge(other)
        self.total += other.total if isinstance(other, Rounded) else float(
            sum(float(a.sum()) for a in other.arrays()))


@dataclass(frozen=True)
class Weighted:
    """A sample as its sorted distinct values and how often each occurs (and its exact sum, when
    the values were rounded on the way in)."""

    values: np.ndarray
    counts: np.ndarray
    total: float | None = None

    @classmethod
    def of(cls, v: Values) -> Weighted:
        v.fold()
        total = v.total if isinstance(v, Rounded) else None
        if v.distinct is None or v.counts is None:
            return cls(np.empty(0), np.empty(0, dtype=np.int64), total)
        return cls(v.distinct, v.counts, total)

    def __len__(self) -> int:
        return int(self.counts.sum())

    def order(self, k: int) -> float:
        """The k-th smallest value (1-based)."""
        return float(self.values[int(np.searchsorted(np.cumsum(self.counts), k - 1, side="right"))])

    def percentile(self, q: float) -> float:
        """As numpy's default ('linear'): between the order statistics around (n - 1) q."""
        h = (len(self) - 1) * q
        lo = math.floor(h)
        a = self.order(lo + 1)
        b = self.order(min(lo + 2, len(self)))
        return a + (h - lo) * (b - a)

    def mean(self) -> float:
        if self.total is not None:
            return self.total / len(self)
        return float((self.values * self.counts).sum() / len(self))


def _aligned(c: Weighted, t: Weighted) -> tuple[np.ndarray, np.ndarray]:
    """Both samples' counts on the union of their distinct values (sorted)."""
    union = np.union1d(c.values, t.values)
    cc = np.zeros(len(union), dtype=np.float64)
    tc = np.zeros(len(union), dtype=np.float64)
    cc[np.searchsorted(union, c.values)] = c.counts
    tc[np.searchsorted(union, t.values)] = t.counts
    return cc, tc


def mann_whitney(t: Weighted, c: Weighted) -> tuple[float, float]:
    """U of `t` and the two-sided asymptotic p-value with tie correction and continuity
    correction: what scipy.stats.mannwhitneyu(t, c, method="asymptotic") gives on the values."""
    from scipy import stats

    cc, tc = _aligned(c, t)
    n1, n2 = float(tc.sum()), float(cc.sum())
    ties = cc + tc
    midrank = np.cumsum(ties) - ties + (ties + 1) / 2
    u1 = float((tc * midrank).sum() - n1 * (n1 + 1) / 2)
    u = max(u1, n1 * n2 - u1)
    n = n1 + n2
    s = math.sqrt(n1 * n2 / 12 * ((n + 1) - float((ties**3 - ties).sum()) / (n * (n - 1))))
    if s == 0:
        return u1, 1.0
    z = (u - n1 * n2 / 2 - 0.5) / s
    return u1, float(min(1.0, 2 * stats.norm.sf(z)))


def ks(t: Weighted, c: Weighted) -> tuple[float, float]:
    """KS D and the two-sided asymptotic p-value: scipy.stats.ks_2samp(t, c, method="asymp")."""
    from scipy import stats

    cc, tc = _aligned(c, t)
    nc, nt = float(cc.sum()), float(tc.sum())
    d = float(np.max(np.abs(np.cumsum(cc) / nc - np.cumsum(tc) / nt)))
    m, n = max(nc, nt), min(nc, nt)
    return d, float(np.clip(stats.kstwo.sf(d, np.round(m * n / (m + n))), 0, 1))
