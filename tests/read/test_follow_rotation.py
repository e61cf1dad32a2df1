"""--state across the ways logs are rotated, one case at a time: a followed file is known by its
content and finished wherever rotation put it; copytruncate is finished from the copy; offsets
are what was read; a followed file gone with bytes unread is reported; mlmon's own files are
left out of a log folder; new lines that hold no record are no data, as no new line is."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from corpus import LOG_PREFIX, cli, dumps, join, record

from mlmon.read.follow import FileState, plan, siblings
from mlmon.read.sources import ReadNotes, Source, open_source

READERS = ["python", "native"]


def _lines(start: int, n: int) -> bytes:
    return join(dumps(record(i, latency_ms=float(i))) for i in range(start, start + n))


class Logs:
    """A service's log folder, its config (elsewhere: paths are relative to it), and the runs."""

    def __init__(self, tmp: Path, *, rotated: str = "") -> None:
        self.dir = tmp / "srv" / "logs"
        self.dir.mkdir(parents=True)
        self.log = self.dir / "predictions.log"
        self.config = tmp / "srv" / "mlmon.toml"
        extra = f'rotated = ["{rotated}"]\n' if rotated else ""
        self.config.write_text(
            f'logs = ["logs/predictions.log"]\n{extra}[[rules]]\nmetric = "records"\ncritical = 0\n'
        )
        self.state = tmp / "srv" / "state.json"

    def append(self, start: int, n: int, path: Path | None = None) -> None:
        with open(path or self.log, "ab") as fh:
            fh.write(_lines(start, n))

    def run(self, code: int = 0) -> dict:  # type: ignore[type-arg]
        """One cron run, which must end with `code` (the records rule passes on 0 new records:
        0, unless something is lost: 1)."""
        r = cli(["check", "--config", str(self.config), "--state", str(self.state), "-f", "json"])
        assert r.exit_code == code, r.stderr
        doc = json.loads(r.stdout)
        doc["stderr"] = r.stderr
        return doc  # type: ignore[no-any-return]

    def rename(self, old: Path, new: Path) -> None:
        os.rename(old, new)


@pytest.fixture(params=READERS)
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Logs:
    monkeypatch.setenv("MLMON_READER", request.param)
    work = tmp_path / "elsewhere"  # cron's working directory is not the config's folder
    work.mkdir()
    monkeypatch.chdir(work)
    return Logs(tmp_path)


# --- 1. content, not names -------------------------------------------------------------------


def test_a_file_rotated_twice_between_runs_is_finished(logs: Logs) -> None:
    """logrotate create + compress + delaycompress, twice before the next run (the README set-up)."""
    logs.append(0, 50)
    assert logs.run()["records"] == 50
    logs.append(50, 20)  # unread when the first rotation comes
    logs.rename(logs.log, logs.dir / "predictions.log.1")
    logs.append(70, 30)  # a file no run saw
    first = (logs.dir / "predictions.log.1").read_bytes()
    (logs.dir / "predictions.log.2.gz").write_bytes(gzip.compress(first))
    (logs.dir / "predictions.log.1").unlink()
    logs.rename(logs.log, logs.dir / "predictions.log.1")
    logs.append(100, 5)
    doc = logs.run()
    assert doc["records"] == 20 + 30 + 5, doc["input"]
    assert doc["input"]["lost"] == []
    assert logs.run()["records"] == 0


@pytest.mark.parametrize(
    "names",
    [
        ("-20261206", "-20261207.gz"),  # logrotate dateext, the older copy compressed
        ("-2026120610", "-2026120611"),  # dateext with an hour in dateformat
        (".2026-12-06", ".2026-12-07"),  # TimedRotatingFileHandler, when='midnight'
        (".2026-12-07_10-00-00", ".2026-12-07_10-00-01"),  # TimedRotatingFileHandler, when='S'
        # logrotate create: a log the writer made anew before logrotate's create is moved aside
        (".1", "-2026120706.backup"),
    ],
    ids=["dateext", "dateext-hour", "timed-day", "timed-second", "logrotate-backup"],
)
def test_date_named_copies_are_found(logs: Logs, names: tuple[str, str]) -> None:
    first, second = (logs.dir / ("predictions.log" + n) for n in names)
    logs.append(0, 40)
    assert logs.run()["records"] == 40
    logs.append(40, 10)
    logs.rename(logs.log, first)
    logs.append(50, 15)
    if second.name.endswith(".gz"):
        second.write_bytes(gzip.compress(logs.log.read_bytes()))
        logs.log.unlink()
    else:
        logs.rename(logs.log, second)
    logs.append(65, 3)
    assert siblings(str(logs.log)) == sorted([str(first), str(second)])
    doc = logs.run()
    assert doc["records"] == 10 + 15 + 3, doc["input"]
    assert logs.run()["records"] == 0


