"""CSV and Parquet inputs (feature logs, training data) into canonical columns."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
import pyarrow as pa

from mlmon.arrowcompute import pc
from mlmon.errors import DataError
from mlmon.read.csvrows import Framer, parse
from mlmon.read.records import (
    CONFIDENCE,
    GROUP,
    KEY,
    LATENCY,
    PRED_CLASS,
    PRED_VALUE,
    SUCCESS,
    TS_NUM,
    TS_TEXT,
    TYPE_ERRORS,
    Kind,
    ReadPlan,
    canonical_schema,
    reason_code,
    success_from,
)
from mlmon.read.sources import Block, ReadNotes, iter_blocks

_FLOAT_RE = (
    r"^\s*[-+]?((\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[iI][nN][fF]([iI][nN][iI][tT][yY])?|[nN][aA][nN])\s*$"
)
_EPOCH_RE = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"


@dataclass(frozen=True)
class TablePiece:
    """Rows of a CSV or Parquet source with where each came from, and what was not a row."""

    table: pa.Table
    lines: np.ndarray
    """The line of each row (its first physical line for CSV; its row number for Parquet)."""
    bad_rows: list[tuple[int, str | bytes]] = field(default_factory=list)
    """Lines that are not a row: an unterminated quote, the wrong number of fields."""
    blank: int = 0
    text_of: Callable[[int], bytes] | None = None


def sniff_delimiter(header: bytes, name: str) -> str:
    """The field separator: a tab for a `.tsv` file; else a comma when the header has one;
    else a tab, a semicolon (spreadsheets in much of Europe) or a bar, the first the header has."""
    base = name.lower()
    for suffix in (".gz", ".gzip", ".bz2", ".zst", ".zstd"):
        base = base.removesuffix(suffix)
    if base.endswith(".tsv"):
        return "\t"
    if b"," in header:
        return ","
    return next((d for d in ("\t", ";", "|") if d.encode() in header), ",")


def excel_separator(line: bytes) -> str | None:
    """The separator named by Excel's optional first line `sep=;` (or `sep=,`, `sep=|`...)."""
    text = line.strip(b"\r\n \t").removeprefix(b"\xef\xbb\xbf")
    if len(text) == 5 and text.startswith(b"sep=") and text[4:] in (b",", b";", b"\t", b"|"):
        return text[4:].decode()
    if text == b"sep=" and b"\t" in line:
        return "\t"
    return None


def csv_pieces(
    stream: Any, notes: ReadNotes, *, max_line_bytes: int, name: str = ""
) -> Iterator[TablePiece]:
    """Stream a CSV file as tables of text columns, each row with its physical line number.

    Lines are framed as the JSON-lines reader frames them (a line over `max_line_bytes` is
    skipped and counted as oversized); rows are cut from lines by following quotes (see
    csvrows), so one broken row costs its own line; pyarrow parses the rows.
    """
    blocks = iter_blocks(stream, notes, max_line_bytes=max_line_bytes)
    names: list[str] | None = None
    before = 0  # blank lines before the header
    sep: str | None = None
    pending: Block | None = None
    for block in blocks:
        lines = block.data.split(b"\n")
        if not block.tail:
            lines.pop()  # after the last newline
        for k, text in enumerate(lines):
            if not text.strip():
                before += 1
                continue
            line_no = block.first_line + k
            if any(x < line_no for x in notes.oversized_lines):
                raise DataError(
                    f"the CSV header (line {min(notes.oversized_lines)}) is longer than --max-line-bytes"
                )
            text = text.removeprefix(b"\xef\xbb\xbf") if line_no == 1 else text
            hint = excel_separator(text)
            if hint is not None and sep is None:
                sep = hint  # Excel's first line `sep=;` names the separator; the header follows
                continue
            delim = sep or sniff_delimiter(text, name)
            names = _header(text, delim)
            parts = block.data.split(b"\n", k + 1)
            if len(parts) > k + 1 and parts[k + 1]:
                pending = Block(parts[k + 1], line_no + 1, tail=block.tail)
            break
        if names is not None:
            break
    if names is None:
        if notes.oversized_lines:
            raise DataError(
                f"the CSV header (line {notes.oversized_lines[0]}) is longer than --max-line-bytes"
            )
        return
    if before:
        yield TablePiece(_empty(names), np.zeros(0, np.int64), blank=before)
    if not names:
        return  # a header that csv reads as no row (a lone quote, say): nothing to read
    def parse_block(data: bytes) -> tuple[pa.Table, list[tuple[int | None, str]]]:
        return _parse_csv(data, names, delim)

    framer = Framer(len(names), max_line_bytes, notes.oversized_lines, parse_block, delim.encode())

    def chained() -> Iterator[Block]:
        if pending is not None:
            yield pending
        yield from blocks

    for framed in framer.blocks(chained()):
        table, lines_of, refused = parse(framed, names, parse_block)
        bad: list[tuple[int, str | bytes]] = [*framed.bad(), *refused]
        yield TablePiece(table, lines_of, bad, framed.blank, framed.text_of)


