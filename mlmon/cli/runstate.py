"""One `check` run with its surroundings: state between runs, notifications, the Pushgateway."""

from __future__ import annotations

import dataclasses
import os
import time
from typing import TYPE_CHECKING, Any

from mlmon.errors import OptionError

if TYPE_CHECKING:
    from mlmon.api import CheckReport
    from mlmon.cli.checkplan import CheckArgs
    from mlmon.notify.deliver import Outcome
    from mlmon.rules.state import Event


def _secret(spec: str) -> str:
    """`env:NAME` is the value of that environment variable (for URLs that hold tokens)."""
    if spec.startswith("env:"):
        name = spec[4:]
        value = os.environ.get(name)
        if not value:
            raise OptionError(f"environment variable {name} is not set (named by {spec!r})")
        return value
    return spec


def run_with_state(cfg: Any, a: CheckArgs) -> tuple[CheckReport, list[Outcome], dict[str, float] | None]:
    """Read (only what is new, with --state), evaluate, notify, remember; outputs are the caller's."""
    from mlmon.cli.checkplan import _evaluate
    from mlmon.rules.state import State, apply_for, dumps, load, locked, transitions

    if a.state is None:
        rep, _ = _evaluate(cfg, a.logs, a.baseline, a.by, a.since, a.until, a.last)
        events = _stateless_events(rep)
        outcomes = notify_all(a, rep, events, {r.name: _labels(r) for r in rep.results})
        outcomes += push_metrics(a, rep, success=_ok(rep), totals=None)
        return rep, outcomes, None

    from mlmon.cli.checkplan import follow_plan, with_follow_notes
    from mlmon.outfile import write_output

    with locked(a.state):
        prev = load(a.state)
        now = time.time()
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
            )
        rep = with_follow_notes(rep, planned)
        results, breaches = apply_for(rep.results, prev.breaches)
        alerts = tuple(x for x in (r.alert() for r in results) if x is not None)
        rep = dataclasses.replace(rep, results=results, alerts=alerts)
        labels = {r.name: _labels(r) for r in results}
        events, firing = transitions(
            results, prev.alerts, now=now, repeat_interval=a.repeat_interval, labels=labels
        )
        from mlmon.report.prometheus import add_totals

        totals = add_totals(prev.totals, rep)
        outcomes = notify_all(a, rep, events, labels, firing=firing)
        outcomes += push_metrics(a, rep, success=_ok(rep), totals=totals)
        files = planned.files(rep.input.files)
        new = State(files=files, alerts=firing, breaches=breaches, totals=totals, last_run=now)
        write_output(a.state, dumps(new))
    return rep, outcomes, totals


def _ok(rep: CheckReport) -> bool:
    from mlmon.cli.checkout import run_success

    return run_success(rep)


def _labels(r: Any) -> dict[str, str]:
    from mlmon.notify.alertmanager import labels_for

    # records without the --by field: no model_version label, and one that says why
    extra = {"model_version_missing": "true"} if r.group_missing else {}
    return labels_for(r.name, r.metric, r.status.value, r.group, extra)


def _stateless_events(rep: CheckReport) -> list[Event]:
    """Without --state every run tells about every alert firing now (nothing is remembered)."""
    from mlmon.rules.check import Status
    from mlmon.rules.state import Event

    return [
        Event("firing", r.name, r.status.value, r.message, rep.now, r.group, r.metric, _labels(r))
        for r in rep.results
        if r.status in (Status.WARNING, Status.CRITICAL)
    ]


