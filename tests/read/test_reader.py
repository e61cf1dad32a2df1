"""Reader: every line accounted for, the fast and exact JSON paths agree, CSV/Parquet, timestamps."""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from corpus import (
    BAD_LINES,
    BASIC_PREFIX,
    DEEP_BUT_VALID,
    FLASK_PREFIX,
    LOG_PREFIX,
    PLAN_DRIFT_LIST,
    PLAN_DRIFT_NAMED,
    PLAN_SUMMARY,
    dumps,
    good_lines,
    join,
    list_record,
    mixed_log,
    read,
    reconciles,
    record,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlmon.errors import DataError
from mlmon.read import jsonlines, reader
from mlmon.read.reader import FileReport, InputReport, check_budget
from mlmon.read.records import NOT_BAD, REASONS, SEQ, FeatureSpec, Kind, ReadPlan, parse_timestamps

SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def _assert_same(a: tuple[pa.Table | None, InputReport], b: tuple[pa.Table | None, InputReport]) -> None:
    """Two reads gave the same canonical rows, counts and reasons."""
    (ta, ra), (tb, rb) = a, b
    assert (ta is None) == (tb is None)
    if ta is not None and tb is not None:
        assert ta.schema == tb.schema
        if not ta.equals(tb):  # show the first differing row
            for i, (x, y) in enumerate(zip(ta.to_pylist(), tb.to_pylist(), strict=True)):
                assert x == y, f"row {i} differs"
    assert [(f.lines, f.records, f.reasons, f.truncated) for f in ra.files] == [
        (f.lines, f.records, f.reasons, f.truncated) for f in rb.files
    ]
    assert sorted((e.source, e.line, e.reason) for e in ra.examples) == sorted(
        (e.source, e.line, e.reason) for e in rb.examples
    )


class _Counting:
    """Counts rows the fast path produced, to prove a test exercised it (Python reader only)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MLMON_READER", "python")
        self.rows = 0
        lock = threading.Lock()  # blocks are parsed on worker threads
        original = jsonlines.BlockParser._fast

        def counted(parser: jsonlines.BlockParser, data: bytes, first_line: int, n_lines: int) -> Any:
            out = original(parser, data, first_line, n_lines)
            with lock:
                self.rows += out[0].raw.num_rows
            return out

        monkeypatch.setattr(jsonlines.BlockParser, "_fast", counted)


# --- every bad line is counted under exactly its reason --------------------------------------


CASES = [(kind, line) for kind, lines in BAD_LINES.items() for line in lines]


@pytest.mark.parametrize(("kind", "line"), CASES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(CASES)])
def test_bad_line_counted_under_its_reason(tmp_path: Path, kind: str, line: bytes) -> None:
    body = join([*good_lines(30), line, *good_lines(30, start=30)])
    path = _write(tmp_path, "log.jsonl", body)
    fast = read([path])
    table, rep = fast
    assert rep.files[0].reasons == {kind: 1}
    assert rep.records == 60 and table is not None and table.num_rows == 60
    assert rep.lines == 61 and reconciles(rep)
    assert rep.bad_lines == (0 if kind in NOT_BAD else 1)
    if kind not in NOT_BAD:
        assert [(e.line, e.reason) for e in rep.examples] == [(31, kind)]
    _assert_same(fast, read([path], exact=True))


@pytest.mark.parametrize(("kind", "line"), CASES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(CASES)])
def test_bad_line_behind_logging_prefix(tmp_path: Path, kind: str, line: bytes) -> None:
    bad = LOG_PREFIX.encode() + line if line.strip(b" \t\r\x00").startswith(b"{") else line
    body = join([*good_lines(30, prefix=LOG_PREFIX), bad, *good_lines(30, 30, prefix=LOG_PREFIX)])
    path = _write(tmp_path, "app.log", body)
    fast = read([path])
    _, rep = fast
    assert rep.records == 60 and reconciles(rep)
    assert sum(rep.reasons.values()) == 1
    if bad is not line:
        # a record behind the prefix keeps its reason; text whose first `{` opens no JSON
        # object (`{oops`, a Python dict repr) is no record in any layout
        brace = line[line.find(b"{") + 1 :].lstrip(b" \t")
        opens_object = brace[:1] in (b'"', b"}")
        assert rep.files[0].reasons == ({kind: 1} if opens_object else {"non_record": 1})
    _assert_same(fast, read([path], exact=True))


def test_deep_nesting_in_an_unused_field_is_a_record_on_both_paths(tmp_path: Path) -> None:
    path = _write(tmp_path, "deep.jsonl", join([*good_lines(5), DEEP_BUT_VALID, *good_lines(5, 5)]))
    fast = read([path])
    assert fast[1].records == 11 and fast[1].reasons == {}
    _assert_same(fast, read([path], exact=True))


def test_nesting_100000_deep(tmp_path: Path) -> None:
    deep_obj = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    deep_list = b"[" * 100_000 + b"]" * 100_000
    path = _write(tmp_path, "deep.jsonl", join([*good_lines(5), deep_obj, deep_list, *good_lines(5, 5)]))
    fast = read([path])
    assert fast[1].records == 10
    assert fast[1].files[0].reasons == {"missing_field": 1, "non_record": 1}
    _assert_same(fast, read([path], exact=True))


# --- the last line, blank lines, framing ------------------------------------------------------


def test_last_line_without_newline_is_used(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.jsonl", join(good_lines(3), final=False))
    table, rep = read([path])
    assert rep.lines == 3 and rep.records == 3 and rep.reasons == {}


@pytest.mark.parametrize("cut", [1, 20, -1])
def test_partial_last_line_is_incomplete_tail_not_bad(tmp_path: Path, cut: int) -> None:
    last = dumps(record(99))[:cut]
    path = _write(tmp_path, "a.jsonl", join(good_lines(3)) + last)
    _, rep = read([path])
    assert rep.records == 3 and rep.reasons == {"incomplete_tail": 1} and rep.bad_lines == 0
    check_budget(rep, max_bad=0.01, strict=True)  # not an error, even with --strict


@pytest.mark.parametrize(
    ("body", "records", "reasons"),
    [
        (b"", 0, {}),
        (b"\n\n  \n\t\n", 0, {"blank": 4}),
        (b"\xef\xbb\xbf" + join(good_lines(2)), 2, {}),
        (join(good_lines(3), newline=b"\r\n"), 3, {}),
        (join(good_lines(3)) + b"\x00" * 4096, 3, {"blank": 1}),
        (join(good_lines(3)) + b"\x00" * 4096 + b"\n" + join(good_lines(2)), 5, {"blank": 1}),
        (b"\n" + join(good_lines(2)) + b"\n\n", 2, {"blank": 3}),
    ],
    ids=["empty", "blank-only", "bom", "crlf", "nul-tail", "nul-run", "blank-lines"],
)
def test_framing(tmp_path: Path, body: bytes, records: int, reasons: dict[str, int]) -> None:
    path = _write(tmp_path, "a.jsonl", body)
    fast = read([path])
    assert fast[1].records == records and fast[1].reasons == reasons and reconciles(fast[1])
    _assert_same(fast, read([path], exact=True))


def test_nul_only_line_in_a_prefixed_log_is_blank_not_an_example(tmp_path: Path) -> None:
    body = join([*good_lines(5, prefix=LOG_PREFIX), b"\x00\x00", b"hello"])
    path = _write(tmp_path, "nul.log", body)
    fast = read([path])
    assert fast[1].files[0].reasons == {"blank": 1, "non_record": 1}
    assert [(e.line, e.reason) for e in fast[1].examples] == [(7, "non_record")]
    _assert_same(fast, read([path], exact=True))


def test_bom_behind_logging_prefix(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.log", b"\xef\xbb\xbf" + join(good_lines(3, prefix=LOG_PREFIX)))
    fast = read([path])
    assert fast[1].records == 3 and fast[1].reasons == {}
    _assert_same(fast, read([path], exact=True))


def test_oversized_lines_are_counted_not_held(tmp_path: Path) -> None:
    big = b'{"pad": "' + b"x" * 5000 + b'"}'
    body = join([big, *good_lines(3), big, big, *good_lines(2, 3)]) + big
    path = _write(tmp_path, "a.jsonl", body)
    fast = read([path], max_line_bytes=1000)
    rep = fast[1]
    assert rep.records == 5 and rep.files[0].reasons == {"oversized": 4} and reconciles(rep)
    assert rep.lines == 9
    assert [e.line for e in rep.examples if e.reason == "oversized"] == [1, 5]
    _assert_same(fast, read([path], exact=True, max_line_bytes=1000))


def test_a_real_20_mb_line_with_the_default_cap(tmp_path: Path) -> None:
    big = b'{"pad": "' + b"x" * (20 << 20) + b'"}'
    path = _write(tmp_path, "a.jsonl", join([*good_lines(2), big, *good_lines(2, 2)]))
    _, rep = read([path])
    assert rep.records == 4 and rep.reasons == {"oversized": 1} and reconciles(rep)
    assert rep.examples[0].line == 3


# --- the fast path and the exact path agree ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "plan"),
    [
        ("predictions.jsonl", PLAN_SUMMARY),
        ("predictions.log", PLAN_SUMMARY),
        ("predictions_named.jsonl", PLAN_SUMMARY),
        ("predictions.jsonl", ReadPlan(by=None, summary=False, features=tuple(
            FeatureSpec(n, Kind.NUMERIC) for n in
            ("age", "income", "session_length", "clicks", "tenure_days", "score_a", "score_b", "score_c")
        ))),
        ("predictions_named.jsonl", PLAN_DRIFT_NAMED),
    ],
)
def test_fast_and_exact_agree_on_clean_samples(monkeypatch: pytest.MonkeyPatch, name: str,
                                               plan: ReadPlan) -> None:
    counting = _Counting(monkeypatch)
    fast = read([str(SAMPLES / name)], plan)
    assert counting.rows == fast[1].records > 0  # the fast path read every record
    _assert_same(fast, read([str(SAMPLES / name)], plan, exact=True))


def _small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many small blocks and fine splitting, so clean stretches of a dirty log go fast."""
    monkeypatch.setattr(reader, "iter_blocks", functools.partial(reader.iter_blocks, block_bytes=1 << 16))
    monkeypatch.setattr(jsonlines, "_MIN_EXACT_LINES", 16)


@pytest.mark.parametrize(
    "prefix", ["", LOG_PREFIX, BASIC_PREFIX, FLASK_PREFIX], ids=["jsonl", "logging", "basicConfig", "flask"]
)
@pytest.mark.parametrize("small", [False, True], ids=["16MiB-blocks", "64KiB-blocks"])
def test_fast_and_exact_agree_with_scattered_bad_lines(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                       prefix: str, small: bool) -> None:
    body, _ = mixed_log(12_000, 0.005, seed=7, prefix=prefix)
    path = _write(tmp_path, "mixed.log", body)
    if small:
        _small_blocks(monkeypatch)
    counting = _Counting(monkeypatch)
    fast = read([path], max_examples=10**6)
    rep = fast[1]
    assert reconciles(rep)
    assert rep.records > 11_800 and rep.bad_lines > 20
    if small:
        assert counting.rows > 5_000  # both paths really ran
    _assert_same(fast, read([path], exact=True, max_examples=10**6))


@pytest.mark.parametrize("marker", ["PRED: ", "[pred]*(x)\\ "])
def test_fast_and_exact_agree_behind_a_record_marker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                     marker: str) -> None:
    body, _ = mixed_log(6000, 0.01, seed=3, prefix=f"worker-3 | scored {marker}")
    m = marker.encode()
    odd = join([b"worker-3 | " + m + b"not json", b'no marker {"latency_ms": 1}', m + m + b"{}", b"  "])
    path = _write(tmp_path, "marker.log", odd + body)
    plan = dataclasses.replace(PLAN_SUMMARY, record_marker=marker)
    _small_blocks(monkeypatch)
    counting = _Counting(monkeypatch)
    fast = read([path], plan, max_examples=10**6)
    assert reconciles(fast[1]) and fast[1].records > 5800
    assert counting.rows > 3000  # the fast path read most records
    _assert_same(fast, read([path], plan, exact=True, max_examples=10**6))


