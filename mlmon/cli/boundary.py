"""The one error boundary of the `mlmon` console script: every failure becomes one line on stderr,
the JSON error document (with --format json) or the UNKNOWN status line (with --nagios), and its
documented exit code. Standard library only, so it still works when numpy, rich or typer cannot
be imported (out of memory, too many open files, a broken install)."""

from __future__ import annotations

import contextlib
import errno
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from mlmon.errors import ENV_ERRNOS as _ENV_ERRNOS
from mlmon.errors import EnvironmentFailure, ExitCode, MlmonError
from mlmon.escape import terminal, unknown_line

state: dict[str, bool] = {
    "debug": False,
    "json": False,
    "json_out": False,
    "nagios": False,
    "interrupted": False,
    "console": False,
}
"""What the run asked for and what it has written; shared with mlmon.cli.app."""

ENV_ERRNOS = _ENV_ERRNOS
"""OS errors that say the machine ran short, never that an input is bad (exit 71)."""

CLOCK_RANGE = (-9223372036.0, 9223372036.0)
"""Seconds since 1970 that a 64-bit nanosecond time can hold: 1677-09-21 to 2262-04-11."""

NAGIOS_UNKNOWN = 3

MIN_ADDRESS_SPACE = 1 << 30
"""Least virtual memory (`ulimit -v`) a run is started with: below it numpy's OpenBLAS or a
C++ library can end the process from its own start (exit 1, or an abort) before any handler runs."""


def check_memory_limit() -> None:
    """EnvironmentFailure when `ulimit -v` leaves less than MIN_ADDRESS_SPACE."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError, AttributeError):
        return
    if soft != resource.RLIM_INFINITY and soft < MIN_ADDRESS_SPACE:
        raise EnvironmentFailure(
            f"the virtual memory limit (ulimit -v) is {soft >> 20} MiB; mlmon needs at least "
            f"{MIN_ADDRESS_SPACE >> 20} MiB to load its libraries"
        )


def _options(argv: list[str]) -> list[str]:
    return argv[: argv.index("--")] if "--" in argv else argv


def wants_json(argv: list[str]) -> bool:
    """Whether the command line asks for `--format json` (`-f json`, `--format=json`, `-fjson`)."""
    args = _options(argv)
    for i, a in enumerate(args):
        if a in ("--format", "-f") and i + 1 < len(args) and args[i + 1] == "json":
            return True
        if a in ("--format=json", "-fjson", "-f=json"):
            return True
    return False


def start(argv: list[str]) -> None:
    """Note what the command line asks of failures before anything can fail."""
    args = _options(argv)
    state["json"] = wants_json(argv)
    state["json_out"] = False
    state["nagios"] = "--nagios" in args
    state["debug"] = state["debug"] or "--debug" in args


def clock_outside() -> bool:
    """The system clock is outside 1678-2262 (`faketime 2300-01-01`)."""
    try:
        now = time.time()
    except (OverflowError, OSError, ValueError):
        return True
    return not CLOCK_RANGE[0] < now < CLOCK_RANGE[1]


def classify(exc: BaseException) -> tuple[int, str]:
    """The exit code and one-line message for any exception that ended a run."""
    if isinstance(exc, MlmonError):
        return int(exc.exit_code), str(exc)
    env = int(ExitCode.ENVIRONMENT)
    if isinstance(exc, MemoryError):
        return env, "out of memory (raise the memory limit, or read fewer files at once)"
    if isinstance(exc, OSError) and exc.errno in ENV_ERRNOS:
        hint = " (raise the limit: ulimit -n)" if exc.errno in (errno.EMFILE, errno.ENFILE) else ""
        return env, f"the system refused a resource: {exc.strerror or exc}{hint}"
    if isinstance(exc, ImportError):
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        first = next((line for line in lines if not line.isupper() and "PLEASE READ" not in line), "")
        return env, (
            f"cannot load {exc.name or 'a module'}: {first[:300]} (a broken installation, too many "
            "open files or too little memory)"
        )
    if clock_outside():
        return env, (
            f"the system clock ({_clock_text()}) is outside 1678-2262, the range of mlmon's "
            f"clock ({type(exc).__name__})"
        )
    if isinstance(exc, RecursionError):
        return int(ExitCode.INTERNAL), "internal error: RecursionError: input nested too deep reached Python"
    text = str(exc)
    if len(text) > 500:
        text = text[:500] + "..."
    return int(ExitCode.INTERNAL), (
        f"internal error: {type(exc).__name__}: {text} (run with --debug for a traceback)"
    )


def check_clock() -> None:
    """EnvironmentFailure when the system clock is outside 1678-2262: every time mlmon handles
    is a 64-bit count of nanoseconds, and a clock past its end would make ages and windows wrong
    (or overflow) rather than fail."""
    if clock_outside():
        raise EnvironmentFailure(
            f"the system clock ({_clock_text()}) is outside 1678-2262, the range of mlmon's clock; "
            "set the clock right"
        )


def _clock_text() -> str:
    try:
        now = time.time()
        year = 1970 + now / 31556952
        return f"year {year:.0f}"
    except (OverflowError, OSError, ValueError):
        return "unreadable"


def json_error(message: str, code: int) -> None:
    """With --format json, a failed run's stdout is `{"error": {...}, "exit_code": N}` (once, and
    only when no JSON result was written)."""
    if not state["json"] or state["json_out"] or state["nagios"]:
        return
    state["json_out"] = True
    try:
        kind = ExitCode(code).name.lower()
    except ValueError:
        kind = "error"
    doc = {"error": {"type": kind, "message": message}, "exit_code": int(code)}
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stdout.write(json.dumps(doc, ensure_ascii=True) + "\n")
        sys.stdout.flush()


def error_line(message: str) -> None:
    """`mlmon: error: MESSAGE` on stderr, escaped; a stderr that cannot be written loses it."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.write(f"mlmon: error: {terminal(message)}\n")
        sys.stderr.flush()