def test_olddir_given_as_rotated_relative_to_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    logs = Logs(tmp_path, rotated="old/predictions.log*")
    (logs.dir.parent / "old").mkdir()
    other = tmp_path / "cron-home"
    other.mkdir()
    monkeypatch.chdir(other)
    logs.append(0, 30)
    assert logs.run()["records"] == 30
    logs.append(30, 12)
    logs.rename(logs.log, logs.dir.parent / "old" / "predictions.log.1")
    logs.append(42, 4)
    doc = logs.run()
    assert doc["records"] == 16 and doc["input"]["lost"] == [], doc["input"]


def test_same_inode_with_other_first_bytes_is_another_file(logs: Logs) -> None:
    """A new `.1` may reuse a deleted file's inode: the inode is only a hint."""
    logs.append(0, 30)
    logs.run()
    st = os.stat(logs.log)
    known = json.loads(logs.state.read_text())["files"]
    (f,) = [FileState(**x) for x in known]
    assert (f.dev, f.inode) == (st.st_dev, st.st_ino)
    with open(logs.log, "r+b") as fh:  # the same inode, other content, longer than the offset
        fh.write(_lines(1000, 60))
    doc = logs.run(code=1)
    assert doc["records"] == 60, doc["input"]
    # the content followed is gone: what it got after the last run, if anything, is not read
    assert doc["input"]["lost"] == [{"source": str(logs.log), "bytes": 0}]


def test_compressed_copy_is_read_from_the_offset(logs: Logs) -> None:
    logs.append(0, 25)
    assert logs.run()["records"] == 25
    logs.append(25, 7)
    (logs.dir / "predictions.log.1.gz").write_bytes(gzip.compress(logs.log.read_bytes()))
    logs.log.unlink()
    doc = logs.run()
    assert doc["records"] == 7, doc["input"]
    (f,) = [x for x in json.loads(logs.state.read_text())["files"] if x["path"].endswith(".gz")]
    assert f["done"] and f["offset"] == len(_lines(0, 32))


def test_first_run_takes_the_rotated_copies_there_as_read(logs: Logs) -> None:
    logs.append(0, 10, logs.dir / "predictions.log.1")
    logs.append(10, 5)
    assert logs.run()["records"] == 5  # the first run reads the log named, in full
    logs.append(15, 2)
    assert logs.run()["records"] == 2  # the old copy is not read later either


# --- 2. copytruncate -------------------------------------------------------------------------


def test_copytruncate_is_finished_from_the_copy_then_read_from_the_start(logs: Logs) -> None:
    logs.append(0, 40)
    assert logs.run()["records"] == 40
    logs.append(40, 9)
    copy = logs.dir / "predictions.log.1"
    copy.write_bytes(logs.log.read_bytes())
    inode = os.stat(logs.log).st_ino
    with open(logs.log, "r+b") as fh:
        fh.truncate(0)
    logs.append(49, 70)  # more bytes than the old offset: only the first bytes tell
    assert os.stat(logs.log).st_ino == inode
    doc = logs.run()
    assert doc["records"] == 9 + 70, doc["input"]
    # the copy compressed at the next rotation is known, not read again
    (logs.dir / "predictions.log.2.gz").write_bytes(gzip.compress(copy.read_bytes()))
    copy.unlink()
    assert logs.run()["records"] == 0


def test_a_copy_shorter_than_what_was_read_is_not_read_again(logs: Logs) -> None:
    """A run that read the log between logrotate's copy and its truncate read lines the copy
    does not hold (logrotate drops them from disk); nothing is read twice or lost after."""
    logs.append(0, 20)
    copy = logs.dir / "predictions.log.1"
    copy.write_bytes(logs.log.read_bytes())  # the copy
    logs.append(20, 5)  # written between the copy and the truncate
    assert logs.run()["records"] == 25
    with open(logs.log, "r+b") as fh:
        fh.truncate(0)
    logs.append(25, 3)
    doc = logs.run()
    assert doc["records"] == 3 and doc["input"]["lost"] == [], doc["input"]