def test_positional_lists_of_another_length(tmp_path: Path) -> None:
    # a log whose lists all have another length does not match the baseline: one clear error
    other = [dumps(list_record(i, input={"features": [1.0, 2.0]})) for i in range(50)]
    with pytest.raises(DataError, match="lists of 2 values but the baseline has 3 features"):
        read([_write(tmp_path, "two.jsonl", join(other))], PLAN_DRIFT_LIST)
    # one odd record first is a bad line; it does not decide how the rest is read
    lines = [dumps(list_record(0, input={"features": []})), *(dumps(list_record(i)) for i in range(1, 50))]
    path = _write(tmp_path, "odd_first.jsonl", join(lines))
    fast = read([path], PLAN_DRIFT_LIST)
    assert fast[1].records == 49 and fast[1].files[0].reasons == {"wrong_type": 1}
    _assert_same(fast, read([path], PLAN_DRIFT_LIST, exact=True))


def test_fast_and_exact_agree_on_drift_plans(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _small_blocks(monkeypatch)
    lines = [dumps(list_record(i)) for i in range(3000)]
    lines[100] = dumps(list_record(100, input={"features": [1, 2]}))  # wrong length
    lines[200] = dumps(list_record(200, input={"features": [1, "x", 3]}))
    lines[300] = dumps(list_record(300, input={"features": None}))
    lines[400] = b'{"input": {"features": [1, 2, NaN]}, "timestamp": 1}'
    path = _write(tmp_path, "list.jsonl", join(lines))
    fast = read([path], PLAN_DRIFT_LIST, max_examples=10**6)
    # a value of the wrong type (`"x"` for a number) is counted for its feature, the record kept
    assert fast[1].files[0].reasons == {"wrong_type": 1, "missing_field": 1, "non_finite": 1}
    assert fast[0].column("_type_errors").drop_null().to_pylist() == ["1"]
    _assert_same(fast, read([path], PLAN_DRIFT_LIST, exact=True, max_examples=10**6))

    named = [dumps(record(i)) for i in range(3000)]
    named[10] = dumps(record(10, input={"features": {"age": "old", "income": 1, "country": "US"}}))
    named[20] = dumps(record(20, input={"features": {"country": ["US"]}}))
    named[30] = dumps(record(30, input={"features": {"country": True, "mobile": "TRUE"}}))
    path = _write(tmp_path, "named.jsonl", join(named))
    fast = read([path], PLAN_DRIFT_NAMED, max_examples=10**6)
    assert fast[1].files[0].reasons == {}
    names = [s.name for s in PLAN_DRIFT_NAMED.features or ()]
    errors = sorted(",".join(names[int(j)] for j in t.split(","))
                    for t in fast[0].column("_type_errors").drop_null().to_pylist())
    assert errors == ["age", "country"]
    _assert_same(fast, read([path], PLAN_DRIFT_NAMED, exact=True, max_examples=10**6))


# --- property: nothing crashes the reader, and every line is accounted for --------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["timestamp", "latency_ms", "status", "success", "model_version",
                         "prediction", "class", "confidence", "input", "features", "x"])
        | st.text(max_size=5),
        children, max_size=6),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000), name=st.sampled_from(["a.jsonl", "a.log", "a.csv"]))
