"""The compiled edge-slot counter on the inputs a baseline or a log can hand it: whole numbers (an
integer column), float32, and an extension built from older sources without the counter."""

from __future__ import annotations

import types

import numpy as np
import pytest
from test_edgeslots import numpy_counts

from mlmon.stats import edgeslots
from mlmon.stats.edgeslots import native_counter

pytest.importorskip("mlmon._native")


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float32, np.float64])
def test_edges_and_values_of_any_numeric_dtype_count_as_float64(dtype: type) -> None:
    edges = np.array([1, 2, 5, 9], dtype=dtype)
    values = np.array([0, 1, 1, 2, 3, 5, 8, 9, 10, 4], dtype=dtype)
    count = native_counter(edges)
    assert count is not None
    got = count(values)
    assert got.dtype == np.int64
    assert got.tolist() == numpy_counts(edges.astype(np.float64), values.astype(np.float64)).tolist()
    # slots: below 1, at 1, between 1 and 2, at 2, (2, 5), at 5, (5, 9), at 9, above 9
    assert got.tolist() == [1, 2, 0, 1, 2, 1, 1, 1, 1]


def test_an_extension_without_the_counter_falls_back_to_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    edges = np.array([1.0, 2.0, 3.0])
    monkeypatch.setattr(edgeslots, "_native", types.SimpleNamespace())
    assert native_counter(edges) is None
    monkeypatch.setattr(edgeslots, "_native", None)
    assert native_counter(edges) is None


def test_no_edges_is_no_counter() -> None:
    assert native_counter(np.array([], dtype=np.float64)) is None