def _empty(names: list[str]) -> pa.Table:
    return pa.table({n: pa.array([], pa.binary()) for n in names})


def _header(line: bytes, delim: str) -> list[str]:
    try:
        names = next(csv.reader(io.StringIO(line.decode("utf-8", errors="replace")), delimiter=delim), [])
    except csv.Error as exc:
        raise DataError(f"cannot read the CSV header: {exc}") from None
    names = [n.strip() for n in names]
    twice = sorted(n for n, k in Counter(names).items() if k > 1)
    if twice:
        raise DataError(
            f"the CSV header names column(s) {', '.join(repr(n) for n in twice)} more than once"
        )
    return names


def _parse_csv(data: bytes, names: list[str], delim: str) -> tuple[pa.Table, list[tuple[int | None, str]]]:
    """Whole rows as text columns; rows with the wrong number of fields are returned apart."""
    import pyarrow.csv as pcsv

    invalid: list[tuple[int | None, str]] = []

    def on_invalid(row: Any) -> str:
        invalid.append((row.number, row.text))
        return "skip"

    # pyarrow's handler gets a row's text as str: a row that is not UTF-8 fails inside it (and
    # pyarrow prints that); without a handler such a block raises and is read row by row
    try:
        data.decode("utf-8")
        handler: Callable[[Any], str] | None = on_invalid
    except UnicodeDecodeError:
        handler = None
    table = pcsv.read_csv(
        pa.py_buffer(data),
        read_options=pcsv.ReadOptions(
            column_names=names, block_size=min(len(data) + 1, (1 << 31) - 1), use_threads=False
        ),
        parse_options=pcsv.ParseOptions(
            delimiter=delim, newlines_in_values=True, invalid_row_handler=handler
        ),
        # binary, not string: one bad byte costs its row (bad_encoding), not the file;
        # only an empty cell is missing: pyarrow's default null list would turn the
        # category "NA" (or "null") into a missing value, unlike the training data
        convert_options=pcsv.ConvertOptions(
            column_types={n: pa.binary() for n in names}, strings_can_be_null=True, null_values=[""],
        ),
    )
    return table, invalid


def parquet_pieces(path: str | IO[bytes]) -> Iterator[TablePiece]:
    """A Parquet file (a path, or an open remote object) in batches; a row's "line" is its row number."""
    import pyarrow.parquet as pq

    row = 0
    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=65536):
            lines = np.arange(row + 1, row + batch.num_rows + 1, dtype=np.int64)
            row += batch.num_rows
            yield TablePiece(pa.Table.from_batches([batch]), lines)
    finally:
        if not isinstance(path, str):
            path.close()


