"""The hostile and broken-input corpus: every file is generated here, none is committed.

A case is a log body (bytes) plus what the reader must make of it. Bodies are built from
`good_lines` (valid prediction records) and one or more lines from `BAD_LINES` (one per
reason in `mlmon.read.records.REASONS` that a JSON log can produce).
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import os
import random
import re
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import zstandard

from mlmon.read import jsonlines
from mlmon.read.reader import InputReport, Reader, ReadOptions
from mlmon.read.records import SUMMARY_FIELDS, FeatureSpec, Kind, ReadPlan
from mlmon.read.sources import Source

LOG_PREFIX = "2026-11-01 10:00:00,123 - __main__ - INFO - Prediction: "
BASIC_PREFIX = "INFO:__main__:Prediction: "
"""logging.basicConfig()'s default layout."""
FLASK_PREFIX = "[2026-11-01 10:00:00,123] INFO in app: Prediction: "
"""Flask's default log layout (app.logger)."""
HOSTILE = (
    "\x1b]0;pwned\x07",
    "\x1b[2J",
    "a\rb",
    "\u202eevil",
    "[bold]x",
    "[link=file:///etc/passwd]x[/link]",
)
"""Log text that must never drive a terminal or be read as rich markup."""
FORBIDDEN = (b"\x1b", b"\x07", b"\r", "\u202e".encode())
"""Bytes that must not reach stdout or stderr when log text is shown as a table."""

FEATURES = ("age", "income", "country", "mobile")
PLAN_SUMMARY = ReadPlan()
PLAN_DRIFT_LIST = ReadPlan(
    by=None, summary=False,
    features=(FeatureSpec("f0", Kind.NUMERIC), FeatureSpec("f1", Kind.NUMERIC),
              FeatureSpec("f2", Kind.NUMERIC)),
)
PLAN_DRIFT_NAMED = ReadPlan(
    by=None, summary=False,
    features=(FeatureSpec("age", Kind.NUMERIC), FeatureSpec("income", Kind.NUMERIC),
              FeatureSpec("country", Kind.CATEGORICAL), FeatureSpec("mobile", Kind.CATEGORICAL)),
)


def record(i: int = 0, *, rng: random.Random | None = None, **over: Any) -> dict[str, Any]:
    """One valid prediction record; `over` replaces top-level fields."""
    r = rng or random.Random(i)
    rec: dict[str, Any] = {
        "timestamp": f"2026-11-01T10:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z",
        "model_version": "v1" if i % 3 else "v2",
        "input": {
            "features": {
                "age": round(r.uniform(18, 90), 3),
                "income": round(r.lognormvariate(10, 0.5), 2),
                "country": r.choice(["US", "DE", "FR"]),
                "mobile": r.random() < 0.5,
            }
        },
        "prediction": {"class": r.choice([0, 1, 2]), "confidence": round(r.random(), 3)},
        "latency_ms": round(r.expovariate(1 / 30), 2),
        "status": "success" if r.random() < 0.97 else "error",
    }
    rec.update(over)
    return rec


def list_record(i: int = 0, **over: Any) -> dict[str, Any]:
    """A record whose features are a positional list of three numbers."""
    r = random.Random(i)
    rec = record(i, rng=r)
    rec["input"] = {"features": [round(r.gauss(0, 1), 4) for _ in range(3)]}
    rec.update(over)
    return rec


def dumps(rec: Any) -> bytes:
    return json.dumps(rec).encode()


def good_lines(n: int, start: int = 0, *, prefix: str = "") -> list[bytes]:
    return [prefix.encode() + dumps(record(i)) for i in range(start, start + n)]


def join(lines: Iterable[bytes], *, newline: bytes = b"\n", final: bool = True) -> bytes:
    lines = list(lines)
    body = newline.join(lines)
    return body + newline if final and lines else body


def _replace(rec: dict[str, Any], old: bytes, new: bytes) -> bytes:
    text = dumps(rec)
    assert old in text, (old, text)
    return text.replace(old, new, 1)


