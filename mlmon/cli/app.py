"""The `mlmon` Typer app: error handling, progress, output and exit codes shared by every command."""

from __future__ import annotations

import bisect
import contextlib
import errno
import importlib.abc
import io
import os
import stat
import sys
from collections.abc import Callable, Iterator
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from typer._click.exceptions import ClickException  # typer's own copy of click

from mlmon.cli import boundary
from mlmon.cli.config import ConfiguredGroup, config_app
from mlmon.cli.helptext import tidy_help
from mlmon.cli.options import FailOn, Fmt
from mlmon.errors import ExitCode, MlmonError, OptionError


class _Group(ConfiguredGroup):
    """The mlmon command group: its commands' help uses word placeholders (see helptext), and
    with `--format json` every failure, usage errors included, also leaves a JSON document on
    stdout, so a pipeline that saves it never keeps an empty file."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tidy_help(self)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command list with each command's whole first sentence, wrapped (never cut with `...`)."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            rows.append((name, cmd.get_short_help_str(limit=1 << 20)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        boundary.start(argv)
        if not (_state["json"] and standalone_mode):
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(argv, prog_name, complete_var, False, **extra)
        except ClickException as exc:
            exc.show()
            _json_error(exc.format_message(), exc.exit_code)
            sys.exit(exc.exit_code)
        except typer.Abort:
            _state["interrupted"] = True
            sys.stderr.write("mlmon: interrupted\n")
            _json_error("interrupted", int(ExitCode.INTERRUPTED))
            _exit_if_console(int(ExitCode.INTERRUPTED))
            sys.exit(int(ExitCode.INTERRUPTED))
        sys.exit(rv if isinstance(rv, int) else 0)


def _wants_json(args: list[str]) -> bool:
    """Whether the command line asks for `--format json` (see mlmon.cli.boundary)."""
    return boundary.wants_json(args)


def _json_error(message: str, code: int) -> None:
    """With --format json, a failed run's stdout is `{"error": {...}, "exit_code": N}` (once, and
    only when no JSON result was written)."""
    boundary.json_error(message, code)


app = typer.Typer(
    name="mlmon",
    help=(
        "Is my model in production still healthy? mlmon reads the prediction logs a model "
        "service writes (JSON lines, plain or behind a Python logging prefix; CSV or Parquet "
        "feature logs; .gz/.bz2/.zst) and reports serving health and data drift.\n\n"
        "Exit codes: 0 ok, 1 alert at or above --fail-on, 2 usage error, 65 bad data, "
        "66 input missing, 70 internal error (a bug), 71 the machine ran short (memory, open "
        "files) or its clock is outside 1678-2262, 73 output not writable, "
        "75 state file locked by another run, 78 bad config file, 130 interrupted.\n\n"
        "Every command takes --config FILE (default: mlmon.toml, or [tool.mlmon] in "
        "pyproject.toml, found from the working directory up; --no-config ignores it): "
        "its keys are the flags' names and give their defaults."
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=_Group,
    # -h as --help on every command; help as wide as the terminal, up to 120 columns
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120},
)


app.add_typer(config_app)

_state = boundary.state


def mark_interrupted() -> None:
    """Ctrl-C ended the run: `main` then exits at once, without waiting for worker threads."""
    _state["interrupted"] = True


def _exit_if_console(code: int) -> None:
    """Ctrl-C in the console script: end the process now. Worker threads may still be parsing
    blocks (native code, pyarrow, Python), and once the interrupted read's frames are let go its
    read-ahead thread is joined; Python also joins the pool's threads at exit. The message is
    written; nothing else is left to write. In-process callers (tests, an embedding program)
    get typer.Exit(130) as before."""
    if _state.get("console"):
        _flush_at_exit()
        os._exit(code)


def _show_version(value: bool) -> None:
    if not value:
        return
    from mlmon import __version__
    from mlmon.read.native import describe_reader

    typer.echo(f"mlmon {__version__}\nJSON-lines reader: {describe_reader()}")
    raise typer.Exit(0)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            is_eager=True,
            callback=_show_version,
            help="Show the version and which JSON-lines reader runs (native or python), then exit.",
        ),
    ] = False,
) -> None:
    _state["debug"] = debug
    reader = os.environ.get("MLMON_READER", "").strip().lower()
    if reader not in ("", "native", "python"):  # a typo must not quietly run the other reader
        _fail(f"MLMON_READER is {reader!r}: set it to python (the pyarrow reader) or native, "
              "or unset it", ExitCode.USAGE)


class _ErrConsole(Console):
    """stderr for diagnostics. When stderr cannot be written (`2>/dev/full`, a closed pipe),
    the diagnostic is lost but nothing else changes: the exit code stays the one the run earned."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        try:
            super().print(*objects, **kwargs)
        except (OSError, ValueError):
            self.quiet = True
            _quiet_stream(2)

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError  # caught in print (rich would point stdout at /dev/null and exit 1)


