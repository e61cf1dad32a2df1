"""Incremental reading between runs (--state): which bytes of which files are new since the last run.

A followed file is known by its content: a fingerprint (SHA-256) of its first bytes, decompressed.
Its device and inode are only a hint: an inode whose first bytes differ is another file. Each run
looks for the continuation of every followed file among the logs named, the rotated copies beside
each (`app.log.1`, `app.log.2.gz`, `app.log-20261207`, `app.log.2026-12-07_10`, ...) and the
`rotated` patterns (logrotate's olddir), and reads it from where the last run stopped, however
many times it was renamed, compressed or copied (copytruncate) since. A rotated copy that no run
has seen holds lines written since the last run (it was rotated before this run came) and is read
from the start; the first run takes the rotated copies already there as read. A followed file
with bytes not read that is nowhere any more is reported (`lost`), never dropped in silence.

The offset remembered is what the read handed out in whole lines (`sources._Follow`), never a
size taken before: a file cut or replaced while it is read is noticed, and the next run finishes
it from its copy.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import stat
import time
from dataclasses import dataclass, field, replace
from types import TracebackType

from mlmon.errors import NoInputError, OptionError
from mlmon.read import remote
from mlmon.read.reader import FileReport, Lost
from mlmon.read.sources import STDIN, Format, ReadNotes, Source, expand, open_source, own_file

FP_BYTES = 1024
MIN_FP_BYTES = 16
"""A copy is recognised by content alone only when at least this many first bytes are known;
below that, only under the same device and inode."""
ROTATED_SUFFIX = re.compile(r"[.-][0-9][0-9_.:-]*(?:\.backup)?(?:\.(?:gz|bz2|zst|zstd))?$")
"""What rotation adds to a log's name: logrotate's `.1`, `.2.gz`, `-20261207` (dateext, any
dateformat of digits), RotatingFileHandler's `.1`, TimedRotatingFileHandler's `.2026-12-07`,
`.2026-12-07_10-30`; compressed or not. Also logrotate's `-2026120710.backup`: with `create`,
when the writer has made the log anew between logrotate's rename and its create, logrotate
moves that new file aside under this name (its lines are the service's, and only there)."""
MTIME_SLACK = 2.0
"""Seconds of file time stamp granularity allowed when asking whether a copy changed since the
last run."""


@dataclass(frozen=True)
class FileState:
    """What a run remembers of one file."""

    path: str
    dev: int
    inode: int
    size: int
    """Size on disk when last looked at."""
    compressed: bool
    fingerprint: str
    """SHA-256 (hex) of the first `fp_bytes` bytes of the content (decompressed)."""
    fp_bytes: int
    offset: int
    """Content bytes read so far: the end of the last whole line read."""
    lines: int
    """Lines read so far (so line numbers in messages continue)."""
    done: bool = False
    """A compressed file read to its end: it does not grow any more."""


@dataclass(frozen=True)
class Planned:
    """One file of this run: the byte range to read, and the state to remember once read."""

    source: Source
    after: FileState
    how: str
    """new, continued, rotated (found under another name, compressed or copied), truncated,
    replaced (a new file where a followed one was)."""


@dataclass(frozen=True)
class FollowPlan:
    """The reads of one run, the files remembered without a read, and the files lost.

    Each planned source holds an open descriptor of the file planned (so a rename while the
    run reads changes nothing); `close()` (or `with`) closes them."""

    reads: tuple[Planned, ...]
    kept: tuple[FileState, ...]
    """Known files with nothing new (or taken as read): remembered as they are now."""
    lost: tuple[Lost, ...] = ()
    left_out: tuple[tuple[str, str], ...] = ()
    """Files of a folder or glob left out as mlmon's own."""
    fds: tuple[int, ...] = field(default=(), repr=False)

    @property
    def sources(self) -> list[Source]:
        return [p.source for p in self.reads]

    def close(self) -> None:
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> FollowPlan:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def files(self, files: tuple[FileReport, ...]) -> tuple[FileState, ...]:
        """The files to remember once the reads went through (`files`: the read's report)."""
        by_name = {f.source: f for f in files}
        return tuple(finished(p, by_name.get(p.source.name)) for p in self.reads) + self.kept


@dataclass(frozen=True)
class _Seen:
    path: str
    dev: int
    inode: int
    size: int
    mtime: float
    compressed: bool
    head: bytes
    """The first FP_BYTES of the content (decompressed, recoded to UTF-8)."""
    fmt: Format
    encoding: str | None = None

    @property
    def plain(self) -> bool:
        return not self.compressed


class _Moved(Exception):
    """A file changed name between the look and the open: plan again."""


class _Vanished(Exception):
    """A known file matched nothing this look: list and look once more before dropping it."""


def _fp(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _look(path: str) -> _Seen | None:
    """The file at `path` now: its identity and first bytes, from one open (a rename between a
    stat and an open would give one file's inode with another's content)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        notes = ReadNotes()
        try:
            stream, fmt = open_source(Source(path, fd=fd), notes)
        except Exception:  # noqa: BLE001  (unreadable now: the reader will say why if it is an input)
            return None
        try:
            head = stream.read(FP_BYTES)
        except Exception:  # noqa: BLE001  (a damaged compressed head: read it as the reader would)
            head = b""
        finally:
            stream.close()
    finally:
        os.close(fd)
    return _Seen(
        path, st.st_dev, st.st_ino, st.st_size, st.st_mtime, notes.compression != "none", head, fmt,
        notes.encoding,
    )


def _fp_bytes(s: _Seen, end: int) -> int:
    """How many first bytes of the content (recoded to UTF-8) lie within the first `end`
    stored bytes: the fingerprint covers only what is on disk."""
    if s.encoding is None:
        return min(len(s.head), end)
    import codecs

    with open(s.path, "rb") as fh:
        stored = fh.read(min(end, 4 * len(s.head) + 4))
    text = codecs.getincrementaldecoder(s.encoding)("replace").decode(stored, final=False)
    return min(len(s.head), len(text.removeprefix("\ufeff").encode("utf-8")))


def base_name(path: str) -> str:
    """A log's name without what rotation added (`app.log.2.gz` is `app.log`)."""
    return ROTATED_SUFFIX.sub("", path) or path


def siblings(path: str) -> list[str]:
    """The rotated copies beside a log: `path` followed by a rotation suffix."""
    base = glob.escape(path)
    found = set(glob.glob(base + ".*")) | set(glob.glob(base + "-*"))
    return sorted(p for p in found if ROTATED_SUFFIX.fullmatch(p[len(path) :]))


def _named(paths: list[str], lenient: bool, left_out: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """The files the logs name, and the names whose rotated copies to look at. With `lenient`
    (files are followed already), a log that is not there now (between a rename and the new
    file) is no error: its rotated copies are looked at."""
    try:
        named = [s.path for s in expand(paths, left_out=left_out)]
    except NoInputError:
        if not lenient:
            raise
        named = []
        for p in paths:
            try:
                named += [s.path for s in expand([p], left_out=left_out)]
            except NoInputError:
                continue
    return named, sorted({*literal_names(paths), *named})


def literal_names(paths: list[str]) -> list[str]:
    """The logs named as one file each (not a folder or a glob): each is a service's live log."""
    return [os.path.normpath(p) for p in paths if not os.path.isdir(p) and not (set("*?[") & set(p))]


def plan(
    paths: list[str],
    known: tuple[FileState, ...],
    *,
    rotated: list[str] | tuple[str, ...] = (),
    since: float | None = None,
) -> FollowPlan:
    """The reads of this run: the continuations of known files first (oldest content first), then
    rotated copies no run has seen, then the new files named. `since` is the time of the last run
    (None on the first): rotated copies that changed after it hold lines no run has read."""
    if STDIN in paths:
        raise OptionError("--state follows files; standard input cannot be followed")
    urls = [p for p in paths if remote.is_url(p)]
    if urls:
        # an object has no inode to follow across renames, and a store's listing is no
        # rotation: refused rather than read again in full (or skipped) by a later run
        raise OptionError(
            f"--state follows local files; {urls[0]!r} is in object storage or on a web server: "
            "read it without --state (each run reads it whole), or give --since to read a window"
        )
    look_again = True
    for attempt in range(20):
        try:
            return _plan(paths, known, list(rotated), since, look_again=look_again)
        except _Moved:
            time.sleep(0.01 * (attempt + 1))  # rotation under way: look again
        except _Vanished:
            look_again = False  # once: a file that is really gone stays gone
            time.sleep(0.05)
    return _plan(paths, known, list(rotated), since, settle=False)


def _plan(
    paths: list[str],
    known: tuple[FileState, ...],
    rotated: list[str],
    since: float | None,
    *,
    settle: bool = True,
    look_again: bool = False,
) -> FollowPlan:
    left_out: list[tuple[str, str]] = []
    named, bases = _named(paths, bool(known), left_out)
    names = set(named)
    bases += [base_name(k.path) for k in known]
    candidates: list[str] = [*named, *(k.path for k in known)]
    for b in dict.fromkeys(bases):
        candidates += siblings(b)
    for pattern in rotated:
        candidates += [p for p in sorted(glob.glob(pattern)) if os.path.isfile(p) and own_file(p) is None]
    looked: dict[str, _Seen] = {}
    inodes: set[tuple[int, int]] = set()
    for p in dict.fromkeys(os.path.normpath(c) for c in candidates):
        seen = _look(p)
        if seen is None or (seen.dev, seen.inode) in inodes:
            continue  # gone, or a second name of a file already looked at
        inodes.add((seen.dev, seen.inode))
        looked[p] = seen
    if not looked and not known:
        raise NoInputError("no input: none of the logs can be read")
    for s in looked.values():
        if s.fmt is not Format.JSONL and s.path in names:
            raise OptionError(
                f"--state reads JSON-lines logs incrementally; {s.path} is {s.fmt.value}: "
                "check it without --state"
            )
    matched = _match(known, list(looked.values()))
    if look_again and len(matched) < len(known):
        # a known file is nowhere: renamed between the listing and the look (a handler rolling
        # its log over), its new name missed; dropped now, a later run would read it as new
        raise _Vanished
    opened: list[int] = []
    live = set(literal_names(paths))
    try:
        reads, kept, lost = _decide(known, matched, looked, names, live, since, opened, settle)
    except BaseException:
        for fd in opened:
            os.close(fd)
        raise
    return FollowPlan(tuple(reads), tuple(kept), tuple(lost), tuple(left_out), tuple(opened))


def _same_content(k: FileState, s: _Seen) -> bool:
    return len(s.head) >= k.fp_bytes and _fp(s.head[: k.fp_bytes]) == k.fingerprint


def _match(known: tuple[FileState, ...], looked: list[_Seen]) -> dict[int, _Seen | None]:
    """Each known file's continuation (by index): its own inode when the content is the same;
    else a file with the same first bytes, plain before compressed (a `.gz` may still be being
    written while its plain source is there), the longest first."""
    out: dict[int, _Seen] = {}
    used: set[str] = set()
    for i, k in enumerate(known):
        for s in looked:
            if s.path not in used and (s.dev, s.inode) == (k.dev, k.inode) and s.compressed == k.compressed:
                if _same_content(k, s):
                    out[i] = s
                    used.add(s.path)
                break
    for i, k in enumerate(known):
        if i in out or k.fp_bytes < MIN_FP_BYTES:
            continue
        found = [s for s in looked if _same_content(k, s)]
        found.sort(key=lambda s: (s.path in used, s.compressed, -s.size))
        if found:
            out[i] = found[0]
            used.add(found[0].path)
    # two records of one content (a copy taken as read beside the log it copies, or a
    # copytruncate copy and its original): the one read furthest goes on
    best: dict[str, int] = {}
    for i, s in sorted(out.items()):
        j = best.get(s.path)
        if j is None or known[i].offset > known[j].offset:
            best[s.path] = i
    return {i: (s if best[s.path] == i else None) for i, s in out.items()}


def _decide(
    known: tuple[FileState, ...],
    matched: dict[int, _Seen | None],
    looked: dict[str, _Seen],
    names: set[str],
    live: set[str],
    since: float | None,
    opened: list[int],
    settle: bool,
) -> tuple[list[Planned], list[FileState], list[Lost]]:
    """What to do with each file: read it from where, remember it as it is, or report it lost.
    A known file is lost when it is nowhere with bytes not read, or when it was a log named
    itself (a live log, growing when last seen) and its content is nowhere: what was written to
    it after the last run is gone too."""
    reads: list[Planned] = []
    kept: list[FileState] = []
    lost: list[Lost] = []
    for i, k in enumerate(known):
        if i in matched and matched[i] is None:
            continue  # its content goes on under another record
        s = matched.get(i)
        if s is None:
            unread = k.size - k.offset if not k.compressed else (0 if k.done else k.size)
            grown = k.path in live and not k.compressed and k.fp_bytes >= MIN_FP_BYTES
            if unread > 0 or grown:
                lost.append(Lost(k.path, max(unread, 0)))
            continue
        same = s.path == k.path and (s.dev, s.inode) == (k.dev, k.inode)
        if k.done:
            kept.append(_state(s, k.offset, k.lines, done=True))  # a compressed file read to its end
        elif s.plain and s.size <= k.offset:
            # nothing new; or a copy shorter than what was read of the original (copytruncate
            # while a run read the original): nothing of it is left to read
            kept.append(_state(s, k.offset, k.lines))
        else:
            reads.append(_planned(s, k.offset, k.lines, "continued" if same else "rotated", opened, settle))
    used = {s.path for s in matched.values() if s is not None}
    old = {(k.dev, k.inode): k for k in known}
    unseen = sorted((s for s in looked.values() if s.path not in used and s.path not in names), key=_age)
    # a copy of content already taken (a `.gz` being made of a `.1` that is there too): one read
    taken = [s for s in looked.values() if s.path in used or s.path in names]
    for s in sorted(unseen, key=lambda s: s.compressed):
        if any(_one_content(s, t) for t in taken):
            unseen.remove(s)
        else:
            taken.append(s)
    for s in unseen:
        if since is not None and s.mtime >= since - MTIME_SLACK:
            reads.append(_planned(s, 0, 0, "new", opened, settle))  # rotated before this run came
        elif s.compressed:
            kept.append(_state(s, 0, 0, done=True))  # there before: taken as read
        else:
            kept.append(_state(s, s.size, 0))
    for s in sorted((s for s in looked.values() if s.path in names and s.path not in used), key=_age):
        was = old.get((s.dev, s.inode))
        how = "new" if was is None else "truncated" if s.size < was.offset else "replaced"
        reads.append(_planned(s, 0, 0, how, opened, settle))
    order = {"continued": 0, "rotated": 0}
    reads.sort(key=lambda p: order.get(p.how, 1))  # stable: older content first
    return reads, kept, lost


def _one_content(a: _Seen, b: _Seen) -> bool:
    """Two files holding one content (a copy, or a compressed copy): the same first bytes, as
    many as both have and enough to tell."""
    n = min(len(a.head), len(b.head))
    return n >= MIN_FP_BYTES and a.head[:n] == b.head[:n]


def _age(s: _Seen) -> tuple[float, str]:
    return (s.mtime, s.path)


def _state(s: _Seen, offset: int, lines: int, *, done: bool = False) -> FileState:
    n = len(s.head) if s.compressed else _fp_bytes(s, s.size)
    return FileState(
        path=s.path, dev=s.dev, inode=s.inode, size=s.size, compressed=s.compressed,
        fingerprint=_fp(s.head[:n]), fp_bytes=n, offset=offset, lines=lines, done=done,
    )


def _planned(s: _Seen, start: int, lines: int, how: str, opened: list[int], settle: bool) -> Planned:
    """Open the file looked at (the same device and inode, or the plan is made again) and plan
    its read from `start`: a plain file up to its size now, a compressed one to its end."""
    try:
        fd = os.open(s.path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        if settle:
            raise _Moved() from None
        raise NoInputError(f"cannot read {s.path!r}: it changed while mlmon looked at it") from None
    opened.append(fd)
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != (s.dev, s.inode) and settle:
        raise _Moved()
    intact = b""
    stop: int | None = None
    if s.plain:
        stop = st.st_size
        intact = os.pread(fd, min(FP_BYTES, stop), 0)
    after = _state(replace(s, size=st.st_size), start, lines)
    source = Source(s.path, start=start, stop=stop, first_line=lines + 1, fd=fd, follow=True, intact=intact)
    return Planned(source, after, how)


def finished(p: Planned, report: FileReport | None) -> FileState:
    """The state to remember once a planned read went through: the offset where its whole
    lines end; a compressed file read to its end marker is done."""
    if report is None or report.consumed is None:
        return p.after
    done = p.after.compressed and report.unfinished is None
    return replace(
        p.after, offset=p.source.start + report.consumed, lines=p.after.lines + report.lines, done=done
    )
