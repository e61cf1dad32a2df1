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
    """One run (mlmon.run.check_run): `outputs(report, outcomes, totals)` writes every output
    before the state is committed."""
    from mlmon.cli.checkplan import CheckFmt, _evaluate
    from mlmon.run.check_run import check_run

    views = a.fmt is CheckFmt.HTML or any(f is CheckFmt.HTML for f, _ in a.outputs)

    def read(prev: Any, now: float | None) -> tuple[Any, tuple[Any, ...]]:
        if prev is None:
            rep, _ = _evaluate(cfg, a.logs, a.baseline, a.by, a.since, a.until, a.last, views=views)
            return rep, ()
        from mlmon.cli.checkplan import follow_plan, with_follow_notes

        with follow_plan(cfg, a.logs, prev) as planned:
            rep, _ = _evaluate(
                cfg,
                a.logs,
                a.baseline,
                a.by,
                a.since,
                a.until,
                a.last,
                inputs=planned.sources,
                now=now,
                views=views,
            )
        rep = with_follow_notes(rep, planned)
        return rep, tuple(planned.files(rep.input.files))

    def write(run: CheckRun) -> None:
        outputs(run.report, list(run.outcomes), run.totals)

    run = check_run(
        read, state=a.state, deliveries=deliveries(a), write_outputs=write, retention=a.retention
    )
    return run.report


def push_metrics(
    a: CheckArgs, rep: CheckReport | None, *, success: bool, totals: dict[str, float] | None
) -> list[Outcome]:
    """The prometheus metrics to the --push Pushgateway (a failed run's too)."""
    from mlmon.run import deliver

    return deliver.push_metrics(deliveries(a), rep, success=success, totals=totals)
