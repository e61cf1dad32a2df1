"""What --state looks at before it plans, straight from `follow` on real files in a tmp folder:
one look a file (`_look`: its identity and first kilobyte, decompressed and recoded), the rotated
copies found beside a log (`siblings`), the logs named (`_named`), and the plan's own refusals and
retries (`plan`, `_plan`). A wrong look is a copy taken for another file: lines read twice or never."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import os
import shutil
import time
from pathlib import Path

import pytest

from mlmon.errors import NoInputError, OptionError
from mlmon.read import follow
from mlmon.read.follow import FP_BYTES, FileState, FollowPlan, _look, _named, plan, siblings
from mlmon.read.reader import FileReport
from mlmon.read.sources import Format, open_source


def _line(i: int) -> bytes:
    return b'{"latency_ms": %d, "status": "success", "n": "%06d"}\n' % (i % 89, i)


def _data(start: int, n: int) -> bytes:
    return b"".join(_line(i) for i in range(start, start + n))


def _read_all(fp: FollowPlan) -> tuple[FileState, ...]:
    """The state once every planned read went to the end of its file."""
    from dataclasses import replace

    with fp:
        done = [replace(p.after, offset=p.after.size if not p.after.compressed else p.after.offset,
                        done=p.after.compressed) for p in fp.reads]
        return (*done, *fp.kept)


def _reads(fp: FollowPlan) -> list[tuple[str, str, int, int | None]]:
    with fp:
        return [(p.source.name, p.how, p.source.start, p.source.stop) for p in fp.reads]


def _fds() -> int:
    """Descriptors this process holds open on files of the test's folder (the current one):
    those of other threads of the test run are not counted."""
    here = os.getcwd() + os.sep
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            n += os.readlink(f"/proc/self/fd/{fd}").startswith(here)
        except OSError:
            continue  # closed since the listing
    return n


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- _look: one open, identity and first kilobyte from the same file


def test_a_plain_log_is_looked_at_with_its_identity_and_first_kilobyte(here: Path) -> None:
    data = _data(0, 40)
    assert len(data) > FP_BYTES
    (here / "app.log").write_bytes(data)
    st = os.stat("app.log")
    before = _fds()
    seen = _look("app.log")
    assert _fds() == before  # the look's descriptor is closed
    assert seen is not None
    assert (seen.path, seen.dev, seen.inode, seen.size, seen.mtime) == (
        "app.log", st.st_dev, st.st_ino, st.st_size, st.st_mtime)
    assert (seen.compressed, seen.plain, seen.head, seen.fmt, seen.encoding) == (
        False, True, data[:FP_BYTES], Format.JSONL, None)


@pytest.mark.parametrize("opener", [gzip.open, bz2.open])
def test_a_compressed_copy_is_looked_at_by_its_decompressed_head(
    here: Path, opener: object
) -> None:
    data = _data(100, 40)
    with opener("app.log.2.gz", "wb") as fh:  # type: ignore[operator]
        fh.write(data)
    seen = _look("app.log.2.gz")
    assert seen is not None
    assert seen.compressed and not seen.plain
    assert seen.head == data[:FP_BYTES]
    assert seen.size == os.stat("app.log.2.gz").st_size < len(data)


def test_a_short_log_is_looked_at_whole(here: Path) -> None:
    (here / "app.log").write_bytes(_line(1))
    seen = _look("app.log")
    assert seen is not None and seen.head == _line(1) and seen.size == len(_line(1))


def test_a_recoded_log_is_looked_at_in_utf8(here: Path) -> None:
    text = _data(0, 40).decode()
    (here / "app.log").write_bytes(text.encode("utf-16"))
    seen = _look("app.log")
    assert seen is not None
    assert seen.head == text.encode()[:FP_BYTES]
    assert seen.encoding is not None and "16" in seen.encoding


def test_what_is_not_a_regular_file_is_not_looked_at(here: Path) -> None:
    """A folder, a FIFO (opened without waiting for a writer), a name that is not there: none is
    a log to follow."""
    (here / "dir.log").mkdir()
    os.mkfifo(here / "fifo.log")
    before = _fds()
    assert _look("dir.log") is None
    assert _look("fifo.log") is None
    assert _look("gone.log") is None
    assert _fds() == before


def test_a_compressed_copy_damaged_after_its_header_has_no_head(here: Path) -> None:
    """A `.gz` whose stream is damaged right after its header is still looked at (the reader says
    what is wrong with it), with no first bytes to recognise it by."""
    good = gzip.compress(_data(0, 40))
    (here / "app.log.1.gz").write_bytes(good[:10] + b"\xff" * 64)
    seen = _look("app.log.1.gz")
    assert seen is not None and seen.compressed and seen.head == b""


# --- siblings: the rotated copies beside a log


def test_the_siblings_of_a_log_with_glob_characters_in_its_name(here: Path) -> None:
    """A log's name is a name, not a pattern: `app[1].log`'s copies are `app[1].log.1`..., not
    `app1.log.1`."""
    for n in ["app[1].log", "app[1].log.1", "app[1].log-20261207.gz", "app1.log.1", "app[1].logx"]:
        (here / n).write_bytes(_line(1))
    assert siblings("app[1].log") == ["app[1].log-20261207.gz", "app[1].log.1"]


def test_the_siblings_of_a_log_in_a_folder(here: Path) -> None:
    (here / "logs").mkdir()
    for n in ["app.log", "app.log.1", "app.log.2.gz", "app.log-20261207", "app.log.tmp"]:
        (here / "logs" / n).write_bytes(_line(1))
    assert siblings(os.path.join("logs", "app.log")) == [
        os.path.join("logs", n) for n in ["app.log-20261207", "app.log.1", "app.log.2.gz"]]
    assert siblings(os.path.join("logs", "none.log")) == []


# --- _named: the logs named, and the names whose copies are looked at


def test_the_logs_named_and_the_names_looked_beside(here: Path) -> None:
    (here / "logs").mkdir()
    (here / "logs" / "b.log").write_bytes(_line(1))
    (here / "logs" / "a.log").write_bytes(_line(2))
    (here / "c.log").write_bytes(_line(3))
    left: list[tuple[str, str]] = []
    named, bases = _named(["c.log", "logs"], False, left)
    assert named == ["c.log", os.path.join("logs", "a.log"), os.path.join("logs", "b.log")]
    # the folder itself is no log: its files are
    assert bases == sorted({*named})
    assert left == []


def test_a_log_named_that_is_not_there_is_an_error_on_the_first_run(here: Path) -> None:
    (here / "c.log").write_bytes(_line(3))
    with pytest.raises(NoInputError):
        _named(["gone.log", "c.log"], False, [])


def test_a_log_named_that_is_not_there_while_following_is_looked_for_beside(here: Path) -> None:
    """Between logrotate's rename and the service's new file: the name is no error, the other logs
    are named, and the missing log's name is still one whose rotated copies are looked at."""
    (here / "logs").mkdir()
    (here / "logs" / "a.log").write_bytes(_line(1))
    (here / "logs" / "m.prom").write_text("# HELP mlmon_run_success 1\nmlmon_run_success 1\n")
    (here / "c.log").write_bytes(_line(3))
    left: list[tuple[str, str]] = []
    named, bases = _named(["gone.log", "logs", "c.log"], True, left)
    assert named == [os.path.join("logs", "a.log"), "c.log"]
    assert bases == sorted(["gone.log", os.path.join("logs", "a.log"), "c.log"])
    assert [(os.path.basename(p), what) for p, what in left] == [("m.prom", "metrics for Prometheus")]


