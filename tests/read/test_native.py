"""The compiled reader against the Python exact path: same rows, reasons, examples and totals.

The exact path (`BlockParser._exact`, line by line through Python's json module) is the
definition. Every test here reads the same bytes both ways and requires identical canonical
tables (values compared by `repr`, so -0.0, NaN and text must match exactly), identical reason
counts and identical examples. Hypothesis feeds valid records, mutated records, duplicate keys
and arbitrary bytes; `MLMON_FUZZ_EXAMPLES=N` raises its budget for a long run outside CI.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
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
    gzip_bytes,
    join,
    list_record,
    mixed_log,
    read,
    record,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlmon.errors import DataError
from mlmon.read import native
from mlmon.read.jsonlines import MAX_DEPTH, BlockParser, BlockResult, Layout, sniff
from mlmon.read.records import (
    KEY,
    NOT_BAD,
    TIMESTAMP,
    TS_NS,
    TS_TEXT,
    FeatureSpec,
    FieldMap,
    Kind,
    ReadPlan,
    check_rows,
)

pytestmark = pytest.mark.skipif(
    not native.available() and not os.environ.get("CI"),
    reason="the compiled reader is not built (no Rust toolchain)",
)
SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"
FUZZ = int(os.environ.get("MLMON_FUZZ_EXAMPLES", "0"))
"""Examples per hypothesis test for a long differential run; 0 keeps the CI budget."""

PLAN_MARKER = ReadPlan(record_marker="Prediction: ")
PLAN_MIXED_LIST = ReadPlan(
    by=None, summary=False,
    features=(FeatureSpec("f0", Kind.NUMERIC), FeatureSpec("f1", Kind.CATEGORICAL),
              FeatureSpec("f2", Kind.NUMERIC)),
)
PLAN_ODD_FIELDS = ReadPlan(
    fields=FieldMap(timestamp="meta.ts", latency="t.ms", status="meta.status", prediction="out",
                    pred_class="out.label", confidence="out.p", features="x"),
    by="meta.model",
    features=(FeatureSpec("a.b", Kind.NUMERIC), FeatureSpec("c", Kind.CATEGORICAL)),
    success_values=frozenset({"ok", "fine"}),
)
PLAN_JOIN = replace(PLAN_SUMMARY, join="request_id")
"""--labels: the join field read as text, as the group is."""
PLAN_ODD_JOIN = replace(PLAN_ODD_FIELDS, join="meta.model")
"""The join field on the group's own path, under a nested object."""
PLANS = [PLAN_SUMMARY, PLAN_DRIFT_NAMED, PLAN_DRIFT_LIST, PLAN_MARKER, PLAN_MIXED_LIST, PLAN_ODD_FIELDS,
         PLAN_JOIN, PLAN_ODD_JOIN]
PLAN_IDS = ["summary", "drift-named", "drift-list", "marker", "mixed-list", "odd-fields", "join", "odd-join"]


def _layout(data: bytes, plan: ReadPlan) -> Layout:
    try:
        return sniff(data[: 1 << 20].split(b"\n")[:200], plan)
    except DataError:
        return Layout(prefixed=False, schema=None, features_list=False, prediction_leaf=None)


def _rows(result: BlockResult, blank: list[bool] | None = None) -> tuple[list[tuple[str, ...]], list[int]]:
    """Every row's values (repr) and line number. The native reader keeps a row's `_ts_text`
    only when it left the time to Python (null where `_ts_ns` holds it): that is checked here,
    and `blank` (the native rows whose time it read) nulls the same texts of the other reader's."""
    rows: list[tuple[str, ...]] = []
    lines: list[int] = []
    for piece in result.pieces:
        raw = piece.raw
        if TS_NS in raw.column_names:
            for ns, text in zip(raw.column(TS_NS).to_pylist(), raw.column(TS_TEXT).to_pylist(), strict=True):
                assert ns is None or text is None, (ns, text)
            raw = raw.drop_columns([TS_NS])
        for r in raw.to_pylist():
            if blank is not None and blank[len(rows)]:
                r[TS_TEXT] = None
            rows.append(tuple(repr(v) for v in r.values()))
        lines += [int(x) for x in piece.row_lines()]
    return rows, lines


def _ns_known(result: BlockResult) -> list[bool]:
    """For each native row: whether the Rust side read its time (`_ts_ns` set)."""
    return [ns is not None for piece in result.pieces for ns in piece.raw.column(TS_NS).to_pylist()]


def _capped(examples: list[tuple[int, str, bytes]], cap: int = 1000) -> list[tuple[int, str, bytes]]:
    """The first `cap` examples of bad lines and the first `cap` of normal ones, in line order."""
    taken: Counter[bool] = Counter()
    out = []
    for example in examples:
        normal = example[1] in NOT_BAD
        if taken[normal] < cap:
            taken[normal] += 1
            out.append(example)
    return out