_R = record(7, latency_ms=12.5, model_version="v1")

BAD_LINES: dict[str, list[bytes]] = {
    "blank": [b"", b"   ", b"\t", b"\r", b"\x00\x00\x00\x00"],
    "non_record": [
        b"Traceback (most recent call last):",
        b'  File "serve.py", line 12, in predict',
        b"ValueError: boom",
        b"2026-11-01 10:00:00,123 - __main__ - INFO - Model loaded",
        b"[1, 2",
    ],
    "bad_encoding": [_replace(_R, b'"v1"', b'"v1\xff\xfe"'), _replace(_R, b'"v1"', b'"\\ud800"')],
    "bad_json": [
        b"{oops",
        b'{"timestamp": "2026-11-01T10:00:00Z", "latency_ms": 5',
        dumps(_R) + b" {}",
        dumps(_R) + b" trailing",
        b'{"latency_ms": 1,}',
    ],
    "wrong_type": [
        _replace(_R, b"12.5", b'"12.5"'),
        _replace(_R, b"12.5", b"true"),
        _replace(_R, b'"v1"', b"1.5"),
        _replace(_R, b'"v1"', b'{"nested": 1}'),
        b"[1, 2, 3]",
        b"42",
        b'"just a string"',
        b"null",
    ],
    "duplicate_key": [
        _replace(_R, b'"latency_ms": 12.5', b'"latency_ms": 12.5, "latency_ms": 13.5'),
        _replace(_R, b'"model_version": "v1"', b'"model_version": "v1", "model_version": "v2"'),
    ],
    "non_finite": [
        _replace(_R, b"12.5", b"NaN"),
        _replace(_R, b"12.5", b"Infinity"),
        _replace(_R, b"12.5", b"-Infinity"),
        _replace(_R, b"12.5", b"1e400"),
    ],
    "invalid_value": [
        _replace(_R, b"12.5", b"-12.5"),
        dumps(record(8, prediction={"class": 1, "confidence": 1.5})),
    ],
    "missing_field": [
        b"{}",
        b'{"timestamp": "2026-11-01T10:00:00Z", "model_version": "v1"}',
        b'{"timestamp": null, "model_version": null, "latency_ms": null, "status": null, '
        b'"success": null, "prediction": null}',
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
    ],
    "bad_timestamp": [
        _replace(_R, b'"2026-11-01T10:00:07.007Z"', b'"yesterday"'),
        _replace(_R, b'"2026-11-01T10:00:07.007Z"', b'"9999-12-31T23:59:59Z"'),
    ],
}
"""Lines that each give exactly one reason with the summary plan (`PLAN_SUMMARY`)."""

DEEP_BUT_VALID = dumps(record(9))[:-1] + b', "junk": ' + b"[" * 3000 + b"]" * 3000 + b"}"
"""A valid record with a field nested deeper than Python's json can parse (the field is unused)."""


def mixed_log(n: int, bad_share: float, seed: int, *, prefix: str = "") -> tuple[bytes, int]:
    """`n` lines, about `bad_share` of them bad lines of every kind, scattered; returns the body
    and the number of bad (not blank/non_record) lines put in."""
    rng = random.Random(seed)
    kinds = [(k, v) for k, vs in BAD_LINES.items() for v in vs]
    out: list[bytes] = []
    bad = 0
    for i in range(n):
        if rng.random() < bad_share:
            kind, line = rng.choice(kinds)
            bad += kind not in ("blank", "non_record")
            if kind in ("blank", "non_record"):
                out.append(line)
            else:
                out.append((prefix.encode() + line) if line.strip() else line)
        elif rng.random() < 0.002:
            out.append(prefix.encode() + DEEP_BUT_VALID)
        else:
            out.append(prefix.encode() + dumps(record(i, rng=rng)))
    return join(out), bad


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def bz2_bytes(data: bytes) -> bytes:
    return bz2.compress(data)


