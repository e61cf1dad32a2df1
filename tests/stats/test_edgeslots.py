"""The compiled edge-slot counter against drift's numpy counting (the definition)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlmon.stats.baseline import NumericProfile
from mlmon.stats.drift import _Numeric
from mlmon.stats.edgeslots import native_counter

native = pytest.importorskip("mlmon._native")


def numpy_counts(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    """drift's own counting with the compiled counter switched off, both of its branches."""
    cdf = np.linspace(0, 1, len(edges) + 1)[1:]
    profile = NumericProfile(n=len(edges), mean=0.0, std=1.0, min=float(edges[0]),
                             max=float(edges[-1]), edges=edges, cdf=cdf, exact=True)
    st_ = _Numeric(profile, np.zeros(2 * len(edges) + 1, dtype=np.int64))
    st_._native_count = None
    st_.pending, st_.pending_n = [values.copy()], len(values)
    st_.count_pending()
    return st_.counts


def native_counts(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    count = native_counter(edges)
    assert count is not None
    return count(values)


def test_training_like_edges_and_values(rng: np.random.Generator) -> None:
    edges = np.unique(np.round(rng.normal(size=50_000) * 2, 4))
    values = np.round(rng.normal(size=200_000) * 2.5, 4)
    values = np.concatenate([values, edges[::7], np.nextafter(edges[:100], np.inf),
                             np.nextafter(edges[:100], -np.inf), [-0.0, 0.0, 1e308, -1e308]])
    got = native_counts(edges, values)
    assert got.sum() == len(values)
    np.testing.assert_array_equal(got, numpy_counts(edges, values))
    # and the few-values branch of the numpy counting (fewer values than twice the edges)
    few = values[:1000]
    np.testing.assert_array_equal(native_counts(edges, few), numpy_counts(edges, few))


finite = st.floats(allow_nan=False, allow_infinity=True, width=64)


@settings(max_examples=300, deadline=None)
@given(
    edges=st.lists(finite, min_size=1, max_size=60),
    values=st.lists(st.one_of(finite, st.sampled_from([0.0, -0.0, 1.0, 5e-324])), max_size=200),
    reuse=st.lists(st.integers(0, 59), max_size=20),
)
def test_any_sorted_edges(edges: list[float], values: list[float], reuse: list[int]) -> None:
    e = np.unique(np.asarray(edges, dtype=np.float64))  # a baseline's edges are distinct
    v = np.asarray(values + [float(e[i % len(e)]) for i in reuse], dtype=np.float64)
    np.testing.assert_array_equal(native_counts(e, v), numpy_counts(e, v))


def test_unsorted_repeated_or_nan_edges_fall_back_to_numpy() -> None:
    assert native_counter(np.array([2.0, 1.0])) is None
    assert native_counter(np.array([1.0, 1.0])) is None
    assert native_counter(np.array([1.0, np.nan])) is None
    assert native_counter(np.array([], dtype=np.float64)) is None