def notify_all(
    a: CheckArgs,
    rep: CheckReport,
    events: list[Event],
    labels: dict[str, dict[str, str]],
    *,
    firing: dict[str, Any] | None = None,
) -> list[Outcome]:
    """Alertmanager gets every firing alert (it deduplicates) and the resolved ones; webhooks and
    email get the events (a change, or a repeat after --repeat-interval)."""
    from mlmon.notify import alertmanager, smtp, webhook
    from mlmon.notify.alertmanager import AmAlert
    from mlmon.notify.deliver import Outcome, redact

    out: list[Outcome] = []
    now = rep.now
    attempts, backoff = 3, 0.5
    if a.alertmanager:
        am: list[AmAlert] = []
        from mlmon.rules.state import AlertState

        current = (
            firing
            if firing is not None
            else {
                e.name: AlertState(e.severity, e.since, now, e.message, e.labels)
                for e in events
                if e.kind != "resolved"
            }
        )
        for name, f in current.items():
            lab = f.labels or labels.get(name, {})
            am.append(AmAlert(tuple(lab.items()), _annotations(f.message), f.since, now + a.alert_ttl))
        for e in events:
            if e.kind in ("resolved", "superseded"):
                am.append(AmAlert(tuple(e.labels.items()), _annotations(e.message), e.since, now))
        for url in a.alertmanager:
            try:
                target = _secret(url)
            except OptionError as exc:
                out.append(Outcome("alertmanager", url, False, 0, 0, str(exc)))
                continue
            out.append(alertmanager.send(target, am, timeout=a.timeout, attempts=attempts, backoff=backoff))
    if a.notify:
        triples = [
            ("resolved" if e.kind == "resolved" else "firing", e.severity, e.message)
            for e in events
            if e.kind != "superseded"
        ]
        for spec in a.notify:
            kind, _, rest = spec.partition(":")
            try:
                if kind == "webhook":
                    url = _secret(rest)
                    out.append(
                        webhook.send(
                            url, triples, title="mlmon", timeout=a.timeout, attempts=attempts, backoff=backoff
                        )
                    )
                elif kind in ("smtp", "smtps", "env"):
                    url = _secret(spec)
                    subject, text = _email(triples, rep)
                    out.append(
                        smtp.send(
                            url,
                            subject,
                            text,
                            len(triples),
                            timeout=a.timeout,
                            attempts=attempts,
                            backoff=backoff,
                        )
                    )
                else:
                    raise OptionError(
                        f"--notify {redact(spec)}: give webhook:URL or smtp://host:port?to=ADDRESS"
                    )
            except OptionError as exc:
                out.append(Outcome(kind, redact(rest or spec), False, 0, 0, str(exc)))
    return out


def _annotations(message: str) -> tuple[tuple[str, str], ...]:
    return (("summary", message), ("description", f"mlmon check: {message}"))


def _email(triples: list[tuple[str, str, str]], rep: CheckReport) -> tuple[str, str]:
    firing = sum(1 for s, _, _ in triples if s == "firing")
    resolved = len(triples) - firing
    subject = f"[mlmon] {firing} firing, {resolved} resolved"
    body = "\n".join(f"{'RESOLVED' if s == 'resolved' else sev.upper()}: {m}" for s, sev, m in triples)
    return subject, body + f"\n\n{rep.records} records checked.\n"


def push_metrics(
    a: CheckArgs, rep: CheckReport | None, *, success: bool, totals: dict[str, float] | None
) -> list[Outcome]:
    """The prometheus metrics to a Pushgateway, grouped by job (bounded retries)."""
    if not a.push:
        return []

    from mlmon.notify.deliver import Outcome, redact, with_retries
    from mlmon.report.prometheus import registry

    now = rep.now if rep is not None else time.time()
    reg = registry(rep, now=now, success=success, totals=totals)
    try:
        url = _secret(a.push)
    except OptionError as exc:
        return [Outcome("pushgateway", a.push, False, 0, 0, str(exc))]

    def send() -> None:
        from mlmon.notify.push import push

        push(url, a.push_job, reg, timeout=a.timeout)

    used, error = with_retries(send, attempts=3, backoff=0.5)
    return [Outcome("pushgateway", redact(url), error is None, 0 if error else 1, used, error)]
