"""Exit codes and the few domain exceptions the CLI turns into them."""

from __future__ import annotations

import errno
import os
from enum import IntEnum


class ExitCode(IntEnum):
    """What an mlmon process tells cron and CI."""

    OK = 0
    ALERT = 1
    USAGE = 2
    DATA_ERROR = 65
    NO_INPUT = 66
    CANT_CREATE = 73
    TEMPFAIL = 75
    CONFIG = 78
    INTERNAL = 70
    ENVIRONMENT = 71
    """The machine or the installation failed the run, not the input nor mlmon: out of memory,
    too many open files, a library that cannot be loaded, a clock outside 1678-2262."""
    INTERRUPTED = 130


class MlmonError(Exception):
    """An error a user can act on; carries its exit code."""

    exit_code: ExitCode = ExitCode.INTERNAL


class NoInputError(MlmonError):
    """A path is missing or unreadable, or a glob matched nothing."""

    exit_code = ExitCode.NO_INPUT


class DataError(MlmonError):
    """The input was read but cannot be trusted: no valid record, bad lines over budget."""

    exit_code = ExitCode.DATA_ERROR

    def __init__(self, message: str, *, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report
        """The input report behind the error, so the CLI can show where the bad lines are."""


class OutputError(MlmonError):
    """A file mlmon was asked to write cannot be written."""

    exit_code = ExitCode.CANT_CREATE


class BaselineError(DataError):
    """A baseline file is not a valid mlmon baseline."""


class ConfigError(MlmonError):
    """A config file (mlmon.toml, [tool.mlmon]) cannot be read or is not valid."""

    exit_code = ExitCode.CONFIG


class EnvironmentFailure(MlmonError):
    """The machine ran short (memory, file descriptors), a library could not be loaded, or the
    system clock is outside what mlmon can represent."""

    exit_code = ExitCode.ENVIRONMENT


class OptionError(MlmonError):
    """An option value that the CLI parser could not check by itself."""

    exit_code = ExitCode.USAGE


ENV_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM})
"""OS errors that say the machine ran short, never that an input is bad."""


def raise_if_environment(exc: BaseException) -> None:
    """Raise EnvironmentFailure (exit 71) when `exc` is the machine running short (too many open
    files, no memory), so a reader that maps OSError to bad data or no input never blames the input."""
    if isinstance(exc, MemoryError):
        raise EnvironmentFailure("out of memory (raise the memory limit, or read fewer files at once)")
    if isinstance(exc, OSError) and exc.errno in ENV_ERRNOS:
        hint = " (raise the limit: ulimit -n)" if exc.errno in (errno.EMFILE, errno.ENFILE) else ""
        raise EnvironmentFailure(f"the system refused a resource: {exc.strerror or exc}{hint}")
    text = str(exc)
    for code in (errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.EAGAIN):
        # a library's own error (pyarrow: "Failed to launch worker thread: Resource temporarily
        # unavailable") that carries the system's words for running short
        if os.strerror(code) in text or "bad_alloc" in text:
            first = text.strip().splitlines()[0][:300] if text.strip() else type(exc).__name__
            raise EnvironmentFailure(f"the system refused a resource: {first}")
