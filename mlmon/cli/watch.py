"""`mlmon watch`: a live terminal view of growing logs (latency, success and request rate, drift, alerts)."""

from __future__ import annotations

import contextlib
import os
import select
import sys
import time
from collections.abc import Iterator
from typing import Annotated

import typer

from mlmon.cli import boundary
from mlmon.cli.commands import one_command
from mlmon.cli.options import (
    ClassField,
    ConfidenceField,
    ConfigFile,
    FeaturesField,
    LatencyField,
    Logs,
    LogTz,
    Marker,
    MaxLine,
    NoConfig,
    PredictionField,
    StatusField,
    SuccessField,
    SuccessValue,
    TimestampField,
    check_tz,
    parse_duration,
    parse_threshold,
    reading,
)
from mlmon.cli.runtime import handled
from mlmon.errors import ExitCode, OptionError

cli = one_command()


@contextlib.contextmanager
def _keys() -> Iterator[int]:
    """Standard input in cbreak mode (keys arrive one by one, Ctrl-C still interrupts)."""
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield fd
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _wait_for_q(fd: int, until: float, size: tuple[int, ...]) -> str:
    """Wait until `until`: `quit` when q is pressed, `resize` when the terminal's size changed."""
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return "tick"
        ready, _, _ = select.select([fd], [], [], min(left, 0.2))
        if ready:
            try:
                data = os.read(fd, 64)
            except OSError:  # the terminal went away (its window closed)
                return "quit"
            if not data:
                return "quit"  # the terminal went away
            if b"q" in data or b"Q" in data:
                return "quit"
        try:
            if tuple(os.get_terminal_size(sys.stdout.fileno())) != size:
                return "resize"
        except OSError:
            return "quit"  # no terminal any more


@cli.command()
def watch(
    logs: Logs,
    every: Annotated[str, typer.Option(help="Read what is new and redraw this often (e.g. 10s).")] = "10s",
    last: Annotated[str, typer.Option(help="Show the records within this span of the newest one.")] = "60m",
    baseline_path: Annotated[
        str | None, typer.Option("--baseline", "-b", help="Also show the features that drifted from it.")
    ] = None,
    by: Annotated[str, typer.Option(help="Field whose values are shown apart.")] = "model_version",
    max_p95_ms: Annotated[str | None, typer.Option(help="p95 latency limit in ms, WARN[:CRIT].",
                                                   metavar="WARN[:CRIT]")] = None,
    max_p99_ms: Annotated[str | None, typer.Option(help="p99 latency limit in ms, WARN[:CRIT].",
                                                   metavar="WARN[:CRIT]")] = None,
    min_success_rate: Annotated[str | None, typer.Option(help="Lowest success rate, WARN[:CRIT].",
                                                         metavar="WARN[:CRIT]")] = None,
    timestamp_field: TimestampField = "timestamp",
    latency_field: LatencyField = "latency_ms",
    status_field: StatusField = "status",
    success_field: SuccessField = "success",
    success_value: SuccessValue = None,
    prediction_field: PredictionField = "prediction",
    class_field: ClassField = "prediction.class",
    confidence_field: ConfidenceField = "prediction.confidence",
    features_field: FeaturesField = "input.features",
    record_marker: Marker = None,
    log_timezone: LogTz = "UTC",
    max_line_bytes: MaxLine = 16 << 20,
    config: ConfigFile = None,
    no_config: NoConfig = False,
) -> None:
    """A live view of growing logs, redrawn every --every: p95/p99 latency, success rate and
    request rate per model version over the last --last, drifted features (with --baseline),
    and the alerts that fire with how long they have. Rotated logs are followed as
    `check --state` follows them. q quits (exit 0), Ctrl-C exits 130. It needs a terminal: in
    cron or CI use `mlmon check` or `mlmon summary`.

    Example:

    \b
      mlmon watch logs/predictions.jsonl --every 10s --last 60m --max-p99-ms 250
    """
    read = reading(locals())  # first: the parameters alone
    del config, no_config  # taken by the command group before the options are parsed
    with handled():
        if not (sys.stdout.isatty() and sys.stdin.isatty()):
            raise OptionError(
                "mlmon watch draws a live view and needs a terminal (standard input and output); "
                "use `mlmon check` or `mlmon summary` in scripts, cron and CI"
            )
        from rich.console import Console, RenderableType
        from rich.live import Live

        from mlmon.api.watch import Watcher
        from mlmon.report.watch_view import fitted
        from mlmon.rules.alerts import SummaryThresholds
        from mlmon.stats.baseline import load

        boundary.resume_collections()  # start-up is over (watch reads without runtime.progress)
        every_s = parse_duration(every, "--every") / 1e9
        last_s = parse_duration(last, "--last") / 1e9
        if every_s < 1:
            raise OptionError("--every: redraw at most once a second (e.g. 1s, 10s)")
        check_tz(log_timezone)
        plan = read.plan()
        watcher = Watcher(
            list(logs), last_seconds=last_s, plan=plan, by=by or None,
            baseline=load(baseline_path) if baseline_path is not None else None,
            thresholds=SummaryThresholds(
                max_p95_ms=parse_threshold(max_p95_ms, "--max-p95-ms"),
                max_p99_ms=parse_threshold(max_p99_ms, "--max-p99-ms"),
                min_success_rate=parse_threshold(min_success_rate, "--min-success-rate"),
            ),
            options=read.limits(),
        )
        console = Console(highlight=False)
        shown = " ".join(logs)

        def screen() -> RenderableType:
            # the terminal's size now (COLUMNS and LINES in the environment are the size at start)
            console.size = os.get_terminal_size(sys.stdout.fileno())
            return fitted(console, view, paths=shown, every=every_s)

        view = watcher.poll()
        with _keys() as fd, Live(screen(), console=console, screen=True, auto_refresh=False) as live:
            next_poll = time.monotonic() + every_s
            while True:
                try:
                    size = tuple(os.get_terminal_size(sys.stdout.fileno()))
                except OSError:
                    break  # no terminal any more
                what = _wait_for_q(fd, next_poll, size)
                if what == "quit":
                    break
                if what == "tick":
                    view = watcher.poll()
                    next_poll = time.monotonic() + every_s
                live.update(screen(), refresh=True)
    raise typer.Exit(int(ExitCode.OK))
