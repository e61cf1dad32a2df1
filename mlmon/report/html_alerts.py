"""The HTML report's verdict, its alerts by topic with what to do, and a check's rules."""

from __future__ import annotations

from typing import Any

from mlmon.numfmt import number
from mlmon.report.html_page import esc, num_cell, table
from mlmon.rules.guidance import topic, what_to_do


def _todo(metric: str) -> str:
    return what_to_do(metric) or "See this metric's section below."


def alerts_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The alerts of summary and drift (or of the check), as those commands give them: the exit
    code's. Trend's per-window alerts are drawn in the plots, not listed again."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    parts = [doc.get("check"), doc.get("summary"), doc.get("drift")]
    for part in parts:
        for a in (part or {}).get("alerts", ()):
            key = (a["metric"], a["message"])
            if key not in seen:
                seen.add(key)
                out.append(a)
        if part is not None and part is doc.get("check"):
            break  # a check's alerts are its rules' verdicts: the page shows those
    rank = {"critical": 0, "warning": 1, "info": 2}
    return sorted(out, key=lambda a: rank.get(a["severity"], 3))


def verdict(doc: dict[str, Any], alerts: list[dict[str, Any]]) -> str:
    s = doc["summary"]
    records = s["records"]
    crit = sum(a["severity"] == "critical" for a in alerts)
    warn = sum(a["severity"] == "warning" for a in alerts)
    check = doc.get("check")
    no_data = check is not None and check["status"] == "no_data"
    if no_data:
        cls, text = "no_data", f"NO DATA: some rules had no data ({records} records)"
    elif crit or warn:
        cls = "critical" if crit else "warning"
        listed = ", ".join(x for x in (f"{crit} critical" if crit else "", f"{warn} warning" if warn else "")
                           if x)
        text = f"ALERT: {listed} ({records} records)"
    else:
        cls, text = "ok", f"OK: {records} records checked, no alert"
    return f'<p class="verdict {cls}" id="verdict">{esc(text)}</p>'


SHOWN_PER_TOPIC = 5
"""Alerts of one topic listed before the rest fold away (a `<details>`: no script needed)."""


def _alert_item(a: dict[str, Any]) -> str:
    group = a.get("group")
    where = f" ({esc(group)})" if group is not None and str(group) not in a["message"] else ""
    sev = esc(a["severity"])
    return (f'<li data-metric="{esc(a["metric"])}"><span class="sev {sev}">{sev}'
            f"</span> <code>{esc(a['metric'])}</code>{where}: {esc(a['message'])}</li>")


def alerts_html(alerts: list[dict[str, Any]]) -> str:
    """The alerts, most severe first, by topic (all drift alerts together...): what to do once per
    topic, and past the first few of a topic the rest folded."""
    if not alerts:
        return '<p class="note">No alert fired.</p>'
    topics: dict[str, list[dict[str, Any]]] = {}
    for a in alerts:
        topics.setdefault(topic(a["metric"]), []).append(a)
    parts = []
    for name, group in topics.items():
        items = [_alert_item(a) for a in group]
        shown, rest = items[:SHOWN_PER_TOPIC], items[SHOWN_PER_TOPIC:]
        label = name.rstrip(".")
        more = (f'<details><summary>{len(rest)} more <code>{esc(label)}</code> alerts</summary>'
                f'<ul class="alerts">{"".join(rest)}</ul></details>' if rest else "")
        parts.append(f'<div class="topic"><ul class="alerts">{"".join(shown)}</ul>{more}'
                     f'<p class="note todo">What to do: {esc(_todo(group[0]["metric"]))}</p></div>')
    return "".join(parts)


def rules_table(doc: dict[str, Any]) -> str:
    c = doc.get("check")
    if c is None:
        return ""
    rows = [
        f'<tr><td class="t">{esc(r["name"])}</td><td class="t"><span class="sev {esc(r["status"])}">'
        f'{esc(r["status"])}</span></td>' + num_cell("value", r["value"], number(r["value"]), r["name"])
        + f'<td class="t">{esc(r["message"])}</td></tr>'
        for r in c["results"]
    ]
    return '<h3 id="rules">Rules</h3>' + table(["rule", "status", "value", "detail"], rows)