def test_mlmon_s_own_files_are_named_left_out_while_a_log_is_missing(here: Path) -> None:
    """Following, with a log named missing: the plan still names mlmon's own files it left out
    of a folder."""
    (here / "logs").mkdir()
    (here / "logs" / "a.log").write_bytes(_data(0, 30))
    (here / "logs" / "m.prom").write_text("# HELP mlmon_run_success 1\nmlmon_run_success 1\n")
    known = _read_all(plan(["logs"], ()))
    with plan(["gone.log", "logs"], known) as fp:
        assert fp.reads == ()
        assert [(os.path.basename(p), what) for p, what in fp.left_out] == [
            ("m.prom", "metrics for Prometheus")]


def test_nothing_readable_is_an_error_only_without_a_state(here: Path) -> None:
    with pytest.raises(NoInputError) as e:
        plan(["logs/*.log"], ())
    assert "no input" in str(e.value)
    (here / "app.log").write_bytes(_data(0, 30))
    known = _read_all(plan(["app.log"], ()))
    (here / "app.log").unlink()
    with plan(["app.log"], known) as fp:  # following: the log is lost, not an error
        assert fp.reads == () and fp.kept == ()
        assert [(x.source, x.bytes) for x in fp.lost] == [("app.log", 0)]


# --- plan: what --state refuses, and the files it looks at


