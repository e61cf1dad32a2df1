"""Counting log values into a baseline's edge slots with the compiled reader's counter, when built.

`_Numeric.count_pending` in drift.py (numpy: sort, then binary searches) is the definition and
the fallback; the compiled counter gives the same counts without sorting (a grid over the edges
narrows each search) and with the GIL released."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import numpy as np

_native: ModuleType | None
try:
    from mlmon import _native
except ImportError:  # built without a Rust toolchain
    _native = None


def native_counter(edges: np.ndarray) -> Callable[[np.ndarray], np.ndarray] | None:
    """A function from values (float64) to their count per slot (int64, 2 x edges + 1), or None
    when the compiled reader is not built or the edges are not strictly ascending numbers."""
    # an extension built from older sources (a checkout updated without a rebuild) has no counter
    make = getattr(_native, "EdgeSlots", None)
    if make is None or not len(edges):
        return None
    try:
        slots = make(np.ascontiguousarray(edges, dtype=np.float64))
    except ValueError:
        return None

    def count(values: np.ndarray) -> np.ndarray:
        return np.frombuffer(slots.count(np.ascontiguousarray(values, dtype=np.float64)), dtype=np.int64)

    return count
