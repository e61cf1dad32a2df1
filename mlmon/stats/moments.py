"""Mergeable running moments: count, mean and sum of squared deviations, folded in a fixed order."""

from __future__ import annotations

import math

import numpy as np

from mlmon.stats import effects as fx

Part = tuple[int, float, float, float]
"""One update's values: (count, mean, m2 / scale**2, scale), m2 the sum of squared deviations."""


def part(v: np.ndarray) -> Part:
    """The moments of one update's values (values near 1.7e308 scaled first: no overflow)."""
    return (len(v), *fx.moments(v))


def fold(parts: list[Part]) -> tuple[float, float, float]:
    """(mean, m2 / scale**2, scale) of all the parts' values: Chan's parallel update, part by part
    in the order given, each step in units of the larger of the two scales."""
    n, mean, m2, scale = 0, 0.0, 0.0, 1.0
    for m, mean_b, m2_b, scale_b in parts:
        new_scale = max(scale, scale_b)
        m2_a = m2 * (scale / new_scale) ** 2
        m2_b = m2_b * (scale_b / new_scale) ** 2
        total = n + m
        delta = mean_b / new_scale - mean / new_scale
        mean = (mean / new_scale + delta * m / total) * new_scale
        m2 = m2_a + m2_b + delta * delta * n * m / total
        scale, n = new_scale, total
    return mean, m2, scale


class Moments:
    """Count, mean and variance of the values given to `update`, mergeable.

    Each update's moments are kept and folded in order when read, so values read one file after
    another here, or on a cluster's workers and merged as a tree (--engine dask), give the same
    numbers in the same order, to the last digit."""

    __slots__ = ("_folded", "n", "parts")

    def __init__(self) -> None:
        self.n = 0
        self.parts: list[Part] = []
        self._folded: tuple[int, float, float, float] | None = None
        """(parts folded, mean, m2, scale): the fold of the first parts, kept until one is added."""

    def update(self, v: np.ndarray) -> None:
        """Take the values of v (finite numbers; an empty array changes nothing)."""
        if len(v):
            self.parts.append(part(v))
            self.n += len(v)

    def merge(self, other: Moments) -> None:
        """Take the values `other` took, after this one's."""
        self.parts = self.parts + other.parts
        self.n += other.n

    def _fold(self) -> tuple[int, float, float, float]:
        if self._folded is None or self._folded[0] != len(self.parts):
            self._folded = (len(self.parts), *fold(self.parts))
        return self._folded

    @property
    def mean(self) -> float:
        """The mean (0.0 of no values)."""
        return self._fold()[1]

    @property
    def m2(self) -> float:
        """Sum of squared deviations from the mean, divided by scale**2."""
        return self._fold()[2]

    @property
    def scale(self) -> float:
        """1, or the power of two the values were divided by before squaring (values near 1e308)."""
        return self._fold()[3]

    def std(self, ddof: int = 1) -> float:
        """The standard deviation with `ddof` delta degrees of freedom (0.0 with n <= ddof)."""
        return math.sqrt(self.m2 / (self.n - ddof)) * self.scale if self.n > ddof else 0.0
