"""What an alert says to on-call: its value and limit in people's units, the records it was decided
on, what it means and what to check first (Alertmanager annotations, webhook and email lines)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from mlmon.numfmt import duration, number, percent
from mlmon.rules.guidance import what_to_do

if TYPE_CHECKING:
    from mlmon.api import CheckReport
    from mlmon.rules.check import RuleResult

MAX_FILES = 3
"""Log files named in a description; more are counted."""


def in_units(metric: str, v: float) -> str:
    """A metric's value as people read it: `412 ms`, `93.89%`, `4m 7s`, `1,234`."""
    kind = metric.split(".", 1)[0]
    if metric.startswith("latency_ms."):
        return f"{number(v)} ms"
    shares = ("success_rate", "error_rate", "confidence.low_share", "predictions_out_of_range")
    if metric in shares or kind in ("unseen", "missing_share", "out_of_range", "type_errors"):
        return percent(v, decimals=2)
    if metric == "age_seconds":
        return duration(v)
    if metric == "records":
        return f"{v:,.0f}"
    if metric == "requests_per_second":
        return f"{number(v)}/s"
    return number(v)


def _where(r: RuleResult) -> str:
    if r.group_missing:
        return " for records without model_version"
    return " for all records" if r.group is None else f" for model_version {r.group}"


def compared(r: RuleResult) -> str | None:
    """The quantity compared with the limit, in units, labelled when it is a 95% bound:
    `0.0767 (upper 95%)`; None for no data."""
    if r.compared is None:
        return None
    text = in_units(r.metric, r.compared)
    return text if r.compared_kind == "estimate" else f"{text} ({r.compared_kind})"


def summary(r: RuleResult) -> str:
    """`latency_ms.p99 412 ms > 400 ms (critical) for model_version v2.0`: the quantity compared
    with the limit (the estimate after it when that is a bound); an ok one says ok."""
    if r.value is None:
        return f"{r.metric}: no data{_where(r)}"
    shown = compared(r)
    limit = r.compared_limit
    if r.status.value in ("warning", "critical") and limit is not None and shown is not None:
        op = ">" if r.direction == "above" else "<"
        estimate = "" if r.compared_kind == "estimate" else f", estimate {in_units(r.metric, r.value)}"
        return f"{r.metric} {shown} {op} {in_units(r.metric, limit)} ({r.status.value}){_where(r)}{estimate}"
    return f"{r.metric} {in_units(r.metric, r.value)} ({r.status.value}){_where(r)}"


def files(rep: CheckReport) -> str:
    """The log files the run read, by base name (at most MAX_FILES, then a count)."""
    names = [os.path.basename(f.source) or f.source for f in rep.input.files]
    if not names:
        return "no log file read"
    more = f" and {len(names) - MAX_FILES} more" if len(names) > MAX_FILES else ""
    return ", ".join(names[:MAX_FILES]) + more


def window(rep: CheckReport) -> str:
    """`1,234 records from 2026-12-07T06:00:00Z to 2026-12-07T07:00:00Z`."""
    o = rep.summary.overall
    first, last = o.first_timestamp, o.last_timestamp
    span = f" from {first} to {last}" if first and last else ""
    return f"{rep.records:,} records{span}"


def description(r: RuleResult | None, message: str, rep: CheckReport) -> str:
    """The window, n, log files, the rule's own message, and what the alert means and what to
    check first."""
    parts = [f"{message}.", f"Checked {window(rep)} in {files(rep)}."]
    if r is not None:
        todo = what_to_do(r.metric)
        if todo:
            parts.append(f"What to do: {todo}")
    return " ".join(parts)


def am_annotations(
    r: RuleResult | None, message: str, rep: CheckReport, runbook: str | None
) -> tuple[tuple[str, str], ...]:
    """Alertmanager's annotations: summary, description, runbook_url (when given), value (the
    quantity compared), threshold (its limit), estimate."""
    out = [
        ("summary", summary(r) if r is not None else message),
        ("description", description(r, message, rep)),
    ]
    if runbook:
        out.append(("runbook_url", runbook))
    shown = compared(r) if r is not None else None
    if r is not None and r.value is not None and shown is not None:
        out.append(("value", shown))
        if r.compared_limit is not None:
            out.append(("threshold", in_units(r.metric, r.compared_limit)))
        out.append(("estimate", in_units(r.metric, r.value)))
    return tuple(out)


def text(state: str, r: RuleResult | None, message: str) -> str:
    """One alert for a webhook or email line: `latency_ms.p99 412 ms > 400 ms (critical) for
    model_version v2.0`; a resolved one gives its value now (`latency_ms.p50 5 ms (ok) ...`). A
    firing event kept from an earlier run, its rule no longer firing, keeps the text it fired with."""
    if r is None or (state != "resolved" and r.status.value not in ("warning", "critical")):
        return message
    return summary(r)
