"""`mlmon check` outputs: each format written, notifications reported, the exit code chosen."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

from mlmon.cli.checkplan import CheckArgs, CheckFmt
from mlmon.cli.options import FailOn
from mlmon.cli.runtime import diagnostics, mark_interrupted, note_absent_by, stderr
from mlmon.errors import ExitCode, MlmonError


def run(cfg: Any, a: CheckArgs) -> int:
    from mlmon.cli.runstate import run_with_state

    def outputs(
        rep: Any, outcomes: list[Any], totals: dict[str, float] | None, forgotten: list[str] | None
    ) -> None:
        diagnostics(rep.input)
        if any(r.by for r in cfg.rules):
            note_absent_by(a.by or None, rep.summary.groups, rep.records, rep.input.fields_seen)
        for o in outcomes:
            if not o.ok:
                from mlmon.report.render import safe

                again = "; kept to send again next run" if a.state and o.kind != "pushgateway" else ""
                stderr().print(
                    f"mlmon: warning: {o.kind} notification to {safe(o.target)} failed after "
                    f"{o.attempts} attempt(s): {safe(o.error or '')}{again}",
                    markup=False,
                )
        notes = [plain_outcome(o) for o in outcomes]
        _write_all(rep, cfg, a, notes, totals, forgotten)

    try:
        # the state is committed after `outputs` wrote every file: a failed run changes nothing
        rep = run_with_state(cfg, a, outputs)
    except MlmonError as exc:
        _failed_run_metrics(a)
        failed_reports(a.outputs, str(exc), int(exc.exit_code), cfg.path)
        raise
    return _exit_code(rep, a.fail_on)


def plain_outcome(o: Any) -> dict[str, Any]:

    return dataclasses.asdict(o)


def _failed_run_metrics(a: CheckArgs) -> None:
    """A run that failed still tells Prometheus: mlmon_run_success 0 (textfile and Pushgateway)."""
    import contextlib
    import time

    from mlmon.errors import OutputError
    from mlmon.outfile import write_output
    from mlmon.report.prometheus import check_prometheus

    text = check_prometheus(None, now=time.time(), success=False, labels=a.labels)
    for f, path in a.outputs:
        if f is CheckFmt.PROMETHEUS and path != "-":
            with contextlib.suppress(OutputError):
                write_output(path, text)
    if a.push:
        from mlmon.cli.runstate import push_metrics

        push_metrics(a, None, success=False, totals=None)


def failed_reports(outputs: list[tuple[CheckFmt, str]], message: str, code: int, config: str | None) -> None:
    """A run that failed still writes the JUnit, Markdown and JSON files asked for, each saying
    what failed (CI steps that read them then show the cause, not "No such file"); a file that
    cannot be written is left alone (the run's own error is the one reported)."""
    import contextlib
    import time

    from mlmon.errors import ExitCode, OutputError
    from mlmon.outfile import write_output
    from mlmon.report.checks import failed_json
    from mlmon.report.junit import failed_junit
    from mlmon.report.markdown import failed_markdown

    try:
        kind = ExitCode(code).name.lower()
    except ValueError:
        kind = "error"
    texts = {
        CheckFmt.JUNIT: lambda: failed_junit(message, code, now=time.time()),
        CheckFmt.MARKDOWN: lambda: failed_markdown(message, code),
        CheckFmt.JSON: lambda: failed_json(message, code, config=config, kind=kind),
    }
    for f, path in outputs:
        make = texts.get(f)
        if make is not None and path != "-":
            with contextlib.suppress(OutputError, OSError):
                write_output(path, make())


def failed_run_textfiles(
    args: list[str], message: str = "", code: int = 78, config: str | None = None
) -> None:
    """`mlmon_run_success 0` into the `-o prometheus:FILE` outputs of a check command line that
    failed before its options were read (a bad config file), so the textfile collector does not
    go on showing the last good run, and the JUnit, Markdown and JSON outputs saying what failed.
    Anything unreadable in `args` is left alone."""
    import contextlib
    import time

    from mlmon.cli.checkplan import parse_outputs
    from mlmon.errors import OutputError
    from mlmon.outfile import write_output
    from mlmon.report.prometheus import check_prometheus

    def values(long: str, short: str | None = None) -> list[str]:
        out = []
        for i, arg in enumerate(args):
            if arg in (long, short) and i + 1 < len(args):
                out.append(args[i + 1])
            elif arg.startswith(long + "="):
                out.append(arg.split("=", 1)[1])
            elif short and arg.startswith(short) and len(arg) > len(short):
                out.append(arg[len(short) :])
        return out

    specs = values("--output", "-o")
    push, job = values("--push"), values("--push-job")
    from mlmon.rules.identity import parse_label_flags

    try:
        labels = dict(parse_label_flags(values("--label")))
    except ValueError:
        labels = {}
    if push:
        from mlmon.cli.runstate import push_metrics

        with contextlib.suppress(MlmonError, ValueError):
            a = CheckArgs(
                None, None, CheckFmt.TABLE, [], "", None, None, None, FailOn.WARNING, None, None, [], [],
                push[-1], job[-1] if job else "mlmon", 0.0, float((values("--notify-timeout") or ["10"])[-1]),
                labels=labels,
            )
            push_metrics(a, None, success=False, totals=None)
    text = check_prometheus(None, now=time.time(), success=False, labels=labels)
    outputs: list[tuple[CheckFmt, str]] = []
    for spec in specs:
        with contextlib.suppress(MlmonError):
            for fmt, path in parse_outputs([spec]):
                outputs.append((fmt, path))
                if fmt is CheckFmt.PROMETHEUS and path != "-":
                    with contextlib.suppress(OutputError):
                        write_output(path, text)
    failed_reports(outputs, message, code, config)


def render(
    rep: Any,
    fmt: CheckFmt,
    cfg: Any,
    fail_on: FailOn,
    notifications: list[dict[str, Any]],
    totals: dict[str, float] | None = None,
    labels: dict[str, str] | None = None,
    *,
    quiet: bool = False,
    forgotten: list[str] | None = None,
) -> Any:
    """The text (or rich renderable for the table) of one output format."""
    from mlmon.report.checks import check_json, check_table

    if fmt is CheckFmt.TABLE:
        return check_table(rep, quiet=quiet)
    if fmt is CheckFmt.JSON:
        return check_json(
            rep, config=cfg.path, notifications=notifications, labels=labels, forgotten=forgotten
        )
    if fmt is CheckFmt.JUNIT:
        from mlmon.report.junit import check_junit

        return check_junit(rep, fail_rank=_fail_rank(fail_on))
    if fmt is CheckFmt.MARKDOWN:
        from mlmon.report.markdown import check_markdown

        return check_markdown(rep)
    if fmt is CheckFmt.PROMETHEUS:
        from mlmon.report.prometheus import check_prometheus

        return check_prometheus(rep, now=rep.now, success=run_success(rep), totals=totals, labels=labels)
    if fmt is CheckFmt.HTML:  # the page of `mlmon report`, from this run's results
        from mlmon.cli.runtime import needs_matplotlib
        from mlmon.report.html import check_doc, render_html

        needs_matplotlib()
        return render_html(check_doc(rep, config=cfg.path, notifications=notifications))
    if fmt is CheckFmt.CSV:
        from mlmon.report.csvout import check_csv

        return check_csv(rep)
    from mlmon.report.nagios import nagios_line

    return nagios_line(rep)[0]


def run_success(rep: Any) -> bool:
    """Every rule was checked (none had no data)."""
    from mlmon.run.check_run import run_success as checked

    return checked(rep)


def _fail_rank(fail_on: FailOn) -> int:
    return {FailOn.WARNING: 1, FailOn.CRITICAL: 2, FailOn.NEVER: 3}[fail_on]


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    import io

    from rich.console import Console

    console = Console(record=True, width=120, file=io.StringIO(), highlight=False, color_system=None)
    console.print(value)
    return console.export_text()


def _write_all(
    rep: Any,
    cfg: Any,
    a: CheckArgs,
    notes: list[dict[str, Any]],
    totals: dict[str, float] | None,
    forgotten: list[str] | None = None,
) -> None:
    from mlmon.cli.options import Fmt
    from mlmon.cli.runtime import emit
    from mlmon.outfile import write_output

    for f, path in a.outputs:
        text = render(rep, f, cfg, a.fail_on, notes, totals, a.labels, forgotten=forgotten)
        write_output(path, _to_text(text))
    shown = render(rep, a.fmt, cfg, a.fail_on, notes, totals, a.labels, quiet=a.quiet, forgotten=forgotten)
    emit(shown, Fmt.TABLE if not isinstance(shown, str) else Fmt.JSON)


def _exit_code(rep: Any, fail_on: FailOn) -> int:
    from mlmon.rules.alerts import Severity
    from mlmon.rules.check import Status

    missing = [r.name for r in rep.results if r.status is Status.NO_DATA]
    if missing:
        stderr().print(
            f"mlmon: error: {len(missing)} rule(s) had no data, so they were not checked: "
            + ", ".join(missing[:5])
            + (" ..." if len(missing) > 5 else ""),
            markup=False,
        )
        return int(ExitCode.DATA_ERROR)
    worst = max((a.severity.rank for a in rep.alerts), default=-1)
    if fail_on is not FailOn.NEVER and worst >= Severity(fail_on.value).rank:
        return int(ExitCode.ALERT)
    return int(ExitCode.OK)


def nagios_run(cfg: Any, logs: Any, baseline_path: Any, by: str, since: Any, until: Any, last: Any) -> int:
    """Monitoring-plugin mode: every outcome, errors included, is one line and exit 0-3."""
    from mlmon.report.nagios import nagios_line, unknown_line

    try:
        from mlmon.cli.options import read_options_given
        from mlmon.cli.runtime import progress
        from mlmon.run.plan import evaluate

        rep, _ = evaluate(cfg, logs, baseline_path, by, since, until, last, progress=progress,
                          read_options=read_options_given)
    except MlmonError as exc:
        text, code = unknown_line(str(exc))
    except KeyboardInterrupt:
        mark_interrupted()
        text, code = unknown_line("interrupted")
    except Exception as exc:  # noqa: BLE001  (a plugin must answer UNKNOWN, never a traceback)
        text, code = unknown_line(f"internal error: {type(exc).__name__}: {exc}")
    else:
        text, code = nagios_line(rep)
    sys.stdout.write(text)
    sys.stdout.flush()
    return code
