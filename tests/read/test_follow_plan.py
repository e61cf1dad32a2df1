"""What --state plans to read, file by file, straight from `follow.plan` on real files: where each
followed file goes on (continued in place, or rotated: renamed, copied, compressed), from which
byte, and what is reported lost with how many bytes. A wrong offset reads lines twice or never; a
wrong lost count hides a gap. Each case is one rotation a service's logs go through."""

from __future__ import annotations

import gzip
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from mlmon.read.follow import MIN_FP_BYTES, FileState, FollowPlan, _fp_bytes, _look, plan
from mlmon.read.reader import Lost


def _line(i: int) -> bytes:
    return b'{"latency_ms": %d, "status": "success", "n": "%06d"}\n' % (i % 97, i)


def _write(path: Path, start: int, n: int, mode: str = "wb") -> bytes:
    data = b"".join(_line(i) for i in range(start, start + n))
    with path.open(mode) as fh:
        fh.write(data)
    return data


def _read_all(fp: FollowPlan) -> tuple[FileState, ...]:
    """The state after every planned read went through to the end of the file."""
    with fp:
        done = [replace(p.after, offset=p.after.size if not p.after.compressed else p.after.offset,
                        lines=p.after.lines + 1, done=p.after.compressed) for p in fp.reads]
        return (*done, *fp.kept)


def _reads(fp: FollowPlan) -> list[tuple[str, str, int, int | None]]:
    with fp:
        return [(os.path.basename(p.source.name), p.how, p.source.start, p.source.stop) for p in fp.reads]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_log_that_grew_is_continued_from_where_the_last_run_stopped(here: Path) -> None:
    first = _write(here / "app.log", 0, 20)
    known = _read_all(plan(["app.log"], ()))
    assert [(k.path, k.offset) for k in known] == [("app.log", len(first))]
    more = _write(here / "app.log", 20, 5, "ab")
    assert _reads(plan(["app.log"], known)) == [("app.log", "continued", len(first), len(first) + len(more))]


def test_a_renamed_log_is_rotated_and_the_new_log_is_new(here: Path) -> None:
    first = _write(here / "app.log", 0, 20)
    known = _read_all(plan(["app.log"], ()))
    more = _write(here / "app.log", 20, 5, "ab")
    (here / "app.log").rename(here / "app.log.1")
    fresh = _write(here / "app.log", 100, 3)
    assert _reads(plan(["app.log"], known, since=0.0)) == [
        ("app.log.1", "rotated", len(first), len(first) + len(more)),
        ("app.log", "new", 0, len(fresh)),
    ]


def test_a_log_replaced_under_its_name_by_a_longer_copy_is_rotated(here: Path) -> None:
    """An editor's or a shipper's atomic rewrite: the same name, another inode, the same first
    bytes and more: it goes on from the offset, told apart from the same file growing."""
    first = _write(here / "app.log", 0, 20)
    known = _read_all(plan(["app.log"], ()))
    tmp = here / "app.log.tmp"
    tmp.write_bytes(first)
    more = _write(tmp, 20, 4, "ab")
    tmp.rename(here / "app.log")
    assert _reads(plan(["app.log"], known)) == [("app.log", "rotated", len(first), len(first) + len(more))]


def test_a_small_log_beside_another_is_followed_by_its_inode(here: Path) -> None:
    """Under MIN_FP_BYTES the content tells nothing: only the same inode is the same file, and
    another log looked at first must not stop the search."""
    _write(here / "a.log", 0, 30)
    (here / "b.log").write_bytes(b"\n\n")
    known = _read_all(plan(["a.log", "b.log"], ()))
    assert {k.path: k.fp_bytes for k in known}["b.log"] == 2 < MIN_FP_BYTES
    with (here / "b.log").open("ab") as fh:
        fh.write(_line(7))
    for order in (known, known[::-1]):  # whichever the state holds first
        got = _reads(plan(["a.log", "b.log"], order))
        assert got == [("b.log", "continued", 2, 2 + len(_line(7)))]


def test_a_log_of_exactly_min_fp_bytes_is_found_by_content_when_copied(here: Path) -> None:
    head = b"\n" * (MIN_FP_BYTES - 1) + b"\n"
    (here / "app.log").write_bytes(head)
    known = _read_all(plan(["app.log"], ()))
    assert known[0].fp_bytes == MIN_FP_BYTES
    # copytruncate: the content goes on in a copy (another inode); the log starts again empty
    shutil.copyfile(here / "app.log", here / "app.log.1")
    with (here / "app.log.1").open("ab") as fh:
        fh.write(_line(1))
    (here / "app.log").write_bytes(b"")
    got = _reads(plan(["app.log"], known, since=0.0))
    assert ("app.log.1", "rotated", MIN_FP_BYTES, MIN_FP_BYTES + len(_line(1))) in got