def report(message: str, code: int) -> int:
    """Tell the failure in every form the run asked for; the exit code the process ends with
    (3 under --nagios, whatever the failure)."""
    if state["nagios"]:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stdout.write(unknown_line(message))
            sys.stdout.flush()
        state["json_out"] = True
        error_line(message)
        return NAGIOS_UNKNOWN
    error_line(message)
    json_error(message, code)
    return code


def fail(exc: BaseException) -> int:
    """Report an exception that reached the boundary; the exit code."""
    if isinstance(exc, KeyboardInterrupt):
        state["interrupted"] = True
        return report("interrupted", int(ExitCode.INTERRUPTED))
    code, message = classify(exc)
    if state["debug"] and code in (int(ExitCode.INTERNAL), int(ExitCode.ENVIRONMENT)):
        with contextlib.suppress(Exception):
            import traceback

            traceback.print_exception(exc)
    exc.__traceback__ = None  # let go of the frames (and their memory) before writing
    return report(message, code)


def run(main: Callable[[], None], argv: list[str] | None = None) -> int:
    """Run the app's `main` as the console script does; the exit code. Nothing escapes as a
    traceback. (The app is passed in: this module is below it and imports nothing of it.)"""
    start(sys.argv[1:] if argv is None else argv)
    state["console"] = True
    code: Any
    try:
        check_memory_limit()
        check_clock()
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    except BaseException as exc:  # noqa: BLE001  (the boundary: everything ends here)
        code = fail(exc)
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    error_line(str(code))
    return int(ExitCode.INTERNAL)


START_COLLECTION_THRESHOLD = 100_000
"""Objects allocated between two young garbage collections while the console script starts
(Python's default is 700): importing typer, pydantic, numpy, pyarrow and mlmon allocates about
70,000 objects that all live to the end, and the ~100 collections that would scan them took
about 5% of a small log's run."""

_collections: tuple[int, ...] | None = None


def defer_collections() -> None:
    """Collect garbage rarely while the console script imports; `resume_collections` undoes it."""
    global _collections
    if _collections is None:
        _collections = gc.get_threshold()
        gc.set_threshold(START_COLLECTION_THRESHOLD, *_collections[1:])


def resume_collections() -> None:
    """Python's thresholds again, from when a command starts reading its input (runtime.progress;
    watch before its first read), so a long run collects its garbage as usual. What start-up
    allocated (modules, classes, functions: it lives to the end) is frozen first, out of every
    later collection's scan; without that the first collections after start-up would scan it all."""
    global _collections
    if _collections is not None:
        gc.freeze()
        gc.set_threshold(*_collections)
        _collections = None


def console(main: Callable[[], None]) -> None:
    """The `mlmon` console script and `python -m mlmon`: `main` is the app's."""
    defer_collections()
    code = run(main)
    _flush()
    if state["interrupted"] or (sys.gettrace() is None and sys.getprofile() is None):
        # Skip the interpreter's teardown (clearing 500-1,000 modules took 0.1-0.25 CPU-s, and
        # after Ctrl-C a worker thread may still be parsing a block); everything is written.
        # Not under a tracer or profiler (coverage, cProfile), which write their results at exit.
        os._exit(code)
    sys.exit(code)


def _flush() -> None:
    for stream, fd in ((sys.stdout, 1), (sys.stderr, 2)):
        if stream is None:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, fd)
                os.close(devnull)
