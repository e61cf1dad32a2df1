"""Deliveries of a `check` run: alerts to Alertmanager, webhooks and email, metrics to a Pushgateway,
with what a target did not take kept (by target) to send again on the next run."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlmon.errors import OptionError

if TYPE_CHECKING:
    from mlmon.api import CheckReport
    from mlmon.notify.deliver import Outcome
    from mlmon.rules.state import Event


@dataclass(frozen=True)
class Deliveries:
    """Where a run's alerts and metrics go, and how."""

    alertmanager: tuple[str, ...] = ()
    notify: tuple[str, ...] = ()
    """webhook:URL, smtp://..., env:NAME (a URL from the environment)."""
    push: str | None = None
    """A Pushgateway URL."""
    push_job: str = "mlmon"
    alert_ttl: float = 7200.0
    """Seconds Alertmanager keeps a firing alert that is not sent again."""
    timeout: float = 10.0
    """Seconds each attempt may take (three attempts, with backoff)."""
    repeat_interval: float | None = None
    """Tell webhooks and email again about an alert still firing after this long (None: never)."""
    labels: dict[str, str] = field(default_factory=dict)
    """The run's identity: on every alert and series, and the Pushgateway grouping key."""


def secret(spec: str) -> str:
    """`env:NAME` is the value of that environment variable (for URLs that hold tokens)."""
    if spec.startswith("env:"):
        name = spec[4:]
        value = os.environ.get(name)
        if not value:
            raise OptionError(f"environment variable {name} is not set (named by {spec!r})")
        return value
    return spec


def alert_labels(r: Any, identity: dict[str, str] | None = None) -> dict[str, str]:
    """The Alertmanager labels of a rule's result: the rule, severity, metric, group and the identity."""
    from mlmon.notify.alertmanager import labels_for

    # records without the --by field: no model_version label, and one that says why
    extra = {"model_version_missing": "true"} if r.group_missing else {}
    return labels_for(r.name, r.metric, r.status.value, r.group, {**(identity or {}), **extra})


def stateless_events(rep: CheckReport, identity: dict[str, str]) -> list[Event]:
    """Without --state every run tells about every alert firing now (nothing is remembered)."""
    from mlmon.rules.check import Status
    from mlmon.rules.state import Event

    return [
        Event(
            "firing", r.name, r.status.value, r.message, rep.now, r.group, r.metric, alert_labels(r, identity)
        )
        for r in rep.results
        if r.status in (Status.WARNING, Status.CRITICAL)
    ]


def target_key(kind: str, spec: str) -> str:
    """How the state names a notification target: a hash of it as given (a URL may hold a token)."""
    import hashlib

    return f"{kind}:{hashlib.sha256(spec.encode('utf-8', 'surrogatepass')).hexdigest()[:24]}"


def _keep(events: list[Event]) -> tuple[Event, ...]:
    from mlmon.rules.state import MAX_PENDING

    return tuple(events[-MAX_PENDING:])


def _title(identity: dict[str, str]) -> str:
    """`mlmon`, followed by the run's identity labels when it has any."""
    return " ".join(["mlmon", *(f"{k}={v}" for k, v in identity.items())])


