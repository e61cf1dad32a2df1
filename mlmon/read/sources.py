"""Input sources: paths, directories, globs and stdin; compression by magic bytes; line framing."""

from __future__ import annotations

import bz2
import fnmatch
import functools
import glob
import os
import stat
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from types import ModuleType
from typing import IO, Any, Protocol

import numpy as np

from mlmon.errors import DataError, NoInputError, raise_if_environment
from mlmon.read import remote

_native: ModuleType | None
try:
    from mlmon import _native
except ImportError:  # built without a Rust toolchain
    _native = None

STDIN = "-"
BLOCK_BYTES = 4 << 20
READ_BYTES = 1 << 20
DEFAULT_MAX_LINE_BYTES = 16 << 20
WIDE_BLOCK_LINES = 200
"""A block of fewer lines than this (wide records: thousands of features a line) makes later
reads larger, up to MAX_BLOCK_BYTES: work per block and column (table building, checks, drift
counting) is then paid per ~200 lines rather than per 4 MiB, so time stays linear in the
feature count."""
MAX_BLOCK_BYTES = 32 << 20
HOLD_BYTES = 64 << 20
"""The most of a line with no newline yet that a followed source holds back."""

_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bz2",
    b"\x28\xb5\x2f\xfd": "zstd",
}
_GLOB_CHARS = set("*?[")
ZSTD_WINDOW_MIB = 128
"""The largest zstd window read without --allow-large-window (zstd's own default limit)."""
DEFAULT_MAX_RATIO = 1000.0
"""Default --max-decompression-ratio: real logs compress 5-50x (zstd -19 on very repetitive
logs ~200x); a gzip of nothing but newlines is ~1000x, zstd's can be far more."""
RATIO_FLOOR_BYTES = 16 << 20
"""The ratio is only checked past this much output, so small files never trip it."""


class Format(StrEnum):
    """How the bytes of a source are laid out."""

    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"


@dataclass(frozen=True)
class Source:
    """One input: a file path, or stdin."""

    path: str
    """The path as mlmon shows it (`-` is stdin)."""
    start: int = 0
    """Read from this byte of the (decompressed) content: where an earlier run stopped (--state)."""
    stop: int | None = None
    """Stop before this byte (the end of the last complete line seen); None reads to the end."""
    first_line: int = 1
    """The line number of the byte at `start`, so examples keep their real line numbers."""
    fd: int | None = None
    """An open descriptor of the file to read (--state: the file planned, wherever it was
    renamed since); `path` is then only its name."""
    follow: bool = False
    """--state: hand out whole lines only and count them (`ReadNotes.consumed`); a plain file
    whose first bytes change while it is read (copytruncate) is read no further."""
    intact: bytes = b""
    """With `follow`, a plain file's first bytes as planned: the check of that."""
    location: str | None = None
    """Where to open it when that is not `path`: the absolute path, for a read in another
    process or on another machine (the Dask engine), while `path` stays the name shown."""

    @property
    def opens(self) -> str:
        """The path or URL to open."""
        return self.location or self.path

    @property
    def name(self) -> str:
        return "<stdin>" if self.path == STDIN else self.path


@dataclass
class ReadNotes:
    """What the framing layer saw in one source, beyond its lines."""

    compression: str = "none"
    truncated: str | None = None
    """Why the source ended early (a cut compressed stream), or None."""
    oversized_lines: list[int] = field(default_factory=list)
    """Line numbers of lines longer than the line cap, skipped without being held."""
    oversized_placeholders: int = 0
    """Oversized lines left in a block as empty lines (they are not blank lines)."""
    decompressed_bytes: int = 0
    first_line: int = 1
    encoding: str | None = None
    """UTF-16/32 named by a byte order mark (the source is recoded to UTF-8), or None."""
    cr_only: bool = False
    """Lines end in a lone CR (made newlines as the source is read)."""
    consumed: int | None = None
    """A followed source: bytes of its (decompressed) content handed out as whole lines, from
    its `start`: where the next run goes on."""
    unfinished: str | None = None
    """A followed compressed source that ended before its end marker (being written): why."""
    changed: bool = False
    """A followed plain file was cut or replaced while it was read (read no further)."""


