"""Clock and record-count windows at their edges: a record at a boundary, the window limit, a
partial last window, merging, coarsening, the statuses and the rolling values, each derived by hand."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa

from mlmon.read.records import CONFIDENCE, LATENCY, PRED_CLASS, PRED_VALUE, SEQ, SUCCESS, TIMESTAMP
from mlmon.stats.windows import WindowAccumulator, WindowOptions, window_starts

H = 3600 * 10**9
M = 60 * 10**9
S = 10**9


def ns(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp()) * S


T0 = ns("2026-11-01T10:00:00+00:00")


def table(ts: list[int | None], latency: list[float] | None = None, success: list[bool] | None = None,
          confidence: list[float | None] | None = None) -> pa.Table:
    n = len(ts)
    return pa.table({
        LATENCY: pa.array(latency if latency is not None else [1.0] * n, pa.float64()),
        SUCCESS: pa.array(success if success is not None else [True] * n, pa.bool_()),
        PRED_CLASS: pa.nulls(n, pa.string()),
        CONFIDENCE: pa.array(confidence if confidence is not None else [None] * n, pa.float64()),
        PRED_VALUE: pa.nulls(n, pa.float64()),
        SEQ: pa.array(np.arange(n), pa.int64()),
        TIMESTAMP: pa.array(ts, pa.timestamp("ns", tz="UTC")),
    })


def test_a_record_at_a_boundary_opens_the_next_window() -> None:
    """Windows are [start, end): a record exactly on the hour is the new hour's, one a nanosecond
    before it the old hour's."""
    got = window_starts(np.array([T0 + H - 1, T0 + H, T0 + H + 1]), H)
    assert got.tolist() == [T0, T0 + H, T0 + H]
    acc = WindowAccumulator(WindowOptions(every_ns=H, min_records=1))
    acc.update(table([T0 + H - 1, T0 + H]))
    ws = acc.result()
    assert [(w.start_ns, w.end_ns, w.summary.records) for w in ws] == [(T0, T0 + H, 1), (T0 + H, T0 + 2 * H, 1)]
