"""The `mlmon` Typer app: error handling, progress, output and exit codes shared by every command."""

from __future__ import annotations

import contextlib
import errno
import importlib.abc
import io
import os
import sys
from typing import Annotated, Any

import typer
from typer._click.exceptions import ClickException  # typer's own copy of click

from mlmon.cli import boundary
from mlmon.cli import runtime as shared
from mlmon.cli.config import ConfiguredGroup, config_app
from mlmon.cli.helptext import tidy_help
from mlmon.errors import ExitCode


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
        if not (shared.state["json"] and standalone_mode):
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(argv, prog_name, complete_var, False, **extra)
        except ClickException as exc:
            exc.show()
            shared.json_error(exc.format_message(), exc.exit_code)
            sys.exit(exc.exit_code)
        except typer.Abort:
            shared.state["interrupted"] = True
            sys.stderr.write("mlmon: interrupted\n")
            shared.json_error("interrupted", int(ExitCode.INTERRUPTED))
            shared.exit_if_console(int(ExitCode.INTERRUPTED))
            sys.exit(int(ExitCode.INTERRUPTED))
        sys.exit(rv if isinstance(rv, int) else 0)


def _wants_json(args: list[str]) -> bool:
    """Whether the command line asks for `--format json` (see mlmon.cli.boundary)."""
    return boundary.wants_json(args)


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
    shared.state["debug"] = debug
    reader = os.environ.get("MLMON_READER", "").strip().lower()
    if reader not in ("", "native", "python"):  # a typo must not quietly run the other reader
        shared.fail(f"MLMON_READER is {reader!r}: set it to python (the pyarrow reader) or native, "
              "or unset it", ExitCode.USAGE)


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
                shared.quiet_stream(2)
        return len(s)

    def flush(self) -> None:
        if not self.broken:
            try:
                self.inner.flush()
            except (OSError, ValueError):
                self.broken = True
                shared.quiet_stream(2)

    def isatty(self) -> bool:
        return not self.broken and bool(self.inner.isatty())

    def fileno(self) -> int:
        return int(self.inner.fileno())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.inner, "encoding", "utf-8"))


def _one_blas_thread() -> None:
    """numpy's OpenBLAS starts a thread per core at import, and they spin while idle: about
    0.03-0.05 CPU-seconds a run on two cores for linear algebra mlmon never does in parallel.
    The console script, which owns its process, asks for one; OPENBLAS_NUM_THREADS (or
    OMP_NUM_THREADS) set by the user wins. Must run before numpy is imported."""
    if "OPENBLAS_NUM_THREADS" not in os.environ and "OMP_NUM_THREADS" not in os.environ:
        os.environ["OPENBLAS_NUM_THREADS"] = "1"


def main() -> None:
    """Console-script entry point."""
    shared.state["console"] = True
    _one_blas_thread()
    _hold_closed_std_fds()
    _skip_pandas()
    code: int | str | None = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code
    except BrokenPipeError:
        shared.silence_stdout()
        code = int(ExitCode.OK)
    except OSError as exc:
        if exc.errno in boundary.ENV_ERRNOS:
            raise  # too many open files, no memory: the boundary reports it (exit 71)
        # outside a command (help, usage) the only writing is to stdout: it is closed or full
        shared.silence_stdout()
        sys.stderr.write(f"mlmon: error: cannot write to standard output: {exc.strerror or exc}\n")
        code = int(ExitCode.CANT_CREATE)
    except KeyboardInterrupt:
        shared.state["interrupted"] = True
        sys.stderr.write("mlmon: interrupted\n")
        shared.exit_if_console(int(ExitCode.INTERRUPTED))
        code = int(ExitCode.INTERRUPTED)
    finally:
        shared.flush_at_exit()
    if shared.state.get("interrupted"):
        # A worker thread may still be parsing a block (native code, pyarrow): Python would wait
        # for it at exit, so Ctrl-C could take as long as the block. Nothing is left to write.
        os._exit(code if isinstance(code, int) else int(ExitCode.INTERRUPTED))
    sys.exit(code)


def console() -> None:
    """The `mlmon` console script and `python -m mlmon` (see mlmon.cli.boundary)."""
    boundary.console(main)


# the names tests knew these by
_progress_columns = shared.progress_columns
_Tracker = shared.Tracker