class _OutConsole(Console):
    """stdout for tables: a reader that leaves early raises BrokenPipeError (rich's own
    handling exits 1, which would read as an alert)."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def _stderr() -> Console:
    return _ErrConsole(stderr=True, highlight=False, soft_wrap=True)


def _quiet_stream(fd: int) -> None:
    """Point a standard stream that cannot be written at /dev/null, so that Python's flush
    at exit cannot fail again (it would print "Exception ignored" and exit 120)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)


def _fail(message: str, code: ExitCode | int) -> NoReturn:
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


class _WithoutPandas(importlib.abc.MetaPathFinder):
    """pyarrow looks for pandas the first time it converts Python or NumPy values, and
    importing pandas takes about 0.2 s while holding the interpreter lock. The console script
    never uses pandas, so its process answers that look with "not installed". Only `main`
    installs this: the library, and the app run inside another program, leave pandas alone."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {fullname!r} in the mlmon CLI", name=fullname)
        return None


def _skip_pandas() -> None:
    if "pandas" not in sys.modules and not any(isinstance(f, _WithoutPandas) for f in sys.meta_path):
        sys.meta_path.insert(0, _WithoutPandas())


@contextlib.contextmanager
def _handled() -> Iterator[None]:
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
            _diagnostics(report)
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _state["interrupted"] = True
        _stderr().print("mlmon: interrupted", markup=False)
        _json_error("interrupted", int(ExitCode.INTERRUPTED))
        _exit_if_console(int(ExitCode.INTERRUPTED))  # inside the handler: nothing joined yet
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except BrokenPipeError:
        # the reader of stdout left while output was still being written (`| head`)
        _silence_stdout()
        raise typer.Exit(int(ExitCode.OK)) from None
    except Exception as exc:  # MemoryError, ImportError, EMFILE, a clock past 2262, a bug
        code, message = boundary.classify(exc)
        if _state["debug"] and code == int(ExitCode.INTERNAL):
            raise
        exc.__traceback__ = None  # let go of the frames (and their memory) before reporting
        del exc
        _fail(message, code)


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


def _silence_stdout() -> None:
    """The reader went away (`| head`): point stdout at /dev/null so the exit is quiet,
    as other Unix tools do (Python would otherwise complain while flushing)."""
    _quiet_stream(1)


class _Tracker:
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
    from mlmon.report.render import safe

    name = safe(name)
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
def _progress(logs: list[str] | None = None) -> Iterator[Callable[[int], None] | None]:
    """A transient progress line on stderr, only when stderr is a terminal: the file being read,
    and, when the sizes are known (files, not a pipe), the total, percent and time left."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        yield None
        return
    from rich.progress import Progress

    tracker = _Tracker(_input_files(logs))
    columns = _progress_columns(sized=tracker.total is not None)
    first = _shown_name(tracker.names[0]) if tracker.names else ""
    with Progress(*columns, console=_stderr(), transient=True) as prog:
        task = prog.add_task("read", total=tracker.total, file=first)

        def on_bytes(n: int) -> None:
            prog.update(task, advance=n, file=_shown_name(tracker.advance(n)))

        yield on_bytes


