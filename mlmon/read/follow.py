"""Incremental reading between runs: which bytes of which files are new since the last run.

Each file read is remembered by device and inode, size, a fingerprint (SHA-256 of its first
bytes, decompressed) and the offset read so far. The next run finds each remembered file again,
under its old name or a rotated one (`app.log.1`, `app.log-20261201`, compressed `.gz`/`.bz2`/`.zst`),
reads only what follows the offset, and reads new files from the start. A file that became
shorter, or whose first bytes changed, was truncated or replaced: it is read from the start.
"""

from __future__ import annotations

import glob
import hashlib
import os
from dataclasses import dataclass, replace

from mlmon.errors import NoInputError, OptionError
from mlmon.read.sources import STDIN, Format, ReadNotes, Source, expand, line_end_bytes, open_source

FP_BYTES = 1024
MIN_FP_BYTES = 16
"""A rotated copy is recognised by content only when at least this many first bytes are known."""


@dataclass(frozen=True)
class FileState:
    """What a run remembers of one file."""

    path: str
    dev: int
    inode: int
    size: int
    """Size on disk when last read."""
    compressed: bool
    fingerprint: str
    """SHA-256 (hex) of the first `fp_bytes` bytes of the content (decompressed)."""
    fp_bytes: int
    offset: int
    """Content bytes read so far: the end of the last complete line read."""
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
    """new, continued, rotated (found under another name or compressed), truncated, replaced."""


@dataclass(frozen=True)
class _Seen:
    path: str
    dev: int
    inode: int
    size: int
    mtime: float
    compressed: bool
    head: bytes
    fmt: Format
    newline: bytes = b"\n"
    unit: int = 1
    """How a line ends in the stored bytes, and the code unit (2 or 4 for UTF-16/32)."""
    encoding: str | None = None