def test_arbitrary_bytes_never_crash_and_reconcile(tmp_path: Path, data: bytes, name: str) -> None:
    path = _write(tmp_path, name, data)
    try:
        table, rep = read([path], max_line_bytes=500)
    except DataError as exc:
        # one clear error for the whole file: a CSV pyarrow cannot parse, Parquet's magic, or
        # compressed data (by its magic bytes) of which not one line could be read
        assert name.endswith(".csv") or data.startswith(b"PAR1") or "not one line could be read" in str(exc)
        return
    assert reconciles(rep)
    assert rep.records == (0 if table is None else table.num_rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(_json_values, max_size=30), prefix=st.sampled_from(["", LOG_PREFIX]),
       tail=st.booleans())
def test_arbitrary_json_values_never_crash_and_reconcile(tmp_path: Path, values: list[Any], prefix: str,
                                                         tail: bool) -> None:
    lines = [prefix.encode() + json.dumps(v).encode() for v in values]
    lines.append(prefix.encode() + dumps(record(1)))  # one record the layout can be sniffed from
    path = _write(tmp_path, "a.log", join(lines, final=not tail))
    fast = read([path])
    assert reconciles(fast[1])
    assert fast[1].lines == len(lines)
    _assert_same(fast, read([path], exact=True))
    for plan in (PLAN_DRIFT_LIST, PLAN_DRIFT_NAMED):
        table, rep = read([path], plan)
        assert reconciles(rep)


