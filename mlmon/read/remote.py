"""Logs in object storage and on web servers (s3://, gs://, az://, https://) through fsspec."""

from __future__ import annotations

import os
import re
from typing import IO, Any, cast

from mlmon.errors import EnvironmentFailure, NoInputError, OptionError

_URL = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
EXTRAS = {
    "s3": ("s3fs", "s3"),
    "s3a": ("s3fs", "s3"),
    "gs": ("gcsfs", "gcs"),
    "gcs": ("gcsfs", "gcs"),
    "az": ("adlfs", "azure"),
    "abfs": ("adlfs", "azure"),
    "abfss": ("adlfs", "azure"),
    "http": ("aiohttp", "http"),
    "https": ("aiohttp", "http"),
}
"""Each scheme mlmon reads: the package fsspec needs for it, and mlmon's extra that installs it."""
_GLOB_CHARS = set("*?[")

CONNECT_SECONDS = float(os.environ.get("MLMON_REMOTE_CONNECT_TIMEOUT", "10"))
"""How long to wait for an object store or web server to accept a connection."""
READ_SECONDS = float(os.environ.get("MLMON_REMOTE_READ_TIMEOUT", "60"))
"""How long to wait for the next bytes of an answer."""
ATTEMPTS = 3
"""Tries of one request before the store counts as unreachable (transient errors are retried)."""
BLOCK_BYTES = 8 << 20
"""Bytes asked for in one ranged request while a file is read front to back."""


def is_url(path: str) -> bool:
    """Whether an argument names a remote object (`scheme://...`) rather than a local path."""
    return _URL.match(path) is not None and not path.startswith("file://")


def scheme(url: str) -> str:
    m = _URL.match(url)
    return m.group(1).lower() if m else ""


