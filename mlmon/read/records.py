"""Canonical record columns, the field mapping, and the per-row checks every reader shares."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pyarrow as pa

from mlmon.arrowcompute import pc

# Every line of input is either a used record or counted under exactly one of these.
REASONS: tuple[str, ...] = (
    "blank",
    "non_record",
    "incomplete_tail",
    "bad_encoding",
    "bad_json",
    "bad_prefix",
    "oversized",
    "wrong_type",
    "duplicate_key",
    "non_finite",
    "invalid_value",
    "missing_field",
    "bad_timestamp",
    "bad_row",
)
NOT_BAD = frozenset({"blank", "non_record", "incomplete_tail"})
"""Reasons that are a normal part of a log and do not count against the bad-line budget."""

TIMESTAMP = "timestamp"
GROUP = "group"
LATENCY = "latency_ms"
SUCCESS = "success"
PRED_CLASS = "pred_class"
CONFIDENCE = "confidence"
PRED_VALUE = "pred_value"
SEQ = "seq"
KEY = "join_key"
"""The join field's value (`--join-field`, a request id) as text, to match labels to predictions."""
FEATURE_PREFIX = "feature:"
TS_TEXT = "_ts_text"
TS_NUM = "_ts_num"
TS_NS = "_ts_ns"
"""The native reader's timestamps (int64 UTC nanoseconds) where it read them; null where
`parse_timestamps` reads `_ts_text`/`_ts_num` instead. Other readers leave the column out."""
ROW_REASON = "_reason"
TYPE_ERRORS = "_type_errors"
"""Per row, the features (indices into the plan's features, comma-separated) whose value had the
wrong type for its kind (text where a number is read); null when none. Their values are null."""

SUMMARY_FIELDS = (LATENCY, SUCCESS, PRED_CLASS, CONFIDENCE, PRED_VALUE)