# --- CSV and Parquet --------------------------------------------------------------------------

CSV_PLAN = ReadPlan(by=None, summary=False,
                    features=(FeatureSpec("a", Kind.NUMERIC), FeatureSpec("c", Kind.CATEGORICAL)))


def _csv_rows(tmp_path: Path, body: bytes, name: str = "f.csv") -> tuple[list[tuple[Any, Any]], InputReport]:
    table, rep = read([_write(tmp_path, name, body)], CSV_PLAN)
    assert reconciles(rep)
    rows = [] if table is None else list(zip(table.column("feature:a").to_pylist(),
                                             table.column("feature:c").to_pylist(), strict=True))
    return rows, rep


@pytest.mark.parametrize(
    ("body", "rows", "reasons"),
    [
        (b"timestamp,a,c\n2026-11-01T10:00:00Z,1.5,x\n", [(1.5, "x")], {}),
        (b"c,timestamp,a\nx,2026-11-01T10:00:00Z,1.5\n", [(1.5, "x")], {}),
        (b"c,extra,timestamp,a\nx,9,2026-11-01T10:00:00Z,1.5\n", [(1.5, "x")], {}),
        (b"c,timestamp\nx,2026-11-01T10:00:00Z\n", [(None, "x")], {}),
        (b"timestamp,a,c\n", [], {}),
        (b"timestamp,a,c\nT,1,x\nT,2\nT,3,y,z\nT,4,w\n".replace(b"T,", b"2026-11-01T10:00:00Z,"),
         [(1.0, "x"), (4.0, "w")], {"bad_row": 2}),
        (b'timestamp,a,c\n2026-11-01T10:00:00Z,1,"two\nlines"\n2026-11-01T10:00:01Z,2,y\n',
         [(1.0, "two\nlines"), (2.0, "y")], {}),
        (b"\xef\xbb\xbftimestamp,a,c\r\n2026-11-01T10:00:00Z,1,x\r\n2026-11-01T10:00:01Z,2,TRUE\r\n",
         [(1.0, "x"), (2.0, "true")], {}),
        (b"timestamp,a,c\n2026-11-01T10:00:00Z,1,x\xff\n2026-11-01T10:00:01Z,2,y\n", [(2.0, "y")],
         {"bad_encoding": 1}),
        (b"timestamp,a,c\nT,abc,x\nT,nan,x\nT,1e400,x\nT,,\nT,-3,q\n".replace(
            b"T,", b"2026-11-01T10:00:00Z,"),
         [(None, "x"), (-3.0, "q")], {"non_finite": 2, "missing_field": 1}),  # abc: a type error
        (b"timestamp,a,c\nyesterday,1,x\n1793527200,2,y\n", [(2.0, "y")], {"bad_timestamp": 1}),
    ],
    ids=["plain", "reordered", "extra-column", "missing-column", "header-only", "ragged",
         "quoted-newline", "bom-crlf", "invalid-utf8", "bad-values", "timestamps"],
)
def test_csv(tmp_path: Path, body: bytes, rows: list[tuple[Any, Any]], reasons: dict[str, int]) -> None:
    got, rep = _csv_rows(tmp_path, body)
    assert got == rows
    assert rep.files[0].reasons == reasons
    assert rep.files[0].format == "csv"