def both(data: bytes, plan: ReadPlan, first_line: int = 1) -> tuple[BlockResult, BlockResult]:
    """Parse one block (whole lines) natively and with the exact path; assert they agree."""
    layout = _layout(data, plan)
    exact_parser = BlockParser(plan, layout, examples_wanted=lambda: True)
    exact = BlockResult([], Counter(), 0, [])
    exact_parser._exact(data, first_line, exact, tail=False)
    nat = native.NativeBlockParser(plan, layout, examples_wanted=lambda: True).parse(data, first_line)
    assert nat.lines == exact.lines
    assert +nat.reasons == +exact.reasons
    # a block gives at most 1000 examples of each kind, bad and normal (the reader shows 5)
    assert nat.examples == _capped(exact.examples)
    n_rows, n_lines = _rows(nat)
    e_rows, e_lines = _rows(exact, blank=_ns_known(nat))
    assert n_lines == e_lines
    for got, want, line in zip(n_rows, e_rows, e_lines, strict=True):
        assert got == want, f"line {line}"
    for piece in nat.pieces:
        assert piece.raw.schema == exact_parser.schema.append(pa.field(TS_NS, pa.int64()))
        piece.raw.validate(full=True)
    # the timestamps the native reader parsed, and the rest parsed in Python, are the exact path's
    assert _checked(nat, plan) == _checked(exact, plan)
    return nat, exact


def _checked(result: BlockResult, plan: ReadPlan) -> tuple[list[int], list[int | None]]:
    """Every row's check verdict (0: kept) and the UTC nanoseconds of the rows kept."""
    verdicts: list[int] = []
    stamps: list[int | None] = []
    for piece in result.pieces:
        checked = check_rows(piece.raw, plan, require=())
        verdicts += checked.rejected.tolist()
        stamps += checked.table.column(TIMESTAMP).cast(pa.int64()).to_pylist()
    return verdicts, stamps


# --- the corpus ---------------------------------------------------------------------------------


CASES = [(kind, line) for kind, lines in BAD_LINES.items() for line in lines]


@pytest.mark.parametrize("plan", PLANS, ids=PLAN_IDS)
@pytest.mark.parametrize(
    "prefix", ["", LOG_PREFIX, BASIC_PREFIX, FLASK_PREFIX], ids=["jsonl", "logging", "basicConfig", "flask"]
)
def test_corpus_lines(plan: ReadPlan, prefix: str) -> None:
    lines = []
    for i, (_, line) in enumerate(CASES):
        lines.append(prefix.encode() + dumps(record(i)))
        lines.append(prefix.encode() + line if line.strip(b" \t\r\x00").startswith(b"{") else line)
    lines += [prefix.encode() + DEEP_BUT_VALID, prefix.encode() + dumps(list_record(3))]
    nat, _ = both(join(lines), plan)
    if plan.record_marker is None or prefix:  # the marker is in the logging prefix
        assert sum(p.raw.num_rows for p in nat.pieces) > len(CASES) // 2


def test_every_reason_the_native_side_gives_agrees() -> None:
    nat, _ = both(join([*good_lines(5), *(line for _, line in CASES)]), PLAN_SUMMARY)
    given = {"blank", "non_record", "bad_encoding", "bad_json", "wrong_type", "duplicate_key"}
    assert given <= set(nat.reasons)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    "prefix", ["", LOG_PREFIX, BASIC_PREFIX, FLASK_PREFIX], ids=["jsonl", "logging", "basicConfig", "flask"]
)
def test_mixed_logs(seed: int, prefix: str) -> None:
    body, _ = mixed_log(3000, 0.05, seed, prefix=prefix)
    both(body, PLAN_SUMMARY, first_line=1)
    both(body, PLAN_DRIFT_NAMED, first_line=101)


@pytest.mark.parametrize("name", ["predictions.jsonl", "predictions.log", "predictions_named.jsonl"])
@pytest.mark.parametrize("plan", PLANS, ids=PLAN_IDS)
def test_sample_logs(name: str, plan: ReadPlan) -> None:
    both((SAMPLES / name).read_bytes(), plan)


def test_bom_blank_and_nul_lines() -> None:
    body = b"\xef\xbb\xbf" + join([*good_lines(3), b"", b" \x00", b"\x00\x00", b"\xef\xbb\xbf{}", b"\t\r"])
    nat, _ = both(body, PLAN_SUMMARY)
    assert nat.reasons == Counter({"blank": 3, "non_record": 1, "bad_prefix": 1})


def three(data: bytes, plan: ReadPlan, first_line: int = 1) -> BlockResult:
    """`both`, and the pyarrow fast path (`BlockParser.parse`) gives the same rows and reasons too."""
    nat, exact = both(data, plan, first_line)
    fast = BlockParser(plan, _layout(data, plan), examples_wanted=lambda: True).parse(data, first_line)
    assert +fast.reasons == +exact.reasons
    f_rows, f_lines = _rows(fast)
    e_rows, e_lines = _rows(exact)
    assert sorted(zip(f_lines, f_rows, strict=True)) == sorted(zip(e_lines, e_rows, strict=True))
    assert sorted((n, r) for n, r, _ in fast.examples if r != "non_record") == sorted(
        (n, r) for n, r, _ in exact.examples if r != "non_record"
    )
    return nat


