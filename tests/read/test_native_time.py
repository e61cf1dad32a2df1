"""Timestamps read by the compiled reader against `parse_timestamps`, the definition.

The Rust side reads the shapes logs nearly always use into UTC nanoseconds and leaves every other
time to Python (`_ts_ns` null). Each time here goes both ways: through `parse_timestamps` alone,
and through the native reader then `check_rows`. The two must give the same instant or the same
`bad_timestamp`, and wherever the native side gave a value it must be Python's. Generated times
cover every part of the shape (out-of-range fields, fraction lengths, both separators, offsets in
each form, `Z`, commas, spaces, case); epochs cover each magnitude; --log-timezone covers DST.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlmon.read import native
from mlmon.read.jsonlines import BlockParser, BlockResult, Layout
from mlmon.read.records import TIMESTAMP, TS_NS, ReadPlan, check_rows, parse_timestamps, reason_code

pytestmark = pytest.mark.skipif(
    not native.available() and not os.environ.get("CI"),
    reason="the compiled reader is not built (no Rust toolchain)",
)
FUZZ = int(os.environ.get("MLMON_FUZZ_EXAMPLES", "0"))
LAYOUT = Layout(prefixed=False, schema=None, features_list=False, prediction_leaf=None)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "utc", "Etc/UTC"]


def _python(values: list[str | float | int], tz: str) -> list[tuple[int | None, bool]]:
    """(UTC ns or None, bad) per value, from parse_timestamps alone."""
    text = pa.array([v if isinstance(v, str) else None for v in values], pa.string())
    num = pa.array([None if isinstance(v, str) else float(v) for v in values], pa.float64())
    ts, bad = parse_timestamps(text, num, tz)
    return list(zip(ts.cast(pa.int64()).to_pylist(), bad.tolist(), strict=True))


Verdicts = list[tuple[int | None, bool]]


def _native(values: list[str | float | int], tz: str) -> tuple[Verdicts, list[int | None]]:
    """(UTC ns or None, bad) per value through the native reader and check_rows, and the
    nanoseconds the Rust side read itself (None: left to Python)."""
    plan = ReadPlan(log_timezone=tz)
    data = b"".join(json.dumps({"timestamp": v, "latency_ms": 1.0}).encode() + b"\n" for v in values)
    parser = native.NativeBlockParser(plan, LAYOUT, examples_wanted=lambda: False)
    result: BlockResult = parser.parse(data, 1)
    assert result.lines == len(values) and sum(p.raw.num_rows for p in result.pieces) == len(values)
    (piece,) = result.pieces
    rust = piece.raw.column(TS_NS).to_pylist()
    checked = check_rows(piece.raw, plan, require=())
    bad = checked.rejected != 0
    kept = iter(checked.table.column(TIMESTAMP).cast(pa.int64()).to_pylist())
    return [(None, True) if b else (next(kept), False) for b in bad.tolist()], rust


def agree(values: list[str | float | int], tz: str) -> list[int | None]:
    want = _python(values, tz)
    got, rust = _native(values, tz)
    for value, w, g, r in zip(values, want, got, rust, strict=True):
        assert g == w, f"{value!r} in {tz}: native {g}, Python {w}"
        if r is not None:
            assert (r, False) == w, f"{value!r} in {tz}: Rust read {r}, Python {w}"
    # the exact path (Python's json module, line by line) reads the same block the same way
    plan = ReadPlan(log_timezone=tz)
    data = b"".join(json.dumps({"timestamp": v, "latency_ms": 1.0}).encode() + b"\n" for v in values)
    exact = BlockResult([], Counter(), 0, [])
    BlockParser(plan, LAYOUT, examples_wanted=lambda: False)._exact(data, 1, exact, tail=False)
    (piece,) = exact.pieces
    assert check_rows(piece.raw, plan, require=()).rejected.tolist() == [
        reason_code("bad_timestamp") if b else 0 for _, b in want
    ]
    return rust


EDGES: list[str | float | int] = [
    "2026-11-01T10:00:00Z", "2026-11-01T10:00:00.883+00:00", "2026-11-01 10:00:00,123",
    "2026-11-01T10:00:00", "2026-11-01 10:00:00.123456789",
    "2026-11-01T10:00:00.1234567891Z", "2026-11-01T10:00:00.Z",
    "2026-11-01T10:00:00+02", "2026-11-01T10:00:00+0530", "2026-11-01T10:00:00-09:30",
    "2026-11-01T10:00:00-00:00",
    "2026-11-01T10:00:00+23:59", "2026-11-01T10:00:00+24:00", "2026-11-01T10:00:00+00:60",
    "2026-11-01t10:00:00z", " 2026-11-01T10:00:00Z ", "2026-11-01T10:00:00 Z", "2026-11-01T10:00Z",
    "2026-11-01",
    "2024-02-29T12:00:00Z", "2026-02-29T12:00:00Z", "2100-02-29T00:00:00Z", "2000-02-29T00:00:00Z",
    "2026-11-01T24:00:00Z", "2026-11-01T23:59:60Z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999999999Z",
    "1677-09-21T00:12:44Z", "1678-01-01T00:00:00+23:59", "2261-12-31T23:59:59.999999999-23:59",
    "2262-04-11T23:47:16.854775807Z", "2262-04-11T23:47:17Z", "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z", "2026-11-01 10:00:00,", "2026-11-01 10:00:00,1234567891",
    "2026-11-01T10:00:00,5Z", "2026-11-01T10:00:00.5,5",
    "2026-03-29 02:30:00", "2026-03-29T02:30:00", "2026-10-25 02:30:00", "2026-10-25 01:59:59.999",
    "2026-03-08 02:30:00", "2026-11-01 01:30:00", "2026-04-05 02:15:00", "2026-10-04 02:15:00",
    "nope", "", "2026-11-01T10:00:00Z\u0000", "\uff12026-11-01T10:00:00Z",
    0, 1, -1, 1.5, -1.5, 1793527200, 1793527200.883, 99_999_999_999, 1e11, 1793527200883,
    99_999_999_999_999, 1e14, 1793527200883123, 1e17, 1793527200883123456, 9.2e18, -9.2e18, 9.3e18, 1e300,
    -1e300, 0.000001, -0.0001,
]


@pytest.mark.parametrize("tz", ZONES)
def test_edge_cases_agree(tz: str) -> None:
    rust = agree(EDGES, tz)
    # the shapes logs use are read in Rust (so the test would fail if they went to Python)
    at = {v: r for v, r in zip(EDGES, rust, strict=True) if isinstance(v, str)}
    assert at["2026-11-01T10:00:00.883+00:00"] is not None
    assert at["2026-11-01T10:00:00+0530"] is not None
    naive = at["2026-11-01 10:00:00,123"]
    assert (naive is not None) == (tz in ("UTC", "utc")), "times with no offset: in Rust only under UTC"


def test_epochs_are_read_in_rust() -> None:
    rust = agree([1793527200, 1793527200883, 1793527200883123, 1793527200883123456, 1.5], "UTC")
    assert all(r is not None for r in rust)


def _budget(n: int) -> settings:
    return settings(max_examples=FUZZ or n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


two = st.integers(min_value=0, max_value=99).map(lambda v: f"{v:02d}")
near_two = st.sampled_from([0, 1, 9, 10, 12, 13, 23, 24, 28, 29, 30, 31, 32, 59, 60, 61]).map(
    lambda v: f"{v:02d}"
)
fields = st.one_of(near_two, two)
def _part(low: int, high: int) -> st.SearchStrategy[str]:
    """A two-digit field, mostly in its range (so most times are whole), sometimes not."""
    valid = st.integers(min_value=low, max_value=high).map(lambda v: f"{v:02d}")
    return st.one_of(valid, valid, valid, valid, valid, valid, fields)


offsets = st.one_of(
    st.sampled_from(["", "", "", "Z", "Z", "z", "+00:00", "-00:00", " ", "UTC"]),
    st.tuples(
        st.sampled_from("+-"), _part(0, 23), st.sampled_from(["", ":", ":", "!"]),
        st.one_of(st.just(""), _part(0, 59)),
    ).map("".join),
)


@st.composite
def stamps(draw: st.DrawFn) -> str:
    year = draw(
        st.one_of(st.integers(min_value=1960, max_value=2040), st.integers(min_value=1, max_value=9999))
    )
    date = f"{year:04d}-{draw(_part(1, 12))}-{draw(_part(1, 31))}"
    time = f"{draw(_part(0, 23))}:{draw(_part(0, 59))}:{draw(_part(0, 59))}"
    digits = st.text("0123456789", max_size=11)
    frac = draw(st.one_of(st.just(""), st.tuples(st.sampled_from(".,"), digits).map("".join)))
    sep = draw(st.sampled_from(["T", " ", "T", " ", "t", "_"]))
    text = date + sep + time + frac + draw(offsets)
    return draw(st.sampled_from(["{}"] * 8 + [" {}", "{} "])).format(text)


@st.composite
def whole_stamps(draw: st.DrawFn) -> str:
    """A time of the shape logs use, any instant the nanosecond range holds, any offset form."""
    when = draw(st.datetimes(min_value=datetime(1678, 1, 1), max_value=datetime(2261, 12, 31, 23, 59, 59)))
    text = when.strftime("%Y-%m-%d") + draw(st.sampled_from("T ")) + when.strftime("%H:%M:%S")
    places = draw(st.integers(min_value=0, max_value=9))
    if places:
        nanos = when.microsecond * 1000 + draw(st.integers(min_value=0, max_value=999))
        text += draw(st.sampled_from(".,")) + f"{nanos:09d}"[:places]
    minutes = draw(st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1))
    sign, (h, m) = "-" if minutes < 0 else "+", divmod(abs(minutes), 60)
    forms = ["", "Z", f"{sign}{h:02d}:{m:02d}", f"{sign}{h:02d}{m:02d}", f"{sign}{h:02d}"]
    return text + draw(st.sampled_from(forms))


epochs = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.sampled_from([1e11, 1e14, 1e17, 9.2e18]).flatmap(
        lambda edge: st.floats(min_value=edge * 0.999999, max_value=edge * 1.000001)
    ),
    st.floats(min_value=1.6e9, max_value=1.9e18),
)


@_budget(150)
@given(
    st.lists(st.one_of(whole_stamps(), whole_stamps(), stamps(), epochs), min_size=1, max_size=20),
    st.sampled_from(ZONES),
)
def test_hypothesis_timestamps(values: list[str | float | int], tz: str) -> None:
    agree(values, tz)


def test_a_block_of_times_python_must_read_keeps_them_in_order() -> None:
    values: list[str | float | int] = ["2026-11-01T10:00:00Z", "2026-11-01t10:00:00z", 1793527200, "x",
                                       "2026-10-25 02:30:00"] * 50
    rust = agree(values, "Europe/Berlin")
    left = np.array([r is None for r in rust]).reshape(50, 5).all(axis=0)
    assert left.tolist() == [False, True, False, True, True]