def test_csv_duplicate_header_is_a_clear_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"f\.csv: .*'a' more than once"):
        _csv_rows(tmp_path, b"timestamp,a,a,c\n2026-11-01T10:00:00Z,1,2,x\n")


def test_parquet(tmp_path: Path) -> None:
    t = pa.table({"timestamp": pa.array([1793527200.0, 1793527201.0, None]),
                  "a": pa.array([1.0, float("nan"), 3.0]), "c": pa.array(["x", "y", None])})
    pq.write_table(t, tmp_path / "f.parquet")
    table, rep = read([str(tmp_path / "f.parquet")], CSV_PLAN)
    assert rep.files[0].format == "parquet" and reconciles(rep)
    assert table is not None and table.column("feature:a").to_pylist() == [1.0, 3.0]
    assert rep.files[0].reasons == {"non_finite": 1}


def test_a_parquet_row_that_failed_a_check_is_shown_by_its_row_and_why(tmp_path: Path) -> None:
    """A Parquet row has no line of text to show: its example names the row and says a field
    failed the check, in plain words."""
    t = pa.table({"timestamp": pa.array([1793527200.0, 1793527201.0, 1793527202.0]),
                  "a": pa.array([1.0, float("inf"), 3.0]), "c": pa.array(["x", "y", "z"])})
    pq.write_table(t, tmp_path / "f.parquet")
    _, rep = read([str(tmp_path / "f.parquet")], CSV_PLAN)
    assert [(e.line, e.reason, e.text) for e in rep.examples] == [
        (2, "non_finite", "(row with a field that failed the check)")]