def _progress_columns(*, sized: bool) -> list[Any]:
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
    need = Console(width=_MAX_CONTENT_WIDTH, highlight=False).measure(renderable).maximum
    return max(min(need, _MAX_CONTENT_WIDTH), 20)


def _emit(text_or_renderable: Any, fmt: Fmt, *, width: int | None = None) -> None:
    """Results to stdout. A reader that leaves early (`| head`, `| true`) drops the rest quietly
    and the exit code stays the one the results earned, in every format; a closed or full
    stdout is OutputError (exit 73)."""
    from mlmon.errors import OutputError
    from mlmon.outfile import write_stdout

    if fmt is Fmt.JSON or isinstance(text_or_renderable, str | bytes):
        _state["json_out"] = True
        raw = text_or_renderable
        write_stdout(raw.encode("utf-8") if isinstance(raw, str) else raw)
        return
    if sys.stdout is None:
        raise OutputError("cannot write to standard output: it is closed")
    try:
        w = _output_width(text_or_renderable, width)
        _OutConsole(highlight=False, width=w).print(text_or_renderable)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    except (OSError, ValueError) as exc:
        _silence_stdout()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise OutputError(f"cannot write to standard output: {reason}") from None


def _note(message: str) -> None:
    """One `mlmon: note:` line on stderr (escaped: it may quote field names from the log)."""
    from mlmon.report.render import safe

    _stderr().print(f"mlmon: note: {safe(message)}", markup=False)


def note_absent_by(by: str | None, groups: Any, records: int, seen: frozenset[str]) -> None:
    """A note when no record has the --by field: the per-group checks the user asked for found no
    group (a typo in the field name would otherwise pass as if each group had been checked).
    `groups` are the report's groups (each with `group`: None for the records without the field)."""
    if by and records and all(g.group is None for g in groups):
        from mlmon.read.fields import absent_message

        _note(absent_message("--by", by, "grouping needs", seen) + "; all records are one group")


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


def _picked(logs: list[str], include: list[str] | None, serving: tuple[str, ...] | None = None) -> list[str]:
    """Directory arguments to their log files (see api/inputs); notes on stderr for the rest."""
    from mlmon.api.inputs import pick

    picked = pick(logs, include, serving=serving)
    for note in picked.notes:
        _note(note)
    return picked.files


def _diagnostics(report: Any) -> None:
    from mlmon.read.records import NOT_BAD
    from mlmon.report.render import example_lines, safe

    err = _stderr()
    for path, what in report.left_out:
        err.print(f"mlmon: note: left out {safe(path)}: {what} mlmon wrote, not a log", markup=False)
    for lost in report.lost:
        err.print(
            f"mlmon: warning: input lost: {safe(lost.source)}: gone before this run read it to the end, "
            f"at least {lost.bytes} bytes never read (rotated away or deleted; keep more rotated copies, "
            "name where they go with `rotated`, or run more often)",
            markup=False,
        )
    for f in report.truncated:
        err.print(
            f"mlmon: warning: {safe(f.source)}: {safe(f.truncated)}; its complete lines were read",
            markup=False,
        )
    bad = tuple(e for e in report.examples if e.reason not in NOT_BAD)
    if report.bad_lines:
        err.print(f"mlmon: warning: {report.bad_lines} bad line(s) not used; the first:", markup=False)
        for line in example_lines(bad):
            err.print("  " + line, markup=False)


def _exit_for(alerts: tuple[Any, ...], fail_on: FailOn) -> NoReturn:
    from mlmon.rules.alerts import Severity, worst

    w = worst(alerts)
    if fail_on is not FailOn.NEVER and w is not None and w.rank >= Severity(fail_on.value).rank:
        raise typer.Exit(int(ExitCode.ALERT))
    raise typer.Exit(int(ExitCode.OK))


class _ClosedStdout(io.TextIOBase):
    """sys.stdout when the caller closed it (`>&-`): writing fails (exit 73), asking is fine."""

    def write(self, s: str) -> int:
        raise OSError(errno.EBADF, "it is closed")

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return 1