@dataclass(frozen=True)
class Block:
    """Complete lines of one source; `tail` marks a last line with no newline."""

    data: bytes
    first_line: int
    tail: bool = False
    n_lines: int | None = None
    """Newlines in `data`, when the framing already counted them."""


def expand(paths: list[str], *, left_out: list[tuple[str, str]] | None = None) -> list[Source]:
    """Turn command-line arguments into sources: sorted, each file once.

    Directories give the files below them (hidden ones skipped); an argument with glob
    characters that is not itself a file is expanded as a glob (`**` crosses folders, each
    folder walked once even when symlinks loop back up). mlmon's own files found in a folder or
    by a glob (a baseline, a JSON report, a state or lock file, metrics for Prometheus: see
    `own_file`) are left out, and added to `left_out` with what they are; a file named
    itself is read. A file is identified by its device
    and inode, so a hard link or another spelling of a path (`./in/x`, `in/x`) is read once,
    and the order is that of the normalised absolute paths, however they were written. A
    folder that cannot be read is a NoInputError naming it, never skipped.
    """
    if not paths:
        raise NoInputError("no input: give at least one log file, directory, glob or '-'")
    found: list[str] = []
    urls: list[str] = []
    for arg in paths:
        if arg == STDIN:
            found.append(STDIN)
        elif remote.is_url(arg):
            urls.extend(remote.expand_url(arg))
        elif os.path.isdir(arg):
            files = _walk_files(arg)
            if not files:
                raise NoInputError(f"no input: directory {arg!r} holds no files")
            kept = _not_own(files, left_out)
            if not kept:
                raise NoInputError(
                    f"no input: directory {arg!r} holds only mlmon's own files (reports, state)"
                )
            found.extend(kept)
        elif os.path.lexists(arg):
            if not os.path.exists(arg):
                raise NoInputError(f"no input: {arg!r} is a broken symbolic link")
            found.append(arg)
        elif _GLOB_CHARS & set(arg):
            matches = [p for p in _glob(arg) if os.path.isfile(p)]
            if not matches:
                raise NoInputError(f"no input: the pattern {arg!r} matched no file")
            kept = _not_own(matches, left_out)
            if not kept:
                raise NoInputError(
                    f"no input: the pattern {arg!r} matched only mlmon's own files (reports, state)"
                )
            found.extend(kept)
        else:
            raise NoInputError(f"no input: {arg!r} does not exist")
    names: dict[object, str] = {}
    for path in found:
        key: object = path if path == STDIN else _identity(path)
        if key not in names or _preference(path) < _preference(names[key]):
            names[key] = path
    unique = sorted(names.values(), key=_order)
    local = [Source(p if p == STDIN else os.path.normpath(p)) for p in unique]
    return local + [Source(u) for u in sorted(set(urls))]


OWN_HEAD_BYTES = 4096


