"""`mlmon check` results as a rich table and as JSON (one entry per rule)."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from mlmon import __version__
from mlmon.api import CheckReport
from mlmon.api.documents import check_doc, dump
from mlmon.api.documents import result_json as result_json
from mlmon.report.layout import Cell, Col, FitTable
from mlmon.report.render import SCHEMA_VERSION, records_text, safe
from mlmon.rules.check import RuleResult, Status, worst_status

STYLE = {"ok": "green", "warning": "yellow", "critical": "bold red", "no_data": "magenta"}
LABEL = {"ok": "ok", "warning": "warning", "critical": "critical", "no_data": "no data"}


def value_text(v: float | None) -> str:
    from mlmon.numfmt import number

    return number(v)  # "-" for none, 100,000 (not 1e+05)


def compared_text(r: RuleResult) -> str:
    """The quantity compared with the rule's limit, labelled when it is not the point estimate:
    `0.0767 (upper 95%)`; `-` for no data."""
    if r.compared is None:
        return "-"
    text = value_text(r.compared)
    return text if r.compared_kind == "estimate" else f"{text} ({r.compared_kind})"


def check_json(
    rep: CheckReport,
    *,
    config: str | None,
    notifications: list[dict[str, Any]],
    labels: dict[str, str] | None = None,
    forgotten: list[str] | None = None,
) -> str:
    """The check's JSON document (CheckRun.to_dict), as printed."""
    return dump(
        check_doc(rep, config=config, notifications=notifications, labels=labels, forgotten=forgotten)
    )


def check_lines(rep: CheckReport) -> Group:
    """`--quiet`: each rule that is not ok as a `SEVERITY rule: message` line (they wrap, never cut)."""
    lines = [
        Text.assemble(
            (LABEL[r.status.value].upper(), STYLE[r.status.value]), " ", safe(r.name), ": ", safe(r.message)
        )
        for r in rep.results
        if r.status is not Status.OK
    ]
    return Group(*lines)


def worst_text(r: RuleResult) -> str:
    """A `by` rule's worst group beside the overall: `; worst model_version v2.0: 116.1`; empty
    when that group decided the status (the message names it) or without `by`."""
    if r.by is None or r.worst_value is None or r.overall is None:
        return ""
    if r.status is not Status.OK and r.value == r.worst_value and r.group == r.worst_group:
        return ""
    who = f"records without {r.by}" if r.worst_group_missing else f"{r.by} {r.worst_group}"
    overall = "" if r.value == r.overall else f" (all records {value_text(r.overall)})"
    return f"; worst {who}: {value_text(r.worst_value)}{overall}"


def check_table(rep: CheckReport, *, quiet: bool = False) -> RenderableType:
    if quiet:
        return Group(check_verdict(rep), check_lines(rep))
    cols = [
        Col("rule", "text"),
        Col("status", "text", 0),
        Col("compared", priority=1),
        Col("estimate", priority=5),
        Col("warning", priority=3),
        Col("critical", priority=2),
        Col("detail", "text", 4),
    ]
    rows: list[list[Cell]] = [
        [
            Text(safe(r.name)),
            Text(LABEL[r.status.value] + (" (pending)" if r.pending else ""), style=STYLE[r.status.value]),
            compared_text(r),
            value_text(r.value),
            value_text(r.warning),
            value_text(r.critical),
            Text(safe(r.message + worst_text(r))),
        ]
        for r in rep.results
    ]
    t = FitTable(cols, rows, title=f"mlmon check: {rep.records} records")
    return Group(check_verdict(rep), t)


def check_verdict(rep: CheckReport) -> Text:
    """The one line that heads the table (and a cron mail): `OK: 2000 records, 3 rules ok`,
    `ALERT: 1 critical, 1 warning (2000 records)` or `NO DATA: 1 rule(s) without data (2000 records)`."""
    w = worst_status(rep.results)
    counts = {s: sum(r.status is s for r in rep.results) for s in Status}
    listed = ", ".join(
        f"{n} {'rule(s) without data' if s is Status.NO_DATA else LABEL[s.value]}"
        for s, n in counts.items()
        if n and s is not Status.OK
    )
    records = records_text(rep.records, rep.freshness)
    if w is Status.OK:
        text = f"OK: {records}, {len(rep.results)} rule(s) ok"
    elif w is Status.NO_DATA:
        text = f"NO DATA: {listed} ({records})"
    else:
        text = f"ALERT: {listed} ({records})"
    return Text(text, style=STYLE[w.value])


def failed_json(message: str, code: int, *, config: str | None, kind: str) -> str:
    """A run that failed before any rule was checked: `status` "error", the cause and the exit code."""
    doc = {
        "schema_version": SCHEMA_VERSION,
        "command": "check",
        "mlmon_version": __version__,
        "config": config,
        "status": "error",
        "error": {"type": kind, "message": message},
        "exit_code": code,
        "results": [],
    }
    return dump(doc)
