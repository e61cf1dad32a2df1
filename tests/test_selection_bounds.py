"""The selection's newest and oldest time of a table (numpy over the int64s, pyarrow.compute only
for chunks with missing times) equal pyarrow.compute's max and min over the cast column."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from mlmon.api.selection import _newest, _oldest
from mlmon.read.records import TIMESTAMP

_NS = pa.timestamp("ns", tz="UTC")
_TIMES = st.one_of(st.none(), st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1))


def _expected(col: pa.ChunkedArray) -> tuple[int | None, int | None]:
    ints = pc.cast(col, pa.int64())
    hi, lo = pc.max(ints).as_py(), pc.min(ints).as_py()
    return hi, lo


@settings(max_examples=300, deadline=None)
@given(
    chunks=st.lists(st.lists(_TIMES, max_size=12), max_size=5),
    cut=st.integers(min_value=0, max_value=4),
)
def test_newest_and_oldest_equal_pyarrow_compute(chunks: list[list[int | None]], cut: int) -> None:
    arrays = [pa.array(c, pa.int64()).cast(_NS) for c in chunks]
    # slices give chunks with an offset into their buffers (and validity bitmaps)
    arrays = [a.slice(min(cut, len(a))) for a in arrays]
    col = pa.chunked_array(arrays, type=_NS)
    table = pa.table({TIMESTAMP: col})
    hi, lo = _expected(col)
    assert _newest(table) == hi
    assert _oldest(table) == lo