def _hold_closed_std_fds() -> None:
    """A standard stream closed by the caller (`>&-`, `<&-`, `2>&-`) leaves its descriptor free,
    and the next file mlmon opens would take it: a log opened as fd 1 would receive the
    report. Hold each closed one with /dev/null. Then: stdin stays None (reading `-` is exit
    66), stdout refuses writes (exit 73), stderr is /dev/null (diagnostics are lost, the exit
    code is not)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            with contextlib.suppress(OSError):
                held = os.open(os.devnull, os.O_RDWR)
                if held != fd:
                    os.dup2(held, fd)
                    os.close(held)
    if sys.stdout is None:
        sys.stdout = _ClosedStdout()
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115  (lives as long as the process)
    if not isinstance(sys.stderr, _ForgivingStderr):
        sys.stderr = _ForgivingStderr(sys.stderr)


class _ForgivingStderr(io.TextIOBase):
    """sys.stderr in the console script: a diagnostic that cannot be written (`2>/dev/full`,
    a closed pipe) is dropped, so that it never changes the exit code, whoever writes it
    (mlmon, click's usage errors, rich, warnings)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.broken = False

    def write(self, s: str) -> int:
        if not self.broken:
            try:
                self.inner.write(s)
                self.inner.flush()
            except (OSError, ValueError):
                self.broken = True
                _quiet_stream(2)
        return len(s)

    def flush(self) -> None:
        if not self.broken:
            try:
                self.inner.flush()
            except (OSError, ValueError):
                self.broken = True
                _quiet_stream(2)

    def isatty(self) -> bool:
        return not self.broken and bool(self.inner.isatty())

    def fileno(self) -> int:
        return int(self.inner.fileno())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.inner, "encoding", "utf-8"))


def _flush_at_exit() -> None:
    """Flush stdout and stderr now, and quieten whichever cannot be written, so Python's own
    flush at exit cannot replace the exit code with 120."""
    for stream, fd in ((sys.stdout, 1), (sys.stderr, 2)):
        if stream is None:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            _quiet_stream(fd)


def _one_blas_thread() -> None:
    """numpy's OpenBLAS starts a thread per core at import, and they spin while idle: about
    0.03-0.05 CPU-seconds a run on two cores for linear algebra mlmon never does in parallel.
    The console script, which owns its process, asks for one; OPENBLAS_NUM_THREADS (or
    OMP_NUM_THREADS) set by the user wins. Must run before numpy is imported."""
    if "OPENBLAS_NUM_THREADS" not in os.environ and "OMP_NUM_THREADS" not in os.environ:
        os.environ["OPENBLAS_NUM_THREADS"] = "1"


def main() -> None:
    """Console-script entry point."""
    _state["console"] = True
    _one_blas_thread()
    _hold_closed_std_fds()
    _skip_pandas()
    code: int | str | None = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code
    except BrokenPipeError:
        _silence_stdout()
        code = int(ExitCode.OK)
    except OSError as exc:
        if exc.errno in boundary.ENV_ERRNOS:
            raise  # too many open files, no memory: the boundary reports it (exit 71)
        # outside a command (help, usage) the only writing is to stdout: it is closed or full
        _silence_stdout()
        sys.stderr.write(f"mlmon: error: cannot write to standard output: {exc.strerror or exc}\n")
        code = int(ExitCode.CANT_CREATE)
    except KeyboardInterrupt:
        _state["interrupted"] = True
        sys.stderr.write("mlmon: interrupted\n")
        _exit_if_console(int(ExitCode.INTERRUPTED))
        code = int(ExitCode.INTERRUPTED)
    finally:
        _flush_at_exit()
    if _state.get("interrupted"):
        # A worker thread may still be parsing a block (native code, pyarrow): Python would wait
        # for it at exit, so Ctrl-C could take as long as the block. Nothing is left to write.
        os._exit(code if isinstance(code, int) else int(ExitCode.INTERRUPTED))
    sys.exit(code)


def console() -> None:
    """The `mlmon` console script and `python -m mlmon` (see mlmon.cli.boundary)."""
    boundary.console()