ODD_LEADS = [
    b"\x00", b"\x00" * 40, b"\xef\xbb\xbf", b"\xef\xbb\xbf\xef\xbb\xbf", b"\xc2\xa0", b"\xe2\x80\x8b",
    b"\xe2\x80\xaf", b"\xe3\x80\x80", b"\xa0", b"\xff\xfe", b"\x1f", b"\x7f", b"\x08", b"\x00 \t",
    b" \x00", b"\t\xef\xbb\xbf ", b"\x1b[32m", b"\x1b[0m\x1b[1;31m ", b"\x00\x1b[K",
]
"""Bytes before a record that are neither whitespace nor text: NUL runs (a file cut while a writer
held its offset), a BOM past line 1 (files joined with cat), no-break, zero-width, narrow and
ideographic spaces, a Latin-1 no-break space and other invalid UTF-8, control characters, terminal
colour codes."""


@pytest.mark.parametrize(
    "plan", [PLAN_SUMMARY, PLAN_DRIFT_NAMED, PLAN_ODD_FIELDS], ids=["summary", "drift", "odd"]
)
@pytest.mark.parametrize(
    "prefix", ["", LOG_PREFIX, BASIC_PREFIX, FLASK_PREFIX], ids=["jsonl", "logging", "basicConfig", "flask"]
)
def test_a_record_behind_odd_bytes_is_a_bad_line_in_every_reader(plan: ReadPlan, prefix: str) -> None:
    p = prefix.encode()
    lines = good_lines(40, prefix=prefix)
    for i, lead in enumerate(ODD_LEADS):
        lines.insert(2 + 2 * i, lead + p + dumps(record(100 + i)))
    nat = three(join(lines), plan)
    assert nat.reasons["bad_prefix"] == len(ODD_LEADS)
    assert sum(p.raw.num_rows for p in nat.pieces) == 40
    shown = [(n, r) for n, r, _ in nat.examples]
    assert shown == [(3 + 2 * i, "bad_prefix") for i in range(len(ODD_LEADS))]


def test_odd_bytes_before_text_that_is_no_record_stay_non_record() -> None:
    lines = [
        *good_lines(10), b"\x00\x00Traceback (most recent call last):", b"\xc2\xa0  at line 3",
        b"\x1b[31mERROR\x1b[0m {not json}", b"\xef\xbb\xbfplain text", b"\x00 [1, 2]", b"\x00\x00 \x00",
        b"\xe2\x80\x8b2026-11-01 nothing", *good_lines(10, 10),
    ]
    for plan in (PLAN_SUMMARY, PLAN_DRIFT_NAMED):
        nat = three(join(lines), plan)
        assert nat.reasons == Counter({"non_record": 7})


def test_with_a_record_marker_odd_bytes_before_the_marker_do_not_matter() -> None:
    lines = [b"x Prediction: " + line for line in good_lines(10)]
    lines += [b"\x00\x00x Prediction: " + dumps(record(20)), b"\xc2\xa0Prediction: " + dumps(record(21))]
    lines += [b"x Prediction: \x00" + dumps(record(22)), b"\x00{no marker}"]
    nat = three(join(lines), PLAN_MARKER)
    assert nat.reasons == Counter({"bad_json": 1, "non_record": 1})
    assert sum(p.raw.num_rows for p in nat.pieces) == 12


def test_a_record_behind_odd_bytes_fails_the_budget_and_is_shown(tmp_path: Path) -> None:
    lines = good_lines(300)
    lines[100] = b"\x00" * 500 + lines[100]
    lines[200] = b"\xef\xbb\xbf" + lines[200]
    lines[250] = b"\xc2\xa0" + lines[250]
    lines[260] = b"\xe2\x80\x8b" + lines[260]
    path = tmp_path / "odd.jsonl"
    path.write_bytes(join(lines))
    for name in ("native", "python"):
        _, report = read([str(path)], reader_name=name)
        assert report.files[0].reasons == {"bad_prefix": 4} and report.records == 296
        assert [(e.line, e.reason) for e in report.examples] == [(101, "bad_prefix"), (201, "bad_prefix"),
                                                                 (251, "bad_prefix"), (261, "bad_prefix")]
    done = subprocess.run([sys.executable, "-m", "mlmon", "summary", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 65, done.stderr
    # the invisible bytes are shown escaped, so the reader of the message can see them
    assert "odd.jsonl:101: bad_prefix: \\x00\\x00" in done.stderr
    assert "odd.jsonl:201: bad_prefix: \\ufeff{" in done.stderr
    assert "odd.jsonl:251: bad_prefix: \\xa0{" in done.stderr
    assert "bad_prefix: 4" in done.stderr
    assert "Traceback" not in done.stderr


DEEP = 100_000


def _deep_values(depth: int) -> dict[str, bytes]:
    return {
        "list": b"[" * depth + b"]" * depth,
        "object": b'{"a":' * depth + b"1" + b"}" * depth,
        "objects in a list": b"[" + b'{"a":' * depth + b"1" + b"}" * depth + b"]",
    }


_DEEP_VALUES = _deep_values(DEEP)
_READ_FIELDS = ["timestamp", "model_version", "latency_ms", "status", "success", "prediction",
                "prediction.class", "prediction.confidence", "input.features", "input.features.age",
                "input.features.country"]


def _with_value(path: str, value: bytes, i: int = 1) -> bytes:
    rec = record(i)
    cur = rec
    parts = path.split(".")
    for part in parts[:-1]:
        cur = cur.setdefault(part, {})
    cur[parts[-1]] = "@DEEP@"
    return dumps(rec).replace(b'"@DEEP@"', value)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 990, DEEP])
