"""What every command shares at the bottom of the CLI: the error boundary of a run (`handled`),
stdout and stderr, the progress line, notes and diagnostics, and the exit code of alerts."""

from __future__ import annotations

import bisect
import contextlib
import functools
import os
import stat
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from mlmon.cli import boundary
from mlmon.cli.options import FailOn, Fmt
from mlmon.errors import ExitCode, MlmonError, OptionError
from mlmon.escape import terminal

if TYPE_CHECKING:
    from rich.console import Console


def json_error(message: str, code: int) -> None:
    """With --format json, a failed run's stdout is `{"error": {...}, "exit_code": N}` (once, and
    only when no JSON result was written)."""
    boundary.json_error(message, code)


state = boundary.state


def mark_interrupted() -> None:
    """Ctrl-C ended the run: `main` then exits at once, without waiting for worker threads."""
    state["interrupted"] = True


def exit_if_console(code: int) -> None:
    """Ctrl-C in the console script: end the process now. Worker threads may still be parsing
    blocks (native code, pyarrow, Python), and once the interrupted read's frames are let go its
    read-ahead thread is joined; Python also joins the pool's threads at exit. The message is
    written; nothing else is left to write. In-process callers (tests, an embedding program)
    get typer.Exit(130) as before."""
    if state.get("console"):
        flush_at_exit()
        os._exit(code)


@functools.cache
def _consoles() -> tuple[type[Console], type[Console]]:
    """The rich consoles of stderr and stdout, defined on first use: a run that writes JSON and
    has nothing to say on stderr never imports rich."""
    from rich.console import Console

    class _ErrConsole(Console):
        """stderr for diagnostics. When stderr cannot be written (`2>/dev/full`, a closed pipe),
        the diagnostic is lost but nothing else changes: the exit code stays the one the run earned."""

        def print(self, *objects: Any, **kwargs: Any) -> None:
            try:
                super().print(*objects, **kwargs)
            except (OSError, ValueError):
                self.quiet = True
                quiet_stream(2)

        def on_broken_pipe(self) -> None:
            raise BrokenPipeError  # caught in print (rich would point stdout at /dev/null and exit 1)

    class _OutConsole(Console):
        """stdout for tables: a reader that leaves early raises BrokenPipeError (rich's own
        handling exits 1, which would read as an alert)."""

        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    return _ErrConsole, _OutConsole


def stderr() -> Console:
    return _consoles()[0](stderr=True, highlight=False, soft_wrap=True)


def quiet_stream(fd: int) -> None:
    """Point a standard stream that cannot be written at /dev/null, so that Python's flush
    at exit cannot fail again (it would print "Exception ignored" and exit 120)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)


def fail(message: str, code: ExitCode | int) -> NoReturn:
    """One line on stderr, the JSON error document or the --nagios status line, the exit code:
    through the error boundary, which needs nothing heavy (no rich, no numpy) to report."""
    raise typer.Exit(boundary.report(message, int(code)))


def _tune_memory() -> None:
    """Keep peak memory low on big logs (measured in benchmarks/README.md).

    Arrow's default pool keeps freed blocks, and glibc raises its mmap threshold as large
    blocks are freed, after which they come from the heap and are not given back. So the CLI,
    which owns its process, uses the system allocator with a fixed 8 MiB mmap threshold: a
    kept latency page (8 MiB) or a freed block that size goes straight back to the operating
    system, while smaller buffers stay on the faster heap. Up to 16 MiB free at the top of the
    heap is kept rather than trimmed: each block's 4 MiB buffers then reuse warm pages (trimming
    them cost 0.2 s of page faults per 1M lines). The library leaves these choices to its
    caller; ARROW_DEFAULT_MEMORY_POOL, MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ set
    by the user win."""
    if sys.platform.startswith("linux"):
        import ctypes

        m_trim_threshold, m_mmap_threshold = -1, -3
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6")
            if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
                libc.mallopt(m_mmap_threshold, 8 << 20)
            if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
                libc.mallopt(m_trim_threshold, 16 << 20)
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Map every way a command can end to its exit code, in one place."""
    try:
        _check_numeric_options()
        _tune_memory()
        yield
    except typer.Exit:
        raise
    except MlmonError as exc:
        report = getattr(exc, "report", None)
        if report is not None:
            diagnostics(report)
        fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        state["interrupted"] = True
        stderr().print("mlmon: interrupted", markup=False)
        json_error("interrupted", int(ExitCode.INTERRUPTED))
        exit_if_console(int(ExitCode.INTERRUPTED))  # inside the handler: nothing joined yet
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except BrokenPipeError:
        # the reader of stdout left while output was still being written (`| head`)
        silence_stdout()
        raise typer.Exit(int(ExitCode.OK)) from None
    except Exception as exc:  # MemoryError, ImportError, EMFILE, a clock past 2262, a bug
        code, message = boundary.classify(exc)
        if state["debug"] and code == int(ExitCode.INTERNAL):
            raise
        exc.__traceback__ = None  # let go of the frames (and their memory) before reporting
        del exc
        fail(message, code)