def own_file(path: str) -> str | None:
    """What a file is when mlmon wrote it (by its content, never its name alone), else None:
    a baseline (`"format": "mlmon-baseline"`), a JSON report (a JSON document, not JSON lines,
    with `"mlmon_version"`), a state file (`"version"`, `"last_run"`, `"files"`), a state's lock
    (an empty `NAME.lock` beside that state, or where it was), or metrics for Prometheus
    (`# HELP mlmon_`). Pretty-printed JSON starts with a line holding `{` alone, which no log
    line is."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(OWN_HEAD_BYTES)
    except OSError:
        return None
    if not head:
        if path.endswith(".lock"):
            state = path[: -len(".lock")]
            if not os.path.exists(state) or own_file(state) == "a state file":
                return "a state file's lock"
        return None
    if head.startswith(b"# HELP mlmon_"):
        return "metrics for Prometheus"
    if not head.startswith((b"{\n", b"{\r\n")):
        return None
    if b'"format": "mlmon-baseline"' in head or b'"format":"mlmon-baseline"' in head:
        return "a baseline"
    if b'"mlmon_version":' in head:
        return "a report"
    if b'"version":' in head and b'"last_run":' in head:
        return "a state file"
    return None


def _not_own(paths: list[str], left_out: list[tuple[str, str]] | None) -> list[str]:
    out = []
    for p in paths:
        what = own_file(p) if os.path.isfile(p) else None
        if what is None:
            out.append(p)
        elif left_out is not None:
            left_out.append((os.path.normpath(p), what))
    return out


def _order(path: str) -> tuple[bool, str]:
    return (path != STDIN, "" if path == STDIN else os.path.normpath(os.path.abspath(path)))


def _preference(path: str) -> tuple[bool, str]:
    """Of the names of one file, the one that is not a symlink, then the first in order."""
    if path == STDIN:
        return (False, "")
    absolute = os.path.normpath(os.path.abspath(path))
    return (absolute != os.path.realpath(path), absolute)


def _identity(path: str) -> object:
    """A file is its device and inode (hard links and symlinks are one file)."""
    try:
        st = os.stat(path)
    except OSError:
        return os.path.realpath(path)
    return (st.st_dev, st.st_ino)


def _unreadable(exc: OSError) -> None:
    raise NoInputError(f"cannot read folder {exc.filename!r}: {exc.strerror or exc}")


def _walk_files(top: str) -> list[str]:
    """Files below a directory argument, hidden ones skipped; an unreadable folder is an error.

    A FIFO, socket or device in the folder (or a link to one) is no log at rest and is skipped,
    as a glob skips it: reading a FIFO waits for a writer forever, `/dev/zero` never ends. A
    broken link stays, so that the read names it."""
    out: list[str] = []
    for root, dirs, names in os.walk(top, onerror=_unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        paths = (os.path.join(root, n) for n in sorted(names) if not n.startswith("."))
        out.extend(p for p in paths if os.path.isfile(p) or not os.path.exists(p))
    return out


def _glob(pattern: str) -> list[str]:
    """glob.glob, except that `**` walks each folder once: Python's follows a symlink that
    points back up the tree (`sub/up -> ..`) again and again."""
    if "**" not in pattern:
        return sorted(glob.glob(pattern))
    parts = pattern.split(os.sep)
    first = next(i for i, p in enumerate(parts) if _GLOB_CHARS & set(p))
    base = os.sep.join(parts[:first]) or ("" if not pattern.startswith(os.sep) else os.sep)
    tops = [base] if not (_GLOB_CHARS & set(base)) else glob.glob(base)
    rest = parts[first:]
    out: list[str] = []
    for top in tops or [base]:
        start = top or "."
        seen: set[tuple[int, int]] = set()
        for root, dirs, names in os.walk(start, followlinks=True):
            try:
                st = os.stat(root)
            except OSError:
                dirs[:] = []
                continue
            if (st.st_dev, st.st_ino) in seen:
                dirs[:] = []
                continue
            seen.add((st.st_dev, st.st_ino))
            rel = os.path.relpath(root, start)
            rel_parts = [] if rel == "." else rel.split(os.sep)
            for name in (*dirs, *names):
                if _match(rest, [*rel_parts, name]):
                    out.append(os.path.join(top, *rel_parts, name) if top else os.path.join(*rel_parts, name))
    return sorted(set(out))


def _match(pattern: list[str], parts: list[str]) -> bool:
    """Match path components against glob components; `**` is any number of folders.
    As glob does, a `*` never matches a name starting with a dot."""
    if not pattern:
        return not parts
    head = pattern[0]
    if head == "**":
        return _match(pattern[1:], parts) or (
            bool(parts) and not parts[0].startswith(".") and _match(pattern, parts[1:])
        )
    if not parts:
        return False
    if parts[0].startswith(".") and not head.startswith("."):
        return False
    return fnmatch.fnmatchcase(parts[0], head) and _match(pattern[1:], parts[1:])


def _strip_compression_suffix(path: str) -> str:
    for suffix in (".gz", ".gzip", ".bz2", ".zst", ".zstd"):
        if path.lower().endswith(suffix):
            return path[: -len(suffix)]
    return path


def format_for(source: Source, head: bytes) -> Format:
    """Guess the layout from the file name, or from the first bytes for stdin."""
    name = _strip_compression_suffix(source.path).lower()
    if name.endswith((".parquet", ".pq")) or head.startswith(b"PAR1"):
        return Format.PARQUET
    if name.endswith((".csv", ".tsv")):
        return Format.CSV
    if source.path == STDIN:
        first = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
        if b"{" not in first and b"," in first:
            return Format.CSV
    return Format.JSONL


class _Decompressor(Protocol):
    def decompress(self, data: bytes) -> bytes: ...


class _Closable:
    """What every source stream shares: a readable binary stream over a raw file."""

    _raw: IO[bytes]
    closed = False

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True
        self._raw.close()

    def position(self) -> int | None:
        """Bytes of the file on disk read so far (compressed bytes for a compressed file);
        None where that is not known (a pipe)."""
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return None


class _Buffered(_Closable):
    """A stream that makes its bytes into `_buf` as they are asked for (`_fill`)."""

    _buf: bytearray

    def _fill(self, n: int) -> None:
        """Make at least `n` bytes (all, when n < 0) ready in `_buf`, or all there are."""
        raise NotImplementedError

    def peek(self, n: int) -> bytes:
        """The next `n` bytes (fewer at the end), left in place for `read`."""
        self._fill(n)
        return bytes(self._buf[:n])

    def read(self, n: int = -1) -> bytes:
        self._fill(n)
        if n < 0 or n >= len(self._buf):
            out = bytes(self._buf)
            self._buf.clear()
        else:
            out = bytes(self._buf[:n])
            del self._buf[:n]
        return out


@functools.cache
def _inflate() -> Any:
    """The gzip decompressor's module: ISA-L's (python-isal, zlib's interface, about 30% less
    CPU) when it imports, else the standard library's zlib. Looked up once a process: a failed
    import is not cached by Python, and a log may hold thousands of gzip members."""
    try:
        from isal import isal_zlib
    except ImportError:  # no wheel for this platform
        return zlib
    return isal_zlib


class _Stream(_Buffered):
    """A readable binary stream that decompresses gzip, bz2 and zstd (all members/frames).

    A stream cut short yields every byte it could decompress and sets `notes.truncated`.
    Output is made in bounded steps (at most about `STEP_BYTES` per decompressor call), so a
    small input that expands enormously (a decompression bomb) is never held whole and
    `--max-decompressed-bytes` stops it as it grows.
    """

    STEP_BYTES = 1 << 20
    """Most output one gzip or bz2 decompressor call may make."""
    ZSTD_SLICE = 1 << 10
    """Compressed bytes given to zstd per call (it has no output limit; a 4-byte block can
    expand to 128 KiB, so a slice makes at most ~32 MiB)."""

    def __init__(
        self,
        raw: IO[bytes],
        kind: str,
        notes: ReadNotes,
        max_bytes: int | None,
        *,
        max_ratio: float | None = None,
        large_window: bool = False,
    ):
        self._raw = raw
        self._max_ratio = max_ratio
        self._large_window = large_window
        self._consumed = 0
        """Compressed bytes the decompressor has used so far."""
        self._kind = kind
        self._notes = notes
        self._max = max_bytes
        self._buf = bytearray()
        self._pending = b""
        """Compressed bytes not yet given to a decompressor."""
        self._more = False
        """The bz2 decompressor holds output that needs no new input."""
        self._dec: object | None = None
        self._done = False
        self._member_started = False
        self._members = 0
        self.closed = False

    def _new(self) -> object:
        if self._kind == "gzip":
            return _inflate().decompressobj(31)
        if self._kind == "bz2":
            return bz2.BZ2Decompressor()
        import zstandard

        window = (1 << 31) if self._large_window else (ZSTD_WINDOW_MIB << 20)
        return zstandard.ZstdDecompressor(max_window_size=window).decompressobj()

    def _feed(self, data: bytes) -> None:
        """Queue compressed bytes; `read` decompresses them step by step."""
        self._pending = self._pending + data if self._pending else data

    def _step(self) -> None:
        """One bounded decompression step from the queued input."""
        if self._dec is None:
            if self._members and self._pending.strip(b"\x00") == b"":
                # padding of zero bytes after the last member is tolerated, as gzip(1) does
                self._pending = b""
                return
            self._dec = self._new()
        dec = self._dec
        data = self._pending
        try:
            if self._kind == "gzip":
                out = dec.decompress(data, self.STEP_BYTES)  # type: ignore[attr-defined]
                rest = dec.unconsumed_tail  # type: ignore[attr-defined]
            elif self._kind == "bz2":
                out = dec.decompress(data, self.STEP_BYTES)  # type: ignore[attr-defined]
                rest = b""  # bz2 keeps unused input itself
                self._more = not dec.needs_input and not dec.eof  # type: ignore[attr-defined]
            else:
                out = dec.decompress(data[: self.ZSTD_SLICE])  # type: ignore[attr-defined]
                rest = data[self.ZSTD_SLICE :]
        except MemoryError:
            raise
        except Exception as exc:  # zlib.error, OSError, EOFError; zstandard.ZstdError
            if self._kind == "zstd" and "too much memory" in str(exc):
                raise DataError(
                    f"this zstd file needs a decoding window larger than {ZSTD_WINDOW_MIB} MiB "
                    "(written with --long or a high level); --allow-large-window reads it"
                ) from None
            self._notes.truncated = f"corrupt {self._kind} data: {exc}"
            self._done = True
            self._pending = b""
            self._more = False
            return
        self._member_started = True
        self._consumed += len(data) - len(rest) if self._kind != "zstd" else min(len(data), self.ZSTD_SLICE)
        self._buf += out
        self._notes.decompressed_bytes += len(out)
        if self._max is not None and self._notes.decompressed_bytes > self._max:
            raise DataError(
                f"decompressed input passed --max-decompressed-bytes ({self._max} bytes)"
            )
        if (
            self._max_ratio is not None
            and self._notes.decompressed_bytes > RATIO_FLOOR_BYTES
            and self._notes.decompressed_bytes > self._max_ratio * max(self._consumed, 1)
        ):
            raise DataError(
                f"expands more than {self._max_ratio:g} times ({self._notes.decompressed_bytes} bytes "
                f"from {self._consumed}), like a decompression bomb; "
                "raise --max-decompression-ratio if it is a real log"
            )
        if getattr(dec, "eof", False):
            # input after the member: zlib may also leave it in unconsumed_tail; bz2 keeps it
            # all in unused_data; zstd only saw a slice
            unused = getattr(dec, "unused_data", b"")
            rest = unused + (data[self.ZSTD_SLICE :] if self._kind == "zstd" else b"")
            self._dec = None
            self._member_started = False
            self._more = False
            self._members += 1
        self._pending = rest

    def _fill(self, n: int) -> None:
        """Decompress until the buffer holds `n` bytes (all when `n` < 0) or the input ends."""
        while n < 0 or len(self._buf) < n:
            if self._pending or self._more:
                self._step()
                continue
            if self._done:
                break
            chunk = self._raw.read(READ_BYTES)
            if not chunk:
                self._done = True
                if self._dec is not None and self._member_started:
                    self._notes.truncated = f"{self._kind} stream ends before its end marker"
                break
            self._pending = chunk


class _Plain(_Closable):
    """A raw stream that counts what it hands out, with the same interface as `_Stream`."""

    def __init__(self, raw: IO[bytes], head: bytes, notes: ReadNotes):
        self._raw = raw
        self._head = head
        self._notes = notes
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n < 0:
                out = self._head + self._raw.read()
            else:
                out = self._head[:n]
                rest = n - len(out)
                self._head = self._head[n:]
                if rest > 0:
                    out += self._raw.read(rest)
                self._notes.decompressed_bytes += len(out)
                return out
            self._head = b""
        else:
            out = self._raw.read(n)
        self._notes.decompressed_bytes += len(out)
        return out

    def readinto(self, b: memoryview) -> int:
        """`read(len(b))` written into `b`: a file's bytes land where the caller wants them."""
        raw_into = getattr(self._raw, "readinto", None)
        if self._head or raw_into is None:
            out = self.read(len(b))
            b[: len(out)] = out
            return len(out)
        n = raw_into(b) or 0
        self._notes.decompressed_bytes += n
        return n



