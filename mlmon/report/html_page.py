"""The HTML report's page shell: its policy and style, escaping, and the cells and tables of every section.

Every string that came from a log, a baseline or a config passes `esc` (control and bidi
characters made visible, then HTML-escaped); the page's Content-Security-Policy forbids every
load and every script, so even a mistake here could not fetch or run anything."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from typing import Any

from mlmon.report.render import safe

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#111;background:#fff;
line-height:1.4}
main{max-width:1100px;margin:0 auto;padding:12px 16px 48px}
h1{font-size:1.5em;margin:.4em 0}h2{font-size:1.25em;border-bottom:2px solid #0072B2;margin-top:1.6em}
h3{font-size:1.05em;margin:1.2em 0 .3em}
.verdict{font-size:1.2em;font-weight:700;padding:.6em .8em;border-radius:4px;border-left:8px solid}
.ok{background:#e6f4ef;border-color:#009E73}.warning{background:#fdf3e1;border-color:#E69F00}
.critical{background:#fbe9e0;border-color:#D55E00}.no_data{background:#f2e9f0;border-color:#CC79A7}
.sev{font-weight:700;text-transform:uppercase;font-size:.85em}
.sev.critical,.sev.warning,.sev.ok,.sev.no_data{background:none;border:0}
.sev.critical{color:#A33B00}.sev.warning{color:#8a5a00}.sev.ok{color:#006b4f}
.scroll{overflow-x:auto;max-width:100%}caption{text-align:left;caption-side:top}
table{border-collapse:collapse;margin:.4em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right;vertical-align:top}
th{background:#f3f3f3}td.t,th.t{text-align:left}td:not(.t){white-space:nowrap}
.plots{display:flex;flex-wrap:wrap;gap:8px}
figure{margin:0;flex:1 1 420px;min-width:0}
figure svg{width:100%;max-width:100%;height:auto}
figure.wide{flex-basis:100%}.wide svg{max-width:860px}
.note{color:#444;font-size:.9em}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.88em}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;padding:6px;margin:0}
ul.alerts{margin:.3em 0;padding-left:1.3em}ul.alerts li{margin:.25em 0}
.topic{margin:.2em 0 .9em}.todo{margin:.1em 0 0 1.3em}details{margin-left:1.3em}
summary{cursor:pointer;color:#0a4f86}
li,p,summary,h3{overflow-wrap:anywhere}code{overflow-wrap:anywhere;word-break:break-all}
.drifted{font-weight:700;color:#A33B00}
"""


def esc(value: Any) -> str:
    """Untrusted text for HTML: controls and bidi marks made visible, then escaped (quotes too)."""
    return html.escape(safe(str(value)), quote=True)


def num_cell(metric: str, value: float | int | None, text: str, group: str | None = None) -> str:
    """A number cell that carries its exact JSON value (data-value), for tests and scripts."""
    raw = "" if value is None else json.dumps(value)
    g = "" if group is None else f' data-group="{esc(group)}"'
    return f'<td data-metric="{esc(metric)}"{g} data-value="{esc(raw)}">{esc(text)}</td>'


def group_label(g: dict[str, Any], by: str | None) -> str:
    if g.get("group") is None:
        return f"without {by}" if by else "all records"
    return str(g["group"])


def table(head: Iterable[str], rows: Iterable[str], caption: str = "") -> str:
    cap = f"<caption class=\"note\">{esc(caption)}</caption>" if caption else ""
    ths = "".join(f'<th class="t">{h}</th>' if i == 0 else f"<th>{h}</th>" for i, h in enumerate(head))
    return f'<div class="scroll"><table>{cap}<thead><tr>{ths}</tr></thead><tbody>{"".join(rows)}</tbody>' \
           "</table></div>"


def page(title: str, body: list[str]) -> str:
    """The whole page: its head (the policy, the style) and the sections of `body`, one a line."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head>\n<body><main>"
        + "\n".join(body)
        + "</main></body></html>\n"
    )
