"""Approximate latency percentiles in fixed memory: a mergeable DDSketch (1% relative error)."""

from __future__ import annotations

import math

import numpy as np
from ddsketch import DDSketch

from mlmon.stats import percentile as pct
from mlmon.stats.summary import MIN_TAIL, PERCENTILES, LatencyStats

RELATIVE_ACCURACY = 0.01
"""Each percentile is within 1% of the value of a record at that rank (DDSketch's guarantee)."""


class LatencySketch:
    """Latencies counted into DDSketch's logarithmic buckets; the mean and max stay exact.

    The sketch holds one count per bucket touched: latencies from 0.01 ms to 100 s need at most
    ~800 buckets at 1% accuracy, whatever the number of records. Values are bucketed with numpy
    (the sketch's own key formula) and added once per distinct bucket, so a million latencies
    cost a few hundred `add` calls, not a million.
    """

    __slots__ = ("sketch", "n", "total", "top")

    def __init__(self, relative_accuracy: float = RELATIVE_ACCURACY) -> None:
        self.sketch = DDSketch(relative_accuracy)
        self.n = 0
        self.total = 0.0
        self.top = -math.inf

    def extend(self, values: np.ndarray) -> None:
        if not len(values):
            return
        self.n += len(values)
        self.total += float(values.sum())
        self.top = max(self.top, float(values.max()))
        mapping = self.sketch._mapping
        positive = values[values > mapping.min_possible]
        zeros = len(values) - len(positive)
        if zeros:
            self.sketch.add(0.0, float(zeros))
        if not len(positive):
            return
        multiplier = math.log(2) / math.log1p(mapping.gamma - 1)
        keys = np.ceil(np.log2(positive) * multiplier).astype(np.int64)
        uniq, counts = np.unique(keys, return_counts=True)
        for k, c in zip(uniq.tolist(), counts.tolist(), strict=True):
            # the bucket's representative value maps back to its key
            self.sketch.add(mapping.value(k), float(c))

    def merge(self, other: LatencySketch) -> None:
        if other.n:
            self.sketch.merge(other.sketch)
            self.n += other.n
            self.total += other.total
            self.top = max(self.top, other.top)

    def _quantile(self, q: float) -> float:
        """The sketch's quantile, kept within the exact max (a bucket's value can exceed it by 1%)."""
        v = self.sketch.get_quantile_value(q)
        return min(float(v if v is not None else 0.0), self.top)

    def stats(self) -> LatencyStats:
        if self.n == 0:
            return LatencyStats(0, None, None, None, None, None, method="ddsketch",
                                insufficient=("p50", "p95", "p99"))
        p50, p95, p99 = (self._quantile(q) for _, q in PERCENTILES)
        insufficient = tuple(name for name, q in PERCENTILES if self.n * (1 - q) < MIN_TAIL)
        bounds: dict[str, float | None] = {}
        for name, q in PERCENTILES:  # the bound ranks' values, as the sketch holds them (1%)
            for side, rank in zip(("lower", "upper"), pct.bound_ranks(self.n, q), strict=True):
                bounds[f"{name}_{side}"] = None if rank is None else self._quantile(
                    rank / (self.n - 1) if self.n > 1 else 0.0)
        return LatencyStats(self.n, self.total / self.n, p50, p95, p99, self.top, method="ddsketch",
                            insufficient=insufficient, **bounds)


def round_relative(values: np.ndarray, relative_accuracy: float = RELATIVE_ACCURACY) -> np.ndarray:
    """Each value replaced by the value of its DDSketch bucket, within `relative_accuracy` of
    itself (the sign kept; magnitudes below the sketch's smallest bucket become 0; infinities
    stay). Rounded values take at most a few thousand distinct values, whatever their number."""
    from ddsketch.mapping import LogarithmicMapping

    mapping = LogarithmicMapping(relative_accuracy)
    a = np.abs(values)
    out = np.where(np.isfinite(a), 0.0, values)
    big = (a > mapping.min_possible) & np.isfinite(a)
    if big.any():
        multiplier = math.log(2) / math.log1p(mapping.gamma - 1)
        keys = np.ceil(np.log2(a[big]) * multiplier).astype(np.int64)
        uniq, inverse = np.unique(keys, return_inverse=True)
        reps = np.array([mapping.value(k) for k in uniq.tolist()], dtype=np.float64)
        out[big] = np.copysign(reps[inverse], values[big])
    return np.asarray(out, dtype=np.float64)