@pytest.mark.parametrize("how", ["rename", "copy"])
def test_each_of_two_logs_goes_on_one_in_place_one_rotated(here: Path, how: str) -> None:
    a = _write(here / "a.log", 0, 20)
    b = _write(here / "b.log", 500, 20)
    known = _read_all(plan(["a.log", "b.log"], ()))
    a2 = _write(here / "a.log", 20, 2, "ab")
    b2 = _write(here / "b.log", 520, 3, "ab")
    if how == "rename":  # the same inode under another name
        (here / "b.log").rename(here / "b.log.1")
    else:  # copied and removed: found by its content alone, after a.log was found in place
        shutil.copyfile(here / "b.log", here / "b.log.1")
        (here / "b.log").unlink()
    got = _reads(plan(["a.log", "b.log"], known, since=0.0))
    assert got == [("a.log", "continued", len(a), len(a) + len(a2)),
                   ("b.log.1", "rotated", len(b), len(b) + len(b2))]


def test_a_log_that_grew_in_place_goes_on_in_place_beside_a_copy_of_it(here: Path) -> None:
    """A backup copy of the log (another inode, the same first bytes) appeared since the last
    run: the log itself goes on, and the copy's lines, the log's own, are not read again."""
    first = _write(here / "app.log", 0, 30)
    known = _read_all(plan(["app.log"], ()))
    shutil.copyfile(here / "app.log", here / "app.log.1")
    more = _write(here / "app.log", 30, 4, "ab")
    got = _reads(plan(["app.log"], known, since=0.0))
    assert got == [("app.log", "continued", len(first), len(first) + len(more))]


def test_two_records_of_one_content_go_on_from_the_one_read_furthest(here: Path) -> None:
    """A copy remembered beside the log it copies (read to 600 bytes; the log to its end), and
    both rotated away by copy: one file goes on, from the furthest offset, whatever the order of
    the records; nothing is read twice."""
    from mlmon.read.follow import _state

    first = _write(here / "app.log", 0, 40)
    (log_state,) = _read_all(plan(["app.log"], ()))
    shutil.copyfile(here / "app.log", here / "app.log.1")
    seen = _look("app.log.1")
    assert seen is not None
    copy_state = _state(seen, 600, 9)
    (here / "app.log.1").unlink()
    shutil.copyfile(here / "app.log", here / "app.log.2")
    (here / "app.log").unlink()
    more = _write(here / "app.log.2", 40, 3, "ab")
    for known in ((log_state, copy_state), (copy_state, log_state)):
        with plan(["app.log"], known, since=None) as fp:
            got = [(os.path.basename(p.source.name), p.how, p.source.start, p.source.stop,
                    p.source.first_line) for p in fp.reads]
        assert got == [("app.log.2", "rotated", len(first), len(first) + len(more), log_state.lines + 1)]


def test_a_copied_log_goes_on_in_the_plain_copy_before_the_compressed_one(here: Path) -> None:
    first = _write(here / "app.log", 0, 40)
    known = _read_all(plan(["app.log"], ()))
    more = _write(here / "app.log", 40, 5, "ab")
    data = (here / "app.log").read_bytes()
    with gzip.open(here / "app.log.2.gz", "wb") as gz:  # being made from the .1, still there
        gz.write(data)
    shutil.copyfile(here / "app.log", here / "app.log.1")
    (here / "app.log").unlink()
    got = _reads(plan(["app.log"], known, since=0.0))
    assert got == [("app.log.1", "rotated", len(first), len(first) + len(more))]


def test_of_two_plain_copies_the_longer_goes_on(here: Path) -> None:
    first = _write(here / "app.log", 0, 40)
    known = _read_all(plan(["app.log"], ()))
    shutil.copyfile(here / "app.log", here / "app.log.2")
    more = _write(here / "app.log", 40, 5, "ab")
    shutil.copyfile(here / "app.log", here / "app.log.1")
    (here / "app.log").unlink()
    got = _reads(plan(["app.log"], known, since=None))
    assert got[0] == ("app.log.1", "rotated", len(first), len(first) + len(more))