def zstd_bytes(data: bytes, *, streamed: bool = False) -> bytes:
    if not streamed:
        return zstandard.ZstdCompressor().compress(data)
    buf = io.BytesIO()
    with zstandard.ZstdCompressor().stream_writer(buf, closefd=False) as w:
        w.write(data)
    return buf.getvalue()


def read(
    paths: list[str], plan: ReadPlan = PLAN_SUMMARY, *, require: tuple[str, ...] | None = None,
    exact: bool = False, reader_name: str | None = None, **options: Any,
) -> tuple[pa.Table | None, InputReport]:
    """Read with the Reader; `exact=True` disables the fast path (every block line by line).

    `reader_name` picks the JSON-lines reader (`native` or `python`, as MLMON_READER does);
    `exact=True` implies the Python one."""
    if require is None:
        require = (
            SUMMARY_FIELDS if plan.summary
            else tuple(plan.feature_column(f.name) for f in plan.features or ())
        )
    reader = Reader([Source(p) for p in paths], plan, require=require,
                    options=ReadOptions(**options))
    original = jsonlines.BlockParser._fast
    env_before = os.environ.get("MLMON_READER")
    if exact or reader_name is not None:
        os.environ["MLMON_READER"] = "python" if exact else str(reader_name)
    if exact:
        def refuse(self: jsonlines.BlockParser, data: bytes, first_line: int, n_lines: int) -> Any:
            raise jsonlines._FastFailed("fast path disabled by the test")

        jsonlines.BlockParser._fast = refuse  # type: ignore[method-assign]
    try:
        tables = list(reader.tables())
    finally:
        jsonlines.BlockParser._fast = original  # type: ignore[method-assign]
        if env_before is None:
            os.environ.pop("MLMON_READER", None)
        else:
            os.environ["MLMON_READER"] = env_before
    table = pa.concat_tables(tables) if tables else None
    return table, reader.report()


def reconciles(report: InputReport) -> bool:
    """Every line is a record or counted under exactly one reason, per file and overall."""
    for f in report.files:
        if f.lines != f.records + sum(f.reasons.values()) or min(f.reasons.values(), default=0) < 0:
            return False
    return (
        report.lines == report.records + sum(report.reasons.values())
        and report.lines == sum(f.lines for f in report.files)
    )


# --- running the command line -----------------------------------------------------------------


_PY_TRACEBACK = re.compile(r"Traceback \(most recent call last\):\n +File ")


def cli(args: list[str], input: bytes | None = None) -> Any:
    """Run `mlmon ARGS` in-process; the result has exit_code, stdout and stderr."""
    from typer.testing import CliRunner

    from mlmon.cli import app

    result = CliRunner().invoke(app, args, input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    for text in (result.stderr, result.stdout):
        assert not _PY_TRACEBACK.search(text), text
    return result


def error_line(result: Any) -> str:
    """The one line a failed run wrote to stderr, without its `mlmon: error: ` start."""
    lines = result.stderr.splitlines()
    *before, last = lines
    # only the bad-line diagnostics may come first: a warning line and indented examples
    assert all(ln.startswith(("mlmon: warning: ", "  ")) for ln in before), result.stderr
    assert last.startswith("mlmon: error: "), last
    return str(last[len("mlmon: error: "):])


def strict_json(text: str) -> Any:
    """Parse JSON that must be RFC 8259 strict: NaN and Infinity are refused."""
    def refuse(name: str) -> Any:
        raise ValueError(f"{name} in JSON output")

    return json.loads(text, parse_constant=refuse)


def newest_age(path: str | os.PathLike[str], now: float | None = None) -> str:
    """`newest 35 days ago`: what a verdict line says of a log whose newest record is older than
    the window, computed here from the log's last line (records are in time order)."""
    import time
    from datetime import datetime

    from mlmon.numfmt import duration

    with open(path, "rb") as fh:
        last = fh.read().splitlines()[-1]
    stamp = datetime.fromisoformat(json.loads(last)["timestamp"].replace("Z", "+00:00")).timestamp()
    return f"newest {duration((time.time() if now is None else now) - stamp)} ago"