# --- 3. offsets are bytes read ---------------------------------------------------------------


def _follow(path: Path, *, start: int = 0) -> tuple[object, ReadNotes, int]:
    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size
    src = Source(str(path), start=start, stop=size, fd=fd, follow=True, intact=os.pread(fd, 1024, 0))
    notes = ReadNotes()
    stream, _ = open_source(src, notes)
    return stream, notes, fd


def test_a_file_cut_while_it_is_read_stops_at_what_was_read(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    body = _lines(0, 4000)
    log.write_bytes(body)
    stream, notes, fd = _follow(log)
    first = stream.read(1 << 16)  # type: ignore[attr-defined]
    assert first.endswith(b"\n") and notes.consumed == len(first) < len(body)
    with open(log, "r+b") as fh:  # copytruncate, and the writer goes on at the start
        fh.truncate(0)
    log.write_bytes(_lines(9000, 4000))
    assert stream.read(1 << 16) == b""  # type: ignore[attr-defined]
    assert notes.changed and notes.consumed == len(first)
    os.close(fd)


def test_a_file_that_grows_while_it_is_read_stops_at_a_whole_line(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(_lines(0, 10) + b'{"timestamp": "2026-11')  # a line being written
    stream, notes, fd = _follow(log)
    with open(log, "ab") as fh:
        fh.write(b'-01T10:00:00Z"}\n' + _lines(20, 5))
    got = b""
    while chunk := stream.read(1 << 16):  # type: ignore[attr-defined]
        got += chunk
    assert got == _lines(0, 10) and notes.consumed == len(got) and not notes.changed
    os.close(fd)


def test_the_offset_is_what_was_read(logs: Logs) -> None:
    logs.append(0, 10)
    with open(logs.log, "ab") as fh:
        fh.write(dumps(record(10))[:30])
    logs.run()
    (f,) = json.loads(logs.state.read_text())["files"]
    assert f["offset"] == len(_lines(0, 10)) and f["size"] == len(_lines(0, 10)) + 30


# --- 4. never silent -------------------------------------------------------------------------


def test_a_followed_file_gone_with_bytes_unread_is_input_lost(logs: Logs) -> None:
    logs.append(0, 30)
    with open(logs.log, "ab") as fh:
        fh.write(dumps(record(30))[:40])  # a line being written: 40 bytes known not read
    assert logs.run()["records"] == 30
    logs.append(31, 8)
    logs.log.unlink()  # rotated away and deleted before the next run (rotate 0)
    logs.append(38, 4)
    doc = logs.run(code=1)
    assert doc["records"] == 4
    assert doc["input"]["lost"] == [{"source": str(logs.log), "bytes": 40}]
    (lost,) = [r for r in doc["results"] if r["name"] == "input_lost"]
    assert lost["status"] == "warning" and lost["value"] == 1 and "at least 40 bytes" in lost["message"]
    said = f"input lost: {logs.log}: gone before this run read it to the end, at least 40 bytes"
    assert said in doc["stderr"]
    doc = logs.run()  # told once: nothing is lost since
    assert doc["input"]["lost"] == [] and "input_lost" not in [r["name"] for r in doc["results"]]


def test_a_live_log_whose_content_is_nowhere_is_lost(logs: Logs) -> None:
    """Rotated twice between runs by a set-up keeping one copy: what the log got after the last
    run is gone, and so is the log; the run says so rather than counting less in silence."""
    logs.append(0, 30)
    assert logs.run()["records"] == 30
    logs.append(30, 8)
    logs.rename(logs.log, logs.dir / "predictions.log.1")
    logs.append(38, 5)
    logs.rename(logs.log, logs.dir / "predictions.log.1")  # the first copy is gone
    logs.append(43, 2)
    doc = logs.run(code=1)
    assert doc["records"] == 5 + 2
    assert doc["input"]["lost"] == [{"source": str(logs.log), "bytes": 0}]


def test_the_verdict_line_is_not_ok_when_input_was_lost(logs: Logs) -> None:
    logs.append(0, 30)
    logs.run()
    logs.append(30, 8)
    logs.log.unlink()
    logs.append(38, 4)
    r = cli(["check", "--config", str(logs.config), "--state", str(logs.state)])
    assert r.exit_code == 1
    first = r.stdout.splitlines()[0]
    assert first.startswith("ALERT: 1 warning") and "input_lost" in r.stdout


# --- 9. own files ----------------------------------------------------------------------------


def test_own_files_in_a_log_folder_are_left_out_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "predictions.log").write_bytes(_lines(0, 40))
    (tmp_path / "mlmon.toml").write_text('logs = ["logs"]\n[[rules]]\nmetric = "records"\ncritical = 0\n')
    assert cli(["baseline", str(logs / "predictions.log"), "-o", str(tmp_path / "b.json")]).exit_code == 0
    os.rename(tmp_path / "b.json", logs / "baseline.json")
    # a saved report, a state file and its lock, metrics for Prometheus, all in the log folder
    r = cli(["check", "-o", str(tmp_path / "report.json"), "-o", str(tmp_path / "m.prom")])
    assert r.exit_code == 0, r.stderr
    os.rename(tmp_path / "report.json", logs / "report.json")
    os.rename(tmp_path / "m.prom", logs / "mlmon.prom")
    assert cli(["check", "--state", str(tmp_path / "st.json"), "logs/predictions.log"]).exit_code == 0
    os.rename(tmp_path / "st.json", logs / "st.json")
    os.rename(tmp_path / "st.json.lock", logs / "st.json.lock")
    runs = (["check", "-f", "json"], ["check", "-f", "json", "logs/*"], ["summary", "logs", "-f", "json"])
    for args in runs:
        r = cli(args)
        assert r.exit_code == 0, (args, r.stderr)
        doc = json.loads(r.stdout)
        assert doc["input"]["records"] == 40 and doc["input"]["bad_lines"] == 0, args
        notes = [x for x in r.stderr.splitlines() if x.startswith("mlmon: note: left out ")]
        for name in ("baseline.json", "report.json", "mlmon.prom", "st.json", "st.json.lock"):
            assert any(f"/{name}: " in x or f" {name}: " in x for x in notes), (args, name, r.stderr)
    # a log named itself is read, whatever it holds
    r = cli(["summary", "logs/report.json"])
    assert r.exit_code == 65


def test_a_log_that_looks_like_json_is_not_taken_for_an_own_file(tmp_path: Path) -> None:
    from mlmon.read.sources import own_file

    (tmp_path / "a.jsonl").write_bytes(join(dumps({**record(i), "mlmon_version": "1"}) for i in range(3)))
    assert own_file(str(tmp_path / "a.jsonl")) is None
    (tmp_path / "x.lock").write_bytes(b"")
    (tmp_path / "x").write_bytes(_lines(0, 2))
    assert own_file(str(tmp_path / "x.lock")) is None  # beside a log, not a state


# --- 11. lines that hold no record -----------------------------------------------------------


def test_new_lines_without_a_record_are_no_data_like_no_new_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "app.log"
    (tmp_path / "mlmon.toml").write_text(
        'logs = ["app.log"]\n[[rules]]\nmetric = "records"\nwarning = 100\ncritical = 1\n'
        '[[rules]]\nmetric = "success_rate"\nwarning = 0.5\n'
    )
    log.write_bytes(join(LOG_PREFIX.encode() + dumps(record(i)) for i in range(200)))
    assert cli(["check", "--state", "st.json"]).exit_code == 0
    quiet = cli(["check", "--state", "st.json", "-f", "json"])  # no new line
    with open(log, "ab") as fh:  # the service logs, but no prediction
        fh.write(b"2026-11-01 10:00:00,001 - __main__ - WARNING - retry {'features': {'age': 3}}\n" * 5)
        fh.write(b"2026-11-01 10:00:00,002 - __main__ - INFO - Model loaded from /models/v1\n")
    chatty = cli(["check", "--state", "st.json", "-f", "json"])
    assert chatty.exit_code == quiet.exit_code == 65
    a, b = json.loads(quiet.stdout), json.loads(chatty.stdout)
    assert [(r["name"], r["status"], r["value"]) for r in a["results"]] == [
        (r["name"], r["status"], r["value"]) for r in b["results"]
    ]
    assert b["input"]["reasons"] == {"non_record": 6}
    assert "6 new line(s) since the last run, none a record (non_record: 6)" in chatty.stderr
    assert "--record-marker" not in chatty.stderr


def test_plan_finds_nothing_new_without_reading(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(_lines(0, 5))
    with plan([str(log)], ()) as p:
        assert [r.how for r in p.reads] == ["new"]