def utf8_or_null(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Binary values as text; values that are not UTF-8 become null and are marked."""
    try:
        return pc.cast(arr, pa.string()), np.zeros(len(arr), dtype=bool)
    except pa.ArrowInvalid:
        pass
    values: list[str | None] = []
    bad = np.zeros(len(arr), dtype=bool)
    for i, v in enumerate(arr.to_pylist()):
        if v is None:
            values.append(None)
            continue
        try:
            values.append(v.decode("utf-8"))
        except UnicodeDecodeError:
            values.append(None)
            bad[i] = True
    return pa.array(values, pa.string()), bad


def _lookup(tbl: pa.Table, path: str) -> pa.Array | None:
    """A column by its dotted path through structs, or by the whole path as a flat name."""
    if len(tbl.schema.get_all_field_indices(path)) > 1:
        raise DataError(f"the input has more than one column named {path!r}")
    if path in tbl.column_names:
        return tbl.column(path).combine_chunks()
    parts = path.split(".")
    if parts[0] not in tbl.column_names:
        return None
    arr = tbl.column(parts[0]).combine_chunks()
    for part in parts[1:]:
        if not pa.types.is_struct(arr.type) or arr.type.get_field_index(part) < 0:
            return None
        arr = pc.struct_field(arr, part)
    return arr


_UNIT_SECONDS = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}
_FAR_SECONDS = 9.2e9
"""Seconds from the epoch past which a time is outside 1678-2262 (64-bit nanoseconds)."""


def _epoch_seconds(ts: pa.Array, log_timezone: str) -> pa.Array:
    """A native timestamp column (s, ms, us or ns; with a time zone, or naive and then read in
    --log-timezone, as text without an offset is) or a date column, as seconds since the epoch."""
    if pa.types.is_date(ts.type):
        ts = pc.cast(ts, pa.timestamp("s"))
    if ts.type.tz is None and log_timezone.upper() not in ("UTC", "Z"):
        # in the DST fold the earlier instant, in the gap its end: as for timestamps in text
        ts = pc.assume_timezone(ts, log_timezone, ambiguous="earliest", nonexistent="latest")
    ticks = pc.cast(ts, pa.int64())  # in the column's unit, UTC; never cast through ns (overflow)
    return pc.divide(pc.cast(ticks, pa.float64(), safe=False), _UNIT_SECONDS[ts.type.unit])


def type_error_column(errors: list[tuple[int, np.ndarray]], n: int) -> pa.Array:
    """The TYPE_ERRORS column from (feature index, rows whose value had the wrong type) pairs."""
    if not errors:
        return pa.nulls(n, pa.string())
    rows: dict[int, list[str]] = {}
    for j, bad in errors:
        for i in np.flatnonzero(bad).tolist():
            rows.setdefault(i, []).append(str(j))
    return pa.array([",".join(rows[i]) if i in rows else None for i in range(n)], pa.string())


def to_number(arr: pa.Array | None, n: int) -> tuple[pa.Array, np.ndarray]:
    """Numbers from a column of any type; text that is not a number is marked bad."""
    bad = np.zeros(n, dtype=bool)
    if arr is None:
        return pa.nulls(n, pa.float64()), bad
    if pa.types.is_dictionary(arr.type):
        return to_number(arr.dictionary_decode(), n)
    if pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type) or pa.types.is_decimal(arr.type):
        # integers past 2**53 (ids, amounts in cents) round to the nearest double
        return pc.cast(arr, pa.float64(), safe=False), bad
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        text = pc.utf8_trim_whitespace(arr)
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
        ok = pc.fill_null(pc.match_substring_regex(text, _FLOAT_RE), True)
        bad = ~np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)
        clean = pc.if_else(ok, text, pa.scalar(None, pa.string()))
        return pc.cast(clean, pa.float64()), bad
    bad = ~np.asarray(pc.is_null(arr).to_numpy(zero_copy_only=False), dtype=bool)
    return pa.nulls(n, pa.float64()), bad


def to_text(arr: pa.Array | None, n: int) -> tuple[pa.Array, np.ndarray]:
    bad = np.zeros(n, dtype=bool)
    if arr is None:
        return pa.nulls(n, pa.string()), bad
    t = arr.type
    if pa.types.is_string(t):
        return arr, bad
    if pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_large_string(t):
        return pc.cast(arr, pa.string()), bad
    if pa.types.is_dictionary(t):
        return to_text(arr.dictionary_decode(), n)
    bad = ~np.asarray(pc.is_null(arr).to_numpy(zero_copy_only=False), dtype=bool)
    return pa.nulls(n, pa.string()), bad


def has_serving_columns(tbl: pa.Table | pa.RecordBatch, plan: ReadPlan) -> bool:
    t = pa.Table.from_batches([tbl]) if isinstance(tbl, pa.RecordBatch) else tbl
    f = plan.fields
    paths = (f.latency, f.status, f.success, f.prediction, f.pred_class, f.confidence)
    return any(_lookup(t, p) is not None for p in paths)


def from_table(batch: pa.RecordBatch | pa.Table, plan: ReadPlan) -> tuple[pa.Table, np.ndarray]:
    """Canonical columns from a flat or nested table; a reason code per row decided here."""
    tbl = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
    n = tbl.num_rows
    f = plan.fields
    wrong = np.zeros(n, dtype=bool)
    bad_encoding = np.zeros(n, dtype=bool)
    for i, fld in enumerate(tbl.schema):
        if pa.types.is_binary(fld.type) or pa.types.is_large_binary(fld.type):
            decoded, bad = utf8_or_null(tbl.column(i).combine_chunks())
            tbl = tbl.set_column(i, fld.name, decoded)
            bad_encoding |= bad
    cols: dict[str, pa.Array] = {}
    ts = _lookup(tbl, f.timestamp)
    if ts is not None and pa.types.is_dictionary(ts.type):
        ts = ts.dictionary_decode()
    far = np.zeros(n, dtype=bool)
    if ts is not None and (pa.types.is_timestamp(ts.type) or pa.types.is_date(ts.type)):
        cols[TS_TEXT] = pa.nulls(n, pa.string())
        secs = _epoch_seconds(ts, plan.log_timezone)
        # a native time past what mlmon can hold (1678-2262) is a bad timestamp, never read
        # as a number of seconds whose size would make it milliseconds
        far = np.asarray(pc.fill_null(pc.greater_equal(pc.abs(secs), _FAR_SECONDS), False)
                         .to_numpy(zero_copy_only=False), dtype=bool)
        cols[TS_NUM] = pc.if_else(pa.array(far), pa.scalar(None, pa.float64()), secs) if far.any() else secs
    elif ts is not None and (pa.types.is_integer(ts.type) or pa.types.is_floating(ts.type)):
        cols[TS_TEXT], cols[TS_NUM] = pa.nulls(n, pa.string()), pc.cast(ts, pa.float64())
    else:
        ts_text, bad = to_text(ts, n)
        wrong |= bad
        # seconds (or ms, us, ns) since the epoch written as text, as every CSV cell is
        ts_text = pc.utf8_trim_whitespace(ts_text)
        is_num = pc.fill_null(pc.match_substring_regex(ts_text, _EPOCH_RE), False)
        none = pa.scalar(None, pa.string())
        cols[TS_NUM] = pc.cast(pc.if_else(is_num, ts_text, none), pa.float64())
        cols[TS_TEXT] = pc.if_else(is_num, none, ts_text)

    def num(path: str) -> pa.Array:
        nonlocal wrong
        arr, bad = to_number(_lookup(tbl, path), n)
        wrong |= bad
        return arr

    def text(path: str) -> pa.Array:
        nonlocal wrong
        arr, bad = to_text(_lookup(tbl, path), n)
        wrong |= bad
        return arr

    if plan.by is not None:
        cols[GROUP] = text(plan.by)
    if plan.join is not None:
        cols[KEY] = text(plan.join)
    if plan.summary:
        cols[LATENCY] = num(f.latency)
        flag = _lookup(tbl, f.success)
        if flag is not None and not pa.types.is_boolean(flag.type):
            lowered = pc.utf8_lower(pc.cast(flag, pa.string()))
            flag = pc.if_else(
                pc.is_in(lowered, value_set=pa.array(["true", "1"])),
                True,
                pc.if_else(pc.is_in(lowered, value_set=pa.array(["false", "0"])), False, None),
            )
        cols[SUCCESS] = success_from(
            text(f.status), flag if flag is not None else pa.nulls(n, pa.bool_()), plan.success_values
        )
        pred = _lookup(tbl, f.prediction)
        if pred is not None and (pa.types.is_floating(pred.type) or pa.types.is_integer(pred.type)):
            cols[PRED_CLASS], cols[CONFIDENCE] = pa.nulls(n, pa.string()), pa.nulls(n, pa.float64())
            cols[PRED_VALUE] = pc.cast(pred, pa.float64())
        else:
            cols[PRED_CLASS] = text(f.pred_class)
            cols[CONFIDENCE] = num(f.confidence)
            cols[PRED_VALUE] = pa.nulls(n, pa.float64())
    type_errors: list[tuple[int, np.ndarray]] = []
    positional = _positional_features(tbl, plan, n)
    if positional is not None:
        positional, bad = positional
        wrong |= bad
    for j, spec in enumerate(plan.features or ()):
        if positional is not None:
            arr = pc.list_element(positional, j)
        else:
            arr = _lookup(tbl, f"{plan.fields.features}.{spec.name}")
            if arr is None:
                arr = _lookup(tbl, spec.name)
        conv = to_number if spec.kind is Kind.NUMERIC else to_text
        cols[plan.feature_column(spec.name)], bad = conv(arr, n)
        if bad.any():  # the feature's value is null and counted; the rest of the row is kept
            type_errors.append((j, bad))
    if plan.features:
        cols[TYPE_ERRORS] = type_error_column(type_errors, n)
    raw = pa.table(cols, schema=canonical_schema(plan))
    pre = np.where(
        bad_encoding,
        reason_code("bad_encoding"),
        np.where(far, reason_code("bad_timestamp"), np.where(wrong, reason_code("wrong_type"), 0)),
    ).astype(np.uint8)
    return raw, pre


def _positional_features(tbl: pa.Table, plan: ReadPlan, n: int) -> tuple[pa.Array, np.ndarray] | None:
    """Features stored as a list column (by position, as in JSON logs), matched to the
    baseline's columns: lists of another length are wrong_type rows; when no list has the
    baseline's length, the log and the baseline do not fit and that is a data error."""
    if not plan.features:
        return None
    arr = _lookup(tbl, plan.fields.features)
    if arr is None or not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)
                           or pa.types.is_fixed_size_list(arr.type)):
        return None
    k = len(plan.features)
    lengths = pc.list_value_length(arr)
    fits = pc.fill_null(pc.equal(lengths, k), False)
    present = pc.is_valid(arr)
    bad = np.asarray(pc.and_(present, pc.invert(fits)).to_numpy(zero_copy_only=False), dtype=bool)
    if bad.any() and bad.sum() == int(pc.sum(pc.cast(present, pa.int64())).as_py() or 0):
        seen = pc.min_max(lengths)
        lo, hi = seen["min"].as_py(), seen["max"].as_py()
        raise DataError(
            f"the log's features are lists of {lo if lo == hi else f'{lo} to {hi}'} values "
            f"but the baseline has {k} features ({', '.join(f.name for f in plan.features)}); "
            "positional features need the same count"
        )
    return pc.if_else(fits, arr, pa.scalar(None, arr.type)), bad


def infer_kinds(tbl: pa.Table, *, exclude: set[str]) -> dict[str, Kind]:
    """Feature kinds of a training table: numbers are numeric, text and booleans categorical.

    A text column whose non-empty values all read as numbers counts as numeric.
    """
    kinds: dict[str, Kind] = {}
    for name in tbl.column_names:
        if name in exclude:
            continue
        col = tbl.column(name)
        t = col.type
        if pa.types.is_integer(t) or pa.types.is_floating(t):
            kinds[name] = Kind.NUMERIC
        elif pa.types.is_boolean(t) or pa.types.is_dictionary(t):
            kinds[name] = Kind.CATEGORICAL
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            arr = col.combine_chunks()
            _, bad = to_number(arr, len(arr))
            nonnull = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(arr), ""), False)
            has_values = bool(pc.any(nonnull).as_py())
            kinds[name] = Kind.NUMERIC if has_values and not bad.any() else Kind.CATEGORICAL
    return kinds