@pytest.mark.parametrize("kind", list(_DEEP_VALUES))
@pytest.mark.parametrize("prefix", ["", LOG_PREFIX], ids=["jsonl", "logging"])
def test_a_value_too_deep_to_read_in_a_field_that_is_read_is_bad_json(
    kind: str, prefix: str, depth: int
) -> None:
    """Valid JSON nested deeper than MAX_DEPTH (500): too deep to read, whatever Python's stack
    allows. In a field mlmon reads it is bad_json in every reader; in a field it skips the record
    is used. (990 deep parses in Python or not depending on how deep its stack is already.)"""
    plan = replace(PLAN_DRIFT_NAMED, summary=True, by="model_version")
    p = prefix.encode()
    value = _deep_values(depth)[kind]
    lines = good_lines(20, prefix=prefix)
    for field in _READ_FIELDS:
        lines.append(p + _with_value(field, value))
    lines.append(p + _with_value("input.other", value))  # not read: a record
    nat = three(join(lines), plan)
    # a deep object where mlmon expects an object (the prediction, the features) only nests in
    # keys mlmon skips: the record is used, its class or features missing
    holders = {"prediction", "input.features"} if kind == "object" else set()
    assert nat.reasons == Counter({"bad_json": len(_READ_FIELDS) - len(holders)})
    assert sum(p.raw.num_rows for p in nat.pieces) == 21 + len(holders)


def test_a_value_as_deep_as_mlmon_reads_is_its_type() -> None:
    """At MAX_DEPTH a list where a number belongs is read, and is wrong_type in every reader."""
    lines = [*good_lines(20), _with_value("latency_ms", _deep_values(MAX_DEPTH - 1)["list"])]
    nat = three(join(lines), PLAN_SUMMARY)
    assert nat.reasons == Counter({"wrong_type": 1})


@pytest.mark.parametrize("reader_name", ["native", "python"])
def test_a_deep_last_line_is_bad_json_when_complete_and_incomplete_tail_when_cut(
    tmp_path: Path, reader_name: str
) -> None:
    head = join(good_lines(50))
    cases = {
        "complete.jsonl": (_with_value("latency_ms", _DEEP_VALUES["list"]), {"bad_json": 1}),
        "object.jsonl": (_with_value("prediction.class", _DEEP_VALUES["object"]), {"bad_json": 1}),
        "cut.jsonl": (_with_value("latency_ms", _DEEP_VALUES["list"])[: 60_000], {"incomplete_tail": 1}),
        "cut-in-string.jsonl": (b'{"x": "' + b"[" * 5000, {"incomplete_tail": 1}),
        "unused.jsonl": (_with_value("input.other", _DEEP_VALUES["list"]), {}),
    }
    for name, (last, reasons) in cases.items():
        path = tmp_path / name
        path.write_bytes(head + last)  # no newline: the last line may be mid-append
        got = read([str(path)], reader_name=reader_name)
        assert got[1].files[0].reasons == reasons, name
        assert got[1].records == 50 + (not reasons)
        exact = read([str(path)], exact=True)
        assert exact[1].files[0].reasons == reasons


def test_lines_python_must_decide() -> None:
    r = dumps(record(1))[:-1]
    lines = [
        r + b', "x": NaN}', r + b', "x": "\\ud800"}', r + b', "x": 1e400}', r + b"}\xc2\xa0",
        b'{"latency_ms": -0}', b'{"latency_ms": -0.0}', b'{"model_version": 123456789012345678901234}',
        b'{"model_version": 1.0}', b'{"model_version": "\\udc00"}', b'{"latency_ms": 1e400}',
        b'{"latency_ms": -Infinity}', b'{"x": ' + b"1" * 5000 + b"}", b'{"x": ' + b"1" * 5000 + b".5}",
        b"-Infinity", b"[NaN]", b"1e999", b"1" * 5000, b'"\\ud800"', b"[" * 600 + b"]" * 600,
        b"[" * 200 + b"]" * 200, b"\x0b{}\x1f", b"{}\x85",
    ]
    nat, _ = both(join(lines), PLAN_SUMMARY)
    assert nat.reasons["wrong_type"] >= 4


