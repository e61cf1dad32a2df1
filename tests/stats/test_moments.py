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
