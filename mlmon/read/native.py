"""The bridge to the compiled reader (`mlmon._native`): blocks parsed in Rust, the exact path's answers.

The Rust side ports `BlockParser._line` and `exact_record` and hands back canonical columns as
Arrow buffers (no copy) plus a reason code for every line that gave no row. Lines it cannot
decide the way Python's json module would (NaN, lone surrogate escapes, numbers beyond float64,
deep nesting, ...) come back as `uncertain` and the exact path in jsonlines.py decides them, so
both readers give the same rows, reasons and examples. Without the extension, or with
MLMON_READER=python, the pyarrow path in jsonlines.py reads everything.
"""

from __future__ import annotations

import functools
import os
import sys
from collections import Counter
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pyarrow as pa

from mlmon.read.jsonlines import BlockParser, BlockResult, Layout, Piece, long_digit_run
from mlmon.read.records import NOT_BAD, TS_NS, Kind, ReadPlan, naive_is_utc

_native: ModuleType | None
try:
    from mlmon import _native
except ImportError:  # built without a Rust toolchain
    _native = None

READER_ENV = "MLMON_READER"
"""Set to `python` to read with the pyarrow path even when the compiled reader is installed."""
_EXAMPLES_PER_BLOCK = 1000
_NATIVE_INT_DIGITS = 4300
"""Integer literals longer than this the native reader leaves to Python (block.rs MAX_INT_DIGITS)."""
_NO_ROW = ("blank", "non_record", "bad_encoding", "wrong_type", "duplicate_key")


def available() -> bool:
    """True when the compiled reader was built and imports."""
    return _native is not None


def reader_name() -> str:
    """The JSON-lines reader that runs: `native` (compiled, Rust) or `python` (pyarrow)."""
    if _native is None or os.environ.get(READER_ENV, "").strip().lower() == "python":
        return "python"
    return "native"


def describe_reader() -> str:
    """One line for `mlmon --version`: the reader that runs, and why."""
    if _native is None:
        return "python (pyarrow; the native reader was not built: no Rust toolchain at install)"
    if reader_name() == "python":
        return f"python (pyarrow; {READER_ENV}=python is set)"
    return "native (Rust, mlmon._native)"


def block_parser(
    plan: ReadPlan,
    layout: Layout,
    *,
    examples_wanted: Callable[[], bool],
    kind_wanted: Callable[[bool], bool] | None = None,
) -> BlockParser:
    """The block parser for one file: the native one when it runs, else the pyarrow one."""
    if reader_name() == "native" and (plan.join is None or _reads_join()):
        return NativeBlockParser(plan, layout, examples_wanted=examples_wanted, kind_wanted=kind_wanted)
    return BlockParser(plan, layout, examples_wanted=examples_wanted, kind_wanted=kind_wanted)


@functools.cache
def _reads_join() -> bool:
    """The compiled reader reads a join field (a build older than the join field does not: a
    stale build in a working copy then falls back to the pyarrow reader for --labels)."""
    assert _native is not None
    try:
        _native.Plan("timestamp", None, None, None, None, [], False, "request_id")
    except TypeError:
        return False
    return True


def _compile(plan: ReadPlan) -> Any:
    assert _native is not None
    f = plan.fields
    summary = (
        (f.latency, f.status, f.success, f.prediction, f.pred_class, f.confidence) if plan.summary else None
    )
    features = (
        (f.features, [(s.kind is Kind.NUMERIC, s.name) for s in plan.features]) if plan.features else None
    )
    marker = plan.record_marker.encode() if plan.record_marker else None
    return _native.Plan(
        f.timestamp,
        plan.by,
        summary,
        features,
        marker,
        sorted(plan.success_values),
        naive_is_utc(plan.log_timezone),
        *(() if plan.join is None else (plan.join,)),
    )