def _fp(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _look(path: str) -> _Seen | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    notes = ReadNotes()
    try:
        stream, fmt = open_source(Source(path), notes)
    except Exception:  # noqa: BLE001  (unreadable now: the reader will say why if it is an input)
        return None
    try:
        head = stream.read(FP_BYTES)
    except Exception:  # noqa: BLE001  (a damaged compressed head: read it as the reader would)
        head = b""
    finally:
        stream.close()
    newline, unit = line_end_bytes(notes)
    return _Seen(
        path, st.st_dev, st.st_ino, st.st_size, st.st_mtime, notes.compression != "none", head, fmt,
        newline, unit, notes.encoding,
    )


def _complete_end(path: str, start: int, size: int, newline: bytes = b"\n", unit: int = 1) -> int:
    """The end of the last complete line of a plain file that is `size` bytes long: just after
    the last `newline` that starts on a code unit boundary (UTF-16 `\\n\\0` at an even offset)."""
    if size <= start:
        return size
    with open(path, "rb") as fh:
        pos = size  # the end of the window searched
        while pos > start:
            low = max(start, pos - (1 << 16))
            fh.seek(low)
            chunk = fh.read(pos - low)
            at = chunk.rfind(newline)
            while at >= 0 and (low + at) % unit:
                at = chunk.rfind(newline, 0, at + len(newline) - 1)
            if at >= 0:
                return low + at + len(newline)
            if low == start:
                break
            pos = low + len(newline) - 1  # a newline across the window's start is found next
    return start


def _fp_bytes(s: _Seen, end: int) -> int:
    """How many first bytes of the content (recoded to UTF-8) lie within the first `end`
    stored bytes: the fingerprint covers only what was read."""
    if s.encoding is None:
        return min(len(s.head), end)
    import codecs

    with open(s.path, "rb") as fh:
        stored = fh.read(min(end, 4 * len(s.head) + 4))
    text = codecs.getincrementaldecoder(s.encoding)("replace").decode(stored, final=False)
    return min(len(s.head), len(text.removeprefix("\ufeff").encode("utf-8")))


def _siblings(path: str) -> list[str]:
    """Where logrotate and friends put a file: `path.1`, `path.2.gz`, `path-20261201`."""
    base = glob.escape(path)
    return sorted(set(glob.glob(base + ".*")) | set(glob.glob(base + "-*")))


def plan(paths: list[str], known: tuple[FileState, ...]) -> tuple[list[Planned], list[FileState]]:
    """The reads of this run, rotated files first; and the known files left as they were (unchanged)."""
    if STDIN in paths:
        raise OptionError("--state follows files; standard input cannot be followed")
    named = [s.path for s in expand(paths)]
    names = set(named)
    looked: dict[str, _Seen] = {}
    for p in [*named, *(x for k in known for x in (k.path, *_siblings(k.path)))]:
        key = os.path.realpath(p)
        if key not in looked and (seen := _look(p)) is not None:
            looked[key] = seen
    if not looked:
        raise NoInputError("no input: none of the logs can be read")
    for s in looked.values():
        if s.fmt is not Format.JSONL and s.path in names:
            raise OptionError(
                f"--state reads JSON-lines logs incrementally; {s.path} is {s.fmt.value}: "
                "check it without --state"
            )
    by_inode = {(s.dev, s.inode): s for s in looked.values() if not s.compressed}
    used: set[str] = set()
    out: list[Planned] = []
    unchanged: list[FileState] = []
    restart: dict[str, str] = {}
    for k in known:
        match: _Seen | None = None
        how = "continued"
        same = by_inode.get((k.dev, k.inode))
        if same is not None and same.path not in used and not k.compressed:
            if k.fp_bytes and _fp(same.head[: k.fp_bytes]) != k.fingerprint:
                restart[same.path] = "replaced"
            elif same.size < k.offset:
                restart[same.path] = "truncated"
            else:
                match = same
        if match is None and k.fp_bytes >= MIN_FP_BYTES:
            for s in looked.values():
                if (
                    s.path not in used
                    and s.path not in restart
                    and len(s.head) >= k.fp_bytes
                    and _fp(s.head[: k.fp_bytes]) == k.fingerprint
                    and (s.compressed or s.size >= k.offset)
                    and (
                        s.compressed
                        or (s.dev, s.inode) not in {(x.dev, x.inode) for x in known if x is not k}
                    )
                ):
                    match = s
                    break
        if match is None:
            continue
        used.add(match.path)
        if match.path != k.path or match.compressed != k.compressed:
            how = "rotated"
        if match.compressed and (k.done and match.compressed == k.compressed):
            unchanged.append(replace(k, path=match.path))
            continue
        rotated_away = match.path not in names
        out.append(_planned(match, k.offset, k.lines, how, rotated_away))
    news = sorted(
        (s for s in looked.values() if s.path in names and s.path not in used), key=lambda s: s.mtime
    )
    for s in news:
        out.append(_planned(s, 0, 0, restart.get(s.path, "new"), False))
    # continuing files (older content) first, each group oldest first
    out = [p for p in out if p.how in ("continued", "rotated")] + [
        p for p in out if p.how not in ("continued", "rotated")
    ]
    return out, unchanged


def _planned(s: _Seen, start: int, lines: int, how: str, to_end: bool) -> Planned:
    if s.compressed:
        stop: int | None = None
        end = -1
    else:
        stop = s.size if to_end else _complete_end(s.path, start, s.size, s.newline, s.unit)
        end = stop
    fp_bytes = len(s.head) if s.compressed or end < 0 else _fp_bytes(s, end)
    after = FileState(
        path=s.path,
        dev=s.dev,
        inode=s.inode,
        size=s.size,
        compressed=s.compressed,
        fingerprint=_fp(s.head[:fp_bytes]),
        fp_bytes=fp_bytes,
        offset=start if end < 0 else end,
        lines=lines,
        done=s.compressed,
    )
    return Planned(Source(s.path, start=start, stop=stop, first_line=lines + 1), after, how)


def finished(p: Planned, lines_read: int, content_bytes: int | None = None) -> FileState:
    """The state to remember once a planned read went through."""
    offset = p.after.offset if content_bytes is None else p.source.start + content_bytes
    return replace(p.after, offset=offset, lines=p.after.lines + lines_read)