def _known(path: Path, **over: object) -> FileState:
    base = FileState(path=str(path), dev=0, inode=0, size=0, compressed=False, fingerprint="0" * 64,
                     fp_bytes=MIN_FP_BYTES, offset=0, lines=0)
    return replace(base, **over)  # type: ignore[arg-type]


@pytest.mark.parametrize(("size", "offset", "lost"), [(101, 100, 1), (100, 100, 0), (5000, 10, 4990)])
def test_a_gone_file_is_lost_with_its_unread_bytes(here: Path, size: int, offset: int, lost: int) -> None:
    _write(here / "other.log", 0, 3)
    k = _known(here / "gone.log.1", size=size, offset=offset)
    fp = plan(["other.log"], (k,))
    with fp:
        assert list(fp.lost) == ([Lost(k.path, lost)] if lost else [])


@pytest.mark.parametrize(("done", "lost"), [(False, 700), (True, None)])
def test_a_gone_compressed_file_is_lost_whole_unless_read_to_its_end(
    here: Path, done: bool, lost: int | None
) -> None:
    """Its offset counts content bytes, its size compressed ones: all that is known is that some
    of its content was not read: its whole size is reported."""
    _write(here / "other.log", 0, 3)
    k = _known(here / "gone.log.2.gz", size=700, offset=300, compressed=True, done=done)
    with plan(["other.log"], (k,)) as fp:
        assert list(fp.lost) == ([Lost(k.path, lost)] if lost is not None else [])


def test_a_compressed_copy_read_to_its_end_is_kept_as_it_is(here: Path) -> None:
    _write(here / "app.log", 0, 30)
    with gzip.open(here / "app.log.1.gz", "wb") as gz:
        gz.write(b"".join(_line(i) for i in range(500, 540)))
    known = _read_all(plan(["app.log"], ()))  # the first run: the .gz there before is taken as read
    gz_state = next(k for k in known if k.path.endswith(".gz"))
    assert gz_state.done and gz_state.offset == 0
    marked = tuple(replace(k, offset=1234, lines=40) if k is gz_state else k for k in known)
    with plan(["app.log"], marked) as fp:
        assert fp.reads == ()
        kept = next(k for k in fp.kept if k.path.endswith(".gz"))
    assert (kept.path, kept.offset, kept.lines, kept.done, kept.compressed) == (
        "app.log.1.gz", 1234, 40, True, True)
    assert kept == replace(gz_state, offset=1234, lines=40)


# --- the fingerprint of a log in another encoding covers what is on disk -----------------------------

@pytest.mark.parametrize("codec", ["utf-16", "utf-32"])
def test_a_recoded_logs_fingerprint_covers_its_first_kilobyte(here: Path, codec: str) -> None:
    text = "".join(_line(i).decode() for i in range(60))  # ASCII: 1 UTF-8 byte a character
    (here / "app.log").write_bytes(text.encode(codec))  # with its BOM
    seen = _look("app.log")
    assert seen is not None and seen.encoding is not None
    assert _fp_bytes(seen, seen.size) == len(seen.head) == 1024


def test_a_recoded_log_cut_inside_a_character_counts_only_whole_ones(here: Path) -> None:
    data = "ab\n".encode("utf-16")  # BOM + 6 bytes
    (here / "app.log").write_bytes(data + b"\x00")  # half of one more UTF-16 unit
    seen = _look("app.log")
    assert seen is not None and seen.encoding is not None
    assert _fp_bytes(seen, seen.size) == min(len(seen.head), 3)


def test_a_recoded_log_with_a_broken_character_is_fingerprinted(here: Path) -> None:
    """A lone surrogate in UTF-16: replaced (as the reader does), never an error."""
    data = "\ufeff".encode("utf-16-le") + b"\x00\xd8" + "x\n".encode("utf-16-le") * 10
    (here / "app.log").write_bytes(data)
    seen = _look("app.log")
    assert seen is not None and seen.encoding is not None
    want = len(("\ufffd" + "x\n" * 10).encode("utf-8"))
    assert _fp_bytes(seen, seen.size) == min(len(seen.head), want)


@pytest.mark.parametrize(("size", "copies_read"), [(MIN_FP_BYTES, 0), (MIN_FP_BYTES - 1, 1)])
def test_a_copy_sharing_min_fp_bytes_with_the_log_is_one_content(
    here: Path, size: int, copies_read: int
) -> None:
    """Blank lines in a log and in a copy beside it that appeared since the last run: from
    MIN_FP_BYTES shared first bytes on they are one content, read once; below, two files."""
    (here / "app.log").write_bytes(b"\n" * size)
    (here / "app.log.1").write_bytes(b"\n" * size)
    got = _reads(plan(["app.log"], (), since=0.0))
    assert [name for name, *_ in got].count("app.log.1") == copies_read
    assert ("app.log", "new", 0, size) in got


