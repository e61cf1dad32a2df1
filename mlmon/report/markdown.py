"""`mlmon check` results as Markdown, for a CI step summary ($GITHUB_STEP_SUMMARY) or a PR comment."""

from __future__ import annotations

from mlmon.api import CheckReport
from mlmon.escape import markdown
from mlmon.report.checks import LABEL, compared_text, value_text
from mlmon.rules.check import Status, worst_status

ICON = {"ok": "✅", "warning": "⚠️", "critical": "❌", "no_data": "❔"}
def md(text: str) -> str:
    """Log text shown as literal text: control characters escaped, Markdown and HTML neutralised
    (the Markdown escaper of mlmon/escape.py)."""
    return markdown(text)


def check_markdown(rep: CheckReport, *, title: str = "mlmon check") -> str:
    w = worst_status(rep.results)
    counts = {s: sum(r.status is s for r in rep.results) for s in Status}
    summary = ", ".join(f"{n} {LABEL[s.value]}" for s, n in counts.items() if n)
    lines = [
        f"## {ICON[w.value]} {md(title)}: {LABEL[w.value]}",
        "",
        f"{len(rep.results)} rule(s) on {rep.records} records: {summary}.",
        "",
        "| | rule | status | compared | estimate | warning | critical | detail |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for r in rep.results:
        lines.append(
            f"| {ICON[r.status.value]} | {md(r.name)} | {LABEL[r.status.value]} | {md(compared_text(r))} "
            f"| {value_text(r.value)} "
            f"| {value_text(r.warning)} | {value_text(r.critical)} | {md(r.message)} |"
        )
    return "\n".join(lines) + "\n"


def failed_markdown(message: str, code: int, *, title: str = "mlmon check") -> str:
    """A run that failed before any rule was checked: what failed, for the CI step summary."""
    return (f"## {ICON['no_data']} {md(title)}: failed (exit {code})\n\n"
            f"Nothing was checked: {md(message)}\n")
