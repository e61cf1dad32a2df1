"""Prediction logs behind common logging layouts: found where unambiguous, else a hint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus import BASIC_PREFIX, FLASK_PREFIX, LOG_PREFIX, cli, dumps, error_line, join, record

N = 300
OTHER = {
    LOG_PREFIX: [
        b"2026-11-01 10:00:00,001 - __main__ - INFO - Model loaded from /models/v1",
        # a Python dict logged as text (`logger.warning("retry %s", {...})`) is no JSON object
        b"2026-11-01 10:00:00,002 - __main__ - WARNING - retry {'features': {'age': 31.0}}",
        b"2026-11-01 10:00:00,003 - app.cache - WARNING - retry {id=5} after timeout",
    ],
    BASIC_PREFIX: [
        b'INFO:werkzeug:127.0.0.1 - - [01/Nov/2026 10:00:00] "POST /predict HTTP/1.1" 200 -',
        b"WARNING:app.cache:retry {id=5} after timeout",
        b"WARNING:__main__:retry {'features': {'age': 31.0}}",
        b"INFO:__main__:Model loaded from /models/v1",
    ],
    FLASK_PREFIX: [
        b"[2026-11-01 10:00:00,001] INFO in app: Model loaded from /models/v1",
        b"[2026-11-01 10:00:00,002] WARNING in cache: retry {id=5} after timeout",
        b"[2026-11-01 10:00:00,004] WARNING in app: retry {'features': {'age': 31.0}}",
        b"[2026-11-01 10:00:00,003] ERROR in app: Exception on /predict [POST]",
    ],
}


def _log(prefix: str, *, with_time: bool = True) -> bytes:
    lines = []
    for i in range(N):
        rec = record(i)
        if not with_time:
            rec.pop("timestamp")
        lines.append(prefix.encode() + dumps(rec))
        if i % 50 == 0:
            lines.extend(OTHER[prefix])
    return join(lines)


def _summary(path: Path, *args: str) -> dict:  # type: ignore[type-arg]
    r = cli(["summary", str(path), "-f", "json", *args])
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("reader", ["python", "native"])
@pytest.mark.parametrize(
    "prefix", [LOG_PREFIX, BASIC_PREFIX, FLASK_PREFIX], ids=["asctime", "basicConfig", "flask"]
)
def test_common_layouts_are_read_like_plain_json_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefix: str, reader: str
) -> None:
    monkeypatch.setenv("MLMON_READER", reader)
    (tmp_path / "app.log").write_bytes(_log(prefix))
    (tmp_path / "plain.jsonl").write_bytes(join(dumps(record(i)) for i in range(N)))
    logged = _summary(tmp_path / "app.log")
    plain = _summary(tmp_path / "plain.jsonl")
    assert logged["records"] == N
    for key in ("success_rate", "latency_ms", "first_timestamp", "last_timestamp", "classes"):
        assert logged[key] == plain[key], key
    # the other log lines (including a `{` that opens no JSON object) are not records, not bad
    reasons = logged["input"]["reasons"]
    assert reasons == {"non_record": len(OTHER[prefix]) * (N // 50)}
    assert logged["input"]["bad_lines"] == 0


def test_flask_prefix_time_stands_in_for_a_missing_timestamp(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_bytes(_log(FLASK_PREFIX, with_time=False))
    doc = _summary(tmp_path / "app.log")
    assert doc["first_timestamp"].startswith("2026-11-01T10:00:00.123")


def test_unknown_layout_names_record_marker(tmp_path: Path) -> None:
    body = join(b"app-7 | scored | Prediction: " + dumps(record(i)) for i in range(50))
    (tmp_path / "odd.log").write_bytes(body)
    r = cli(["summary", str(tmp_path / "odd.log")])
    assert r.exit_code == 65
    line = error_line(r)
    assert line.startswith("no valid record in 50 lines (non_record: 50)")
    assert "--record-marker" in line
    assert _summary(tmp_path / "odd.log", "--record-marker", "Prediction: ")["records"] == 50