def test_a_read_without_a_report_or_an_offset_keeps_the_planned_state(here: Path) -> None:
    from mlmon.read.follow import finished
    from mlmon.read.reader import FileReport

    _write(here / "app.log", 0, 5)
    with plan(["app.log"], ()) as fp:
        (p,) = fp.reads
        assert finished(p, None) == p.after
        no_offset = FileReport("app.log", "jsonl", "none", 5, 5, {}, None, consumed=None)
        assert finished(p, no_offset) == p.after
        read = FileReport("app.log", "jsonl", "none", 5, 5, {}, None, consumed=40)
        assert finished(p, read) == replace(p.after, offset=40, lines=5, done=False)


@pytest.mark.parametrize(("size", "lost"), [(MIN_FP_BYTES, True), (MIN_FP_BYTES - 1, False)])
def test_a_live_log_read_to_its_end_whose_content_is_nowhere_is_lost(
    here: Path, size: int, lost: bool
) -> None:
    """The log named was read to its end; now another file (other first bytes) has its name and
    its content is nowhere: what was written to it after the last run is gone, 0 bytes known. A
    log too short to be known by content is only known by its inode: replaced, not lost."""
    (here / "app.log").write_bytes(b"\n" * size)
    known = _read_all(plan(["app.log"], ()))
    assert known[0].offset == known[0].size == size
    (here / "away").mkdir()
    (here / "app.log").rename(here / "away" / "app.log")  # out of sight (its inode kept, not reused)
    _write(here / "app.log", 0, 2)
    with plan(["app.log"], known) as fp:
        assert list(fp.lost) == ([Lost("app.log", 0)] if lost else [])
        assert [(p.how, p.source.start) for p in fp.reads] == [("new", 0)]


def _aged(path: Path, mtime: float) -> None:
    os.utime(path, (mtime, mtime))


def test_copies_no_run_has_seen_are_read_oldest_first_or_taken_as_read_by_their_time(here: Path) -> None:
    """Rotated copies that appeared beside the log since the last run (at `since`) hold lines
    no run read: read from the start, oldest first. A copy from MTIME_SLACK seconds before the
    last run on counts as after it (time stamp granularity); older ones are taken as read."""
    from mlmon.read.follow import MTIME_SLACK

    first = _write(here / "app.log", 0, 10)
    known = _read_all(plan(["app.log"], ()))
    since = 1_800_000_000.0
    copies = {"app.log.3": (100, since - MTIME_SLACK - 1), "app.log.2": (200, since - MTIME_SLACK),
              "app.log.1": (300, since + 5)}
    sizes = {}
    for name, (start, mtime) in copies.items():
        sizes[name] = len(_write(here / name, start, 3))
        _aged(here / name, mtime)
    with gzip.open(here / "app.log.4.gz", "wb") as gz:
        gz.write(b"".join(_line(i) for i in range(400, 403)))
    _aged(here / "app.log.4.gz", since - 100)
    with plan(["app.log"], known, since=since) as fp:
        got = [(os.path.basename(p.source.name), p.how, p.source.start, p.source.first_line)
               for p in fp.reads]
        kept = {os.path.basename(k.path): (k.offset, k.lines, k.done) for k in fp.kept}
    assert got == [("app.log.2", "new", 0, 1), ("app.log.1", "new", 0, 1)]
    assert kept == {"app.log.3": (sizes["app.log.3"], 0, False), "app.log.4.gz": (0, 0, True),
                    "app.log": (len(first), known[0].lines, False)}


def test_a_new_copy_and_its_compressed_twin_are_read_once_from_the_plain_one(here: Path) -> None:
    """logrotate's delaycompress: `app.log.1` and, being written from it, `app.log.2.gz` with the
    same lines (here older on disk): the plain copy is read, the compressed one is that content."""
    _write(here / "app.log", 0, 10)
    known = _read_all(plan(["app.log"], ()))
    since = 1_800_000_000.0
    data = _write(here / "app.log.1", 500, 20)
    with gzip.open(here / "app.log.2.gz", "wb") as gz:
        gz.write(data)
    _aged(here / "app.log.2.gz", since + 1)
    _aged(here / "app.log.1", since + 9)
    got = _reads(plan(["app.log"], known, since=since))
    assert got == [("app.log.1", "new", 0, len(data))]


