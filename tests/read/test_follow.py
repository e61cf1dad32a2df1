"""Incremental reading with --state: each line read once across appends, rotation (renamed,
.1, compressed), copytruncate, truncation and replacement."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from corpus import cli, dumps, join, record

from mlmon.read.follow import plan


def _lines(start: int, n: int) -> bytes:
    return join(dumps(record(i, latency_ms=float(i))) for i in range(start, start + n))


class Setup:
    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path
        self.log = tmp_path / "app.log"
        (tmp_path / "mlmon.toml").write_text(
            'logs = ["app.log"]\n[[rules]]\nmetric = "records"\ncritical = 0\n'
        )
        self.seen: list[int] = []

    def append(self, start: int, n: int, path: Path | None = None) -> None:
        with open(path or self.log, "ab") as fh:
            fh.write(_lines(start, n))

    def run(self, *extra: str, code: int = 0) -> dict:  # type: ignore[type-arg]
        """One cron run, which must end with `code`."""
        r = cli(["check", "--state", "st.json", "-f", "json", *extra])
        assert r.exit_code == code, r.stderr
        doc = json.loads(r.stdout)
        return doc


@pytest.fixture
def s(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    monkeypatch.chdir(tmp_path)
    return Setup(tmp_path)


def test_appends_are_read_once(s: Setup) -> None:
    s.append(0, 100)
    assert s.run()["records"] == 100
    assert s.run()["records"] == 0  # nothing new: the records rule (critical below 0) still passes
    s.append(100, 30)
    assert s.run()["records"] == 30


def test_a_line_being_written_waits_for_its_newline(s: Setup) -> None:
    s.append(0, 10)
    with open(s.log, "ab") as fh:
        fh.write(dumps(record(10))[:25])
    assert s.run()["records"] == 10
    with open(s.log, "ab") as fh:
        fh.write(dumps(record(10))[25:] + b"\n")
    doc = s.run()
    assert doc["records"] == 1 and doc["input"]["lines"] == 1


@pytest.mark.parametrize("style", ["rename", "copytruncate", "compress", "delaycompress"])
def test_rotation_finishes_the_old_file_then_reads_the_new(s: Setup, style: str) -> None:
    s.append(0, 50)
    assert s.run()["records"] == 50
    s.append(50, 20)  # written after the last run, before rotation
    rotated = s.dir / "app.log.1"
    if style == "copytruncate":
        rotated.write_bytes(s.log.read_bytes())
        with open(s.log, "r+b") as fh:
            fh.truncate(0)
    else:
        os.rename(s.log, rotated)
        if style == "compress":
            (s.dir / "app.log.1.gz").write_bytes(gzip.compress(rotated.read_bytes()))
            rotated.unlink()
    s.append(70, 5)  # the new file
    doc = s.run()
    assert doc["records"] == 25, doc["input"]
    if style == "delaycompress":
        # next rotation compresses .1 into .2.gz: it is known, not read again
        (s.dir / "app.log.2.gz").write_bytes(gzip.compress(rotated.read_bytes()))
        rotated.unlink()
        os.rename(s.log, rotated)
        s.append(75, 3)
        doc = s.run()
        assert doc["records"] == 3, doc["input"]


def test_truncated_or_replaced_file_is_read_from_the_start(s: Setup) -> None:
    s.append(0, 40)
    assert s.run()["records"] == 40
    with open(s.log, "r+b") as fh:
        fh.truncate(0)
    s.append(1000, 10)
    # what the log got after the last run, if anything, went with the truncation: said
    assert s.run(code=1)["records"] == 10
    s.log.unlink()
    s.append(2000, 60)  # a new file with more bytes than the old offset
    assert s.run(code=1)["records"] == 60


def test_line_numbers_continue_in_examples(s: Setup) -> None:
    (s.dir / "mlmon.toml").write_text(
        'logs = ["app.log"]\nmax-bad-lines = "5"\n[[rules]]\nmetric = "records"\ncritical = 0\n'
    )
    s.append(0, 100)
    s.run()
    with open(s.log, "ab") as fh:
        fh.write(b'{"timestamp": "2026-11-01T10:00:00Z", "latency_ms": \n')
    s.append(100, 10)
    doc = s.run()
    (ex,) = doc["input"]["examples"]
    assert ex["line"] == 101 and ex["reason"] == "bad_json"


def test_damaged_state_file_is_an_error_naming_it(s: Setup) -> None:
    s.append(0, 10)
    (s.dir / "st.json").write_text('{"version": 1, "files": [')
    r = cli(["check", "--state", "st.json"])
    assert r.exit_code == 65
    assert "state file st.json is damaged" in r.stderr
    (s.dir / "st.json").write_text('{"version": 1, "files": [{"path": 3}], "alerts": {}, "breaches": {}}')
    r = cli(["check", "--state", "st.json"])
    assert (
        r.exit_code == 65 and "state file st.json is damaged or not an mlmon state file (files/0" in r.stderr
    )


def test_a_held_lock_makes_the_second_run_wait_then_give_up(
    s: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl

    from mlmon.rules import state

    s.append(0, 10)
    fd = os.open(s.dir / "st.json.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        original = state.locked
        monkeypatch.setattr(state, "locked", lambda p, wait=60.0: original(p, wait=0.2))
        r = cli(["check", "--state", "st.json"])
        assert r.exit_code == 75 and "is in use by another run" in r.stderr
    finally:
        os.close(fd)
    assert cli(["check", "--state", "st.json"]).exit_code == 0
    assert not (s.dir / "st.json").read_text().count("\x00")


def test_plan_rejects_stdin_and_csv(tmp_path: Path) -> None:
    from mlmon.errors import OptionError

    with pytest.raises(OptionError):
        plan(["-"], ())
    (tmp_path / "a.csv").write_text("timestamp,latency_ms\n2026-11-01T10:00:00Z,3\n")
    with pytest.raises(OptionError, match="JSON-lines"):
        plan([str(tmp_path / "a.csv")], ())


# --- encodings and line ends: read from an offset as they are read whole ---------------------


def _encoded(text: bytes, encoding: str, *, first: bool) -> bytes:
    """`text` in `encoding`; the byte order mark only at the start of the file."""
    data = text.decode().encode(encoding)
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-32-le": b"\xff\xfe\x00\x00"}
    return (bom[encoding] if first else b"") + data


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_utf16_and_utf32_logs_are_followed(s: Setup, encoding: str) -> None:
    whole = _encoded(_lines(0, 10), encoding, first=True)
    s.log.write_bytes(whole)
    doc = s.run()
    assert doc["records"] == 10 and doc["input"]["reasons"] == {}
    assert s.run()["records"] == 0
    # a line half written, cut inside a code unit: it waits for the rest
    more = _encoded(_lines(10, 5), encoding, first=False)
    with open(s.log, "ab") as fh:
        fh.write(more[: len(more) - 7])
    doc = s.run()
    assert doc["records"] == 4 and doc["input"]["reasons"] == {}
    with open(s.log, "ab") as fh:
        fh.write(more[len(more) - 7 :])
    doc = s.run()
    assert doc["records"] == 1 and doc["input"]["lines"] == 1 and doc["input"]["reasons"] == {}


def test_cr_only_log_is_followed(s: Setup) -> None:
    s.log.write_bytes(_lines(0, 10).replace(b"\n", b"\r"))
    doc = s.run()
    assert doc["records"] == 10 and doc["input"]["reasons"] == {}
    with open(s.log, "ab") as fh:
        fh.write(_lines(10, 3).replace(b"\n", b"\r"))
    doc = s.run()
    assert doc["records"] == 3 and doc["input"]["reasons"] == {}


def test_utf16_log_rotated_and_compressed_is_finished(s: Setup) -> None:
    s.log.write_bytes(_encoded(_lines(0, 10), "utf-16-le", first=True))
    assert s.run()["records"] == 10
    with open(s.log, "ab") as fh:
        fh.write(_encoded(_lines(10, 5), "utf-16-le", first=False))
    (s.dir / "app.log.1.gz").write_bytes(gzip.compress(s.log.read_bytes()))
    s.log.unlink()
    s.log.write_bytes(_encoded(_lines(15, 2), "utf-16-le", first=True))
    doc = s.run()
    assert doc["records"] == 7 and doc["input"]["reasons"] == {}