def test_whole_files_through_the_reader(tmp_path: Path) -> None:
    body, _ = mixed_log(5000, 0.03, 7, prefix=LOG_PREFIX)
    for name, data in (("a.log", body), ("b.jsonl.gz", gzip_bytes(join(good_lines(3000)) + b"{oops"))):
        path = tmp_path / name
        path.write_bytes(data)
        t1, r1 = read([str(path)], reader_name="native")
        t2, r2 = read([str(path)], exact=True)
        assert r1 == r2
        assert t1 is not None and t2 is not None and t1.equals(t2)


def test_the_reader_says_which_reader_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(native.READER_ENV, raising=False)
    assert native.reader_name() == ("native" if native.available() else "python")
    monkeypatch.setenv(native.READER_ENV, "python")
    assert native.reader_name() == "python"
    parser = native.block_parser(PLAN_SUMMARY, _layout(b"", PLAN_SUMMARY), examples_wanted=lambda: True)
    assert type(parser) is BlockParser


def test_ci_builds_the_native_reader() -> None:
    if os.environ.get("CI"):
        assert native.available(), "CI must build mlmon._native (cargo is on the machine)"


def test_buffers_are_wrapped_not_copied() -> None:
    nat, _ = both(join(good_lines(50)), PLAN_SUMMARY)
    col = nat.pieces[0].raw.column("latency_ms").chunk(0)
    assert isinstance(col.buffers()[1], pa.Buffer) and col.buffers()[1].size == 50 * 8


# --- hypothesis: valid records, mutated records, duplicate keys, arbitrary bytes -----------------


def _budget(n: int) -> Any:
    return settings(max_examples=FUZZ or n, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["success", "OK", "error", "Ok", "FINE", "\u212aO", "2026-11-01T10:00:00Z", "true"]),
)
values = st.recursive(scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=4), c,
                                                                                    max_size=4), max_leaves=8)
KEYS = ["timestamp", "model_version", "latency_ms", "status", "success", "prediction", "input", "class",
        "confidence", "features", "age", "income", "country", "mobile", "f0", "f1", "f2", "meta", "ts",
        "model", "t", "ms", "out", "label", "p", "x", "a", "b", "c"]


@st.composite
def json_text(draw: Any, depth: int = 0) -> str:
    """A JSON value as text, with duplicate keys allowed and mlmon's field names likely."""
    if depth < 3 and draw(st.booleans()):
        pairs = draw(st.lists(st.tuples(st.sampled_from(KEYS) | st.text(max_size=3),
                                        json_text(depth + 1)), max_size=6))
        if pairs and draw(st.integers(0, 4)) == 0:
            pairs.append(draw(st.sampled_from(pairs)))  # a duplicate key
        return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in pairs) + "}"
    if depth < 3 and draw(st.integers(0, 5)) == 0:
        return "[" + ", ".join(draw(st.lists(json_text(depth + 1), max_size=4))) + "]"
    return json.dumps(draw(scalars), ensure_ascii=draw(st.booleans()))


def _record_like(draw: Any) -> bytes:
    rec = record(draw(st.integers(0, 10**6)))
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from([["latency_ms"], ["status"], ["model_version"], ["timestamp"],
                                     ["prediction"], ["prediction", "class"], ["prediction", "confidence"],
                                     ["input", "features"], ["input", "features", "age"],
                                     ["input", "features", "country"], ["success"]]))
        node = rec
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[path[-1]] = draw(values)
    if draw(st.booleans()):
        rec["input"]["features"] = draw(st.lists(st.one_of(st.floats(allow_nan=False), st.integers(),
                                                           st.text(max_size=3)), min_size=2, max_size=4))
    return json.dumps(rec, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


def _mutate(draw: Any, line: bytes) -> bytes:
    data = bytearray(line)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(0, len(data) - 1)))
        op = draw(st.integers(0, 3))
        if op == 0 and data:
            del data[at]
        elif op == 1:
            data.insert(at, draw(st.sampled_from(b'{}[],:"\\ -0e.NaI\x00\xff\xed\t\r\x0b')))
        elif op == 2 and data:
            data[at] = draw(st.integers(0, 255))
        else:
            snippet = draw(st.sampled_from([b"NaN", b"Infinity", b'"\\ud800"', b"1e400", b'"a":1,', b",",
                                            b"-0", b"true", b"null", b"\\u00e9", b'\\"']))
            data[at:at] = snippet
    return bytes(data).replace(b"\n", b" ")


@st.composite
def lines(draw: Any) -> bytes:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        line = _record_like(draw)
    elif kind == 1:
        line = _mutate(draw, _record_like(draw))
    elif kind == 2:
        line = draw(json_text()).encode("utf-8", "surrogatepass")
    elif kind == 3:
        line = _mutate(draw, draw(json_text()).encode("utf-8", "surrogatepass"))
    else:
        line = draw(st.binary(max_size=40)).replace(b"\n", b"")
    prefix = draw(st.sampled_from([b"", b"", b"  ", LOG_PREFIX.encode(), b"2026-11-01T10:00:00 x ",
                                   b"junk Prediction: ", b"\xef\xbb\xbf", BASIC_PREFIX.encode(),
                                   FLASK_PREFIX.encode(), b"INFO:my app:", b"WARN:x:{ ", b"ERROR::",
                                   b"[2026-11-01 10:00:00] ", b"[2026-11-01 10:00:00 {] x: "]))
    return prefix + line