def _check_numeric_options() -> None:
    """The running command's numeric options (from the command line or a config file), all
    at once: NaN, infinity and out-of-range values are usage errors (exit 2), never 70."""
    from mlmon.cli.options import check_numbers, check_texts

    try:
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - a typer that uses click itself
        from click import get_current_context  # type: ignore[import-not-found,no-redef,unused-ignore]
    ctx = get_current_context(silent=True)
    if ctx is None:
        return
    flags = {
        p.name: max(p.opts, key=len) for p in ctx.command.params if p.name and getattr(p, "opts", None)
    }
    check_numbers(dict(ctx.params), flags)
    check_texts(dict(ctx.params), flags)


def silence_stdout() -> None:
    """The reader went away (`| head`): point stdout at /dev/null so the exit is quiet,
    as other Unix tools do (Python would otherwise complain while flushing)."""
    quiet_stream(1)


class Tracker:
    """Turns bytes read into the progress line's position and current file. The reader reports
    bytes of the files on disk in order, and each file's bytes add up to its size, so the
    running total says which file is being read."""

    def __init__(self, files: list[tuple[str, int | None]]) -> None:
        self.names = [name for name, _ in files]
        self.ends: list[int] = []
        total = 0
        for _, size in files:
            total += size or 0
            self.ends.append(total)
        self.total: int | None = total if files and all(size is not None for _, size in files) else None
        self.done = 0

    def advance(self, n: int) -> str:
        """Count n more bytes; the name of the file they came from."""
        self.done += n
        if not self.names:
            return ""
        i = bisect.bisect_left(self.ends, self.done)
        return self.names[min(i, len(self.names) - 1)]


def _shown_name(name: str, room: int = 40) -> str:
    name = terminal(name)
    return name if len(name) <= room else "…" + name[-(room - 1) :]


def _input_files(logs: list[str] | None) -> list[tuple[str, int | None]]:
    """The inputs and their sizes on disk (None for stdin or a pipe), for the progress line."""
    if not logs:
        return []
    from mlmon.read.sources import expand

    try:
        sources = expand(logs)
    except MlmonError:
        return []  # the read itself reports it
    files: list[tuple[str, int | None]] = []
    for s in sources:
        try:
            st = os.stat(s.path)
            size = st.st_size if stat.S_ISREG(st.st_mode) else None
        except OSError:
            size = None
        files.append((s.name, size))
    return files


@contextlib.contextmanager
def progress(logs: list[str] | None = None) -> Iterator[Callable[[int], None] | None]:
    """A transient progress line on stderr, only when stderr is a terminal: the file being read,
    and, when the sizes are known (files, not a pipe), the total, percent and time left."""
    boundary.resume_collections()  # start-up is over: the read collects garbage as usual
    if not sys.stderr.isatty() or os.environ.get("CI"):
        yield None
        return
    from rich.progress import Progress

    tracker = Tracker(_input_files(logs))
    columns = progress_columns(sized=tracker.total is not None)
    first = _shown_name(tracker.names[0]) if tracker.names else ""
    with Progress(*columns, console=stderr(), transient=True) as prog:
        task = prog.add_task("read", total=tracker.total, file=first)

        def on_bytes(n: int) -> None:
            prog.update(task, advance=n, file=_shown_name(tracker.advance(n)))

        yield on_bytes