def test_standard_input_cannot_be_followed(here: Path) -> None:
    with pytest.raises(OptionError) as e:
        plan(["app.log", "-"], ())
    assert str(e.value) == "--state follows files; standard input cannot be followed"


def test_logs_in_object_storage_cannot_be_followed_and_the_first_is_named(here: Path) -> None:
    (here / "app.log").write_bytes(_line(1))
    with pytest.raises(OptionError) as e:
        plan(["app.log", "s3://bucket/a.log", "https://example.org/b.log"], ())
    msg = str(e.value)
    assert msg.startswith("--state follows local files; 's3://bucket/a.log' is in object storage")
    assert "b.log" not in msg and "without --state" in msg and "--since" in msg


def test_a_csv_log_named_is_refused_but_a_csv_copy_beside_is_not(here: Path) -> None:
    (here / "app.log").write_bytes(_data(0, 30))
    (here / "app.log.1").write_bytes(b"latency_ms,status\n" + b"5,success\n" * 30)
    with plan(["app.log"], ()) as fp:
        assert [p.source.name for p in fp.reads] == ["app.log"]
    (here / "t.csv").write_bytes(b"latency_ms,status\n5,success\n")
    with pytest.raises(OptionError) as e:
        plan(["app.log", "t.csv"], ())
    assert str(e.value) == ("--state reads JSON-lines logs incrementally; t.csv is csv: "
                            "check it without --state")


def test_a_file_under_two_names_is_looked_at_once(here: Path) -> None:
    """A hard link (logrotate's `copy` done as a link, an operator's backup) is one file: read
    once; another spelling of a name too."""
    data = _data(0, 30)
    (here / "app.log").write_bytes(data)
    os.link(here / "app.log", here / "app.log.1")
    assert _reads(plan(["app.log"], (), since=0.0)) == [("app.log", "new", 0, len(data))]
    assert _reads(plan(["./app.log", "app.log"], (), since=0.0)) == [("app.log", "new", 0, len(data))]


def test_copies_in_a_rotated_folder_are_followed_but_not_mlmon_s_own_files(here: Path) -> None:
    """logrotate's olddir: the `rotated` patterns name where copies go; a folder there and a file
    mlmon wrote are no copies."""
    data = _data(0, 30)
    (here / "app.log").write_bytes(data)
    known = _read_all(plan(["app.log"], ()))
    more = _data(30, 4)
    with (here / "app.log").open("ab") as fh:
        fh.write(more)
    (here / "old").mkdir()
    (here / "app.log").rename(here / "old" / "app.log.1")
    (here / "old" / "sub").mkdir()
    (here / "old" / "m.prom").write_text("# HELP mlmon_run_success 1\nmlmon_run_success 1\n")
    fresh = _data(900, 3)
    (here / "app.log").write_bytes(fresh)
    got = _reads(plan(["app.log"], known, rotated=["old/*"], since=0.0))
    assert got == [(os.path.join("old", "app.log.1"), "rotated", len(data), len(data) + len(more)),
                   ("app.log", "new", 0, len(fresh))]
    # without the pattern the copy is nowhere: its unread bytes are lost
    with plan(["app.log"], known, since=0.0) as fp:
        assert [(x.source, x.bytes) for x in fp.lost] == [("app.log", 0)]