def _is_device(raw: IO[bytes]) -> bool:
    """Whether an open file is a character or block device (a pipe or a regular file is not)."""
    try:
        mode = os.fstat(raw.fileno()).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISCHR(mode) or stat.S_ISBLK(mode)


def open_source(
    source: Source,
    notes: ReadNotes,
    *,
    max_decompressed_bytes: int | None = None,
    max_ratio: float | None = None,
    large_window: bool = False,
) -> tuple[Opened, Format]:
    """Open a source for reading, decompressing by magic bytes; return the stream and layout."""
    if source.path == STDIN and sys.stdin is None:
        raise NoInputError("cannot read standard input (-): it is closed")
    try:
        raw: IO[bytes]
        if source.fd is not None:
            raw = os.fdopen(os.dup(source.fd), "rb")
            raw.seek(0)
        elif remote.is_url(source.opens):
            raw = remote.open_url(source.opens)
        else:
            raw = sys.stdin.buffer if source.path == STDIN else open(source.opens, "rb")  # noqa: SIM115
    except IsADirectoryError:
        raise NoInputError(f"no input: {source.path!r} is a directory") from None
    except OSError as exc:
        raise_if_environment(exc)
        raise NoInputError(f"cannot read {source.path!r}: {exc.strerror or exc}") from None
    if source.path != STDIN and _is_device(raw):
        raw.close()
        # /dev/zero, /dev/urandom or a disk never end: read, they would hold the run forever
        raise DataError("a device, not a log file")
    try:
        magic = raw.read(4096)
    except OSError as exc:
        raw.close()
        raise_if_environment(exc)
        raise NoInputError(f"cannot read {source.path!r}: {exc.strerror or exc}") from None
    kind = next((k for m, k in _MAGIC.items() if magic.startswith(m)), None)
    stream: Opened
    if kind is None:
        stream = _Plain(raw, magic, notes)
        head = magic
    else:
        notes.compression = kind
        stream = _Stream(
            raw, kind, notes, max_decompressed_bytes, max_ratio=max_ratio, large_window=large_window
        )
        stream._feed(magic)
        head = stream.peek(4096)
    # the encoding and line ends are decided from the file's first bytes, for a whole read
    # and for one from an offset (--state) alike; an offset counts bytes before recoding
    encoding = _bom_encoding(head)
    text_head = _decoded(head, encoding) if encoding is not None else head
    cr_only = b"\r" in text_head and b"\n" not in text_head
    notes.encoding, notes.cr_only = encoding, cr_only
    fmt = format_for(source, text_head.replace(b"\r", b"\n") if cr_only else text_head)
    if source.start or source.stop is not None:
        notes.first_line = source.first_line
        stream = _Slice(stream, raw, source.start, source.stop)
    if source.follow:
        newline, unit = line_end_bytes(notes)
        stream = _Follow(stream, raw, source, notes, newline, unit, plain=kind is None)
    if encoding is not None or cr_only:
        stream = _Recode(stream, raw, encoding, notes, bom=not source.start)
        stream.cr_only = cr_only
    return stream, fmt


