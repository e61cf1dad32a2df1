"""Summary's per-table counts by group from the compiled module (native/src/summary.rs), when built.

`SummaryAccumulator._update` in summary.py (pyarrow and numpy, one pass per group) is the
definition and the fallback; the compiled pass reads the table's Arrow buffers once, with the GIL
released, and hands back each group's counts and its latencies and confidences (whole, in row
order: the percentiles, sums and means stay numpy's). Tables it does not take (other column
types, an extension built from older sources, MLMON_READER=python) go the Python way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import pyarrow as pa

from mlmon.read.records import CONFIDENCE, GROUP, LATENCY, PRED_CLASS, PRED_VALUE, SUCCESS, TIMESTAMP

_native: ModuleType | None
try:
    from mlmon import _native
except ImportError:  # built without a Rust toolchain
    _native = None

READER_ENV = "MLMON_READER"
"""`python` runs the pyarrow path for reading and for these counts (mlmon/read/native.py)."""

_TYPES = (
    (SUCCESS, pa.bool_()),
    (LATENCY, pa.float64()),
    (PRED_CLASS, pa.string()),
    (CONFIDENCE, pa.float64()),
    (PRED_VALUE, pa.float64()),
    (TIMESTAMP, None),  # timestamp[ns], any time zone: read as int64
)


@dataclass(frozen=True)
class GroupShare:
    """One group's share of a table: what `_update` adds to the group's state."""

    key: str | None
    """The --by field's value; None for the rows without it (or a table without a group column)."""
    records: int
    status_n: int
    successes: int
    latency: np.ndarray
    """The non-null latencies in row order (float64)."""
    confidence: np.ndarray
    """The non-null confidences in row order (float64)."""
    conf_low: int
    conf_hist: np.ndarray
    """Count per confidence bucket (int64, one per edge)."""
    class_names: list[str]
    """Classes in order of first appearance in the group, with their counts."""
    class_counts: list[int]
    value_n: int
    value_outside: int
    """Numeric predictions outside the range (0 without one)."""
    ts_min: int | None
    ts_max: int | None


def enabled() -> bool:
    """True when the compiled pass runs (built, new enough, and not MLMON_READER=python)."""
    return (
        _native is not None
        and hasattr(_native, "summary_block")
        and os.environ.get(READER_ENV, "").strip().lower() != "python"
    )


def _array(table: pa.Table, name: str) -> tuple[int, list[Any]]:
    col = table.column(name)
    arr = col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
    return arr.offset, arr.buffers()


def shares(
    table: pa.Table,
    *,
    low_confidence: float,
    prediction_range: tuple[float, float] | None,
    edges: tuple[float, ...],
) -> list[GroupShare] | None:
    """The table's rows by group (first appearance, the rows without a group last), or None
    when the compiled pass does not take this table."""
    if not enabled() or table.num_rows == 0:
        return None
    schema = table.schema
    for name, want in _TYPES:
        i = schema.get_field_index(name)
        if i < 0:
            return None
        typ = schema.field(i).type
        if want is None:
            if not pa.types.is_timestamp(typ) or typ.unit != "ns":
                return None
        elif typ != want:
            return None
    group = None
    if GROUP in schema.names:
        if schema.field(GROUP).type != pa.string():
            return None
        group = _array(table, GROUP)
    assert _native is not None
    out = _native.summary_block(
        table.num_rows,
        group,
        *(_array(table, name) for name, _ in _TYPES),
        float(low_confidence),
        None if prediction_range is None else (float(prediction_range[0]), float(prediction_range[1])),
        [float(e) for e in edges],
    )
    if out is None:
        return None
    return [
        GroupShare(
            key=key,
            records=records,
            status_n=status_n,
            successes=successes,
            latency=np.frombuffer(lat, dtype=np.float64),
            confidence=np.frombuffer(conf, dtype=np.float64),
            conf_low=conf_low,
            conf_hist=np.asarray(hist, dtype=np.int64),
            class_names=names,
            class_counts=counts,
            value_n=value_n,
            value_outside=value_outside,
            ts_min=ts_min,
            ts_max=ts_max,
        )
        for (key, records, status_n, successes, lat, conf, conf_low, hist, names, counts, value_n,
             value_outside, ts_min, ts_max) in out
    ]