def progress_columns(*, sized: bool) -> list[Any]:
    """The progress line's columns, kept to one line at any width: the figures never wrap, the
    file name is cut with an ellipsis and the bar takes what is left (at most 40 cells)."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.table import Column

    def whole() -> Column:
        return Column(no_wrap=True)

    return [
        SpinnerColumn(table_column=whole()),
        TextColumn("reading {task.fields[file]}", markup=False,
                   table_column=Column(no_wrap=True, overflow="ellipsis")),
        BarColumn(bar_width=None, table_column=Column(ratio=1, min_width=5, max_width=40)),
        DownloadColumn(table_column=whole()),
        *((TaskProgressColumn(table_column=whole()), TimeRemainingColumn(table_column=whole()))
          if sized else ()),
        TransferSpeedColumn(table_column=whole()),
    ]


# Redirected output is as wide as its content, up to this; past it long text wraps (never cut).
_MAX_CONTENT_WIDTH = 400


def _output_width(renderable: Any, width: int | None) -> int | None:
    """--width, else COLUMNS, else the terminal's width (None: rich asks the terminal), else
    (redirected) the width the content needs, so cron mail shows long names whole."""
    if width is not None:
        return width
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return None
    from rich.console import Console

    need = Console(width=_MAX_CONTENT_WIDTH, highlight=False).measure(renderable).maximum
    return max(min(need, _MAX_CONTENT_WIDTH), 20)


def emit(text_or_renderable: Any, fmt: Fmt, *, width: int | None = None) -> None:
    """Results to stdout. A reader that leaves early (`| head`, `| true`) drops the rest quietly
    and the exit code stays the one the results earned, in every format; a closed or full
    stdout is OutputError (exit 73)."""
    from mlmon.errors import OutputError
    from mlmon.outfile import write_stdout

    if fmt is Fmt.JSON or isinstance(text_or_renderable, str | bytes):
        state["json_out"] = True
        raw = text_or_renderable
        write_stdout(raw.encode("utf-8") if isinstance(raw, str) else raw)
        return
    if sys.stdout is None:
        raise OutputError("cannot write to standard output: it is closed")
    try:
        w = _output_width(text_or_renderable, width)
        _consoles()[1](highlight=False, width=w).print(text_or_renderable)
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
    except (OSError, ValueError) as exc:
        silence_stdout()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise OutputError(f"cannot write to standard output: {reason}") from None


def note(message: str) -> None:
    """One `mlmon: note:` line on stderr (escaped: it may quote field names from the log)."""
    stderr().print(f"mlmon: note: {terminal(message)}", markup=False)


def note_absent_by(by: str | None, groups: Any, records: int, seen: frozenset[str]) -> None:
    """A note when no record has the --by field: the per-group checks the user asked for found no
    group (a typo in the field name would otherwise pass as if each group had been checked).
    `groups` are the report's groups (each with `group`: None for the records without the field)."""
    if by and records and all(g.group is None for g in groups):
        from mlmon.read.fields import absent_message

        note(absent_message("--by", by, "grouping needs", seen) + "; all records are one group")