def _decoded(head: bytes, encoding: str) -> bytes:
    """The first bytes of a UTF-16/32 source as UTF-8, without the byte order mark."""
    return head.decode(encoding, errors="replace").removeprefix("\ufeff").encode("utf-8")


def line_end_bytes(notes: ReadNotes) -> tuple[bytes, int]:
    """How a line ends in the bytes of a source as stored (after decompression), and the
    size of its code unit: a newline in UTF-8, two bytes in UTF-16, a CR in a CR-only file."""
    end = "\r" if notes.cr_only else "\n"
    if notes.encoding is None:
        return end.encode(), 1
    unit = 4 if "32" in notes.encoding else 2
    return end.encode(notes.encoding), unit


_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def _bom_encoding(head: bytes) -> str | None:
    """UTF-16 or UTF-32 named by a byte order mark (Windows tools write these)."""
    return next((enc for bom, enc in _BOMS if head.startswith(bom)), None)


def _mark_invalid(exc: UnicodeError) -> tuple[str, int]:
    """A decoding error handler: the bad code units become a byte that is never valid UTF-8
    (0xFF, via surrogateescape), so the line holding them is a bad_encoding line."""
    assert isinstance(exc, UnicodeDecodeError)
    return "\udcff", exc.end


class _Recode(_Buffered):
    """UTF-8 bytes from a UTF-16/32 source (its byte order mark dropped), and/or a source whose
    lines end in a lone CR (classic Mac, some exporters) with each CR made a newline.

    A sequence that is not valid in the source's encoding comes through as a byte that is not
    valid UTF-8 either: that line is a `bad_encoding` line, not lost."""

    def __init__(
        self, inner: _Stream | _Plain | _Slice | _Follow, raw: IO[bytes], encoding: str | None,
        notes: ReadNotes,
        *, bom: bool = True,
    ):
        import codecs

        self._inner = inner
        self._raw = raw
        self._notes = notes
        self.closed = False
        self.cr_only = False
        codecs.register_error("mlmon-invalid", _mark_invalid)
        self._dec = codecs.getincrementaldecoder(encoding)("mlmon-invalid") if encoding else None
        self._buf = bytearray()
        self._eof = False
        self._bom = encoding is not None and bom

    def _fill(self, n: int) -> None:
        while not self._eof and (n < 0 or len(self._buf) < n):
            chunk = self._inner.read(READ_BYTES)
            if self._dec is not None:
                text = self._dec.decode(chunk, final=not chunk)
                if self._bom and text:
                    text = text.removeprefix("\ufeff")
                    self._bom = False
                chunk = text.encode("utf-8", "surrogateescape")
            if self.cr_only:
                chunk = chunk.replace(b"\r", b"\n")
            self._buf += chunk
            if not chunk and (self._dec is None or not text):
                self._eof = True

    def close(self) -> None:
        self.closed = True
        self._inner.close()