def test_a_followed_copy_s_own_siblings_are_looked_at(here: Path) -> None:
    """A copy followed under its rotated name (`app.log.1`, not read to its end) goes on when
    rotation compresses it to `app.log.2.gz`: the copies beside a known file's log are looked at,
    though the log itself is not named any more."""
    data = _data(0, 40)
    (here / "app.log.1").write_bytes(data)
    (here / "other.log").write_bytes(_data(500, 30))
    known = tuple(replace_offset(k, 100) if k.path == "app.log.1" else k
                  for k in _read_all(plan(["app.log.1", "other.log"], ())))
    with gzip.open(here / "app.log.2.gz", "wb") as gz:
        gz.write(data)
    (here / "app.log.1").unlink()
    got = _reads(plan(["other.log"], known))
    assert got == [("app.log.2.gz", "rotated", 100, None)]


def replace_offset(k: FileState, offset: int) -> FileState:
    from dataclasses import replace

    return replace(k, offset=offset, lines=2)


def test_a_plan_that_keeps_being_moved_settles_and_leaks_no_descriptor(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log replaced under its name at every look (a runaway writer): the plan looks again a
    bounded number of times, then plans what it opened; no descriptor is left open on the way."""
    data = _data(0, 30)
    (here / "app.log").write_bytes(data)
    looks: list[str] = []
    look = follow._look

    def moving_look(path: str) -> object:
        seen = look(path)
        looks.append(path)
        tmp = here / "app.log.new"
        tmp.write_bytes(data)
        tmp.rename(here / "app.log")  # another inode under the name after every look
        return seen

    monkeypatch.setattr(follow, "_look", moving_look)
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    before = _fds()
    with plan(["app.log"], ()) as fp:
        assert [(p.source.name, p.how, p.source.start, p.source.stop) for p in fp.reads] == [
            ("app.log", "new", 0, len(data))]
        assert len(fp.fds) == 1
    assert _fds() == before
    assert len(looks) == 21  # twenty looks again, then the last plans what it opened
    assert slept == pytest.approx([0.01 * n for n in range(1, 21)])


def test_a_plan_settled_after_a_move_holds_only_its_own_descriptors(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (here / "app.log").write_bytes(_data(0, 30))
    moved: list[bool] = []
    look = follow._look

    def once(path: str) -> object:
        seen = look(path)
        if not moved:
            moved.append(True)
            (here / "app.log").rename(here / "app.log.1")
            (here / "app.log").write_bytes(_data(0, 30))
        return seen

    monkeypatch.setattr(follow, "_look", once)
    monkeypatch.setattr(time, "sleep", lambda s: None)
    before = _fds()
    with plan(["app.log"], ()) as fp:
        assert _fds() == before + len(fp.fds) == before + len(fp.reads)
    assert _fds() == before


def test_time_is_not_slept_when_nothing_moves(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (here / "app.log").write_bytes(_data(0, 3))
    monkeypatch.setattr(time, "sleep", lambda s: (_ for _ in ()).throw(AssertionError(s)))
    with plan(["app.log"], ()) as fp:
        assert len(fp.reads) == 1


# --- a file that moves or grows between mlmon's look and its open


def test_a_rotated_copy_replaced_between_the_look_and_the_open_is_looked_at_again(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy no run has seen, rotated since the last run, is replaced under its name while the
    plan is made: the plan is made again, and the state it remembers is the file it reads (its
    inode and first bytes), never the one looked at first."""
    (here / "app.log").write_bytes(_data(0, 30))
    known = _read_all(plan(["app.log"], ()))
    (here / "app.log.1").write_bytes(_data(300, 30))
    second = _data(600, 31)
    moved: list[bool] = []
    look = follow._look

    def racing(path: str) -> object:
        seen = look(path)
        if path == "app.log.1" and not moved:
            moved.append(True)
            (here / "app.log.1.tmp").write_bytes(second)
            (here / "app.log.1.tmp").rename(here / "app.log.1")
        return seen

    monkeypatch.setattr(follow, "_look", racing)
    monkeypatch.setattr(time, "sleep", lambda s: None)
    with plan(["app.log"], known, since=0.0) as fp:
        assert moved
        (p,) = fp.reads
        assert (p.source.name, p.how, p.source.start, p.source.stop) == ("app.log.1", "new", 0, len(second))
        assert p.after.inode == os.fstat(p.source.fd or -1).st_ino == os.stat("app.log.1").st_ino
        assert p.after.fingerprint == hashlib.sha256(second[:FP_BYTES]).hexdigest()


def test_a_new_log_replaced_between_the_look_and_the_open_is_looked_at_again(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (here / "app.log").write_bytes(_data(0, 30))
    second = _data(600, 33)
    moved: list[bool] = []
    look = follow._look

    def racing(path: str) -> object:
        seen = look(path)
        if not moved:
            moved.append(True)
            (here / "app.log.tmp").write_bytes(second)
            (here / "app.log.tmp").rename(here / "app.log")
        return seen

    monkeypatch.setattr(follow, "_look", racing)
    monkeypatch.setattr(time, "sleep", lambda s: None)
    with plan(["app.log"], ()) as fp:
        (p,) = fp.reads
        assert (p.source.name, p.how, p.source.stop) == ("app.log", "new", len(second))
        assert p.after.inode == os.stat("app.log").st_ino
        assert p.after.fingerprint == hashlib.sha256(second[:FP_BYTES]).hexdigest()


def test_a_log_grown_between_the_look_and_the_open_is_remembered_at_the_size_read(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines appended while the plan is made are read (up to the size at the open), and the state
    remembers that size: a half-written last line left unread is counted as lost if the log
    then disappears, not hidden."""
    first = _data(0, 30)
    (here / "app.log").write_bytes(first)
    known = _read_all(plan(["app.log"], ()))
    with (here / "app.log").open("ab") as fh:
        fh.write(_line(30))  # grown since the last run, as seen by the look
    grown = _data(31, 4) + b'{"latency_ms": 3, "sta'  # and again before the open
    look = follow._look

    def growing(path: str) -> object:
        seen = look(path)
        with (here / "app.log").open("ab") as fh:
            fh.write(grown)
        return seen

    monkeypatch.setattr(follow, "_look", growing)
    fp = plan(["app.log"], known)
    monkeypatch.undo()
    with fp:
        (p,) = fp.reads
        size = len(first) + len(_line(30)) + len(grown)
        assert (p.how, p.source.start, p.source.stop, p.after.size) == ("continued", len(first), size, size)
        whole = len(_data(30, 5))  # the whole lines read
        report = FileReport(p.source.name, "jsonl", "none", 5, 5, {}, None, consumed=whole)
        after = follow.finished(p, report)
    (here / "app.log").unlink()
    with plan(["app.log"], (after,)) as fp2:
        assert [(x.source, x.bytes) for x in fp2.lost] == [("app.log", size - len(first) - whole)]


def test_a_log_renamed_between_the_open_and_the_read_is_looked_at_through_its_descriptor(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """logrotate renames the log and the service makes it anew between the look's open and its
    read of the first bytes: the look holds the identity and the first bytes of one file, the
    one it opened."""
    old, new = _data(0, 30), _data(700, 30)
    (here / "app.log").write_bytes(old)
    st = os.stat("app.log")
    real = open_source

    def rotating(*args: object, **kw: object) -> object:
        (here / "app.log").rename(here / "app.log.1")
        (here / "app.log").write_bytes(new)
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(follow, "open_source", rotating)
    seen = _look("app.log")
    assert seen is not None
    assert (seen.inode, seen.size, seen.head) == (st.st_ino, len(old), old[:FP_BYTES])


def test_a_short_log_under_two_names_is_read_once(here: Path) -> None:
    """Too short to be told by its content (under MIN_FP_BYTES), a log with a second name (a
    hard link that looks like a rotated copy) is still one file: its lines are read once."""
    line = b'{"n": 1}\n'
    assert len(line) < follow.MIN_FP_BYTES
    (here / "app.log").write_bytes(line)
    os.link(here / "app.log", here / "app.log.1")
    assert _reads(plan(["app.log"], (), since=0.0)) == [("app.log", "new", 0, len(line))]


def test_no_readable_log_without_a_state_is_the_no_input_error(here: Path) -> None:
    os.mkfifo(here / "app.log")
    with pytest.raises(NoInputError) as e:
        plan(["app.log"], ())
    assert str(e.value) == "no input: none of the logs can be read"


def test_a_log_named_with_capital_letters_is_a_live_log(here: Path) -> None:
    """A log named itself (not a glob) is a live log whatever its letters: gone with its content
    nowhere, what it got since the last run is reported lost."""
    (here / "APP-X.log").write_bytes(_data(0, 30))
    known = _read_all(plan(["APP-X.log"], ()))
    (here / "APP-X.log").unlink()
    with plan(["APP-X.log"], known) as fp:
        assert [(x.source, x.bytes) for x in fp.lost] == [("APP-X.log", 0)]


def test_logs_in_object_storage_are_refused_with_what_to_do(here: Path) -> None:
    with pytest.raises(OptionError) as e:
        plan(["gs://b/app.log"], ())
    assert str(e.value) == (
        "--state follows local files; 'gs://b/app.log' is in object storage or on a web server: "
        "read it without --state (each run reads it whole), or give --since to read a window")


def test_a_plan_that_kept_being_moved_still_reads_the_copies_rotated_since_the_last_run(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last look, after twenty moves, plans with the same time of the last run: a copy rotated
    since is read, not taken as read."""
    data = _data(0, 30)
    (here / "app.log").write_bytes(data)
    (here / "app.log.1").write_bytes(_data(300, 30))
    look = follow._look

    def moving_look(path: str) -> object:
        seen = look(path)
        if path == "app.log":
            tmp = here / "app.log.new"
            tmp.write_bytes(data)
            tmp.rename(here / "app.log")
        return seen

    monkeypatch.setattr(follow, "_look", moving_look)
    monkeypatch.setattr(time, "sleep", lambda s: None)
    got = _reads(plan(["app.log"], (), since=time.time() - 60))
    assert got == [("app.log.1", "new", 0, len(_data(300, 30))), ("app.log", "new", 0, len(data))]


# --- two logs that begin with the same kilobyte (replicas writing one startup banner)

BANNER = b"".join(b'{"event": "config", "key": "k%03d", "value": "%s"}\n' % (i, b"v" * 40) for i in range(24))


def _replicas(here: Path) -> tuple[FileState, ...]:
    assert len(BANNER) > FP_BYTES
    (here / "a.log").write_bytes(BANNER + _data(0, 10))
    (here / "b.log").write_bytes(BANNER + _data(100, 10))
    return _read_all(plan(["a.log", "b.log"], ()))


def _copytruncate(here: Path, name: str, more: bytes, fresh: bytes) -> None:
    with (here / name).open("ab") as fh:
        fh.write(more)
    shutil.copyfile(here / name, here / f"{name}.1")
    with (here / name).open("r+b") as fh:  # truncated in place: the same inode, new lines
        fh.truncate(0)
        fh.write(fresh)


def test_a_replica_s_copy_goes_on_from_its_own_offset_beside_the_other_replica(here: Path) -> None:
    """b.log is copied and truncated; a.log, the same first kilobyte and longer, grew in place:
    b's lines go on in b's copy, a's in a.log; none is lost, none read twice."""
    known = _replicas(here)
    a0, b0 = (here / "a.log").stat().st_size, (here / "b.log").stat().st_size
    with (here / "a.log").open("ab") as fh:
        fh.write(_data(10, 40))
    _copytruncate(here, "b.log", _data(110, 3), _data(900, 2))
    a1, b1 = (here / "a.log").stat().st_size, (here / "b.log.1").stat().st_size
    assert a1 > b1
    with plan(["a.log", "b.log"], known, since=0.0) as fp:
        got = sorted((p.source.name, p.how, p.source.start, p.source.stop) for p in fp.reads)
        assert fp.lost == ()
    assert got == [("a.log", "continued", a0, a1), ("b.log", "truncated", 0, len(_data(900, 2))),
                   ("b.log.1", "rotated", b0, b1)]


def test_two_replicas_copies_each_go_on_from_their_own_offset(here: Path) -> None:
    """Both replicas copied and truncated: each record goes on in a copy of its own, never both
    in one while the other copy is dropped as the same content."""
    known = _replicas(here)
    a0, b0 = (here / "a.log").stat().st_size, (here / "b.log").stat().st_size
    _copytruncate(here, "a.log", _data(10, 40), _data(800, 2))
    _copytruncate(here, "b.log", _data(110, 3), _data(900, 2))
    a1, b1 = (here / "a.log.1").stat().st_size, (here / "b.log.1").stat().st_size
    assert a1 > b1
    with plan(["a.log", "b.log"], known, since=0.0) as fp:
        got = sorted((p.source.name, p.how, p.source.start, p.source.stop) for p in fp.reads)
        assert fp.lost == ()
    assert got == [("a.log", "truncated", 0, len(_data(800, 2))), ("a.log.1", "rotated", a0, a1),
                   ("b.log", "truncated", 0, len(_data(900, 2))), ("b.log.1", "rotated", b0, b1)]


def test_a_recoded_log_caught_mid_character_goes_on_once_the_character_is_written(here: Path) -> None:
    """A UTF-16 log looked at while its writer is half-way through a character: the state's
    fingerprint covers whole characters only, so once the character is written the log is the
    same content, continued from where the last run stopped (not read again from its start)."""
    text = "".join(_line(i).decode() for i in range(3)).replace('"n"', '"é"')
    data = text.encode("utf-16")
    (here / "app.log").write_bytes(data[:-1])  # the last newline half written
    with plan(["app.log"], ()) as fp:
        (p,) = fp.reads
        whole = len(("".join(_line(i).decode() for i in range(2)).replace('"n"', '"é"')).encode("utf-16"))
        from dataclasses import replace

        known = (replace(p.after, offset=whole, lines=2),)
    with (here / "app.log").open("ab") as fh:
        fh.write(data[-1:] + _line(3).decode().encode("utf-16-le"))
    size = (here / "app.log").stat().st_size
    assert _reads(plan(["app.log"], known)) == [("app.log", "continued", whole, size)]


def test_a_log_rolled_over_between_the_listing_and_the_look_is_found_under_its_new_name(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a handler rolls `app.log` over to `app.log.1` just after mlmon listed the folder: the read
    # file is looked for once more, found as `.1`, and kept; no later run reads it again as new
    (here / "app.log").write_bytes(_data(0, 30))
    state = _read_all(plan([str(here / "app.log*")], ()))
    look = follow._look
    rolled: list[bool] = []

    def roll_then_look(path: str) -> object:
        if not rolled:  # after every listing of this run, before its first look
            rolled.append(True)
            (here / "app.log").rename(here / "app.log.1")
            (here / "app.log").write_bytes(_data(30, 5))
        return look(path)

    monkeypatch.setattr(follow, "_look", roll_then_look)
    since = time.time() - 60
    after = plan(["app.log*"], state, since=since)
    monkeypatch.setattr(follow, "_look", look)
    assert [r[:2] for r in _reads(after)] == [("app.log", "new")]
    size = len(_data(0, 30))
    assert {Path(k.path).name: (k.offset, k.size) for k in after.kept} == {"app.log.1": (size, size)}
    nxt = _read_all(after)  # the next run, nothing written since: `.1` is not read again
    assert [r[:2] for r in _reads(plan(["app.log*"], nxt, since=since))] == []
