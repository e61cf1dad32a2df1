"""`check` runs at the command line: the options turned into the library's run (mlmon.run), whose
read step is the command line's plan (files, followed files with --state) and evaluation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlmon.api import CheckReport
    from mlmon.cli.checkplan import CheckArgs
    from mlmon.notify.deliver import Outcome
    from mlmon.run.check_run import CheckRun
    from mlmon.run.deliver import Deliveries


def deliveries(a: CheckArgs) -> Deliveries:
    from mlmon.run.deliver import Deliveries

    return Deliveries(
        alertmanager=tuple(a.alertmanager),
        notify=tuple(a.notify),
        push=a.push,
        push_job=a.push_job,
        alert_ttl=a.alert_ttl,
        timeout=a.timeout,
        repeat_interval=a.repeat_interval,
        labels=dict(a.labels),
        runbook_url=a.runbook_url,
    )


def run_with_state(cfg: Any, a: CheckArgs, outputs: Any) -> CheckReport:
    """One run (mlmon.run.config_run): `outputs(report, outcomes, totals)` writes every output
    before the state is committed."""
    from mlmon.cli.checkplan import CheckFmt
    from mlmon.cli.options import read_options_given
    from mlmon.cli.runtime import note, progress
    from mlmon.run.config_run import run_config

    def write(run: CheckRun) -> None:
        forgotten = list(run.forgotten) if run.totals is not None else None
        outputs(run.report, list(run.outcomes), run.totals, forgotten)

    run = run_config(
        cfg, logs=a.logs, baseline=a.baseline, by=a.by, since=a.since, until=a.until, last=a.last,
        state=a.state, deliveries=deliveries(a), retention=a.retention,
        views=a.fmt is CheckFmt.HTML or any(f is CheckFmt.HTML for f, _ in a.outputs),
        write_outputs=write, on_note=note, progress=progress, read_options=read_options_given,
    )
    return run.report


def push_metrics(
    a: CheckArgs, rep: CheckReport | None, *, success: bool, totals: dict[str, float] | None
) -> list[Outcome]:
    """The prometheus metrics to the --push Pushgateway (a failed run's too)."""
    from mlmon.run import deliver

    return deliver.push_metrics(deliveries(a), rep, success=success, totals=totals)