class _Slice(_Closable):
    """Bytes `start` to `stop` of an opened source (a plain file seeks; a compressed one skips)."""

    def __init__(self, inner: _Stream | _Plain, raw: IO[bytes], start: int, stop: int | None) -> None:
        self._inner = inner
        self._raw = raw
        self.closed = False
        if isinstance(inner, _Plain) and start and raw.seekable():
            raw.seek(start)
            inner._head = b""
        else:
            left = start
            while left > 0:
                got = inner.read(min(left, 1 << 20))
                if not got:
                    break
                left -= len(got)
        self._left = None if stop is None else max(0, stop - start)

    def read(self, n: int = -1) -> bytes:
        if self._left is None:
            return self._inner.read(n)
        if self._left <= 0:
            return b""
        want = self._left if n < 0 else min(n, self._left)
        out = self._inner.read(want)
        self._left -= len(out)
        return out

    def close(self) -> None:
        self.closed = True
        self._inner.close()


class _Follow(_Closable):
    """A followed source (--state): whole lines only, and the bytes handed out counted
    (`notes.consumed`), so the next run goes on from what was read, never from a size taken
    before. A plain file is checked after every chunk: when it became shorter than what was
    read, or its first bytes are not those planned (copytruncate, or a new file in its place),
    the chunk is dropped and the read stops there (`notes.changed`). A compressed file that
    ends before its end marker is being written: its last part line waits (`notes.unfinished`)."""

    def __init__(
        self,
        inner: _Stream | _Plain | _Slice,
        raw: IO[bytes],
        source: Source,
        notes: ReadNotes,
        newline: bytes,
        unit: int,
        *,
        plain: bool,
    ) -> None:
        self._inner = inner
        self._raw = raw
        self._notes = notes
        self._newline = newline
        self._unit = unit
        self._plain = plain
        self._intact = source.intact
        self._pos = source.start
        """Bytes of the stored content read from the inner stream (plain files: the file offset)."""
        self._held = b""
        self._eof = False
        self.closed = False
        notes.consumed = 0

    def _still_there(self) -> bool:
        try:
            fd = self._raw.fileno()
            if os.fstat(fd).st_size < self._pos:
                return False
            return not self._intact or os.pread(fd, len(self._intact), 0) == self._intact
        except OSError:
            return False

    def _cut(self, data: bytes) -> int:
        """Where the last whole line of `data` ends (0: none)."""
        at = data.rfind(self._newline)
        while at >= 0 and at % self._unit:
            at = data.rfind(self._newline, 0, at + len(self._newline) - 1)
        return 0 if at < 0 else at + len(self._newline)

    def read(self, n: int = -1) -> bytes:
        while not self._eof:
            chunk = self._inner.read(n if n > 0 else READ_BYTES)
            self._pos += len(chunk)
            if self._plain and not self._still_there():
                self._notes.changed = True
                self._eof = True
                break
            if not chunk:
                self._eof = True
                if self._notes.truncated is not None and not self._plain:
                    self._notes.unfinished, self._notes.truncated = self._notes.truncated, None
                elif not self._plain and self._held:
                    # a compressed file that ended: its last line is all there is
                    out, self._held = self._held, b""
                    self._count(out)
                    return out
                break
            data = self._held + chunk if self._held else chunk
            # the held part line is never longer than a line, and line framing caps those
            end = self._cut(data)
            if not end and len(data) > HOLD_BYTES:
                end = len(data)  # a line this long is skipped as oversized by the framing anyway
            out, self._held = data[:end], data[end:]
            if out:
                self._count(out)
                return out
        return b""

    def _count(self, out: bytes) -> None:
        assert self._notes.consumed is not None
        self._notes.consumed += len(out)

    def close(self) -> None:
        self.closed = True
        self._inner.close()


