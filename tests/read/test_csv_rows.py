"""CSV logs: a broken row costs its own line (unterminated quotes, huge cells), every line is
accounted for, and examples carry the physical line numbers an editor shows."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from corpus import cli, read, reconciles
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mlmon.read import csvrows
from mlmon.read.records import FeatureSpec, Kind, ReadPlan

PLAN = ReadPlan(by=None, summary=False,
                features=(FeatureSpec("a", Kind.NUMERIC), FeatureSpec("c", Kind.CATEGORICAL)))
TS = "2026-11-01T10:00:00Z"
ROOT = Path(__file__).resolve().parents[2]


def _read(tmp_path: Path, body: bytes, **options: Any) -> tuple[list[tuple[Any, Any]], Any]:
    path = tmp_path / "f.csv"
    path.write_bytes(body)
    table, rep = read([str(path)], PLAN, **options)
    assert reconciles(rep)
    rows = [] if table is None else list(zip(table.column("feature:a").to_pylist(),
                                             table.column("feature:c").to_pylist(), strict=True))
    return rows, rep


def _body(rows: list[str]) -> bytes:
    return ("timestamp,a,c\n" + "".join(r + "\n" for r in rows)).encode()


def _good(i: int) -> str:
    return f"{TS},{i},x{i}"


def _examples(rep: Any, reason: str) -> list[tuple[int, str]]:
    return [(e.line, e.text) for e in rep.examples if e.reason == reason]


def test_an_unterminated_quote_costs_its_own_line(tmp_path: Path) -> None:
    # the example: 302 lines, one row with a quote that never closes (line 152)
    rows = [_good(i) for i in range(301)]
    rows[150] = f'{TS},150,"x150'
    got, rep = _read(tmp_path, _body(rows))
    assert len(got) == 300 and (150.0, "x150") not in got and got[-1] == (300.0, "x300")
    assert rep.files[0].lines == 301 and rep.files[0].reasons == {"bad_row": 1}
    assert _examples(rep, "bad_row") == [(152, f'{TS},150,"x150')]


@pytest.mark.parametrize(
    ("rows", "bad_lines", "kept"),
    [
        # the last row opens a quote and the file ends (with and without a final newline)
        ([_good(0), _good(1), f'{TS},2,"x'], [4], 2),
        # two rows open a quote in the same column: joined they would have the right number
        # of fields, but the rows between are whole rows, so each costs only its own line
        ([_good(0), f'{TS},1,"x1', _good(2), _good(3), f'{TS},4,"x4', _good(5)], [3, 6], 4),
        # an opening quote in another column than the closing one
        ([_good(0), f'{TS},"1,x1', _good(2), f'{TS},3,x3"', _good(4)], [3], 4),
        # a quote in the middle of a field is a character, not an opening quote
        ([_good(0), f'{TS},1,x"1', _good(2)], [], 3),
        # `""` inside a quoted value is a quote
        ([_good(0), f'{TS},1,"x""1"', f'{TS},2,"""x"""', _good(3)], [], 4),
        # a quoted value over three lines is one row, and the rows after it keep their lines
        ([_good(0), f'{TS},1,"x\ny\nz"', f'{TS},2', _good(3)], [6], 3),
        # a row with a lone CR outside quotes (pyarrow would cut it in two)
        ([_good(0), f"{TS},1,x\r{TS},2,y", _good(3)], [3], 2),
    ],
    ids=["open-at-end", "two-open-same-column", "open-and-stray-close", "mid-field-quote",
         "escaped-quotes", "multi-line-value", "lone-cr"],
)
def test_bad_rows_are_bounded_and_numbered(tmp_path: Path, rows: list[str], bad_lines: list[int],
                                          kept: int) -> None:
    for body in (_body(rows), _body(rows).rstrip(b"\n")):
        got, rep = _read(tmp_path, body)
        assert len(got) == kept
        assert rep.files[0].reasons.get("bad_row", 0) == len(bad_lines)
        assert [line for line, _ in _examples(rep, "bad_row")] == bad_lines[:2]


def test_multi_line_value_is_read_whole(tmp_path: Path) -> None:
    got, _ = _read(tmp_path, _body([f'{TS},1,"two\nlines, with a comma"', _good(2)]))
    assert got == [(1.0, "two\nlines, with a comma"), (2.0, "x2")]


def test_examples_of_rejected_rows_carry_physical_line_numbers(tmp_path: Path) -> None:
    # blank lines and a three-line value before a row with a time that is not a time
    rows = ["", _good(0), "", f'{TS},1,"a\nb\nc"', "yesterday,4,y", _good(5)]
    got, rep = _read(tmp_path, b"\n" + _body(rows))
    assert len(got) == 3
    assert rep.files[0].reasons == {"blank": 3, "bad_timestamp": 1}
    assert _examples(rep, "bad_timestamp") == [(9, "yesterday,4,y")]


def test_a_value_that_is_not_a_number_is_a_type_error_of_its_feature(tmp_path: Path) -> None:
    # the rest of the row is kept: the feature's value is null and the row names the feature
    got, rep = _read(tmp_path, _body([_good(0), f"{TS},abc,y", _good(2)]))
    assert got == [(0.0, "x0"), (None, "y"), (2.0, "x2")]
    assert rep.files[0].reasons == {}


def test_a_quote_open_past_the_line_limit_is_a_bad_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csvrows, "MAX_ROW_LINES", 5)
    inner = "\n".join(f"line {i}" for i in range(8))
    got, rep = _read(tmp_path, _body([_good(0), f'{TS},1,"{inner}"', _good(2)]))
    # the first line of the value is the bad row; its other lines are not rows either
    assert (0.0, "x0") in got and (2.0, "x2") in got
    assert _examples(rep, "bad_row")[0] == (3, f'{TS},1,"line 0')
    assert rep.files[0].reasons["bad_row"] == 8  # each line of the value


def test_open_quote_across_a_block_boundary(tmp_path: Path) -> None:
    # a block of lines ends inside a quoted value: the row waits for the next block
    filler = [_good(i) for i in range(60_000)]  # > 4 MiB
    rows = [*filler, f'{TS},1,"across\n' + "z" * 100 + '"', _good(7)]
    got, rep = _read(tmp_path, _body(rows))
    assert len(got) == 60_002 and got[-2] == (1.0, "across\n" + "z" * 100)
    rows = [*filler, f'{TS},1,"never closed', *[_good(i) for i in range(10)]]
    got, rep = _read(tmp_path, _body(rows))
    assert len(got) == 60_010 and _examples(rep, "bad_row") == [(60_002, f'{TS},1,"never closed')]


def test_a_huge_cell_is_an_oversized_line_and_the_rest_is_read(tmp_path: Path) -> None:
    rows = [_good(i) for i in range(300)]
    rows[100] = f'{TS},100,"{"x" * 20_000_000}"'  # 20 MB, over the default --max-line-bytes
    got, rep = _read(tmp_path, _body(rows))
    assert len(got) == 299 and rep.files[0].reasons == {"oversized": 1}
    assert _examples(rep, "oversized")[0][0] == 102


@pytest.mark.parametrize("where", ["one-line", "multi-line", "header"])
def test_a_cell_over_max_line_bytes(tmp_path: Path, where: str) -> None:
    rows = [_good(i) for i in range(20)]
    if where == "one-line":
        rows[5] = f'{TS},5,"{"y" * 5000}"'
    elif where == "multi-line":
        rows[5] = f'{TS},5,"' + ("y" * 1000 + "\n") * 5 + '"'  # every line under the cap, the row over
    if where == "header":
        body = b"timestamp,a,c" + b",pad" * 2000 + b"\n" + _body(rows).split(b"\n", 1)[1]
        path = tmp_path / "f.csv"
        path.write_bytes(body)
        r = cli(["drift", str(path), "--reference", str(ROOT / "sample_logs" / "training.csv"),
                 "--max-line-bytes", "4096"])
        assert r.exit_code == 65 and "header (line 1) is longer than --max-line-bytes" in r.stderr
        return
    got, rep = _read(tmp_path, _body(rows), max_line_bytes=4096)
    assert len(got) == 19
    bad = sum(v for k, v in rep.files[0].reasons.items())
    assert bad == (1 if where == "one-line" else 6)  # each of the six lines of that row


def test_the_cli_reports_the_line_and_exit_code(tmp_path: Path) -> None:
    src = (ROOT / "sample_logs" / "features.csv").read_text().splitlines()[:302]
    src[151] = src[151].replace(",", ',"', 4).replace(',"', ",", 3)
    (tmp_path / "q.csv").write_text("\n".join(src) + "\n")
    ref = str(ROOT / "sample_logs" / "training.csv")
    r = cli(["drift", str(tmp_path / "q.csv"), "--reference", ref, "-f", "json"])
    assert r.exit_code in (0, 1)
    assert "q.csv:152: bad_row" in r.stderr
    import json

    inp = json.loads(r.stdout)["input"]
    assert inp["lines"] == 301 and inp["records"] == 300
    r = cli(["drift", str(tmp_path / "q.csv"), "--reference", ref, "--strict"])
    assert r.exit_code == 65


# --- properties -------------------------------------------------------------------------------

_text = st.text(alphabet='ab ,"\n', min_size=0, max_size=12)


def _csv_row(a: int, c: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([TS, a, c])
    return buf.getvalue()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(_text, min_size=1, max_size=40), crlf=st.booleans())
def test_any_quoted_values_read_back_exactly(tmp_path: Path, values: list[str], crlf: bool) -> None:
    # values read as broken rows by design (csvrows): a line inside the value that is a whole
    # row by itself, or a last line that by itself opens a quote at the value's column (as a
    # second row with a stray quote does); both need as many commas as the row has
    assume(not any(line.count(",") >= 2 for v in values for line in v.split("\n")[1:]))
    body = "timestamp,a,c\n" + "".join(_csv_row(i, v) for i, v in enumerate(values))
    if crlf:
        body = body.replace("\n", "\r\n")
    got, rep = _read(tmp_path, body.encode())
    want = [(float(i), None if v == "" else (v.replace("\n", "\r\n") if crlf else v))
            for i, v in enumerate(values)]
    assert got == want
    assert rep.files[0].lines == len(values)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(2, 60), data=st.data())
def test_each_stray_quote_costs_one_line(tmp_path: Path, n: int, data: st.DataObject) -> None:
    broken = sorted(data.draw(st.sets(st.integers(0, n - 1), max_size=n)))
    column = data.draw(st.lists(st.sampled_from(["a", "c"]), min_size=len(broken), max_size=len(broken)))
    rows = [_good(i) for i in range(n)]
    for i, col in zip(broken, column, strict=True):
        rows[i] = f'{TS},"{i},x{i}' if col == "a" else f'{TS},{i},"x{i}'
    final_newline = data.draw(st.booleans())
    body = _body(rows) if final_newline else _body(rows).rstrip(b"\n")
    got, rep = _read(tmp_path, body, max_examples=10**6)
    assert got == [(float(i), f"x{i}") for i in range(n) if i not in broken]
    assert [line for line, _ in _examples(rep, "bad_row")] == [i + 2 for i in broken]
    assert rep.files[0].lines == n


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000) | st.text(alphabet='ab,"\r\n\x00é', max_size=300).map(str.encode))
def test_arbitrary_csv_bytes_never_crash_and_reconcile(tmp_path: Path, data: bytes) -> None:
    got, rep = _read(tmp_path, b"timestamp,a,c\n" + data, max_line_bytes=500)
    assert rep.records == len(got)