@_budget(150)
@given(st.lists(lines(), min_size=1, max_size=12), st.sampled_from(range(len(PLANS))))
def test_hypothesis_lines(block: list[bytes], plan_index: int) -> None:
    both(join(block), PLANS[plan_index], first_line=1)


@_budget(60)
@given(st.lists(st.binary(max_size=60), min_size=1, max_size=8), st.sampled_from(range(len(PLANS))))
def test_hypothesis_arbitrary_bytes(block: list[bytes], plan_index: int) -> None:
    both(join(line.replace(b"\n", b"") for line in block), PLANS[plan_index])


@_budget(60)
@given(st.integers(min_value=-(2**80), max_value=2**80) | st.floats(allow_nan=False),
       st.sampled_from(["latency_ms", "model_version", "timestamp"]), st.booleans())
def test_hypothesis_numbers(value: float, field: str, upper: bool) -> None:
    text = json.dumps(value)
    if upper and isinstance(value, float) and math.isfinite(value):
        text = text.upper()
    both(join([b'{"%s": %s}' % (field.encode(), text.encode())]), PLAN_SUMMARY)


# --- differences found by benchmarks/diffhunt.py (end to end, logs beyond the corpus) -----------

# Letters whose lower case Python 3.11 (Unicode 14) and Rust's or Arrow's newer tables disagree
# on (U+A7DA, Garay U+10D50, Cyrillic U+1C89 gained a lower case later), and ones where Python's
# full case mapping differs from a simple one (U+0130 is `i` + U+0307; a final sigma).
ODD_CASE_STATUSES = [
    "\ua7da", "\ua7db", "\U00010d50", "\u1c89", "\u0130", "\u03a3\u03a3", "\u00d6K", "\u6210",
    "\u00c9XITO", "\u0423\u0441\u043f\u0435\u0445", "O\u03a3", "\u1c90", "\u13a0",
]


@pytest.mark.parametrize(
    "value", ["\ua7da", "\ua7db", "\U00010d50", "\u1c8a", "i\u0307", "\u03c3\u03c2", "\u00f6k", "\u00e9xito",
              "\u0443\u0441\u043f\u0435\u0445", "o\u03c2", "\u2d00"]
)
def test_success_from_an_odd_case_status_is_pythons_lower(value: str) -> None:
    plan = ReadPlan(success_values=frozenset({value.lower(), "ok"}))
    lines = [dumps(record(i, status=ODD_CASE_STATUSES[i % len(ODD_CASE_STATUSES)])) for i in range(40)]
    nat, exact = both(join(lines), plan)
    assert sum(p.raw.num_rows for p in nat.pieces) == 40


@pytest.mark.parametrize("status", ["\ua7da", "\U00010d50", "\u0130", "\u03a3\u03a3"])
def test_success_from_an_odd_case_status_in_a_clean_file_on_every_reader(tmp_path: Path, status: str) -> None:
    # a clean file: the pyarrow reader takes it whole (Arrow's utf8_lower decided the status)
    path = tmp_path / "s.jsonl"
    path.write_bytes(join(dumps(record(i, status=status if i % 3 else "OK")) for i in range(3000)))
    plan = ReadPlan(success_values=frozenset({status, status.lower(), "ok"}))
    want, _ = read([str(path)], plan, exact=True)
    assert want is not None
    expected = [status.lower() in plan.success_values or i % 3 == 0 for i in range(3000)]
    assert want.column("success").to_pylist() == expected
    for reader_name in ("native", "python"):
        got, _ = read([str(path)], plan, reader_name=reader_name)
        assert got is not None and got.column("success").to_pylist() == expected, reader_name


def test_a_text_field_on_the_path_of_a_number_field_is_a_wrong_type_on_every_reader(tmp_path: Path) -> None:
    # `--by latency_ms`: the pyarrow reader read the path once, as a number, and cast it to text
    path = tmp_path / "by.jsonl"
    path.write_bytes(join(good_lines(3000)))
    plan = ReadPlan(by="latency_ms")
    reports = {}
    for name in ("exact", "native", "python"):
        table, reports[name] = read([str(path)], plan, exact=name == "exact",
                                    reader_name=None if name == "exact" else name)
        assert table is None
    assert reports["exact"].reasons == {"wrong_type": 3000}
    assert reports["native"] == reports["exact"] and reports["python"] == reports["exact"]


def test_every_reader_yields_one_table_per_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the pyarrow reader splits a block with a bad line into pieces, the native reader does not:
    # per-table float sums (the confidence mean) must still add the same numbers in the same order
    lines = good_lines(6000)
    lines[4321] = b'{"latency_ms": "12"}'
    path = tmp_path / "one.jsonl"
    path.write_bytes(join(lines))
    from mlmon.read.reader import Reader
    from mlmon.read.sources import Source

    sums = {}
    for name in ("native", "python"):
        monkeypatch.setenv("MLMON_READER", name)
        tables = list(Reader([Source(str(path))], PLAN_SUMMARY, require=()).tables())
        sums[name] = [(t.num_rows, float(np.sum(t.column("confidence").to_numpy()))) for t in tables]
    assert len(sums["native"]) == 1
    assert sums["native"] == sums["python"]


