"""Write an output file without damaging what sits at its path: the one way mlmon writes files.

- `-` is standard output.
- A regular file, or a path where nothing exists yet, is written to a temporary file in the same
  folder and renamed over it, so no reader ever sees half a file. A new file gets the umask's
  permissions; a replaced file keeps its mode (and, when mlmon may, its owner).
- A device, FIFO, socket or other special file is opened and written into, never replaced
  (renaming over `/dev/null` as root would replace the device with a plain file).
- A symlink is followed: its target is written, the link stays.
- Any failure to write (ENOSPC, EBADF, EACCES, a directory at the path...) raises OutputError,
  which the CLI turns into exit 73. A reader of stdout that leaves early (`| head`) is not a
  failure: the rest of the output is dropped quietly.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import sys

from mlmon.errors import OutputError


def write_output(path: str, data: str | bytes) -> None:
    """Write `data` (text is written as UTF-8) to `path` following the rules above."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if path == "-":
        write_stdout(raw)
        return
    if not path:
        raise OutputError("cannot write output: the path is empty")
    target = os.path.realpath(path)
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _error(path, exc) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write {path!r}: Is a directory")
    if st is None or stat.S_ISREG(st.st_mode):
        _replace(path, target, raw, st)
    else:
        _write_into(path, target, raw)


def write_stdout(raw: bytes) -> None:
    """Bytes to standard output. A closed or full stdout is OutputError; a reader that left is not."""
    stream = getattr(sys.stdout, "buffer", None)
    try:
        if sys.stdout is None:
            raise OSError(errno.EBADF, "standard output is closed")
        sys.stdout.flush()
        if stream is not None:
            stream.write(raw)
            stream.flush()
        else:
            sys.stdout.write(raw.decode("utf-8"))
            sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
    except (OSError, ValueError) as exc:
        # ValueError: "I/O operation on closed file" when Python itself closed the stream.
        silence_stdout()
        raise OutputError(f"cannot write to standard output: {_reason(exc)}") from None


def silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush cannot fail again.

    Used when the reader left (`| head`) or stdout cannot be written: the process then ends
    with the exit code its work earned, without "Exception ignored" noise."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)


def _replace(path: str, target: str, raw: bytes, st: os.stat_result | None) -> None:
    folder = os.path.dirname(target) or "."
    base = os.path.basename(target)
    for _ in range(100):
        tmp = os.path.join(folder, f".{base}.{secrets.token_hex(4)}.tmp")
        try:
            # 0o666 before the umask: a new file gets the permissions the user's umask allows.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise _error(path, exc) from None
    else:  # pragma: no cover - 100 collisions of 32 random bits
        raise OutputError(f"cannot write {path!r}: no free temporary name in {folder!r}")
    try:
        try:
            if st is not None:
                os.fchmod(fd, stat.S_IMODE(st.st_mode))
                if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
                    with contextlib.suppress(OSError):
                        os.fchown(fd, st.st_uid, st.st_gid)
            _write_all(fd, raw)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _error(path, exc) from None


def _write_into(path: str, target: str, raw: bytes) -> None:
    """A device, FIFO or socket: open and write, as `cat > /dev/...` would. A FIFO waits for its reader."""
    try:
        fd = os.open(target, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _error(path, exc) from None
    try:
        _write_all(fd, raw)
    except OSError as exc:
        raise _error(path, exc) from None
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def _write_all(fd: int, raw: bytes) -> None:
    view = memoryview(raw)
    while view:
        n = os.write(fd, view[: 1 << 20])
        if n <= 0:  # pragma: no cover - a blocking fd never returns 0 for a non-empty write
            raise OSError(errno.EIO, "write returned nothing")
        view = view[n:]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _error(path: str, exc: OSError) -> OutputError:
    return OutputError(f"cannot write {path!r}: {_reason(exc)}")