def refuse_overwriting_inputs(outputs: list[tuple[str, str]], inputs: list[str]) -> None:
    """Usage error when a file this run writes (`(option, path)`) is one it reads: `-o train.csv`
    would replace the training data with the baseline. Inputs are files or globs, as given."""
    import fnmatch
    import glob

    for option, path in outputs:
        if path == "-":
            continue
        target = os.path.realpath(path)
        with contextlib.suppress(OSError):
            if not stat.S_ISREG(os.stat(target).st_mode):
                continue  # a device or FIFO (/dev/null, a pipe) is written into, never read as a log
        for given in inputs:
            if glob.has_magic(given):
                inside = fnmatch.fnmatch(target, os.path.realpath(given)) or fnmatch.fnmatch(
                    os.path.abspath(path), os.path.abspath(given)
                )
            else:
                folder = os.path.realpath(given)
                inside = os.path.isdir(folder) and target.startswith(folder.rstrip(os.sep) + os.sep)
            if inside:
                raise OptionError(
                    f"{option} {path!r} is inside {given!r}, which this run reads logs from: a later run "
                    "would read it as a log; write it elsewhere"
                )
    written = {}
    for option, path in outputs:
        with contextlib.suppress(OSError, ValueError):
            st = os.stat(os.path.realpath(path))  # the file write_output would replace
            if path != "-" and stat.S_ISREG(st.st_mode):
                written[(st.st_dev, st.st_ino)] = (option, path)
    if not written:
        return
    for given in inputs:
        for path in (glob.glob(given, recursive=True) if glob.has_magic(given) else []) or [given]:
            with contextlib.suppress(OSError, ValueError):
                st = os.stat(path)
                if (st.st_dev, st.st_ino) in written:
                    option, out = written[(st.st_dev, st.st_ino)]
                    raise OptionError(
                        f"{option} {out!r} is {path!r}, which this run reads; write the output elsewhere"
                    )


def picked(logs: list[str], include: list[str] | None, serving: tuple[str, ...] | None = None) -> list[str]:
    """Directory arguments to their log files (see api/inputs); notes on stderr for the rest."""
    from mlmon.api.inputs import pick

    picked = pick(logs, include, serving=serving)
    for line in picked.notes:
        note(line)
    return picked.files


def diagnostics(report: Any) -> None:
    """The input report's notes and warnings on stderr (rich is imported only when there are some)."""
    from mlmon.read.records import NOT_BAD

    safe = terminal
    lines = [
        f"mlmon: note: left out {safe(path)}: {what} mlmon wrote, not a log" for path, what in report.left_out
    ]
    lines += [
        f"mlmon: warning: input lost: {safe(lost.source)}: gone before this run read it to the end, "
        f"at least {lost.bytes} bytes never read (rotated away or deleted; keep more rotated copies, "
        "name where they go with `rotated`, or run more often)"
        for lost in report.lost
    ]
    lines += [
        f"mlmon: warning: {safe(f.source)}: {safe(f.truncated)}; its complete lines were read"
        for f in report.truncated
    ]
    if report.bad_lines:
        from mlmon.report.render import example_lines

        bad = tuple(e for e in report.examples if e.reason not in NOT_BAD)
        lines.append(f"mlmon: warning: {report.bad_lines} bad line(s) not used; the first:")
        lines += ["  " + line for line in example_lines(bad)]
    if lines:
        err = stderr()
        for line in lines:
            err.print(line, markup=False)


def exit_for(alerts: tuple[Any, ...], fail_on: FailOn) -> NoReturn:
    from mlmon.rules.alerts import Severity, worst

    w = worst(alerts)
    if fail_on is not FailOn.NEVER and w is not None and w.rank >= Severity(fail_on.value).rank:
        raise typer.Exit(int(ExitCode.ALERT))
    raise typer.Exit(int(ExitCode.OK))


def flush_at_exit() -> None:
    """Flush stdout and stderr now, and quieten whichever cannot be written, so Python's own
    flush at exit cannot replace the exit code with 120."""
    for stream, fd in ((sys.stdout, 1), (sys.stderr, 2)):
        if stream is None:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            quiet_stream(fd)




def needs_matplotlib() -> None:
    """The report draws with matplotlib (the optional extra `report`): say how to get it."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise OptionError(
            "mlmon report draws its plots with matplotlib, which is not installed: "
            "pip install 'mlmon[report]' (or pip install matplotlib)"
        ) from None