class NativeBlockParser(BlockParser):
    """A BlockParser whose blocks are parsed by the compiled reader, with the GIL released.

    Tail blocks (a last line with no newline) are read by the exact path: it is one line. So are
    blocks that are not `bytes` or reach 2 GiB (int32 offsets); framing gives neither today."""

    def __init__(
        self,
        plan: ReadPlan,
        layout: Layout,
        *,
        examples_wanted: Callable[[], bool],
        kind_wanted: Callable[[bool], bool] | None = None,
    ):
        super().__init__(plan, layout, examples_wanted=examples_wanted, kind_wanted=kind_wanted)
        self._compiled = _compile(plan)
        assert _native is not None
        self._codes: tuple[str, ...] = _native.CODES
        self._uncertain = self._codes.index("uncertain")
        self._non_record = self._codes.index("non_record")
        # the canonical columns, then the timestamps the Rust side read (check_rows reads the rest)
        self._native_schema = self.schema.append(pa.field(TS_NS, pa.int64()))

    def parse(
        self, data: bytes, first_line: int, *, tail: bool = False, n_lines: int | None = None
    ) -> BlockResult:
        if tail or type(data) is not bytes or len(data) >= 1 << 31 or _native is None:
            return super().parse(data, first_line, tail=tail, n_lines=n_lines)
        if 0 < sys.get_int_max_str_digits() < _NATIVE_INT_DIGITS and long_digit_run(data):
            # PYTHONINTMAXSTRDIGITS below the default: the native reader leaves only integers
            # past 4300 digits to Python, so a block with a shorter long one is read in Python
            return super().parse(data, first_line, tail=tail, n_lines=n_lines)
        lines, counts, bad_index, bad_code, bad_start, bad_end, row_lines, cols = _native.parse_block(
            self._compiled, data, first_line
        )
        result = BlockResult([], Counter(), lines, [])
        for name, count in zip(self._codes, counts, strict=True):
            if count and name in _NO_ROW:
                result.reasons[name] += count
        row_at = np.frombuffer(row_lines, dtype=np.int64)
        raw = self._table(len(row_at), cols)
        index = np.frombuffer(bad_index, dtype=np.uint32)
        codes = np.frombuffer(bad_code, dtype=np.uint8)
        starts = np.frombuffer(bad_start, dtype=np.uint64)
        ends = np.frombuffer(bad_end, dtype=np.uint64)
        # lines only the exact path can decide (rare): a reason, or a row after all
        decided: dict[int, str] = {}
        extra_rows: list[dict[str, Any]] = []
        extra_lines: list[int] = []
        for i in np.flatnonzero(codes == self._uncertain).tolist():
            line_no = first_line + int(index[i])
            reason, row = self._line(data[int(starts[i]) : int(ends[i])], line_no == 1)
            if row is not None:
                extra_rows.append(row)
                extra_lines.append(line_no)
                decided[i] = ""
            else:
                result.reasons[reason] += 1
                decided[i] = reason
        # the kinds of example the reader still wants (a kind it has enough of stays so)
        kinds = {normal for normal in (False, True) if self.wants("non_record" if normal else "wrong_type")}
        if len(codes) and kinds:
            # up to _EXAMPLES_PER_BLOCK of each kind: bad lines, and lines that are a normal
            # part of a log (the reader keeps a few of each; a block of a thousand bad lines
            # must not hide the non_record lines after them)
            taken = Counter[bool]()
            if kinds == {True}:  # only normal lines: look at those (and the ones Python decided)
                at: Any = np.flatnonzero((codes == self._non_record) | (codes == self._uncertain)).tolist()
            else:
                at = range(len(codes))
            for i in at:
                reason = decided[i] if i in decided else self._codes[codes[i]]
                if not reason:
                    continue
                normal = reason in NOT_BAD
                if normal not in kinds or taken[normal] >= _EXAMPLES_PER_BLOCK:
                    if all(taken[k] >= _EXAMPLES_PER_BLOCK for k in kinds):
                        break
                    continue
                taken[normal] += 1
                line = data[int(starts[i]) : int(ends[i])]
                result.examples.append((first_line + int(index[i]), reason, line))
                if not self.examples_wanted():
                    break
        if extra_rows:
            more = pa.table(
                {name: [r.get(name) for r in extra_rows] for name in self._native_schema.names},
                schema=self._native_schema,
            )
            at = np.concatenate([row_at, np.asarray(extra_lines, dtype=np.int64)])
            order = np.argsort(at, kind="stable")
            raw = pa.concat_tables([raw, more]).take(pa.array(order))
            row_at = at[order]
        if raw.num_rows:
            result.pieces.append(Piece(raw, lambda: row_at))
        return result

    def _table(self, n: int, cols: list[tuple[str, Any, int, Any, Any]]) -> pa.Table:
        """The Rust buffers as an Arrow table of the canonical schema (wrapped, not copied)."""
        arrays = []
        for (kind, valid, nulls, values, offsets), field in zip(cols, self._native_schema, strict=True):
            validity = None if valid is None else pa.py_buffer(valid)
            if kind == "str":
                buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(values)]
            else:
                buffers = [validity, pa.py_buffer(values)]
            arrays.append(pa.Array.from_buffers(field.type, n, buffers, null_count=nulls))
        return pa.Table.from_arrays(arrays, schema=self._native_schema)