Opened = _Stream | _Plain | _Slice | _Recode | _Follow


def iter_blocks(
    stream: Opened,
    notes: ReadNotes,
    *,
    block_bytes: int = BLOCK_BYTES,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[Block]:
    """Frame a stream into blocks of whole lines (each ending in a newline).

    A line longer than `max_line_bytes` is skipped as it streams past and its number noted;
    it is never held whole. The last line, when it has no newline, comes as a `tail` block.
    """
    carry = b""
    line_no = notes.first_line  # number of the first line in `carry`
    skipping = False  # inside an oversized line
    # a plain file's bytes are read straight into the block, after the carried start of a
    # line, by the compiled module: one copy of the file's bytes instead of a read and a join
    plain = stream if isinstance(stream, _Plain) else None
    one_copy = getattr(_native, "read_block", None) if plain is not None else None
    while True:
        body: bytes | None
        if one_copy is not None and plain is not None and not skipping:
            body, rest, got = one_copy(carry, plain.readinto, block_bytes)
            if on_progress is not None and got:
                on_progress(got)
            if not got:
                break
        else:
            chunk = stream.read(block_bytes)
            if on_progress is not None and chunk:
                on_progress(len(chunk))
            if not chunk:
                break
            if skipping:
                nl = chunk.find(b"\n")
                if nl < 0:
                    continue
                chunk = chunk[nl + 1 :]
                skipping = False
                line_no += 1
            cut = chunk.rfind(b"\n")
            if cut < 0:
                body, rest = None, carry + chunk
            else:
                # one copy: the carried start of a line and the chunk up to its last newline
                whole = not carry and cut == len(chunk) - 1
                body = chunk if whole else b"".join((carry, memoryview(chunk)[: cut + 1]))
                rest = chunk[cut + 1 :]
        if body is None:  # no newline yet: the line goes on
            if len(rest) > max_line_bytes:
                notes.oversized_lines.append(line_no)
                carry = b""
                skipping = True
            else:
                carry = rest
            continue
        carry = rest
        body = _drop_oversized(body, line_no, max_line_bytes, notes)
        n_lines = count_newlines(body)
        if body:
            yield Block(body, line_no, n_lines=n_lines)
        line_no += n_lines
        if BLOCK_BYTES <= block_bytes < MAX_BLOCK_BYTES and 0 < n_lines < WIDE_BLOCK_LINES:
            block_bytes = min(MAX_BLOCK_BYTES, max(block_bytes, len(body) * WIDE_BLOCK_LINES // n_lines))
        if len(carry) > max_line_bytes:
            notes.oversized_lines.append(line_no)
            carry = b""
            skipping = True
    if carry and not skipping:
        yield Block(carry, line_no, tail=True)


def count_newlines(data: bytes) -> int:
    """Newlines in `data` (numpy compares a block several times faster than bytes.count; the
    native reader's SIMD count, when built, is faster again and releases the GIL)."""
    if _native is not None and type(data) is bytes:
        return int(_native.count_newlines(data))
    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == 10))


def line_ends(data: bytes) -> np.ndarray:
    """Offsets of the newlines in `data`."""
    return np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)


def _drop_oversized(body: bytes, first_line: int, cap: int, notes: ReadNotes) -> bytes:
    """Replace lines over the cap by empty lines (keeping line numbers) and note them."""
    if len(body) <= cap:
        return body
    ends = line_ends(body)
    if np.diff(ends, prepend=-1).max(initial=0) <= cap + 1:
        return body
    lines = body.split(b"\n")
    changed = False
    for i, line in enumerate(lines):
        if len(line) > cap:
            notes.oversized_lines.append(first_line + i)
            notes.oversized_placeholders += 1
            lines[i] = b""
            changed = True
    return b"\n".join(lines) if changed else body
