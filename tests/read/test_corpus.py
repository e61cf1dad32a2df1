"""The hostile and broken-input corpus through the command line.

Every case ends in its documented exit code with an understandable message and no traceback;
every line is accounted for. All inputs are generated (see corpus.py); none is committed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from corpus import (
    BAD_LINES,
    LOG_PREFIX,
    cli,
    dumps,
    error_line,
    good_lines,
    gzip_bytes,
    join,
    record,
    strict_json,
    zstd_bytes,
)

GOOD = join(good_lines(200))
GZ = gzip_bytes(GOOD)
ZST = zstd_bytes(join(good_lines(2000)))  # several zstd blocks: half of it holds whole lines


@dataclass
class Case:
    id: str
    files: dict[str, bytes]
    rc: int
    args: list[str] = field(default_factory=lambda: ["f.jsonl"])
    reasons: dict[str, int] | None = None
    """Expected reasons of the first file (JSON output), when the run succeeds."""
    records: int | None = None
    stderr: str | None = None
    """A regular expression stderr must match (an error is one line)."""
    strict_rc: int | None = None
    """Exit code with --strict."""
    extra: Callable[[Any], None] | None = None


def _one_bad(kind: str, line: bytes) -> Case:
    return Case(
        f"{kind}:{line[:24]!r}", {"f.jsonl": join([*good_lines(150), line, *good_lines(150, 150)])},
        0, reasons={kind: 1}, records=300,
        stderr=None if kind in ("blank", "non_record")
        else rf"1 bad line\(s\) not used.*\n  f\.jsonl:151: {kind}: ",
        strict_rc=0 if kind in ("blank", "non_record") else 65,
    )


def _pick(kind: str, *needles: bytes) -> list[Case]:
    return [_one_bad(kind, line) for line in BAD_LINES[kind] if any(n in line for n in needles)]


TRUNCATED = (r"mlmon: warning: f\.jsonl\.(gz|zst): (gzip|zstd) stream ends before its end marker; "
             r"its complete lines were read")

CASES: list[Case] = [
    # framing
    Case("last-line-complete-no-newline", {"f.jsonl": GOOD[:-1]}, 0, reasons={}, records=200, strict_rc=0),
    Case("last-line-partial-json", {"f.jsonl": GOOD + dumps(record(1))[:40]}, 0,
         reasons={"incomplete_tail": 1}, records=200, strict_rc=0),
    Case("crlf", {"f.jsonl": join(good_lines(200), newline=b"\r\n")}, 0, reasons={}, records=200),
    Case("utf8-bom", {"f.jsonl": b"\xef\xbb\xbf" + GOOD}, 0, reasons={}, records=200),
    Case("utf8-bom-logging", {"f.log": b"\xef\xbb\xbf" + join(good_lines(200, prefix=LOG_PREFIX))}, 0,
         args=["f.log"], reasons={}, records=200),
    Case("nul-run", {"f.jsonl": GOOD + b"\x00" * 8192 + b"\n" + GOOD}, 0, reasons={"blank": 1}, records=400),
    Case("nul-tail-preallocated", {"f.jsonl": GOOD + b"\x00" * 8192}, 0, reasons={"blank": 1}, records=200),
    Case("blank-lines", {"f.jsonl": b"\n\n" + GOOD.replace(b"}\n", b"}\n\n  \n", 3)}, 0,
         reasons={"blank": 8}, records=200),
    # compression
    Case("gz-cut-at-half", {"f.jsonl.gz": GZ[: len(GZ) // 2]}, 0, args=["f.jsonl.gz"],
         stderr=TRUNCATED, strict_rc=65),
    Case("gz-cut-in-trailer", {"f.jsonl.gz": GZ[:-3]}, 0, args=["f.jsonl.gz"], reasons={}, records=200,
         stderr=TRUNCATED, strict_rc=65),
    Case("gz-two-members", {"f.jsonl.gz": GZ + gzip_bytes(join(good_lines(50, 200)))}, 0,
         args=["f.jsonl.gz"], reasons={}, records=250, strict_rc=0),
    Case("gz-name-on-plain-text", {"f.jsonl.gz": GOOD}, 0, args=["f.jsonl.gz"], reasons={}, records=200),
    Case("gzip-sniffed-by-magic", {"f.log": GZ}, 0, args=["f.log"], reasons={}, records=200,
         extra=lambda doc: _eq(doc["input"]["files"][0]["compression"], "gzip")),
    Case("zst-cut-mid-frame", {"f.jsonl.zst": ZST[: len(ZST) // 2]}, 0, args=["f.jsonl.zst"],
         stderr=TRUNCATED, strict_rc=65),
    Case("max-decompressed-bytes", {"f.jsonl.gz": GZ}, 65,
         args=["f.jsonl.gz", "--max-decompressed-bytes", "1000"],
         stderr=r"f\.jsonl\.gz: decompressed input passed --max-decompressed-bytes \(1000 bytes\)"),
    # values, one bad line among 300 good ones: counted, within the 1% budget; 65 with --strict
    *_pick("bad_encoding", b"\xff", b"\\ud800"),
    *_pick("non_finite", b"NaN", b"Infinity", b"1e400"),
    *_pick("invalid_value", b"-12.5", b"1.5}"),
    *_pick("wrong_type", b'"12.5"', b"true", b"[1, 2, 3]", b"42", b"null"),
    *_pick("missing_field", b"{}", b'"model_version": "v1"}', b"null, ", b'{"a":{"a":'),
    *_pick("duplicate_key", b"13.5"),
    *_pick("bad_json", b"{oops", b" {}"),
    *_pick("bad_timestamp", b"yesterday", b"9999"),
    *_pick("non_record", b"Traceback"),
    Case("nesting-100000-deep", {"f.jsonl": GOOD + b"[" * 100_000 + b"]" * 100_000 + b"\n"
                                 + b'{"a":' * 100_000 + b"0" + b"}" * 100_000 + b"\n"}, 0,
         reasons={"non_record": 1, "missing_field": 1}, records=200),
    Case("line-over-max-line-bytes",
         {"f.jsonl": join([*good_lines(150), b'{"pad": "' + b"x" * 5000 + b'"}', *good_lines(150, 150)])},
         0, args=["f.jsonl", "--max-line-bytes", "1000"], reasons={"oversized": 1}, records=300,
         stderr=r"f\.jsonl:151: oversized: \(line longer than --max-line-bytes\)", strict_rc=65),
    # nothing to read
    Case("empty-file", {"f.jsonl": b""}, 65, stderr=r"^no valid record: the input is empty$"),
    Case("only-blank-lines", {"f.jsonl": b"\n \n\t\n"}, 65,
         stderr=r"^no valid record in 3 lines \(blank: 3\)$"),
    Case("only-tracebacks", {"f.log": b"Traceback (most recent call last):\n  File \"x.py\", line 1\n"
                             b"ValueError: boom\n"}, 65, args=["f.log"],
         stderr=r"^no valid record in 3 lines \(non_record: 3\); .* with --record-marker \(e\.g\. .*\)$"),
    Case("glob-matching-nothing", {"f.jsonl": GOOD}, 66, args=["nothing-*.jsonl"],
         stderr=r"^no input: the pattern 'nothing-\*\.jsonl' matched no file$"),
    Case("missing-file", {}, 66, args=["gone.jsonl"], stderr=r"^no input: 'gone\.jsonl' does not exist$"),
    Case("empty-directory", {"d/.keep": b""}, 66, args=["d"],
         stderr=r"^no input: directory 'd' holds no files$"),
    Case("directory", {"d/a.jsonl": GOOD, "d/sub/b.jsonl.gz": GZ, "d/.hidden.jsonl": b"junk\n"}, 0,
         args=["d"], reasons={}, records=400,
         extra=lambda doc: _eq([f["source"] for f in doc["input"]["files"]],
                               ["d/a.jsonl", "d/sub/b.jsonl.gz"])),
    Case("same-file-twice", {"f.jsonl": GOOD}, 0, args=["f.jsonl", "./f.jsonl", "f.jsonl"], reasons={},
         records=200, extra=lambda doc: _eq(len(doc["input"]["files"]), 1)),
]


def _eq(a: Any, b: Any) -> None:
    assert a == b


def _setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, bytes]) -> None:
    monkeypatch.chdir(tmp_path)
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Case) -> None:
    _setup(tmp_path, monkeypatch, case.files)
    result = cli(["summary", *case.args, "--format", "json"])
    assert result.exit_code == case.rc, result.stderr
    if case.rc in (0, 1):
        doc = strict_json(result.stdout)
        files = doc["input"]["files"]
        for f in files:  # every line is a record or counted under one reason
            assert f["lines"] == f["records"] + sum(f["reasons"].values())
        if case.reasons is not None:
            assert files[0]["reasons"] == case.reasons
        if case.records is not None:
            assert doc["input"]["records"] == case.records
        if case.stderr is not None:
            assert re.search(case.stderr, result.stderr), result.stderr
        if case.extra is not None:
            case.extra(doc)
        if case.strict_rc is not None:
            strict = cli(["summary", *case.args, "--strict"])
            assert strict.exit_code == case.strict_rc, strict.stderr
            if case.strict_rc == 65:
                line = error_line(strict)
                assert line.startswith("--strict: ")
                if ".gz" in case.args[0] or ".zst" in case.args[0]:
                    assert re.fullmatch(r"--strict: a truncated file in the input: f\.jsonl\.(gz|zst) "
                                        r"\((gzip|zstd) stream ends before its end marker\)", line), line
    else:  # a failure with --format json leaves only the error document on stdout
        doc = strict_json(result.stdout)
        assert set(doc) == {"error", "exit_code"} and doc["exit_code"] == case.rc
        assert case.stderr is not None and re.search(case.stderr, error_line(result))


def test_truncated_gzip_reports_what_it_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _setup(tmp_path, monkeypatch, {"f.jsonl.gz": GZ[: len(GZ) // 2]})
    doc = strict_json(cli(["summary", "f.jsonl.gz", "--format", "json"]).stdout)
    f = doc["input"]["files"][0]
    assert f["truncated"] == "gzip stream ends before its end marker" and f["compression"] == "gzip"
    assert 0 < f["records"] < 200 and set(f["reasons"]) <= {"incomplete_tail"}


def test_stdin_compressed(tmp_path: Path) -> None:
    result = cli(["summary", "-", "--format", "json"], input=zstd_bytes(GOOD))
    assert result.exit_code == 0
    f = strict_json(result.stdout)["input"]["files"][0]
    assert (f["source"], f["compression"], f["records"]) == ("<stdin>", "zstd", 200)


def test_broken_symlink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    os.symlink(tmp_path / "rotated-away.jsonl", tmp_path / "current.jsonl")
    result = cli(["summary", "current.jsonl"])
    assert result.exit_code == 66
    assert error_line(result) == "no input: 'current.jsonl' is a broken symbolic link"


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _setup(tmp_path, monkeypatch, {"f.jsonl": GOOD, "warm.jsonl": GOOD})
    (tmp_path / "f.jsonl").chmod(0)
    as_root = os.geteuid() == 0
    try:
        if as_root:
            # root reads any file: run as `nobody` for the call (root can switch back).
            # A first run does mlmon's lazy imports while the interpreter is still readable.
            assert cli(["summary", "warm.jsonl"]).exit_code == 0
            tmp_path.chmod(0o755)
            os.seteuid(65534)
        result = cli(["summary", "f.jsonl"])
    finally:
        if as_root:
            os.seteuid(0)
        (tmp_path / "f.jsonl").chmod(0o600)
    assert result.exit_code == 66
    assert error_line(result) == "cannot read 'f.jsonl': Permission denied"


# --- CSV feature logs (drift) -----------------------------------------------------------------

TRAIN = b"age,income,country\n" + b"".join(
    b"%d,%d,%s\n" % (20 + i % 50, 1000 + 37 * i % 900, [b"US", b"DE", b"FR"][i % 3]) for i in range(600)
)


def _feature_rows(n: int, order: tuple[str, ...] = ("timestamp", "age", "income", "country")) -> list[bytes]:
    values = {
        "timestamp": lambda i: b"2026-11-01T10:00:%02dZ" % (i % 60),
        "age": lambda i: b"%d" % (20 + i * 7 % 50),
        "income": lambda i: b"%d" % (1000 + 53 * i % 900),
        "country": lambda i: [b"US", b"DE", b"FR"][i % 3],
    }
    return [b",".join(order_name.encode() for order_name in order)] + [
        b",".join(values[c](i) for c in order) for i in range(n)
    ]


CSV_CASES = [
    ("plain", join(_feature_rows(100)), 0, 100, {}),
    ("reordered-columns", join(_feature_rows(100, ("country", "income", "timestamp", "age"))), 0, 100, {}),
    ("extra-column", join([r + (b",extra" if i == 0 else b",9") for i, r in enumerate(_feature_rows(100))]),
     0, 100, {}),
    ("missing-column", join(_feature_rows(100, ("timestamp", "age", "country"))), 0, 100, {}),
    ("header-only", join(_feature_rows(0)), 65, 0, {}),
    ("ragged-rows", join([*_feature_rows(300), b"2026-11-01T10:00:00Z,30", b"1,2,3,4,5,6"]), 0, 300,
     {"bad_row": 2}),
    ("quoted-newline", join([*_feature_rows(100), b'2026-11-01T10:00:00Z,30,1500,"U\nS"']), 0, 101, {}),
    ("crlf-bom", b"\xef\xbb\xbf" + join(_feature_rows(100), newline=b"\r\n"), 0, 100, {}),
    ("invalid-utf8-cell", join([*_feature_rows(100), b"2026-11-01T10:00:00Z,30,1500,U\xffS"]), 0, 100,
     {"bad_encoding": 1}),
    ("gzip-csv", gzip_bytes(join(_feature_rows(100))), 0, 100, {}),
]


@pytest.fixture
def baseline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    _setup(tmp_path, monkeypatch, {"train.csv": TRAIN})
    result = cli(["baseline", "train.csv", "-o", "base.json"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("mlmon: wrote base.json: 3 features from 600 rows")
    return "base.json"


@pytest.mark.parametrize(("name", "body", "rc", "records", "reasons"), CSV_CASES,
                         ids=[c[0] for c in CSV_CASES])
def test_csv_feature_log(tmp_path: Path, baseline: str, name: str, body: bytes, rc: int, records: int,
                         reasons: dict[str, int]) -> None:
    fname = "features.csv.gz" if body.startswith(b"\x1f\x8b") else "features.csv"
    (tmp_path / fname).write_bytes(body)
    result = cli(["drift", fname, "--baseline", baseline, "--format", "json", "--fail-on", "never"])
    assert result.exit_code == rc, result.stderr
    if rc == 65:
        assert error_line(result) == "no valid record: the input is empty"
        return
    doc = strict_json(result.stdout)
    f = doc["input"]["files"][0]
    assert (f["format"], f["records"], f["reasons"]) == ("csv", records, reasons)
    assert f["lines"] == f["records"] + sum(f["reasons"].values())
    assert [x["name"] for x in doc["features"]] == ["age", "income", "country"]


# --- timestamps -------------------------------------------------------------------------------


def _ts_log(stamps: list[str], prefix: str = "") -> bytes:
    return join(prefix.encode() + dumps(record(i, timestamp=t)) for i, t in enumerate(stamps))


@pytest.mark.parametrize(
    ("stamps", "tz", "first", "last", "reasons"),
    [
        (["2026-11-01T12:00:00+02:00", "2026-11-01T10:30:00Z", "2026-11-01T05:00:00-05:30"], "UTC",
         "2026-11-01T10:00:00.000Z", "2026-11-01T10:30:00.000Z", {}),
        (["2026-11-01 11:00:00,000", "2026-11-01T11:30:00"], "Europe/Berlin",
         "2026-11-01T10:00:00.000Z", "2026-11-01T10:30:00.000Z", {}),
        (["2026-10-25 02:30:00", "2026-10-25 01:00:00"], "Europe/Berlin",  # DST fold: earlier
         "2026-10-24T23:00:00.000Z", "2026-10-25T00:30:00.000Z", {}),
        (["2026-03-29 02:30:00", "2026-03-29 01:59:00"], "Europe/Berlin",  # DST gap: end of gap
         "2026-03-29T00:59:00.000Z", "2026-03-29T01:00:00.000Z", {}),
        (["2026-11-01T10:05:00Z", "2026-11-01T10:00:00Z", "2026-11-01T10:10:00Z", "2026-11-01T10:01:00Z"],
         "UTC", "2026-11-01T10:00:00.000Z", "2026-11-01T10:10:00.000Z", {}),  # unordered
        (["2026-11-01T10:00:00Z", "9999-12-31T23:59:59Z", "2026-11-01T10:01:00Z"], "UTC",
         "2026-11-01T10:00:00.000Z", "2026-11-01T10:01:00.000Z", {"bad_timestamp": 1}),
    ],
    ids=["offsets-and-z", "naive-in-zone", "dst-fold", "dst-gap", "unordered", "far-future"],
)
def test_timestamps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stamps: list[str], tz: str, first: str,
                    last: str, reasons: dict[str, int]) -> None:
    _setup(tmp_path, monkeypatch, {"f.jsonl": _ts_log(stamps)})
    result = cli(["summary", "f.jsonl", "--format", "json", "--log-timezone", tz, "--max-bad-lines", "50%"])
    assert result.exit_code == 0, result.stderr
    doc = strict_json(result.stdout)
    assert (doc["first_timestamp"], doc["last_timestamp"]) == (first, last)
    assert doc["input"]["reasons"] == reasons


def test_unknown_time_zone_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _setup(tmp_path, monkeypatch, {"f.jsonl": GOOD})
    result = cli(["summary", "f.jsonl", "--log-timezone", "Mars/Olympus"])
    assert result.exit_code == 2
    assert "unknown time zone 'Mars/Olympus'" in error_line(result)
