"""--state at its edges: a file too short to be known by content is followed by its inode, a
compressed copy read to its end that rotation deletes is not lost, and a log's rotated names come
back to the log's own name."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from corpus import cli, dumps, join, record

from mlmon.read.follow import base_name

RULES = '[[rules]]\nmetric = "records"\ncritical = 0\n'


def _lines(start: int, n: int) -> bytes:
    return join(dumps(record(i)) for i in range(start, start + n))


def _run(*logs: str, code: int = 0) -> dict:  # type: ignore[type-arg]
    Path("mlmon.toml").write_text(f"logs = {json.dumps(list(logs))}\n{RULES}")
    r = cli(["check", "--state", "st.json", "-f", "json"])
    assert r.exit_code == code, r.stderr
    return json.loads(r.stdout)["input"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("path", "base"), [
    ("app.log.1", "app.log"),
    ("app.log.2.gz", "app.log"),
    ("/var/log/m/app.log.12.zst", "/var/log/m/app.log"),
    ("app.log-20261207", "app.log"),
    ("app.log-20261207.bz2", "app.log"),
    ("app.log.2026-12-07_10-30", "app.log"),
    ("app.log", "app.log"),
    ("app.jsonl", "app.jsonl"),
    ("-1", "-1"),  # nothing left without the suffix: the name itself
])
def test_a_rotated_name_comes_back_to_the_logs_own(path: str, base: str) -> None:
    assert base_name(path) == base


def test_a_file_too_short_to_fingerprint_is_followed_by_its_inode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two blank lines (2 bytes: too few to recognise the file by content) are read; then the
    file grows. It is the same file (same inode): the blank lines are not read again."""
    monkeypatch.chdir(tmp_path)
    other = tmp_path / "other.log"
    other.write_bytes(_lines(0, 30))
    log = tmp_path / "app.log"
    log.write_bytes(b"\n\n")
    first = _run("other.log", "app.log")
    assert first["lines"] == 32 and first["records"] == 30
    with log.open("ab") as fh:
        fh.write(_lines(30, 40))
    second = _run("other.log", "app.log")
    assert (second["lines"], second["records"]) == (40, 40), second
    assert second["lost"] == []


def test_a_compressed_copy_read_to_its_end_and_then_deleted_is_not_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """logrotate's `rotate N` deletes the oldest `.gz`: everything in it was read, nothing is lost."""
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "app.log"
    log.write_bytes(_lines(0, 50))
    assert _run("app.log")["records"] == 50
    with log.open("ab") as fh:
        fh.write(_lines(50, 10))
    (tmp_path / "app.log.1.gz").write_bytes(gzip.compress(log.read_bytes()))
    log.write_bytes(_lines(60, 5))
    got = _run("app.log")
    assert (got["records"], got["lost"]) == (15, [])
    (tmp_path / "app.log.1.gz").unlink()
    with log.open("ab") as fh:
        fh.write(_lines(65, 7))
    got = _run("app.log")
    assert (got["records"], got["lost"]) == (7, [])
    # a plain file known to hold bytes not read (a line still being written at the last run)
    # that disappears is reported, with how many bytes
    partial = dumps(record(72))[:40]
    with log.open("ab") as fh:
        fh.write(partial)
    got = _run("app.log")
    assert (got["records"], got["lost"]) == (0, [])
    os.unlink(log)
    (tmp_path / "app.log").write_bytes(_lines(100, 2))
    got = _run("app.log", code=1)  # lost input is an alert
    assert got["records"] == 2
    assert [(x["source"], x["bytes"]) for x in got["lost"]] == [(str(log), len(partial))], got["lost"]