def test_rows_are_numbered_in_reading_order_across_files(tmp_path: Path) -> None:
    """Each record used gets the next number in reading order, across files: records of one
    time stamp keep the order they were read in (`--last-records` keeps the last read)."""
    sizes = (5, 3, 4)
    paths = [_write(tmp_path, f"{k}.log", join(dumps(record(100 * k + i)) for i in range(n)))
             for k, n in enumerate(sizes)]
    for reader_name in ("native", "python"):
        table, rep = read(paths, reader_name=reader_name)
        assert table is not None and rep.records == sum(sizes)
        assert table.column(SEQ).to_pylist() == list(range(sum(sizes)))


def test_the_report_holds_the_fields_and_containers_the_records_have(tmp_path: Path) -> None:
    """What an option naming a missing field suggests from: every field path of the records, and
    which of them hold an object or a list."""
    recs = [{"latency_ms": 5, "status": "success", "model_version": "v1",
             "meta": {"host": "a", "zone": {"id": 3}}, "tags": ["x"]},
            {"latency_ms": 7, "status": "error", "extra": None}]
    path = _write(tmp_path, "app.log", b"".join(json.dumps(r).encode() + b"\n" for r in recs))
    for reader_name in ("native", "python"):
        _, rep = read([path], reader_name=reader_name)
        assert rep.records == 2
        assert rep.fields_seen == {"latency_ms", "status", "model_version", "meta", "meta.host",
                                   "meta.zone", "meta.zone.id", "tags", "extra"}
        assert rep.containers_seen == {"meta", "meta.zone", "tags"}


