"""Running moments: mean and variance against numpy, merged partial folds, huge values, order."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlmon.stats.moments import Moments

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_VALUES = st.lists(st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False), max_size=60)


def _taken(chunks: list[list[float]]) -> Moments:
    m = Moments()
    for c in chunks:
        m.update(np.array(c, dtype=np.float64))
    return m


@FAST
@given(chunks=st.lists(_VALUES, max_size=6), ddof=st.sampled_from([0, 1]))
def test_mean_and_variance_are_numpys(chunks: list[list[float]], ddof: int) -> None:
    m = _taken(chunks)
    v = np.array([x for c in chunks for x in c], dtype=np.float64)
    assert m.n == len(v)
    if not len(v):
        assert (m.mean, m.m2, m.std(ddof)) == (0.0, 0.0, 0.0)
        return
    assert m.mean == pytest.approx(float(v.mean()), rel=1e-9, abs=1e-6)
    assert m.m2 * m.scale**2 == pytest.approx(float(((v - v.mean()) ** 2).sum()), rel=1e-6, abs=1e-3)
    if len(v) > ddof:
        assert m.std(ddof) == pytest.approx(float(v.std(ddof=ddof)), rel=1e-6, abs=1e-6)
    else:
        assert m.std(ddof) == 0.0


@FAST
@given(chunks=st.lists(_VALUES, max_size=8), data=st.data())
def test_merged_partial_folds_equal_one_fold_to_the_last_digit(
    chunks: list[list[float]], data: st.DataObject
) -> None:
    whole = _taken(chunks)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(chunks)), max_size=3)))
    bounds = [0, *cuts, len(chunks)]
    pieces = [_taken(chunks[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    for p in pieces:
        _ = p.mean  # a piece read before it is merged keeps no stale fold
    merged = pieces[0]
    for p in pieces[1:]:
        merged.merge(p)
    assert merged.n == whole.n
    assert (merged.mean, merged.m2, merged.scale) == (whole.mean, whole.m2, whole.scale)


def test_a_fold_read_early_is_refreshed_by_later_updates() -> None:
    m = Moments()
    m.update(np.array([1.0, 2.0, 3.0]))
    assert m.mean == 2.0
    m.update(np.array([10.0]))
    assert m.mean == pytest.approx(np.mean([1.0, 2.0, 3.0, 10.0]))
    assert m.std() == pytest.approx(np.std([1.0, 2.0, 3.0, 10.0], ddof=1))


def test_values_near_the_largest_float_do_not_overflow() -> None:
    big = np.array([1.5e308, 1.6e308, 1.7e308])
    m = Moments()
    m.update(np.array([1.0, 2.0]))
    m.update(big)
    v = np.concatenate(([1.0, 2.0], big))
    assert math.isfinite(m.mean) and math.isfinite(m.std())
    assert m.scale > 1.0
    assert m.mean == pytest.approx(float(np.mean(v / 2.0**1000)) * 2.0**1000, rel=1e-12)
    assert m.std() == pytest.approx(float(np.std(v / 2.0**1000, ddof=1)) * 2.0**1000, rel=1e-9)


def test_an_empty_update_changes_nothing() -> None:
    m = Moments()
    m.update(np.array([4.0, 6.0]))
    before = (m.n, m.mean, m.m2, len(m.parts))
    m.update(np.array([], dtype=np.float64))
    assert (m.n, m.mean, m.m2, len(m.parts)) == before


def test_ordinary_values_are_not_scaled_and_parts_fold_in_the_order_given() -> None:
    """Chan's update by hand on two parts: [1, 2, 3] then [10] (mean 4, m2 = 9 + 4 + 1 + 36 = 50)."""
    m = Moments()
    m.update(np.array([1.0, 2.0, 3.0]))
    m.update(np.array([10.0]))
    assert m.parts == [(3, 2.0, 2.0, 1.0), (1, 10.0, 0.0, 1.0)]
    assert (m.n, m.mean, m.m2, m.scale) == (4, 4.0, 50.0, 1.0)
    assert m.std(0) == math.sqrt(50.0 / 4) and m.std() == math.sqrt(50.0 / 3)
    # one value: no spread with one degree of freedom taken, none left with two
    one = Moments()
    one.update(np.array([7.0]))
    assert (one.mean, one.m2, one.std(0), one.std(1), one.std(2)) == (7.0, 0.0, 0.0, 0.0, 0.0)
    assert (Moments().mean, Moments().m2, Moments().scale, Moments().n) == (0.0, 0.0, 1.0, 0)


def test_merge_puts_the_other_parts_after_and_leaves_the_other_alone() -> None:
    a, b = Moments(), Moments()
    a.update(np.array([1.0, 2.0]))
    b.update(np.array([100.0]))
    b.update(np.array([0.5, 0.25]))
    a.merge(b)
    assert a.parts == [(2, 1.5, 0.5, 1.0), (1, 100.0, 0.0, 1.0), (2, 0.375, 0.03125, 1.0)]
    assert a.n == 5 and b.n == 3 and len(b.parts) == 2
    v = np.array([1.0, 2.0, 100.0, 0.5, 0.25])
    assert a.mean == pytest.approx(v.mean(), rel=1e-15)
    assert a.m2 == pytest.approx(((v - v.mean()) ** 2).sum(), rel=1e-15)
    # a fold read before the merge is not reused after it
    c = Moments()
    c.update(np.array([3.0]))
    assert c.mean == 3.0
    d = Moments()
    d.update(np.array([5.0]))
    c.merge(d)
    assert (c.mean, c.m2) == (4.0, 2.0)


def test_a_huge_part_after_a_small_one_and_before_it() -> None:
    """The scales of two parts differ: each step is in units of the larger (by hand: the values
    over that power of two, whose mean and squared deviations numpy computes without overflow)."""
    small, big = np.array([1.0, 3.0]), np.array([1.6e308, 1.7e308])
    for parts in ((small, big), (big, small)):
        m = Moments()
        for p in parts:
            m.update(p)
        scale = m.scale
        assert scale > 1.0 and math.frexp(scale)[0] == 0.5  # a power of two
        v = np.concatenate(parts) / scale
        assert m.mean == pytest.approx(float(v.mean()) * scale, rel=1e-15)
        assert m.m2 == pytest.approx(float(((v - v.mean()) ** 2).sum()), rel=1e-12)
        assert m.std(0) == pytest.approx(float(v.std()) * scale, rel=1e-12)
        assert math.isfinite(m.mean) and math.isfinite(m.std())


def test_parts_whose_scales_differ_by_one_power_of_two() -> None:
    """A spread part scaled by 2**600 and a single value scaled by 2**601: the first part's squared
    deviations count a quarter in the larger units (by hand: numpy on the values over 2**601)."""
    a = np.array([1.0, 1.5, 1.75]) * 2.0**600
    b = np.array([1.25]) * 2.0**601
    for parts in ((a, b), (b, a)):
        m = Moments()
        for p in parts:
            m.update(p)
        v = np.concatenate(parts) / 2.0**601
        assert m.scale == 2.0**601
        assert m.mean == pytest.approx(float(v.mean()) * 2.0**601, rel=1e-15)
        assert m.m2 == pytest.approx(float(((v - v.mean()) ** 2).sum()), rel=1e-12)