def notify_all(
    a: Deliveries,
    rep: CheckReport,
    events: list[Event],
    labels: dict[str, dict[str, str]],
    *,
    firing: dict[str, Any] | None = None,
    pending: dict[str, tuple[Event, ...]] | None = None,
) -> tuple[list[Outcome], dict[str, tuple[Event, ...]]]:
    """Alertmanager gets every firing alert (it deduplicates) and the resolved ones; webhooks and
    email get the events (a change, or a repeat after --repeat-interval).

    `pending` holds, by target, what an earlier run could not deliver: it goes first, again.
    Returns the outcomes and what is still undelivered (by target) after this run."""
    from mlmon.notify import alertmanager, smtp, webhook
    from mlmon.notify.alertmanager import AmAlert
    from mlmon.notify.deliver import Outcome, redact

    before = pending or {}
    after: dict[str, tuple[Event, ...]] = {}
    out: list[Outcome] = []
    now = rep.now
    attempts, backoff = 3, 0.5
    if a.alertmanager:
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
        firing_labels = [f.labels or labels.get(name, {}) for name, f in current.items()]
        new_ends = [e for e in events if e.kind in ("resolved", "superseded")]
        for url in a.alertmanager:
            key = target_key("alertmanager", url)
            # an end not delivered before is sent again, unless the same alert fires again now
            ends = [e for e in before.get(key, ()) if e.labels not in firing_labels] + new_ends
            am = [
                AmAlert(tuple(lab.items()), _annotations(f.message) + _compared(rep, name), f.since,
                        now + a.alert_ttl)
                for lab, (name, f) in zip(firing_labels, current.items(), strict=True)
            ]
            am += [AmAlert(tuple(e.labels.items()), _annotations(e.message), e.since, now) for e in ends]
            try:
                target = secret(url)
            except OptionError as exc:
                out.append(Outcome("alertmanager", url, False, 0, 0, str(exc)))
                outcome_ok = False
            else:
                o = alertmanager.send(target, am, timeout=a.timeout, attempts=attempts, backoff=backoff)
                out.append(o)
                outcome_ok = o.ok
            if not outcome_ok and ends:
                after[key] = _keep(ends)
    if a.notify:
        new = [e for e in events if e.kind != "superseded"]
        for spec in a.notify:
            kind, _, rest = spec.partition(":")
            key = target_key("notify", spec)
            todo = [*before.get(key, ()), *new]
            triples = [
                ("resolved" if e.kind == "resolved" else "firing", e.severity, e.message) for e in todo
            ]
            try:
                if kind == "webhook":
                    url = secret(rest)
                    o = webhook.send(
                        url,
                        triples,
                        title=_title(a.labels),
                        timeout=a.timeout,
                        attempts=attempts,
                        backoff=backoff,
                    )
                elif kind in ("smtp", "smtps", "env"):
                    url = secret(spec)
                    subject, text = _email(triples, rep, a.labels)
                    o = smtp.send(
                        url,
                        subject,
                        text,
                        len(triples),
                        timeout=a.timeout,
                        attempts=attempts,
                        backoff=backoff,
                    )
                else:
                    raise OptionError(
                        f"--notify {redact(spec)}: give webhook:URL or smtp://host:port?to=ADDRESS"
                    )
            except OptionError as exc:
                o = Outcome(kind, redact(rest or spec), False, 0, 0, str(exc))
            out.append(o)
            if not o.ok and todo:
                after[key] = _keep(todo)
    return out, after


def _compared(rep: CheckReport, name: str) -> tuple[tuple[str, str], ...]:
    """A firing alert's `value` (the quantity compared with the limit, labelled when it is a 95%
    bound: `0.0767 (upper 95%)`), `threshold` (that limit) and `estimate` (the point estimate)."""
    from mlmon.numfmt import number
    from mlmon.report.checks import compared_text

    r = next((x for x in rep.results if x.name == name), None)
    if r is None or r.compared is None:
        return ()
    return (("value", compared_text(r)), ("threshold", number(r.compared_limit)),
            ("estimate", number(r.value)))


def _annotations(message: str) -> tuple[tuple[str, str], ...]:
    return (("summary", message), ("description", f"mlmon check: {message}"))


def _email(
    triples: list[tuple[str, str, str]], rep: CheckReport, identity: dict[str, str]
) -> tuple[str, str]:
    firing = sum(1 for s, _, _ in triples if s == "firing")
    resolved = len(triples) - firing
    subject = f"[{_title(identity)}] {firing} firing, {resolved} resolved"
    from mlmon.escape import one_line

    # one line per alert: a line break in log text (a feature name) cannot forge another line
    body = "\n".join(
        f"{'RESOLVED' if s == 'resolved' else sev.upper()}: {one_line(m)}" for s, sev, m in triples
    )
    return subject, body + f"\n\n{rep.records} records checked.\n"


def push_metrics(
    a: Deliveries, rep: CheckReport | None, *, success: bool, totals: dict[str, float] | None
) -> list[Outcome]:
    """The prometheus metrics to a Pushgateway, grouped by job and the identity labels (bounded
    retries)."""
    if not a.push:
        return []

    from mlmon.notify.deliver import Outcome, redact, with_retries
    from mlmon.report.prometheus import registry

    now = rep.now if rep is not None else time.time()
    reg = registry(rep, now=now, success=success, totals=totals, labels=a.labels)
    try:
        url = secret(a.push)
    except OptionError as exc:
        return [Outcome("pushgateway", a.push, False, 0, 0, str(exc))]

    def send() -> None:
        from mlmon.notify.push import push

        # the identity labels are the grouping key: two services keep two groups
        push(url, a.push_job, reg, timeout=a.timeout, grouping_key=a.labels)

    used, error = with_retries(send, attempts=3, backoff=0.5)
    return [Outcome("pushgateway", redact(url), error is None, 0 if error else 1, used, error)]
