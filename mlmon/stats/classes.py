"""Predicted-class counts in bounded memory: exact up to a cap of distinct classes, then sketched.

Up to EXACT_CLASSES distinct classes every count is kept, so shares, the rest and the distinct
count are exact. Past that the counts move into Apache DataSketches' frequent-items sketch (a
Misra-Gries heavy-hitters summary: every class that holds more than about 3.5/SKETCH_SIZE of the
records is kept, each count within a stated error) and the distinct count into its HyperLogLog
sketch (about 1% error at this size). Both are mergeable and fixed in size, so a log with a
million distinct class strings costs the same memory as one with ten thousand.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

EXACT_CLASSES = 10_000
"""Distinct classes counted exactly; past this, sketched."""
SKETCH_LG_SIZE = 12
"""The frequent-items sketch keeps up to 0.75 * 2**12 = 3072 classes."""
HLL_LG_K = 14
"""HyperLogLog with 2**14 buckets: relative standard error about 0.8%."""
TOP_CLASSES = 20
"""Classes listed by name in a summary by default (`--top-classes`)."""


@dataclass(frozen=True)
class ClassShare:
    name: str
    count: int
    share: float


@dataclass(frozen=True)
class ClassCounts:
    """The top classes of a group and what the list leaves out."""

    top: tuple[ClassShare, ...]
    """The most frequent classes, at most --top-classes, by count then name."""
    total: int
    """Records with a class."""
    other: int
    """Records whose class is not in `top`."""
    distinct: int
    """Distinct classes (an estimate when not `exact`)."""
    exact: bool
    """False when there were more than EXACT_CLASSES distinct classes: counts are then sketch
    estimates (each within its bounds), `distinct` a HyperLogLog estimate."""


class ClassCounter:
    """Mergeable class counts: a Counter up to EXACT_CLASSES distinct classes, then sketches."""

    __slots__ = ("exact", "freq", "hll", "total")

    def __init__(self) -> None:
        self.exact: Counter[str] | None = Counter()
        self.freq: Any = None
        """datasketches.frequent_strings_sketch once past the cap."""
        self.hll: Any = None
        self.total = 0

    def update(self, names: list[str], counts: list[int]) -> None:
        self.total += sum(counts)
        if self.exact is not None:
            self.exact.update(dict(zip(names, counts, strict=True)))
            if len(self.exact) > EXACT_CLASSES:
                self._to_sketch()
            return
        for name, count in zip(names, counts, strict=True):
            self.freq.update(name, count)
            self.hll.update(name)

    def _to_sketch(self) -> None:
        import datasketches as ds

        assert self.exact is not None
        self.freq = ds.frequent_strings_sketch(SKETCH_LG_SIZE)
        self.hll = ds.hll_sketch(HLL_LG_K)
        for name, count in self.exact.items():
            self.freq.update(name, count)
            self.hll.update(name)
        self.exact = None

    def merge(self, other: ClassCounter) -> None:
        if other.exact is not None:
            self.update(list(other.exact), list(other.exact.values()))
            return
        if self.exact is not None:
            self._to_sketch()
        import datasketches as ds

        self.freq.merge(other.freq)
        union = ds.hll_union(HLL_LG_K)
        union.update(self.hll)
        union.update(other.hll)
        self.hll = union.get_result()
        self.total += other.total

    def lower_bound(self, name: str) -> int:
        """A count `name` surely has: exact below the cap, the sketch's lower bound past it."""
        if self.exact is not None:
            return self.exact.get(name, 0)
        return int(self.freq.get_lower_bound(name))

    def __bool__(self) -> bool:
        return self.total > 0

    def result(self, top_k: int = TOP_CLASSES) -> ClassCounts:
        if self.exact is not None:
            ranked = sorted(self.exact.items(), key=lambda kv: (-kv[1], kv[0]))
            distinct, exact = len(ranked), True
        else:
            import datasketches as ds

            items = self.freq.get_frequent_items(ds.frequent_items_error_type.NO_FALSE_POSITIVES)
            # (name, estimate, lower bound, upper bound): rank by the lower bound, a count the
            # class surely has, and report it (the shares then never overstate)
            pairs = ((name, int(low)) for name, _est, low, _up in items)
            ranked = sorted(pairs, key=lambda kv: (-kv[1], kv[0]))
            distinct, exact = max(round(self.hll.get_estimate()), len(ranked)), False
        top = tuple(
            ClassShare(name, count, count / self.total) for name, count in ranked[: max(top_k, 0)]
        )
        other = self.total - sum(c.count for c in top)
        return ClassCounts(top, self.total, other, distinct, exact)