def test_feature_log_for_summary_is_a_clear_data_error() -> None:
    with pytest.raises(DataError, match="no serving fields.*drift"):
        read([str(SAMPLES / "features.csv")])


# --- timestamps -------------------------------------------------------------------------------


def _parse(texts: list[str], tz: str = "UTC") -> list[str | None]:
    arr, bad = parse_timestamps(pa.array(texts, pa.string()), pa.nulls(len(texts), pa.float64()), tz)
    out = [None if v is None else v.isoformat() for v in arr.to_pylist()]
    assert [o is None for o in out] == list(bad)
    return out


def test_timestamp_offsets_z_and_logging_form() -> None:
    assert _parse([
        "2026-11-01T10:00:00Z", "2026-11-01t10:00:00z", "2026-11-01T12:00:00+02:00",
        "2026-11-01T12:00:00+0200", "2026-11-01T04:00:00-05:30", "2026-11-01 10:00:00,250",
        " 2026-11-01T10:00:00Z ", "2026-11-01T10:00:00",
    ]) == [
        "2026-11-01T10:00:00+00:00", "2026-11-01T10:00:00+00:00", "2026-11-01T10:00:00+00:00",
        "2026-11-01T10:00:00+00:00", "2026-11-01T09:30:00+00:00", "2026-11-01T10:00:00.250000+00:00",
        "2026-11-01T10:00:00+00:00", "2026-11-01T10:00:00+00:00",
    ]


def test_naive_timestamps_in_a_zone_with_dst() -> None:
    got = _parse([
        "2026-11-01 10:00:00,000",  # CET (+01)
        "2026-07-01T10:00:00",  # CEST (+02)
        "2026-10-25 02:30:00",  # the fold: earlier instant (CEST)
        "2026-03-29 02:30:00",  # the gap: moves to its end, 03:00 CEST
        "2026-11-01T10:00:00Z",  # an offset wins over the zone
    ], "Europe/Berlin")
    assert got == [
        "2026-11-01T09:00:00+00:00", "2026-07-01T08:00:00+00:00", "2026-10-25T00:30:00+00:00",
        "2026-03-29T01:00:00+00:00", "2026-11-01T10:00:00+00:00",
    ]


def test_unparseable_and_far_future_timestamps_are_bad() -> None:
    assert _parse(["yesterday", "", "2026-13-01T00:00:00Z", "9999-12-31T23:59:59Z",
                   "2262-04-12T00:00:00Z"]) == [None] * 5


def test_numeric_timestamps_by_magnitude() -> None:
    nums = [1793527200, 1793527200_000, 1793527200_000_000, 1.7935272e18, 1e300]
    arr, bad = parse_timestamps(pa.nulls(len(nums), pa.string()), pa.array(nums, pa.float64()), "UTC")
    values = arr.to_pylist()
    assert [v.isoformat() if v else None for v in values[:4]] == ["2026-11-01T10:00:00+00:00"] * 4
    assert values[4] is None and list(bad) == [False] * 4 + [True]


# --- the bad-line budget ------------------------------------------------------------------------


def _report(records: int, reasons: dict[str, int], truncated: str | None = None) -> InputReport:
    f = FileReport("f", "jsonl", "none", records + sum(reasons.values()), records, reasons, truncated)
    return InputReport((f,), f.lines, records, reasons, f.bad_lines, ())


