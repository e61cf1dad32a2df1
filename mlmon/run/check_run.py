"""One `check` run as a transaction: plan and read (the caller's), evaluate, deliver, write the outputs
(the caller's), and commit the state last, so a run that fails anywhere before changes nothing."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlmon.run.deliver import Deliveries, alert_labels, notify_all, push_metrics, stateless_events

if TYPE_CHECKING:
    from mlmon.api import CheckReport
    from mlmon.notify.deliver import Outcome
    from mlmon.read.follow import FileState
    from mlmon.rules.state import State

RETENTION = 30 * 86400.0
"""Seconds a group may go without a record before the state forgets it (--state-retention)."""

Read = Callable[["State | None", "float | None"], "tuple[CheckReport, tuple[FileState, ...]]"]
"""Reads and evaluates: given the state (None without one) and the run's time, the report and
what to remember of each file once it is committed."""


@dataclass(frozen=True)
class CheckRun:
    """What a run did: the report (rules with `for` applied), each delivery, and the counters."""

    report: CheckReport
    outcomes: tuple[Outcome, ...]
    totals: dict[str, float] | None
    """The cumulative counters (with a state), else None: the report's own counts are the run's."""
    forgotten: tuple[str, ...] = ()
    """Groups (`group|VERSION`) that left the state: no record for longer than the retention."""
    config: str | None = None
    """The config file the rules came from (None: given as a dict, or none)."""
    identity: tuple[tuple[str, str], ...] = ()
    """The run's identity labels (`labels` in the config, --label), on every alert and series."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of `mlmon check --format json` for this run: with a state, also the
        groups it forgot (`forgotten`); with identity labels, those (`labels`)."""
        from mlmon.api.documents import check_doc

        notes = [dataclasses.asdict(o) for o in self.outcomes]
        forgotten = list(self.forgotten) if self.totals is not None else None
        return check_doc(
            self.report, config=self.config, notifications=notes, labels=dict(self.identity),
            forgotten=forgotten,
        )

    def to_json(self) -> str:
        from mlmon.api.documents import dump

        return dump(self.to_dict())

    def to_pandas(self) -> Any:
        """One row per rule."""
        return self.report.to_pandas()

    def _repr_html_(self) -> str:
        return self.report._repr_html_()


def run_success(rep: CheckReport) -> bool:
    """Every rule was checked (none had no data)."""
    from mlmon.rules.check import Status

    return all(r.status is not Status.NO_DATA for r in rep.results)


def check_run(
    read: Read,
    *,
    state: str | None,
    deliveries: Deliveries,
    write_outputs: Callable[[CheckRun], None],
    retention: float = RETENTION,
) -> CheckRun:
    """Run once. With `state` (a file path), hold its lock, read what is new, evaluate with the
    remembered `for` counts and alerts, deliver (what a target did not take is kept for the next
    run), let `write_outputs` write every output, and only then replace the state file. Anything
    raised before the commit leaves the old state: the next run reads the same lines again."""
    if state is None:
        rep, _ = read(None, None)
        ids = deliveries.labels
        events = stateless_events(rep, ids)
        outcomes, _ = notify_all(deliveries, rep, events, {r.name: alert_labels(r, ids) for r in rep.results})
        outcomes += push_metrics(deliveries, rep, success=run_success(rep), totals=None)
        run = CheckRun(rep, tuple(outcomes), None, identity=tuple(sorted(deliveries.labels.items())))
        write_outputs(run)
        return run

    from mlmon.api.counters import add_run, forget
    from mlmon.outfile import write_output
    from mlmon.rules.state import State, apply_for, dumps, load, locked, transitions

    with locked(state):
        prev = load(state)
        now = time.time()
        rep, files = read(prev, now)
        results, breaches = apply_for(rep.results, prev.breaches)
        alerts = tuple(x for x in (r.alert() for r in results) if x is not None)
        rep = dataclasses.replace(rep, results=results, alerts=alerts)
        labels = {r.name: alert_labels(r, deliveries.labels) for r in results}
        events, firing = transitions(
            results, prev.alerts, now=now, repeat_interval=deliveries.repeat_interval, labels=labels
        )
        totals, seen = add_run(prev.totals, prev.seen, rep, now=now)
        totals, seen, dropped = forget(totals, seen, now=now, retention=retention)
        outcomes, pending = notify_all(deliveries, rep, events, labels, firing=firing, pending=prev.pending)
        outcomes += push_metrics(deliveries, rep, success=run_success(rep), totals=totals)
        waiting = prev.waiting if rep.quality is None or rep.quality.carry is None else rep.quality.carry
        new = State(
            files=files,
            alerts=firing,
            breaches=breaches,
            totals=totals,
            last_run=now,
            pending=pending,
            seen=seen,
            waiting=waiting,
        )
        identity = tuple(sorted(deliveries.labels.items()))
        run = CheckRun(rep, tuple(outcomes), totals, dropped, identity=identity)
        write_outputs(run)
        write_output(state, dumps(new))  # the commit: last
    return run
