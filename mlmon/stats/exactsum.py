"""A float sum that is exact until it is read, so it is the same in whatever order parts are added."""

from __future__ import annotations

import math


class ExactSum:
    """The exact sum of floats kept as non-overlapping partials (Shewchuk's algorithm, as
    `math.fsum` uses), read rounded once. Sums of the same numbers merged in any order (blocks
    read one after another, or files summed on a cluster's workers and merged as a tree) give
    the same float to the last bit; a running `+=` would not."""

    __slots__ = ("partials", "special")

    def __init__(self) -> None:
        self.partials: list[float] = []
        self.special = 0.0
        """The sum of the non-finite values added (inf, nan), kept apart: they end any exact sum."""

    def add(self, x: float) -> None:
        if not math.isfinite(x):
            self.special += x
            return
        kept: list[float] = []
        for y in self.partials:
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            if math.isinf(hi):  # the exact sum overflows: the rounded one would too
                self.special += hi
                self.partials = []
                return
            lo = y - (hi - x)
            if lo:
                kept.append(lo)
            x = hi
        kept.append(x)
        self.partials = kept

    def merge(self, other: ExactSum) -> None:
        for x in other.partials:
            self.add(x)
        self.special += other.special

    def value(self) -> float:
        try:
            return math.fsum(self.partials) + self.special
        except OverflowError:  # the exact sum is beyond float64
            return math.nan