def test_budget() -> None:
    check_budget(_report(99, {"bad_json": 1}), max_bad=0.01, strict=False)
    check_budget(_report(10, {"blank": 100, "non_record": 100, "incomplete_tail": 1}), max_bad=0.01,
                 strict=True)
    with pytest.raises(DataError, match=r"2 bad lines of 100 record lines \(2.0%\).*bad_json: 2"):
        check_budget(_report(98, {"bad_json": 2}), max_bad=0.01, strict=False)
    check_budget(_report(98, {"bad_json": 2}), max_bad=0.05, strict=False)
    check_budget(_report(98, {"bad_json": 2}), max_bad=2, strict=False)
    with pytest.raises(DataError, match="--strict: 1 bad line"):
        check_budget(_report(1000, {"wrong_type": 1}), max_bad=0.5, strict=True)
    with pytest.raises(DataError, match=r"^--strict: a truncated file in the input: f \(gzip stream ends\)$"):
        check_budget(_report(1000, {}, "gzip stream ends"), max_bad=0.5, strict=True)
    with pytest.raises(DataError, match="no valid record: the input is empty"):
        check_budget(_report(0, {}), max_bad=0.01, strict=False)
    with pytest.raises(DataError, match=r"no valid record in 3 lines \(non_record: 3\)"):
        check_budget(_report(0, {"non_record": 3}), max_bad=0.01, strict=False)


def test_reasons_are_known() -> None:
    assert set(BAD_LINES) <= set(REASONS) and NOT_BAD <= set(REASONS)


def test_records_without_a_timestamp_take_their_logging_prefix_time(tmp_path: Path) -> None:
    lines = ["2026-11-01 10:00:00,000 - svc - INFO - service started"]
    for i in range(40):
        rec: dict[str, object] = {"model_version": "v1", "latency_ms": float(i), "status": "success"}
        if i % 10 == 0:
            rec["timestamp"] = "2026-11-01T09:00:00Z"  # a record's own time wins
        lines.append(f"2026-11-01 10:00:{i:02d},250 - svc - INFO - Prediction: {json.dumps(rec)}")
    lines.append('{"model_version": "v1", "latency_ms": 1.0}')  # no prefix, no time: stays null
    path = tmp_path / "svc.log"
    path.write_text("\n".join(lines) + "\n")
    fast, exact_ = read([str(path)]), read([str(path)], exact=True)
    _assert_same(fast, exact_)
    table = fast[0]
    assert table is not None
    got = pa.compute.cast(table.column("timestamp"), pa.int64()).to_pylist()
    base = 1793527200 * 10**9  # 2026-11-01T10:00:00Z
    want = [
        base - 3600 * 10**9 if i % 10 == 0 else base + i * 10**9 + 250 * 10**6 for i in range(40)
    ] + [None]
    assert got == want


def test_too_deep_line_finds_real_nesting_only() -> None:
    from mlmon.read.jsonlines import too_deep_line

    ok = b'{"a": 1, "b": [1, 2, {"c": 3}]}\n' * 3
    deep = b'{"a": ' + b"[" * 20000 + b"]" * 20000 + b"}\n"
    in_string = b'{"a": "' + b"[" * 20000 + b'"}\n'
    assert too_deep_line(ok) is None
    assert too_deep_line(ok + deep + ok) == 4
    assert too_deep_line(ok + in_string + ok) is None  # brackets inside a string are not nesting
    assert too_deep_line(ok + in_string + deep) == 5
    assert too_deep_line(b'{"a": [[[[\n' * 300 + ok) is None  # broken lines do not add up


def test_baseline_of_deeply_nested_json_lines_is_a_data_error(tmp_path: Path) -> None:
    """pyarrow's JSON reader crashed the process (SIGSEGV) on a line nested 10,000 deep."""
    import subprocess
    import sys

    path = tmp_path / "deep.jsonl"
    path.write_bytes(b'{"a": 1}\n' + b'{"a": ' + b"[" * 20000 + b"]" * 20000 + b"}\n")
    out = tmp_path / "b.json"
    done = subprocess.run([sys.executable, "-m", "mlmon", "baseline", str(path), "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 65, done.stderr
    assert "deep.jsonl:2: a value nested too deep" in done.stderr
    assert not out.exists()