@pytest.mark.parametrize("prediction", ["status", "latency_ms", "success"])
def test_a_bare_prediction_elsewhere_leaves_class_and_confidence_unread_on_every_reader(
    tmp_path: Path, prediction: str
) -> None:
    # `--prediction-field status` with the class and confidence still at prediction.class and
    # prediction.confidence: the pyarrow reader read those too; a record without the bare
    # prediction reads them (exact_record's rule, per record)
    lines = [dumps(record(i, success=bool(i % 2))) for i in range(3000)]
    lines[10] = dumps({k: v for k, v in record(10, success=True).items() if k != prediction})
    path = tmp_path / "p.jsonl"
    path.write_bytes(join(lines))
    plan = ReadPlan(fields=FieldMap(prediction=prediction))
    want, _ = read([str(path)], plan, exact=True)
    assert want is not None
    assert want.column("pred_class").null_count == (2999 if prediction == "latency_ms" else 0)
    assert want.column("confidence").null_count == 2999
    for reader_name in ("native", "python"):
        got, _ = read([str(path)], plan, reader_name=reader_name)
        assert got is not None and got.equals(want), reader_name


def _fast_and_exact(data: bytes, plan: ReadPlan, layout: Layout) -> tuple[BlockResult, BlockResult]:
    """The pyarrow reader's answer for one block (fast path first) and the exact path's."""
    fast = BlockParser(plan, layout, examples_wanted=lambda: True).parse(data, 1)
    exact = BlockResult([], Counter(), 0, [])
    BlockParser(plan, layout, examples_wanted=lambda: True)._exact(data, 1, exact, tail=False)
    return fast, exact


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("latency_ms", b"-0"), ("confidence", b"-0"), ("age", b"-0"), ("latency_ms", b"-0.0"),
        ("latency_ms", b"1" * 4301), ("unread", b"1" * 4301), ("unread", b"-" + b"9" * 5000),
        ("unread", b'"' + b"7" * 4301 + b'"'),
    ],
)
def test_one_odd_number_in_a_clean_block_on_the_pyarrow_reader(field: str, value: bytes) -> None:
    # pyarrow reads `-0` as -0.0 (Python: the integer 0, so 0.0) and an integer of more than
    # 4300 digits (Python's int limit: bad_json); the block then goes to the exact path
    good = good_lines(20)
    rec = record(3)
    target = {"confidence": rec["prediction"], "age": rec["input"]["features"]}.get(field, rec)
    target[field] = "__V__"
    lines = [*good[:10], dumps(rec).replace(b'"__V__"', value), *good[10:]]
    for plan in (PLAN_SUMMARY, PLAN_DRIFT_NAMED):
        fast, exact = _fast_and_exact(join(lines), plan, sniff(good, plan))
        assert +fast.reasons == +exact.reasons
        assert _rows(fast) == _rows(exact)


def test_a_block_of_many_bad_lines_still_shows_the_non_record_lines_after_them() -> None:
    lines = [b'{"latency_ms": "12"}'] * 1500 + [b"Traceback (most recent call last):"] * 3 + good_lines(5)
    nat, exact = both(join(lines), PLAN_SUMMARY)
    assert [e[1] for e in nat.examples].count("non_record") == 3
    assert len(exact.examples) == 1503