def _options(proto: str) -> dict[str, Any]:
    """Storage options that bound every request in time (credentials, endpoints and regions
    come from the usual environment and config files of each store's own library)."""
    if proto in ("s3", "s3a"):
        return {
            "config_kwargs": {
                "connect_timeout": CONNECT_SECONDS,
                "read_timeout": READ_SECONDS,
                "retries": {"max_attempts": ATTEMPTS, "mode": "standard"},
            },
        }
    if proto in ("http", "https"):
        import aiohttp

        timeout = aiohttp.ClientTimeout(sock_connect=CONNECT_SECONDS, sock_read=READ_SECONDS)
        return {"client_kwargs": {"timeout": timeout}}
    return {}  # gcsfs and adlfs: their own retries and timeouts


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem serving `url` and the path within it; a missing extra is exit 71."""
    proto = scheme(url)
    if proto not in EXTRAS:
        raise OptionError(
            f"{url!r}: mlmon reads local paths and {', '.join(sorted({k + '://' for k in EXTRAS}))} URLs"
        )
    package, extra = EXTRAS[proto]
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise EnvironmentFailure(
            f"reading {proto}:// URLs needs fsspec and {package}: pip install 'mlmon[{extra}]'"
        ) from None
    try:
        return url_to_fs(url, **_options(proto))  # type: ignore[no-any-return]
    except ImportError:
        raise EnvironmentFailure(
            f"reading {proto}:// URLs needs {package}: pip install 'mlmon[{extra}]'"
        ) from None
    except (ValueError, TypeError) as exc:
        raise OptionError(f"{url!r}: not a URL mlmon can read: {_first(exc)}") from None


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def failure(url: str, exc: BaseException) -> Exception:
    """The error to raise for a failed request: a missing object or denied access is no input
    (66); a store that cannot be reached, or does not answer in time, is the environment (71)."""
    if isinstance(exc, FileNotFoundError):
        return NoInputError(f"no input: {url!r} does not exist")
    if isinstance(exc, PermissionError):
        return NoInputError(
            f"cannot read {url!r}: access denied ({_first(exc)}); check the credentials "
            "(AWS_ACCESS_KEY_ID / AWS_PROFILE, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_*)"
        )
    name = type(exc).__name__
    text = _first(exc)
    if "credential" in (name + text).lower():
        return NoInputError(
            f"cannot read {url!r}: no credentials found ({text}); set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), GOOGLE_APPLICATION_CREDENTIALS or AZURE_STORAGE_*"
        )
    if isinstance(exc, FileExistsError | IsADirectoryError | NotADirectoryError):
        return NoInputError(f"cannot read {url!r}: {text}")
    if not _network(exc):
        raise exc  # not the store's answer: a bug, shown as one (exit 70)
    return EnvironmentFailure(
        f"cannot reach the store for {url!r}: {name}: {text} (tried {ATTEMPTS} times, "
        f"{CONNECT_SECONDS:g} s to connect, {READ_SECONDS:g} s per read)"
    )


_CLIENTS = ("botocore", "aiobotocore", "s3fs", "aiohttp", "fsspec", "gcsfs", "google", "adlfs", "azure")


def _network(exc: BaseException) -> bool:
    """Whether an error is a store's client reporting its store (connection, timeout, an error
    answer), rather than a bug."""
    return isinstance(exc, OSError | TimeoutError) or any(
        klass.__module__.split(".")[0] in _CLIENTS for klass in type(exc).__mro__
    )


def _call(url: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except (NoInputError, EnvironmentFailure, OptionError):
        raise
    except Exception as exc:  # any client library's error: mapped to 66 or 71, never a traceback
        raise failure(url, exc) from None


def expand_url(url: str) -> list[str]:
    """The objects a URL names: itself, the objects below a prefix (a folder), or a glob's
    matches (`**` crosses folders); sorted. Names starting with a dot are left out of folders
    and globs, as locally. None at all is a NoInputError."""
    fs, path = filesystem(url)
    proto = scheme(url)
    if _GLOB_CHARS & set(path) and proto not in ("http", "https"):
        found = _call(url, fs.glob, path, detail=True)
        names = [p for p, info in found.items() if info.get("type") != "directory" and _shown(p, path)]
        if not names:
            raise NoInputError(f"no input: the pattern {url!r} matched no object")
        return sorted(_unstrip(fs, proto, p) for p in names)
    info = _call(url, fs.info, path)
    if info.get("type") == "directory":
        found = _call(url, fs.find, path)
        names = [p for p in found if _shown(p, path.rstrip("/") + "/")]
        if not names:
            raise NoInputError(f"no input: {url!r} holds no objects")
        return sorted(_unstrip(fs, proto, p) for p in names)
    return [url]


def _shown(found: str, under: str) -> bool:
    """A name below `under` (a prefix or a glob) none of whose parts starts with a dot (hidden)."""
    literal = re.split(r"[*?\[]", under, maxsplit=1)[0]
    base = literal if literal.endswith("/") else literal.rsplit("/", 1)[0]
    rel = found[len(base) :] if found.startswith(base) else found
    return not any(part.startswith(".") for part in rel.split("/") if part)


def _unstrip(fs: Any, proto: str, path: str) -> str:
    if proto in ("http", "https"):
        return path
    return f"{proto}://{path}"


def open_url(url: str) -> IO[bytes]:
    """The object at `url` opened for reading front to back (ranged requests of 8 MiB)."""
    fs, path = filesystem(url)
    fh = _call(url, fs.open, path, "rb", block_size=BLOCK_BYTES, cache_type="readahead")
    return cast(IO[bytes], _Guarded(url, fh))


def size(url: str) -> int | None:
    """The size of the object in bytes, or None when the server does not say."""
    fs, path = filesystem(url)
    try:
        got = fs.size(path)
    except Exception:  # noqa: BLE001 - only for progress; the read says what is wrong
        return None
    return int(got) if got is not None else None


class _Guarded:
    """A remote file whose failed reads raise mlmon's errors (66, 71), never a client's own."""

    def __init__(self, url: str, fh: Any) -> None:
        self._url = url
        self._fh = fh

    def read(self, n: int = -1) -> bytes:
        return _call(self._url, self._fh.read, n)  # type: ignore[no-any-return]

    def seek(self, offset: int, whence: int = 0) -> int:
        return _call(self._url, self._fh.seek, offset, whence)  # type: ignore[no-any-return]

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return int(self._fh.tell())

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        raise OSError("a remote object has no file descriptor")

    def close(self) -> None:
        try:
            self._fh.close()
        except Exception:  # noqa: BLE001 - a read-only handle: nothing is lost by a failed close
            pass

    @property
    def closed(self) -> bool:
        return bool(self._fh.closed)
