"""JSON-lines prediction logs (plain or behind a logging prefix) into canonical columns.

Each block of lines is first parsed by pyarrow's C++ JSON reader with an explicit schema
(the fast path). A block it rejects is split in halves, and a small failing piece is read
line by line in Python (the exact path), which names the reason for every bad line. The
exact path is the definition; the fast path must give the same rows whenever it succeeds.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.json as pj

from mlmon.arrowcompute import pc
from mlmon.errors import DataError
from mlmon.read.records import (
    CONFIDENCE,
    GROUP,
    KEY,
    LATENCY,
    NOT_BAD,
    PRED_CLASS,
    PRED_VALUE,
    SUCCESS,
    TS_NUM,
    TS_TEXT,
    TYPE_ERRORS,
    Kind,
    ReadPlan,
    canonical_schema,
    success_from,
)
from mlmon.read.sources import count_newlines, line_ends

_LEVELS = "DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL"
_LOG_PREFIX = (
    r"^(?:\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d"  # `%(asctime)s ...`
    r"|\[\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d[^\]{]*\]"  # Flask's `[%(asctime)s] INFO in app: `
    rf"|(?:{_LEVELS}):[^:{{ ]*:"  # logging.basicConfig's default `INFO:__main__:`
    r')[^{]*\{[ \t]*["}]'
)
"""A logging prefix mlmon knows, and the `{` that starts the record: the first `{` of the
line. The line must start with the layout's own text (a time, or a level and a logger name),
and in every layout the `{` must open a JSON object (`{"`), so a message such as
`INFO:app:retry {id=5}` or a Python dict logged as text (`... WARNING retry {'features': ...}`)
is not taken for a record (non_record). Other layouts need --record-marker."""
_LOG_PREFIX_RE = re.compile(_LOG_PREFIX.encode())
_PREFIX_TIME = r"^\[?(?P<t>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[,.]\d+)?)"
"""The time a logging prefix starts with (`%(asctime)s`): used when a record has no timestamp."""
_PREFIX_TIME_RE = re.compile(_PREFIX_TIME.encode())
_BLANK_RE = r"^(?:[ \t\r\x0b\x0c]*|\x00+)$"
"""A blank line as `BlockParser._line` sees it: whitespace only, or NUL bytes only."""
_OBJECT_RE = r"^[ \t\r\x0b\x0c]*\{"
"""A line `record_text` takes as an object: `{` after whitespace (what bytes.lstrip() strips)."""
_RECORD_RE = f"(?:{_OBJECT_RE})|(?:{_LOG_PREFIX})"
"""A line holding a record: an object, or a logging prefix followed by one."""
_JSON_START_RE = r'^[ \t\r\x0b\x0c]*["\[\-0-9tfn]'
"""A line `_not_a_record` parses as JSON to tell wrong_type from non_record."""
_ODD_START_RE = r"^[\x00-\x20\x7f-\x{10ffff}]*[\x00-\x08\x0e-\x1f\x7f-\x{10ffff}]"
"""A line (as UTF-8 text) that starts with invisible or odd characters other than whitespace:
`_not_a_record` checks whether a record follows them (bad_prefix)."""
_ODD_LEAD = re.compile(rb"(?:\x1b\[[0-9;?]*[ -/]*[@-~]|[\x00-\x20\x7f-\xff])+")
"""Leading bytes that are not printable ASCII: whitespace, NUL and other controls, DEL, any
non-ASCII byte (a BOM, a non-breaking space, a zero-width space, an invalid byte), and terminal
escape sequences (`\x1b[32m`, a coloured log line)."""
_SPACE = b" \t\r\n\x0b\x0c"
MAX_DEPTH = 500
"""Values nested deeper than this are not read: a record holding one in a field mlmon reads is
bad_json (pyarrow's iterative parser still reads the fields around one mlmon skips). A fixed
limit, below Python's recursion limit, so the verdict never depends on how deep the stack is."""
_MIN_EXACT_LINES = 2048
SNIFF_LINES = 200


class _WrongType(Exception):
    pass


class _Duplicate(Exception):
    pass


class _BadText(Exception):
    """A string with a lone surrogate escape (`"\\ud800"`): no UTF-8 form."""


class _Obj(dict[str, Any]):
    """A JSON object that remembers which of its keys appeared more than once."""

    __slots__ = ("dups",)
    dups: frozenset[str]


_NO_DUPS: frozenset[str] = frozenset()


def _hook(pairs: list[tuple[str, Any]]) -> _Obj:
    obj = _Obj(pairs)
    if len(obj) != len(pairs):
        counts = Counter(k for k, _ in pairs)
        obj.dups = frozenset(k for k, c in counts.items() if c > 1)
    else:
        obj.dups = _NO_DUPS
    return obj


_decoder = json.JSONDecoder(object_pairs_hook=_hook)


_KEY = "\x00"
"""Joins a feature's name to the features path: a name is one key (`score.v2` is a key of the
features object, never the path score -> v2), and NUL never occurs in a dotted path."""


def _parts(path: str) -> list[str]:
    """The keys of a path: the dotted parts, and a feature's name whole."""
    head, sep, name = path.partition(_KEY)
    return [*head.split("."), name] if sep else head.split(".")


def _member(obj: dict[str, Any], key: str) -> Any:
    """One key of an object (a feature name: never split on dots)."""
    if isinstance(obj, _Obj) and key in obj.dups:
        raise _Duplicate(key)
    return obj.get(key)


def _get(rec: Any, path: str) -> Any:
    cur = rec
    for part in _parts(path):
        if cur is None:
            return None
        if not isinstance(cur, dict):
            raise _WrongType(path)
        if isinstance(cur, _Obj) and part in cur.dups:
            raise _Duplicate(path)
        cur = cur.get(part)
    return cur


def _number(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise _WrongType
    try:
        return float(v)
    except OverflowError:
        return float("inf")


def _checked_str(v: str) -> str:
    if not v.isascii():
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:
            raise _BadText from None
    return v


def _text(v: Any) -> str | None:
    if v is None:
        return v
    if isinstance(v, str):
        return _checked_str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    raise _WrongType


def _flag(v: Any) -> bool | None:
    if v is None or isinstance(v, bool):
        return v
    raise _WrongType


@dataclass(frozen=True)
class Layout:
    """What the first records of a file look like: decides the fast path's schema."""

    prefixed: bool
    schema: pa.Schema | None
    """Explicit Arrow schema for the fast path; None when only the exact path can read it."""
    features_list: bool
    prediction_leaf: str | None
    """JSON type of the prediction when it is a bare value ('number', 'string', 'bool')."""


def _json_type(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "object"
    return "list"


def is_blank(line: bytes) -> bool:
    """A blank line: whitespace only, or NUL bytes only (a mix of both is not blank)."""
    if line.strip(b" \t\r\n\x0b\x0c"):
        return not line.strip(b"\x00")
    return True


def record_text(line: bytes, marker: bytes | None) -> bytes | None:
    """The JSON part of a line, or None when the line holds no record."""
    if marker is not None:
        at = line.find(marker)
        return None if at < 0 else line[at + len(marker) :]
    stripped = line.lstrip()
    if stripped.startswith(b"{"):
        return stripped
    if _LOG_PREFIX_RE.match(line):
        return line[line.find(b"{") :]  # the prefix holds no `{`: the fast path cuts here too
    return None


def sniff(lines: list[bytes], plan: ReadPlan) -> Layout:
    """Look at the first records to choose the fast path's schema."""
    marker = plan.record_marker.encode() if plan.record_marker else None
    types: dict[str, str] = {}
    prefixed = False
    list_lens: Counter[int] = Counter()
    """Lengths of positional feature lists that do not fit the baseline (bad records, or another log)."""
    paths = _paths(plan)
    seen = 0
    for line in lines[:SNIFF_LINES]:
        text = record_text(line, marker)
        if text is None:
            continue
        if not line.lstrip().startswith(b"{"):
            prefixed = True
        try:
            rec = json.loads(text)
        except (ValueError, RecursionError):
            continue
        if not isinstance(rec, dict):
            continue
        seen += 1
        for path in [*paths, plan.fields.features, plan.fields.prediction]:
            if path in types:
                continue
            try:
                v = _get(rec, path)
            except (_WrongType, _Duplicate):
                continue
            if v is None:
                continue
            if path == plan.fields.features and isinstance(v, list) and plan.features is not None:
                if len(v) != len(plan.features):
                    list_lens[len(v)] += 1
                    continue  # the layout comes from a record that fits
            types[path] = _json_type(v)
    if marker is not None:
        prefixed = True
    # Lists of another length in several records, and none that fits: the log does not match
    # the baseline (one odd record is just a bad line, counted as wrong_type)
    if plan.features is not None and list_lens.total() >= 2 and plan.fields.features not in types:
        length = list_lens.most_common(1)[0][0]
        raise DataError(
            f"the log's features are lists of {length} values but the baseline has "
            f"{len(plan.features)} features ({', '.join(f.name for f in plan.features)}); "
            "positional features need the same count"
        )
    features_list = types.get(plan.fields.features) == "list"
    pred = types.get(plan.fields.prediction)
    pred_leaf = None if pred in (None, "object") else ("number" if pred == "int" else pred)
    schema = _schema(plan, types, features_list, pred_leaf) if seen else None
    return Layout(prefixed, schema, features_list, pred_leaf)


def _paths(plan: ReadPlan) -> list[str]:
    f = plan.fields
    out = [f.timestamp]
    if plan.by:
        out.append(plan.by)
    if plan.join:
        out.append(plan.join)
    if plan.summary:
        out += [f.latency, f.status, f.success, f.pred_class, f.confidence]
    if plan.features:
        out += [f"{f.features}{_KEY}{s.name}" for s in plan.features]
    return out


_TEXT_TYPES = {"string": pa.string(), "int": pa.int64(), "bool": pa.bool_()}


def _schema(
    plan: ReadPlan, types: dict[str, str], features_list: bool, pred_leaf: str | None
) -> pa.Schema | None:
    f = plan.fields
    leaves: dict[str, pa.DataType] = {}

    def text(path: str) -> pa.DataType:
        return _TEXT_TYPES.get(types.get(path, "string"), pa.string())

    leaves[f.timestamp] = pa.float64() if types.get(f.timestamp) in ("int", "number") else pa.string()
    if plan.by:
        leaves[plan.by] = text(plan.by)
    if plan.join:
        leaves[plan.join] = text(plan.join)
    if plan.summary:
        leaves[f.latency] = pa.float64()
        leaves[f.status] = pa.string()
        leaves[f.success] = pa.bool_()
        if pred_leaf is not None:
            leaves[f.prediction] = pa.float64() if pred_leaf == "number" else text(f.prediction)
        for path, typ in ((f.pred_class, text(f.pred_class)), (f.confidence, pa.float64())):
            if pred_leaf is None or not path.startswith(f.prediction + "."):
                leaves[path] = typ
    if plan.features:
        if features_list:
            if any(s.kind is Kind.CATEGORICAL for s in plan.features):
                return None  # a list mixing numbers and text: exact path only
            leaves[f.features] = pa.list_(pa.float64())
        else:
            for s in plan.features:
                path = f"{f.features}{_KEY}{s.name}"
                leaves[path] = pa.float64() if s.kind is Kind.NUMERIC else text(path)
    tree: dict[str, Any] = {}
    for path, typ in leaves.items():
        node = tree
        parts = _parts(path)
        ok = True
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                ok = False
                break
            node = nxt
        if ok and parts[-1] not in node:
            node[parts[-1]] = typ

    def build(node: dict[str, Any]) -> list[pa.Field]:
        return [
            pa.field(k, pa.struct(build(v)) if isinstance(v, dict) else v) for k, v in node.items()
        ]

    return pa.schema(build(tree))


def _column(tbl: pa.Table, path: str) -> pa.Array | None:
    parts = path.split(".")
    if parts[0] not in tbl.column_names:
        return None
    col = tbl.column(parts[0])
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    for part in parts[1:]:
        if not pa.types.is_struct(arr.type) or arr.type.get_field_index(part) < 0:
            return None
        arr = pc.struct_field(arr, part)
    return arr


def _as_text(arr: pa.Array | None, n: int) -> pa.Array:
    if arr is None:
        return pa.nulls(n, pa.string())
    if pa.types.is_floating(arr.type) and arr.null_count < len(arr):
        # a text field read as a number because the same path is also a number field
        # (`--by latency_ms`): the exact path rejects a float as text (wrong_type)
        raise _FastFailed("a number where text is read")
    return arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())


def _as_float(arr: pa.Array | None, n: int) -> pa.Array:
    if arr is None:
        return pa.nulls(n, pa.float64())
    return arr if pa.types.is_float64(arr.type) else pc.cast(arr, pa.float64())


class _FastFailed(Exception):
    pass


def _count(mask: pa.Array) -> int:
    return int(pc.sum(pc.cast(mask, pa.int64())).as_py() or 0)


def from_arrow(tbl: pa.Table, plan: ReadPlan, layout: Layout) -> pa.Table:
    """Map a fast-path Arrow table onto the canonical columns."""
    f = plan.fields
    n = tbl.num_rows
    cols: dict[str, pa.Array] = {}
    ts = _column(tbl, f.timestamp)
    if ts is not None and pa.types.is_floating(ts.type):
        cols[TS_TEXT], cols[TS_NUM] = pa.nulls(n, pa.string()), ts
    else:
        cols[TS_TEXT], cols[TS_NUM] = _as_text(ts, n), pa.nulls(n, pa.float64())
    if plan.by is not None:
        cols[GROUP] = _as_text(_column(tbl, plan.by), n)
    if plan.join is not None:
        cols[KEY] = _as_text(_column(tbl, plan.join), n)
    if plan.summary:
        cols[LATENCY] = _as_float(_column(tbl, f.latency), n)
        status = _as_text(_column(tbl, f.status), n)
        flag = _column(tbl, f.success)
        cols[SUCCESS] = success_from(
            status, flag if flag is not None else pa.nulls(n, pa.bool_()), plan.success_values
        )
        cls = _as_text(_column(tbl, f.pred_class), n)
        conf = _as_float(_column(tbl, f.confidence), n)
        value = pa.nulls(n, pa.float64())
        pred = _column(tbl, f.prediction) if layout.prediction_leaf is not None else None
        if pred is not None:
            # a bare prediction is the class (text) or the value (number), and the class and
            # confidence fields are not read; where it is missing they are (as in exact_record)
            bare = pc.is_valid(pred)
            no_text, no_number = pa.scalar(None, pa.string()), pa.scalar(None, pa.float64())
            if layout.prediction_leaf == "number":
                value = _as_float(pred, n)
                cls = pc.if_else(bare, no_text, cls)
            else:
                cls = pc.if_else(bare, _as_text(pred, n), cls)
            conf = pc.if_else(bare, no_number, conf)
        cols[PRED_CLASS] = cls
        cols[CONFIDENCE] = conf
        cols[PRED_VALUE] = value
    if plan.features:
        if layout.features_list:
            lst = _column(tbl, f.features)
            k = len(plan.features)
            if lst is None:
                lst = pa.nulls(n, pa.list_(pa.float64()))
            lengths = pc.list_value_length(lst).to_numpy(zero_copy_only=False)
            present = ~np.isnan(lengths.astype(float))
            if np.any(lengths[present] != k):
                raise _FastFailed("list length")
            flat = pc.list_flatten(lst).to_numpy(zero_copy_only=False).reshape(-1, k)
            flat_valid = ~np.asarray(
                pc.is_null(pc.list_flatten(lst)).to_numpy(zero_copy_only=False), dtype=bool
            ).reshape(-1, k)
            rows = np.flatnonzero(present)
            for j, spec in enumerate(plan.features):
                values = np.full(n, np.nan)
                valid = np.zeros(n, dtype=bool)
                values[rows] = flat[:, j]
                valid[rows] = flat_valid[:, j]
                cols[plan.feature_column(spec.name)] = pa.array(values, pa.float64(), mask=~valid)
        else:
            # the features object is looked up (and its chunks combined) once, not per feature:
            # per feature that was quadratic in the feature count
            obj = _column(tbl, f.features)
            children: dict[str, pa.Array] = {}
            if obj is not None and pa.types.is_struct(obj.type):
                # flatten() gives every child with the parent's nulls merged in, in one pass
                names = [obj.type.field(i).name for i in range(obj.type.num_fields)]
                children = dict(zip(names, obj.flatten(), strict=True))
            for spec in plan.features:
                arr = children.get(spec.name)
                name = plan.feature_column(spec.name)
                cols[name] = _as_float(arr, n) if spec.kind is Kind.NUMERIC else _as_text(arr, n)
        cols[TYPE_ERRORS] = pa.nulls(n, pa.string())  # pyarrow refuses a block with one (exact path)
    return pa.table(cols, schema=canonical_schema(plan))


def _with_prefix_time(raw: pa.Table, lines: pa.Array, records: pa.Array) -> pa.Table:
    """Records with no timestamp of their own take the time of their logging prefix.

    `lines` are the block's lines and `records` marks those that are the table's rows."""
    missing = pc.and_(pc.is_null(raw.column(TS_TEXT)), pc.is_null(raw.column(TS_NUM)))
    if not pc.any(missing).as_py():
        return raw
    prefix_time = pc.struct_field(pc.extract_regex(lines, _PREFIX_TIME), "t").filter(records)
    text = pc.if_else(missing, prefix_time, raw.column(TS_TEXT))
    return raw.set_column(raw.schema.get_field_index(TS_TEXT), TS_TEXT, text)


def exact_record(rec: Any, plan: ReadPlan) -> dict[str, Any]:
    """Canonical values of one parsed record; raises _WrongType / _Duplicate / _BadText."""
    if not isinstance(rec, dict):
        raise _WrongType
    f = plan.fields
    out: dict[str, Any] = {}
    ts = _get(rec, f.timestamp)
    if isinstance(ts, str):
        out[TS_TEXT] = _checked_str(ts)
    elif ts is not None:
        out[TS_NUM] = _number(ts)
    if plan.by is not None:
        out[GROUP] = _text(_get(rec, plan.by))
    if plan.join is not None:
        out[KEY] = _text(_get(rec, plan.join))
    if plan.summary:
        out[LATENCY] = _number(_get(rec, f.latency))
        status = _text(_get(rec, f.status))
        flag = _flag(_get(rec, f.success))
        out[SUCCESS] = (status.lower() in plan.success_values) if status is not None else flag
        pred = _get(rec, f.prediction)
        if isinstance(pred, dict) or pred is None:
            out[PRED_CLASS] = _text(_get(rec, f.pred_class))
            out[CONFIDENCE] = _number(_get(rec, f.confidence))
        elif isinstance(pred, str | bool):
            out[PRED_CLASS] = _text(pred)
        elif isinstance(pred, int | float):
            out[PRED_VALUE] = _number(pred)
        else:
            raise _WrongType
    if plan.features:
        feats = _get(rec, f.features)
        if isinstance(feats, list):
            if len(feats) != len(plan.features):
                raise _WrongType
            pairs = zip(plan.features, feats, strict=True)
        elif isinstance(feats, dict):
            pairs = zip(plan.features, (_member(feats, s.name) for s in plan.features), strict=True)
        elif feats is None:
            pairs = zip(plan.features, [None] * len(plan.features), strict=True)
        else:
            raise _WrongType
        wrong: list[str] = []
        for j, (spec, v) in enumerate(pairs):
            name = plan.feature_column(spec.name)
            try:
                out[name] = _number(v) if spec.kind is Kind.NUMERIC else _text(v)
            except _WrongType:  # counted for the feature; the rest of the record is kept
                out[name] = None
                wrong.append(str(j))
        if wrong:
            out[TYPE_ERRORS] = ",".join(wrong)
    return out


@dataclass
class Piece:
    """Rows parsed from one run of lines, with the line number of each row."""

    raw: pa.Table
    row_lines: Callable[[], np.ndarray]


@dataclass
class BlockResult:
    pieces: list[Piece]
    reasons: Counter[str]
    """Lines that gave no row, by reason (rows rejected later are counted by the caller)."""
    lines: int
    examples: list[tuple[int, str, bytes]]
    """(line number, reason, line bytes) of the first few lines that gave no row."""


class BlockParser:
    """Parses blocks of one file, choosing the fast path where it can."""

    def __init__(
        self,
        plan: ReadPlan,
        layout: Layout,
        *,
        examples_wanted: Callable[[], bool],
        kind_wanted: Callable[[bool], bool] | None = None,
    ):
        self.plan = plan
        self.layout = layout
        self.marker = plan.record_marker.encode() if plan.record_marker else None
        self.examples_wanted = examples_wanted
        """Whether lines to show are still wanted at all."""
        self.kind_wanted = kind_wanted
        """Whether lines of one kind are (True: normal ones such as non_record; False: bad ones)."""
        self.schema = canonical_schema(plan)

    def wants(self, reason: str) -> bool:
        """Whether a line that gave no row for this reason should be kept as an example."""
        if self.kind_wanted is None:
            return self.examples_wanted()
        return self.kind_wanted(reason in NOT_BAD)

    def parse(
        self, data: bytes, first_line: int, *, tail: bool = False, n_lines: int | None = None
    ) -> BlockResult:
        result = BlockResult([], Counter(), 0, [])
        if tail:
            self._exact(data, first_line, result, tail=True)
        else:
            self._parse(data, first_line, result, depth=0, n_lines=n_lines)
        return result

    def _parse(
        self, data: bytes, first_line: int, result: BlockResult, depth: int, n_lines: int | None = None
    ) -> None:
        if n_lines is None:
            n_lines = count_newlines(data)
        if self.layout.schema is not None:
            try:
                piece, lines, blank, non_record = self._fast(data, first_line, n_lines)
            except (_FastFailed, pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
                pass
            else:
                result.pieces.append(piece)
                result.lines += lines
                if blank:
                    result.reasons["blank"] += blank
                if non_record:
                    result.reasons["non_record"] += non_record
                    if self.wants("non_record"):
                        self._non_record_examples(data, first_line, result)
                return
        if n_lines > _MIN_EXACT_LINES and depth < 6:
            mid = data.find(b"\n", len(data) // 2)
            if 0 <= mid < len(data) - 1:
                left = data[: mid + 1]
                self._parse(left, first_line, result, depth + 1)
                self._parse(data[mid + 1 :], first_line + count_newlines(left), result, depth + 1)
                return
        self._exact(data, first_line, result, tail=False)

    def _fast(self, data: bytes, first_line: int, n_lines: int) -> tuple[Piece, int, int, int]:
        if first_line == 1 and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]  # the exact path drops a BOM on line 1 too
        if long_digit_run(data):
            raise _FastFailed("an integer longer than Python reads")
        prefixed_lines = None
        if self.layout.prefixed:
            payload, n_records, blank, prefixed_lines = self._strip_prefixes(data)
        else:
            if not data.lstrip().startswith(b"{"):
                raise _FastFailed("not a record")
            # pyarrow's JSON reader does not validate UTF-8 inside strings: a bad byte would
            # reach a string column. Check the block (raises UnicodeDecodeError); the exact
            # path names the bad line.
            if not data.isascii():
                data.decode("utf-8")
            payload, n_records, blank = data, -1, -1
        tbl = self._read_json(payload)
        if n_records < 0:
            # pyarrow reads `{} {}` on one line as two rows, and `null` or `[]` as a row: each
            # line must be blank or one object. Rows >= lines starting with `{` + other
            # non-blank lines, so equal counts prove it cheaply; else count the lines.
            n_records = tbl.num_rows
            ends = line_ends(data)
            starts = np.frombuffer(data, dtype=np.uint8)[ends[:-1] + 1]
            if n_records != np.count_nonzero(starts == ord("{")) + data.startswith(b"{"):
                lines = self._lines(data, ends)
                objects = _count(pc.match_substring_regex(lines, _OBJECT_RE))
                blank = _count(pc.match_substring_regex(lines, _BLANK_RE))
                if n_records != objects or objects + blank != n_lines:
                    raise _FastFailed("not one object per line")
            blank = n_lines - n_records
        elif tbl.num_rows != n_records:
            raise _FastFailed("row count")
        raw = from_arrow(tbl, self.plan, self.layout)
        if _has_negative_zero(raw) and _INT_MINUS_ZERO.search(data):
            # `-0` is the integer 0 in Python (0.0 as a number), `-0.0` the float -0.0; pyarrow
            # reads both as -0.0, so the exact path reads a block that holds a -0.0 and an
            # integer `-0` (or text that looks like one: `"model-0"`)
            raise _FastFailed("-0")
        if prefixed_lines is not None:
            raw = _with_prefix_time(raw, *prefixed_lines)
        non_record = n_lines - n_records - blank

        def row_lines() -> np.ndarray:
            lines = data.split(b"\n")[:n_lines]
            idx = [i for i, ln in enumerate(lines) if record_text(ln, self.marker) is not None]
            return first_line + np.asarray(idx, dtype=np.int64)

        return Piece(raw, row_lines), n_lines, blank, non_record

    def _read_json(self, payload: bytes | pa.Buffer, block_size: int = 4 << 20) -> pa.Table:
        return pj.read_json(
            pa.BufferReader(payload),
            read_options=pj.ReadOptions(block_size=block_size, use_threads=False),
            parse_options=pj.ParseOptions(
                explicit_schema=self.layout.schema, unexpected_field_behavior="ignore"
            ),
        )

    @staticmethod
    def _lines(data: bytes, ends: np.ndarray | None = None) -> pa.Array:
        """The lines of a block ending in a newline, without their newlines, as strings."""
        if ends is None:
            ends = line_ends(data)
        small = len(data) < 1 << 31
        offsets = np.empty(len(ends) + 1, dtype=np.int32 if small else np.int64)
        offsets[0] = 0
        offsets[1:] = ends + 1
        with_nl = pa.Array.from_buffers(
            pa.binary() if small else pa.large_binary(),
            len(ends),
            [None, pa.py_buffer(offsets), pa.py_buffer(data)],
        )
        return pc.cast(pc.binary_slice(with_nl, 0, -1), pa.string() if small else pa.large_string())

    def _strip_prefixes(self, data: bytes) -> tuple[pa.Buffer, int, int, tuple[pa.Array, pa.Array]]:
        """The block with all but the records' JSON blanked out, the counts, and (lines, record mask).

        Prefixes and lines that hold no record become spaces, which the JSON reader skips, so
        the block keeps its layout and each record its line."""
        ends = line_ends(data)
        lines = self._lines(data, ends)
        if self.marker is not None:
            marker = self.plan.record_marker or ""
            cand = pc.match_substring(lines, marker)
            json_at = pc.add(pc.find_substring(lines, marker), len(self.marker))
            # after the marker comes an object, or the exact path must name the line (JSON of
            # another shape like `null` is wrong_type, other text bad_json)
            obj = pc.match_substring_regex(lines, f"^.*?{re.escape(marker)}{_OBJECT_RE[1:]}")
            if _count(pc.and_not(cand, obj)):
                raise _FastFailed("a record that is not an object")
        else:
            cand = pc.match_substring_regex(lines, _RECORD_RE)
            json_at = pc.find_substring(lines, "{")
        n_records = _count(cand)
        # A line that holds `{` or a marker with text in it is not blank: when every line is a
        # record, as in a clean log, the checks on the other lines below have nothing to do.
        blank_marker = self.marker is not None and not self.marker.strip(b" \t\r\x0b\x0c\x00")
        if n_records < len(lines) or blank_marker:
            blank_mask = pc.match_substring_regex(lines, _BLANK_RE)
            cand = pc.and_(cand, pc.invert(blank_mask))  # a blank line is blank first, as in `_line`
            n_records, blank = _count(cand), _count(blank_mask)
            # a line holding JSON that is not an object (`[1]`, `42`) is wrong_type, not
            # non_record: leave the block to the exact path (such lines are rare; timestamps of
            # log lines that are not records start with a digit, so check those few in Python)
            # and a record behind NUL bytes or a stray BOM is bad_prefix: check lines that start
            # with such characters in Python too
            looks_json = pc.and_(
                pc.invert(pc.or_(cand, blank_mask)),
                pc.or_(
                    pc.match_substring_regex(lines, _JSON_START_RE),
                    pc.match_substring_regex(lines, _ODD_START_RE),
                ),
            )
            if _count(looks_json):
                for i in np.flatnonzero(looks_json.to_numpy(zero_copy_only=False)):
                    if self._not_a_record(lines[int(i)].as_py().encode()) != "non_record":
                        raise _FastFailed("JSON that is not an object, or a record behind odd bytes")
        else:
            blank = 0
        starts = np.concatenate(([0], ends[:-1] + 1))
        is_record = cand.to_numpy(zero_copy_only=False)
        prefix = np.asarray(json_at.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
        spaces = np.where(is_record, prefix, ends - starts)  # bytes to blank at the start of each line
        payload = np.frombuffer(data, dtype=np.uint8).copy()
        total = int(spaces.sum())
        if total:
            # the offsets start[i] .. start[i] + spaces[i] - 1 of every line, in one array
            # (int32 when the block allows: these arrays have one entry per blanked byte)
            first = starts - (np.cumsum(spaces) - spaces)
            shift = np.repeat(first.astype(np.int32) if len(data) < 1 << 31 else first, spaces)
            shift += np.arange(total, dtype=shift.dtype)
            payload[shift] = ord(" ")
        return pa.py_buffer(payload), n_records, blank, (lines, cand)

    def _non_record_examples(self, data: bytes, first_line: int, result: BlockResult) -> None:
        for i, line in enumerate(data.split(b"\n")[:-1]):
            if not is_blank(line) and record_text(line, self.marker) is None:
                result.examples.append((first_line + i, "non_record", line))
                if not self.wants("non_record"):
                    return

    def _exact(self, data: bytes, first_line: int, result: BlockResult, *, tail: bool) -> None:
        lines = [data] if tail else data.split(b"\n")[:-1]
        rows: list[dict[str, Any]] = []
        row_lines: list[int] = []
        for i, line in enumerate(lines):
            line_no = first_line + i
            reason, row = self._line(line, line_no == 1, tail=tail)
            if row is not None:
                rows.append(row)
                row_lines.append(line_no)
            else:
                result.reasons[reason] += 1
                if reason not in ("blank",) and self.wants(reason):
                    result.examples.append((line_no, reason, line))
        result.lines += len(lines)
        if rows:
            cols = {name: [r.get(name) for r in rows] for name in self.schema.names}
            raw = pa.table(cols, schema=self.schema)
            arr = np.asarray(row_lines, dtype=np.int64)
            result.pieces.append(Piece(raw, lambda: arr))

    def _line(self, line: bytes, first: bool, *, tail: bool = False) -> tuple[str, dict[str, Any] | None]:
        """The reason a line gives no row ("" with the row when it gives one).

        `tail`: the last line of a file, with no newline: JSON that is not complete is a writer
        mid-append (incomplete_tail), not bad_json."""
        if first and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if not line.strip(b" \t\r\n\x00\x0b\x0c"):
            return ("blank" if is_blank(line) else "non_record"), None
        text = record_text(line, self.marker)
        if text is None:
            return self._not_a_record(line), None
        try:
            s = text.decode("utf-8")
        except UnicodeDecodeError:
            return "bad_encoding", None
        if len(text) > 2 * MAX_DEPTH and _depth(text) > MAX_DEPTH:
            return self._deep(text, tail=tail)
        try:
            rec = _decoder.decode(s.strip())
        except RecursionError:
            return self._deep(text, tail=tail)
        except ValueError:
            return ("incomplete_tail" if tail else "bad_json"), None
        try:
            row = exact_record(rec, self.plan)
        except _WrongType:
            return "wrong_type", None
        except _Duplicate:
            return "duplicate_key", None
        except _BadText:
            return "bad_encoding", None
        if row.get(TS_TEXT) is None and row.get(TS_NUM) is None:
            m = _PREFIX_TIME_RE.match(line)
            if m:
                row[TS_TEXT] = m.group("t").decode()
        return "", row

    def _deep(self, text: bytes, *, tail: bool = False) -> tuple[str, dict[str, Any] | None]:
        """A record nested deeper than Python's parser can go (`[[[[...`).

        pyarrow's parser is iterative and reads it, so the fast path would keep the record when
        its fields are fine (deep data is in a field mlmon does not read). The exact path gives
        the same answer by asking the same parser about this one line. Deep data in a field mlmon
        reads is bad_json (valid, perhaps, but too deep to read), also on a last line with no
        newline when its brackets all close (only an unfinished one is incomplete_tail).
        """
        bad = "incomplete_tail" if tail and not _closed(text) else "bad_json"
        if self.layout.schema is None:
            return bad, None
        payload = text.strip() + b"\n"
        try:
            tbl = self._read_json(payload, block_size=max(4 << 20, 2 * len(payload)))
            if tbl.num_rows != 1:
                return "bad_json", None
            raw = from_arrow(tbl, self.plan, self.layout)
        except _FastFailed:
            return "wrong_type", None
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return bad, None
        return "", raw.to_pylist()[0]

    def _not_a_record(self, line: bytes) -> str:
        """A line with no object: a record behind odd bytes is bad_prefix, JSON of another shape a
        wrong type, anything else not a record."""
        lead = _ODD_LEAD.match(line)
        if lead is not None and lead.group().strip(_SPACE):
            # NUL bytes (a file cut and written again), a BOM past line 1 (files joined with
            # cat), a non-breaking space...: the record after them is there but cannot be read
            if record_text(line[lead.end() :], self.marker) is not None:
                return "bad_prefix"
        stripped = line.strip()
        if stripped[:1] in b'["-0123456789tfn' and stripped[:1]:
            try:
                json.loads(stripped)
            except (ValueError, RecursionError):
                return "non_record"
            return "wrong_type"
        return "non_record"



_DIGIT_MAP = bytes(0x31 if 0x30 <= i <= 0x39 else 0x30 for i in range(256))


def long_digit_run(data: bytes) -> bool:
    """Whether a block holds a run of more digits than Python's int() reads (4300, or what
    PYTHONINTMAXSTRDIGITS says): the json module calls a line with such an integer bad_json,
    pyarrow reads it. Digits in a string or a float count too (the exact path then reads the
    block). Only a block with a line that long can hold one: that is checked first."""
    limit = sys.get_int_max_str_digits()
    if not limit or len(data) <= limit:
        return False
    ends = line_ends(data)
    longest = int(np.diff(ends, prepend=-1).max(initial=0)) if len(ends) else 0
    longest = max(longest, len(data) - 1 - (int(ends[-1]) if len(ends) else -1))
    if longest <= limit:
        return False
    return b"1" * (limit + 1) in data.translate(_DIGIT_MAP)


_INT_MINUS_ZERO = re.compile(rb"-0(?![.0-9eE])")


def _has_negative_zero(raw: pa.Table) -> bool:
    """Whether a float column of a table holds -0.0."""
    for col in raw.columns:
        if pa.types.is_floating(col.type) and col.null_count < len(col):
            values = np.asarray(pc.drop_null(col).to_numpy())
            if np.any(np.signbit(values) & (values == 0)):
                return True
    return False


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


def _depth(text: bytes) -> int:
    """How deep the brackets of a JSON text nest, outside its strings (0 when the text has fewer
    than MAX_DEPTH brackets: it cannot be deeper)."""
    if text.count(b"[") + text.count(b"{") <= MAX_DEPTH:
        return 0
    arr = np.frombuffer(_STRING.sub(b"", text), dtype=np.uint8)
    step = ((arr == 0x5B) | (arr == 0x7B)).astype(np.int32) - ((arr == 0x5D) | (arr == 0x7D))
    return int(np.cumsum(step).max(initial=0))


def _closed(text: bytes) -> bool:
    """Whether every bracket of a JSON text outside its strings is closed, and no string is left
    open: the text is complete (if perhaps not valid)."""
    rest = _STRING.sub(b"", text)
    opens = rest.count(b"[") + rest.count(b"{")
    return b'"' not in rest and opens == rest.count(b"]") + rest.count(b"}") and rest.rstrip().endswith(b"}")


def too_deep_line(data: bytes, *, limit: int = 512) -> int | None:
    """The 1-based number of the first line nested deeper than `limit` brackets, or None.

    pyarrow's JSON reader recurses once per level and crashes the process on a line nested some
    thousands deep, so whole-file reads check depth first. Brackets are counted without regard to
    strings, which can only overstate the depth: a line that looks too deep is settled by Python's
    own parser, which fails cleanly (RecursionError) where the nesting is real."""
    arr = np.frombuffer(data, dtype=np.uint8)
    step = 1 << 24
    carry = 0  # bracket depth of the line still open at the end of the previous part
    checked_to = -1  # lines ending before this offset were settled by the parser
    for start in range(0, len(arr), step):
        part = arr[start : start + step]
        opens = (part == 0x5B) | (part == 0x7B)
        closes = (part == 0x5D) | (part == 0x7D)
        cum = np.cumsum(opens.astype(np.int64) - closes.astype(np.int64)) + carry
        newlines = part == 0x0A
        last_nl = np.maximum.accumulate(np.where(newlines, np.arange(len(part)), -1))
        base = np.where(last_nl >= 0, cum[np.maximum(last_nl, 0)], 0)
        depth = cum - base
        for pos in np.flatnonzero(depth > limit):
            at = start + int(pos)
            if at < checked_to:
                continue
            begin = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end
            try:
                json.loads(data[begin:end])
            except RecursionError:
                return data.count(b"\n", 0, begin) + 1
            except ValueError:
                pass
            checked_to = end
        carry = int(depth[-1]) if len(part) else carry
    return None
