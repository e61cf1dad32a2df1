"""The exact float sum (totals of latencies and tokens): against the sum in exact rational
arithmetic (fractions), in every order and merge, with cancellation, infinities and overflow."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from mlmon.stats.exactsum import ExactSum


def _exact(xs: list[float]) -> float:
    """The sum of the floats as a rational number, rounded once to the nearest float."""
    return float(sum((Fraction(x) for x in xs), Fraction(0)))


def _sum(xs: list[float]) -> ExactSum:
    s = ExactSum()
    for x in xs:
        s.add(x)
    return s


@pytest.mark.parametrize(
    "xs",
    [
        [],
        [0.1] * 10,
        [1e100, 1.0, -1e100],  # a running += gives 0.0
        [1.0, 1e100, 1.0, -1e100],
        [1e16, 1.0, 1.0],  # each 1.0 alone is lost to 1e16 (half an ulp, ties to even)
        [2.0**53, 1.0, -(2.0**53)],
        [0.1, 0.2, -0.3],
        [3.0, -3.0],
        [5e-324, 5e-324, -1e-300, 1e-300],
    ],
)
def test_sum_is_the_exact_sum_rounded_once(xs: list[float]) -> None:
    want = _exact(xs)
    assert _sum(xs).value() == want
    assert _sum(list(reversed(xs))).value() == want


def test_any_order_and_any_merge_give_the_same_bits() -> None:
    rng = random.Random(7)
    xs = [rng.uniform(-1, 1) * 10 ** rng.randint(-20, 20) for _ in range(400)]
    want = _exact(xs)
    assert _sum(xs).value() == want
    for _ in range(5):
        rng.shuffle(xs)
        parts = [xs[i : i + 37] for i in range(0, len(xs), 37)]
        total = ExactSum()
        for p in reversed(parts):
            total.merge(_sum(p))
        assert total.value() == want


def test_a_merge_of_empty_sums_is_zero() -> None:
    s = ExactSum()
    s.merge(ExactSum())
    assert s.value() == 0.0 and s.partials == []


def test_non_finite_values_end_the_sum_as_float_arithmetic_would() -> None:
    assert _sum([1.0, math.inf, 2.0]).value() == math.inf
    assert _sum([1.0, -math.inf]).value() == -math.inf
    assert math.isnan(_sum([math.inf, 1.0, -math.inf]).value())
    assert math.isnan(_sum([1.0, math.nan]).value())
    # kept through a merge
    a, b = _sum([1.0]), _sum([math.inf])
    a.merge(b)
    assert a.value() == math.inf
    a, b = _sum([math.inf]), _sum([1.0])
    a.merge(b)
    assert a.value() == math.inf


def test_a_sum_beyond_the_largest_float_is_infinite() -> None:
    big = 1.7e308
    assert _sum([big, big]).value() == math.inf
    assert _sum([-big, -big]).value() == -math.inf
    # once overflowed, the sum is no longer finite (the summary then keeps the mean it computed)
    assert not math.isfinite(_sum([big, big, -big]).value())
    # a NaN added before the overflow stays NaN, as in float arithmetic
    assert math.isnan(_sum([math.nan, big, big]).value())
    # an exact sum just past the largest float rounds to it or overflows as a float sum would
    m = 1.7976931348623157e308
    assert _sum([m, 1.0]).value() == m