@pytest.mark.parametrize("reader_name", ["native", "python"])
def test_non_record_examples_do_not_depend_on_the_bad_ones_counted_first(
    tmp_path: Path, reader_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a block parsed after earlier blocks filled the bad-line examples (two workers parse
    # blocks while the reader counts the earlier ones) still collects its non_record lines
    from mlmon.read.reader import Reader
    from mlmon.read.sources import Source

    path = tmp_path / "late.jsonl"
    path.write_bytes(join([*good_lines(10), b"Traceback (most recent call last):", *good_lines(10)]))
    monkeypatch.setenv("MLMON_READER", reader_name)
    reader = Reader([Source(str(path))], PLAN_SUMMARY, require=())
    reader._bad_examples = reader.options.max_examples  # as if earlier blocks had filled them
    list(reader.tables())
    assert [(e.line, e.reason) for e in reader.report().examples] == [(11, "non_record")]


def test_an_integer_past_a_lowered_python_int_limit_is_bad_json_on_every_reader() -> None:
    # PYTHONINTMAXSTRDIGITS=1000: Python's json refuses a 1500-digit integer
    good = good_lines(20)
    lines = [*good[:10], dumps(record(3))[:-1] + b', "x": ' + b"7" * 1500 + b"}", *good[10:]]
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(1000)
    try:
        layout = sniff(good, PLAN_SUMMARY)
        fast, exact = _fast_and_exact(join(lines), PLAN_SUMMARY, layout)
        parser = native.NativeBlockParser(PLAN_SUMMARY, layout, examples_wanted=lambda: True)
        nat = parser.parse(join(lines), 1)
    finally:
        sys.set_int_max_str_digits(before)
    assert exact.reasons == Counter({"bad_json": 1})
    assert fast.reasons == exact.reasons and nat.reasons == exact.reasons


def test_a_clean_block_with_float_negative_zeros_stays_on_the_pyarrow_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `-0.0` (numpy's rounding of small negatives) is -0.0 to Python too: no reason to read the
    # block line by line; only an integer `-0` is read differently
    lines = [dumps(record(i, latency_ms=-0.0 if i % 10 == 0 else 1.5)) for i in range(100)]
    layout = sniff(lines, PLAN_SUMMARY)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the exact path read the block")

    fast = BlockParser(PLAN_SUMMARY, layout, examples_wanted=lambda: True)
    monkeypatch.setattr(fast, "_exact", refuse)
    got = fast.parse(join(lines), 1)
    assert [repr(v) for v in got.pieces[0].raw.column("latency_ms").to_pylist()[:2]] == ["-0.0", "1.5"]


LITERALS = ["-0", "-0.0", "0e0", "1E5", "1e308", "1e309", "1e-320", "4.9e-324", "18446744073709551616",
            "1" * 20, "1" * 400, "1" * 4301, "1.0", "true", "null", '"12"', "NaN", "-Infinity", '"\\ud800"',
            '"\\u0000"', '"\u017fuccess"', '"\ua7da"', "[1]", "{}"]


@st.composite
def record_with_literal(draw: Any) -> bytes:
    """A record with one field mlmon may read (or an unread one) holding an odd JSON literal."""
    rec = record(draw(st.integers(0, 1000)))
    path = draw(st.sampled_from([["latency_ms"], ["status"], ["model_version"], ["timestamp"], ["prediction"],
                                 ["prediction", "class"], ["prediction", "confidence"], ["success"],
                                 ["input", "features", "age"], ["input", "features", "country"], ["unread"]]))
    node = rec
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = "__V__"
    return dumps(rec).replace(b'"__V__"', draw(st.sampled_from(LITERALS)).encode())


@_budget(100)
@given(lines() | record_with_literal(), st.sampled_from(range(len(PLANS))))
def test_hypothesis_one_odd_line_in_a_clean_block_on_the_pyarrow_reader(line: bytes, plan_index: int) -> None:
    # the pyarrow reader's fast path takes a block whenever pyarrow accepts it: one odd line among
    # clean records must still give the exact path's rows and reasons
    plan = PLANS[plan_index]
    prefix = b"junk Prediction: " if plan.record_marker else b""
    good = [prefix + dumps(record(i)) for i in range(8)]
    fast, exact = _fast_and_exact(join([*good[:4], line, *good[4:]]), plan, sniff(good, plan))
    assert +fast.reasons == +exact.reasons
    assert _rows(fast) == _rows(exact)


@pytest.mark.parametrize("reader_name", ["native", "python"])
def test_a_parser_keeps_no_examples_of_a_kind_the_reader_has_enough_of(reader_name: str) -> None:
    # bad-line examples full, non_record ones not: a block of bad lines is not copied line by line
    # into examples nobody shows (it cost CPU and memory on a log of millions of bad lines)
    lines = [b'{"latency_ms": "12"}'] * 3000 + [b"Traceback (most recent call last):"] + good_lines(3)
    layout = sniff(good_lines(3), PLAN_SUMMARY)
    cls = native.NativeBlockParser if reader_name == "native" else BlockParser
    parser = cls(PLAN_SUMMARY, layout, examples_wanted=lambda: True, kind_wanted=lambda normal: normal)
    got = parser.parse(join(lines), 1)
    assert got.reasons == Counter({"wrong_type": 3000, "non_record": 1})
    assert got.examples == [(3001, "non_record", b"Traceback (most recent call last):")]


def test_the_join_key_of_every_type_agrees_with_the_exact_path() -> None:
    keys = [b'"req-1"', b"17", b"17.0", b"-0.0", b"1e3", b"123456789012345678901", b"true", b"null",
            b'{"a": 1}', b"[1, 2]", b'"\\u00e9t\\u00e9"', b'"a\\"b"', b'""', b"1.5e-7"]
    lines = [b'{"timestamp": "2026-11-01T10:00:00Z", "request_id": %s, "prediction": {"class": 1}, '
             b'"latency_ms": 3, "status": "ok"}' % k for k in keys]
    lines.append(b'{"timestamp": "2026-11-01T10:00:00Z", "prediction": {"class": 1}, "latency_ms": 3}')
    nat, _ = both(join(lines), PLAN_JOIN)
    got = [v for p in nat.pieces for v in p.raw.column(KEY).to_pylist()]
    assert got[0] == "req-1" and got[1] == "17" and got[-1] is None  # a number is its text, absent is null
