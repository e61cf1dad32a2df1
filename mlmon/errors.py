"""Exit codes and the few domain exceptions the CLI turns into them."""

from __future__ import annotations

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


class OptionError(MlmonError):
    """An option value that the CLI parser could not check by itself."""

    exit_code = ExitCode.USAGE