def test_a_log_replaced_while_the_plan_is_made_is_looked_at_again(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """logrotate renames the log and the service makes it anew between mlmon's look at the log
    and its open: the plan is made again, so the old content goes on in the renamed copy and the
    new log is read from its start; never the new file read from the old offset."""
    from mlmon.read import follow

    first = _write(here / "app.log", 0, 20)
    known = _read_all(plan(["app.log"], ()))
    more = _write(here / "app.log", 20, 3, "ab")
    look = follow._look
    swapped: list[bool] = []

    def racing_look(path: str) -> object:
        seen = look(path)
        if path == "app.log" and not swapped:
            swapped.append(True)
            (here / "app.log").rename(here / "app.log.1")
            _write(here / "app.log", 900, 50)
        return seen

    monkeypatch.setattr(follow, "_look", racing_look)
    got = _reads(plan(["app.log"], known, since=0.0))
    assert swapped
    assert got == [("app.log.1", "rotated", len(first), len(first) + len(more)),
                   ("app.log", "new", 0, (here / "app.log").stat().st_size)]


def test_a_log_too_short_to_fingerprint_is_read_once(here: Path) -> None:
    """Named, new, and under MIN_FP_BYTES (nothing to compare it with another file by): one
    read, as the log named; and renamed since, one read of its copy from where the last stopped."""
    (here / "app.log").write_bytes(b"\n\n")
    assert _reads(plan(["app.log"], (), since=0.0)) == [("app.log", "new", 0, 2)]
    known = _read_all(plan(["app.log"], ()))
    with (here / "app.log").open("ab") as fh:
        fh.write(b"\n")
    (here / "app.log").rename(here / "app.log.1")
    got = _reads(plan(["app.log"], known, since=0.0))
    assert got == [("app.log.1", "rotated", 2, 3)]


@pytest.mark.parametrize(("after", "how"), [(3, "truncated"), (200, "replaced")])
def test_a_log_cut_in_place_is_truncated_or_replaced_by_its_new_size(
    here: Path, after: int, how: str
) -> None:
    """The log's own inode with other first bytes (copytruncate whose copy went elsewhere, or a
    writer that truncates): shorter than what was read is `truncated`, else `replaced`; either
    is read from its start."""
    _write(here / "app.log", 0, 40)
    known = _read_all(plan(["app.log"], ()))
    (here / "away").mkdir()
    shutil.copyfile(here / "app.log", here / "away" / "app.log")
    new = _write(here / "app.log", 1000, after)  # "wb": truncated in place, the same inode
    assert (here / "app.log").stat().st_ino == known[0].inode
    got = _reads(plan(["app.log"], known))
    assert got == [("app.log", how, 0, len(new))]


def test_a_log_cut_to_exactly_what_was_read_is_replaced(here: Path) -> None:
    first = _write(here / "app.log", 0, 40)
    known = _read_all(plan(["app.log"], ()))
    body = b'{"latency_ms": 5, "status": "error"}\n'
    data = (body * (len(first) // len(body) + 1))[: len(first) - 1] + b"\n"
    assert len(data) == known[0].offset
    (here / "app.log").write_bytes(data)  # truncated in place: the same inode, other first bytes
    assert _reads(plan(["app.log"], known)) == [("app.log", "replaced", 0, len(data))]


def test_continuations_are_read_in_the_order_the_state_holds_them(here: Path) -> None:
    a = _write(here / "a.log", 0, 20)
    b = _write(here / "b.log", 500, 20)
    known = _read_all(plan(["a.log", "b.log"], ()))
    a2 = _write(here / "a.log", 20, 2, "ab")
    b2 = _write(here / "b.log", 520, 3, "ab")
    (here / "b.log").rename(here / "b.log.1")
    _write(here / "b.log", 900, 1)
    got = _reads(plan(["a.log", "b.log"], known[::-1], since=0.0))
    assert [g[:2] for g in got] == [("b.log.1", "rotated"), ("a.log", "continued"), ("b.log", "new")]
    assert got[0][2:] == (len(b), len(b) + len(b2)) and got[1][2:] == (len(a), len(a) + len(a2))


def test_a_plan_looks_at_each_file_once_when_nothing_moves(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlmon.read import follow

    _write(here / "a.log", 0, 20)
    _write(here / "b.log", 100, 20)
    looks: list[str] = []
    look = follow._look

    def counted(path: str) -> object:
        looks.append(path)
        return look(path)

    monkeypatch.setattr(follow, "_look", counted)
    with plan(["a.log", "b.log"], ()) as fp:
        assert len(fp.reads) == 2
    assert sorted(looks) == ["a.log", "b.log"]


def test_a_planned_source_holds_the_first_bytes_of_a_plain_file_only(here: Path) -> None:
    data = _write(here / "app.log", 0, 30)
    with gzip.open(here / "app.log.1.gz", "wb") as gz:
        gz.write(b"".join(_line(i) for i in range(300, 330)))
    with plan(["app.log", "app.log.1.gz"], ()) as fp:
        intact = {os.path.basename(p.source.name): (p.source.intact, p.source.stop) for p in fp.reads}
        states = {os.path.basename(p.after.path): p.after for p in fp.reads}
    assert intact == {"app.log": (data[:1024], len(data)), "app.log.1.gz": (b"", None)}
    # a compressed file's fingerprint covers its decompressed head, however small the file on disk
    gz_state = states["app.log.1.gz"]
    assert gz_state.fp_bytes == 1024 > (here / "app.log.1.gz").stat().st_size


def test_a_file_gone_on_the_last_look_is_a_clear_error(here: Path) -> None:
    from mlmon.errors import NoInputError
    from mlmon.read.follow import _planned

    _write(here / "app.log", 0, 3)
    seen = _look("app.log")
    assert seen is not None
    (here / "app.log").unlink()
    with pytest.raises(NoInputError) as e:
        _planned(seen, 0, 0, "new", [], False)
    assert str(e.value) == "cannot read 'app.log': it changed while mlmon looked at it"


def test_mlmon_s_own_files_in_a_followed_folder_are_left_out_and_named(here: Path) -> None:
    (here / "logs").mkdir()
    data = _write(here / "logs" / "app.log", 0, 5)
    (here / "logs" / "m.prom").write_text("# HELP mlmon_run_success 1 when ...\nmlmon_run_success 1.0\n")
    with plan(["logs"], ()) as fp:
        assert [(p.source.name, p.source.stop) for p in fp.reads] == [
            (os.path.join("logs", "app.log"), len(data))]
        left = [(os.path.basename(p), what) for p, what in fp.left_out]
    assert left == [("m.prom", "metrics for Prometheus")]


def test_with_a_log_missing_between_rotations_the_other_logs_are_all_read(here: Path) -> None:
    """Following already (a state exists), a log named that is not there now (logrotate renamed it
    and the service has not made it anew) is no error; every other log named is read."""
    b = _write(here / "b.log", 0, 10)
    (known,) = _read_all(plan(["b.log"], ()))
    more = _write(here / "b.log", 10, 2, "ab")
    a = _write(here / "a.log", 100, 3)
    c = _write(here / "c.log", 200, 4)
    got = _reads(plan(["a.log", "gone.log", "b.log", "c.log"], (known,)))
    assert sorted(got) == [("a.log", "new", 0, len(a)),
                           ("b.log", "continued", len(b), len(b) + len(more)),
                           ("c.log", "new", 0, len(c))]


def test_the_rotated_copies_beside_a_log_are_its_siblings(here: Path) -> None:
    from mlmon.read.follow import siblings

    rotated = ["app.log.1", "app.log.2.gz", "app.log-20261207", "app.log-20261207.bz2",
               "app.log.2026-12-07_10-30", "app.log-2026120710.backup"]
    for n in [*rotated, "app.log-old", "app.log.bak", "app.logx", "other.log.1"]:
        (here / n).write_bytes(b"x\n")
    assert siblings("app.log") == sorted(rotated)


def test_a_planned_read_reads_the_file_looked_at_even_renamed_and_replaced_before_it(here: Path) -> None:
    """The plan holds the file's descriptor: logrotate renaming the log and the service making it
    anew between the plan and the read change nothing of what is read, and the state to remember
    starts where the read starts, at the size the file had when opened."""
    from mlmon.read.sources import ReadNotes, open_source

    first = _write(here / "app.log", 0, 10)
    (known,) = _read_all(plan(["app.log"], ()))
    more = _write(here / "app.log", 10, 3, "ab")
    with plan(["app.log"], (known,)) as fp:
        (p,) = fp.reads
        want = (len(first), len(first) + len(more), known.lines)
        assert (p.after.offset, p.after.size, p.after.lines) == want
        (here / "app.log").rename(here / "app.log.1")
        _write(here / "app.log", 900, 30)
        stream, _ = open_source(p.source, ReadNotes())
        try:
            assert stream.read() == more
        finally:
            stream.close()