class Kind(StrEnum):
    """How a feature is tested: numbers by KS, categories by chi-square."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


@dataclass(frozen=True)
class FieldMap:
    """Where each field lives in a record, as dotted paths (`input.features`)."""

    timestamp: str = "timestamp"
    latency: str = "latency_ms"
    status: str = "status"
    success: str = "success"
    features: str = "input.features"
    prediction: str = "prediction"
    pred_class: str = "prediction.class"
    confidence: str = "prediction.confidence"


@dataclass(frozen=True)
class FeatureSpec:
    """A feature the reader must extract: its name and how it is tested."""

    name: str
    kind: Kind


@dataclass(frozen=True)
class ReadPlan:
    """Everything the readers need to turn lines into canonical columns; made once per run."""

    fields: FieldMap = field(default_factory=FieldMap)
    by: str | None = "model_version"
    """Dotted path of the field to group by, or None."""
    summary: bool = True
    """Read the serving fields (latency, status, prediction)."""
    features: tuple[FeatureSpec, ...] | None = None
    """Features to read (drift), in baseline column order; None reads no features."""
    record_marker: str | None = None
    """When set, only lines containing this text are records; the JSON follows it."""
    log_timezone: str = "UTC"
    join: str | None = None
    """Dotted path of the join field (`--join-field request_id`) read into KEY, or None."""
    success_values: frozenset[str] = frozenset({"success", "ok"})

    def feature_column(self, name: str) -> str:
        return FEATURE_PREFIX + name


def canonical_schema(plan: ReadPlan) -> pa.Schema:
    """The columns every reader produces for a plan (before timestamp parsing)."""
    cols: list[pa.Field] = [pa.field(TS_TEXT, pa.string()), pa.field(TS_NUM, pa.float64())]
    if plan.by is not None:
        cols.append(pa.field(GROUP, pa.string()))
    if plan.join is not None:
        cols.append(pa.field(KEY, pa.string()))
    if plan.summary:
        cols += [
            pa.field(LATENCY, pa.float64()),
            pa.field(SUCCESS, pa.bool_()),
            pa.field(PRED_CLASS, pa.string()),
            pa.field(CONFIDENCE, pa.float64()),
            pa.field(PRED_VALUE, pa.float64()),
        ]
    for spec in plan.features or ():
        kind = pa.float64() if spec.kind is Kind.NUMERIC else pa.string()
        cols.append(pa.field(plan.feature_column(spec.name), kind))
    if plan.features:
        cols.append(pa.field(TYPE_ERRORS, pa.string()))
    return pa.schema(cols)


def success_from(status: pa.Array, success: pa.Array, values: frozenset[str]) -> pa.Array:
    """Success per row: from the status text when present, else from a boolean field.

    The status is lower-cased as Python's `str.lower()` does (the exact path's rule): Arrow's
    utf8_lower agrees on ASCII, but not on every other letter (`\u0130` is `i\u0307` in Python,
    and Arrow's Unicode tables are newer than Python's), so non-ASCII statuses are decided once
    per distinct value in Python."""
    value_set = pa.array(sorted(values), pa.string())
    if pc.all(pc.string_is_ascii(status)).as_py() is not False:
        by_status = pc.is_in(pc.utf8_lower(status), value_set=value_set)
    else:
        distinct = pc.unique(status).drop_null()
        hit = pa.array([s.lower() in values for s in distinct.to_pylist()], pa.bool_())
        by_status = pc.take(hit, pc.index_in(status, value_set=distinct))
    by_status = pc.if_else(pc.is_null(status), pa.scalar(None, pa.bool_()), by_status)
    return pc.coalesce(by_status, success)


_REASON_CODES = {name: i + 1 for i, name in enumerate(REASONS)}


def reason_code(name: str) -> int:
    return _REASON_CODES[name]


def reason_name(code: int) -> str:
    return REASONS[code - 1]


@dataclass(frozen=True)
class Checked:
    """Rows that passed the shared checks, and a reason code per row that did not."""

    table: pa.Table
    """Valid rows: canonical columns with `timestamp` parsed (UTC, ns)."""
    rejected: np.ndarray
    """Reason code per input row (0 = kept), aligned with the input rows."""


def check_rows(
    raw: pa.Table, plan: ReadPlan, *, require: tuple[str, ...], pre: np.ndarray | None = None
) -> Checked:
    """The per-row checks shared by every reader (JSON fast and exact paths, CSV, Parquet).

    Order of precedence: a reason the reader already gave (`pre`), non-finite numbers,
    invalid values (negative latency, confidence outside [0, 1]), none of the fields the
    command needs (`require`), bad timestamp. Category text `True`/`FALSE`/... becomes
    `true`/`false`, so a JSON boolean and a CSV boolean are the same category.
    """
    n = raw.num_rows
    reason = np.zeros(n, dtype=np.uint8) if pre is None else pre.astype(np.uint8, copy=True)

    def mark(mask: np.ndarray, name: str) -> None:
        reason[(reason == 0) & mask] = reason_code(name)

    # columns by position, names looked up in a set: per-column lookups in the name list
    # made a run quadratic in the feature count
    schema = raw.schema
    names = set(schema.names)
    numeric_cols = [
        i for i, fld in enumerate(schema) if pa.types.is_floating(fld.type) and fld.name != TS_NUM
    ]
    for i in numeric_cols:
        values = raw.column(i).to_numpy(zero_copy_only=False)
        with np.errstate(invalid="ignore"):
            mark(~np.isfinite(values) & ~_null_mask(raw.column(i)), "non_finite")
    ts_num = raw.column(TS_NUM).to_numpy(zero_copy_only=False)
    mark(~np.isfinite(ts_num) & ~_null_mask(raw.column(TS_NUM)), "non_finite")
    if LATENCY in names:
        lat = raw.column(LATENCY).to_numpy(zero_copy_only=False)
        with np.errstate(invalid="ignore"):
            mark(lat < 0, "invalid_value")
    if CONFIDENCE in names:
        conf = raw.column(CONFIDENCE).to_numpy(zero_copy_only=False)
        with np.errstate(invalid="ignore"):
            mark((conf < 0) | (conf > 1), "invalid_value")
    if require:
        present = np.zeros(n, dtype=bool)
        for col in require:
            if col in names:
                present |= ~_null_mask(raw.column(col))
        if require and TYPE_ERRORS in names:  # a feature of the wrong type is there, not missing
            present |= ~_null_mask(raw.column(TYPE_ERRORS))
        mark(~present, "missing_field")
    if TS_NS in names:
        ts, bad_ts = _finish_timestamps(raw, plan.log_timezone)
    else:
        ts, bad_ts = parse_timestamps(raw.column(TS_TEXT), raw.column(TS_NUM), plan.log_timezone)
    mark(bad_ts, "bad_timestamp")
    keep = reason == 0
    table = raw.drop_columns([c for c in (TS_TEXT, TS_NUM, TS_NS) if c in names]).append_column(TIMESTAMP, ts)
    for i, fld in enumerate(table.schema):
        if fld.name.startswith(FEATURE_PREFIX) and pa.types.is_string(fld.type):
            table = table.set_column(i, fld.name, normalize_category(table.column(i)))
    if not keep.all():
        table = table.filter(pa.array(keep))
    return Checked(table, reason)


def _finish_timestamps(raw: pa.Table, tz: str) -> tuple[pa.Array, np.ndarray]:
    """The native reader's timestamps, and `parse_timestamps` for the rows it left to Python."""
    ns = _as_array(raw.column(TS_NS), pa.int64())
    left = ns.null_count
    if left == 0:
        return ns.view(_TS_TYPE), np.zeros(len(ns), dtype=bool)  # the same int64s, no compute kernel
    known = ~_null_mask(ns)
    out = np.array(pc.fill_null(ns, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    bad = np.zeros(len(ns), dtype=bool)
    idx = np.flatnonzero(~known)
    rest = pa.array(idx)
    ts, rest_bad = parse_timestamps(
        _as_array(raw.column(TS_TEXT), pa.string()).take(rest),
        _as_array(raw.column(TS_NUM), pa.float64()).take(rest),
        tz,
    )
    out[idx] = np.asarray(pc.fill_null(ts.cast(pa.int64()), 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    known[idx] = ~_null_mask(ts)
    bad[idx] = rest_bad
    return pa.array(out, _TS_TYPE, mask=~known), bad


def naive_is_utc(tz: str) -> bool:
    """Whether `parse_timestamps` reads a time with no offset as UTC under this --log-timezone."""
    return tz in ("UTC", "utc", "Z")


def normalize_category(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Booleans written as text in any case are the categories `true` and `false`."""
    lowered = pc.utf8_lower(col)
    is_bool = pc.is_in(lowered, value_set=pa.array(["true", "false"]))
    return pc.if_else(pc.fill_null(is_bool, False), lowered, col)


def _null_mask(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    nulls = col.null_count
    if nulls == 0 or nulls == len(col):  # no bits to unpack (most columns, each block)
        return np.full(len(col), bool(nulls), dtype=bool)
    return np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False), dtype=bool)


_OFFSET_RE = r"(Z|z|[+-]\d\d(:?\d\d)?)$"
_COMMA_MS_RE = r"^(.*\d\d:\d\d:\d\d),(\d+)"
_TS_TYPE = pa.timestamp("ns", tz="UTC")


def parse_instant(text: str, tz: str) -> int | None:
    """One ISO 8601 time as UTC nanoseconds, read as a log's timestamps are; None if it is not one."""
    arr, bad = parse_timestamps(pa.array([text]), pa.array([None], pa.float64()), tz)
    if bad[0] or not arr[0].is_valid:  # as_py() refuses nanoseconds past microseconds
        return None
    return int(arr.cast(pa.int64())[0].as_py())


def parse_timestamps(
    text: pa.ChunkedArray | pa.Array, num: pa.ChunkedArray | pa.Array, tz: str
) -> tuple[pa.Array, np.ndarray]:
    """Parse timestamps to UTC nanoseconds; return them and a mask of unparseable ones.

    Text: ISO 8601 with or without an offset (`T` or space, `Z`, `+02:00`, `+0200`), and the
    logging form `2026-11-01 10:00:00,123`. Times with no offset are read in `tz`; in the DST
    fold the earlier instant is taken, a time in the DST gap moves to the end of the gap.
    Numbers: seconds since the epoch (milliseconds, microseconds or nanoseconds when larger
    than 1e11, 1e14, 1e17).
    """
    text = _as_array(text, pa.string())
    num = _as_array(num, pa.float64())
    n = len(text)
    out = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    valid = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    if n == 0:
        return pa.array(out, _TS_TYPE), bad
    if num.null_count < n:
        v = num.to_numpy(zero_copy_only=False)
        has = ~np.isnan(v)
        a = np.abs(v)
        scale = np.where(a < 1e11, 1e9, np.where(a < 1e14, 1e6, np.where(a < 1e17, 1e3, 1.0)))
        with np.errstate(invalid="ignore", over="ignore"):
            ns = v * scale
        ok = has & np.isfinite(ns) & (np.abs(ns) < 9.2e18)
        out[ok] = ns[ok].astype(np.int64)
        valid |= ok
        bad |= has & ~ok
    if text.null_count < n and _cast_whole(text, tz, out, valid):
        pass
    elif text.null_count < n:
        t = pc.utf8_upper(pc.utf8_trim_whitespace(text))  # RFC 3339 allows `t` and `z`
        t = pc.replace_substring_regex(t, pattern=_COMMA_MS_RE, replacement=r"\1.\2")
        aware = np.asarray(
            pc.fill_null(pc.match_substring_regex(t, pattern=_OFFSET_RE), False).to_numpy(
                zero_copy_only=False
            ),
            dtype=bool,
        )
        present = ~_null_mask(t)
        for mask, is_aware in ((present & aware, True), (present & ~aware, False)):
            idx = np.flatnonzero(mask)
            if len(idx) == 0:
                continue
            values, ok = _cast_times(t.take(pa.array(idx)), is_aware, tz)
            out[idx[ok]] = values[ok]
            valid[idx[ok]] = True
            bad[idx[~ok]] = True
    arr = pa.array(out, _TS_TYPE, mask=~valid)
    return arr, bad


def _cast_whole(text: pa.Array, tz: str, out: np.ndarray, valid: np.ndarray) -> bool:
    """The common case, all with an offset or all without, in one cast; False if it fails."""
    present = ~_null_mask(text)
    first = text[int(np.argmax(present))].as_py()
    guess = re.search(_OFFSET_RE, first.strip()) is not None
    for aware in (guess, not guess):
        try:
            values = _cast_all(text, aware, tz)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
            continue
        out[present] = values[present]
        valid |= present
        return True
    return False


def _as_array(col: pa.ChunkedArray | pa.Array, typ: pa.DataType) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks else pa.array([], typ)
    return col


def _cast_times(t: pa.Array, aware: bool, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """Cast text to int64 ns UTC; element-wise only when the whole-array cast fails."""
    try:
        return _cast_all(t, aware, tz), np.ones(len(t), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        pass
    values = np.zeros(len(t), dtype=np.int64)
    ok = np.zeros(len(t), dtype=bool)
    for i in range(len(t)):
        try:
            values[i] = _cast_all(t.slice(i, 1), aware, tz)[0]
            ok[i] = True
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
            pass
    return values, ok


def _cast_all(t: pa.Array, aware: bool, tz: str) -> np.ndarray:
    if aware:
        ts = pc.cast(t, _TS_TYPE)
    else:
        naive = pc.cast(t, pa.timestamp("ns"))
        if naive_is_utc(tz):
            ts = pc.cast(naive, _TS_TYPE)
        else:
            ts = pc.assume_timezone(
                naive, timezone=tz, ambiguous="earliest", nonexistent="latest"
            )
    return np.asarray(pc.fill_null(pc.cast(ts, pa.int64()), 0).to_numpy(), dtype=np.int64)
