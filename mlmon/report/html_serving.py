"""The HTML report's serving sections: health over time, the predictions, and the input's accounting."""

from __future__ import annotations

from typing import Any

from mlmon.numfmt import ms, number, percent
from mlmon.report.html_drift import predictions_drift
from mlmon.report.html_page import esc, group_label, num_cell, table


def _summary_rows(s: dict[str, Any]) -> list[str]:
    by = s.get("by")
    groups = [*s.get("groups", ()), {**s, "group": None, "_overall": True}]
    rows = []
    for g in groups:
        label = "all records" if g.get("_overall") else group_label(g, by)
        key = "all" if g.get("_overall") else label
        lat = g["latency_ms"]
        ci = g.get("success_rate_ci95")
        ci_text = f"{percent(ci[0], decimals=2)} - {percent(ci[1], decimals=2)}" if ci else "-"
        rows.append(
            f'<tr><td class="t">{esc(label)}</td>'
            + num_cell("records", g["records"], f"{g['records']:,}", key)
            + num_cell("requests_per_second", g["requests_per_second"], number(g["requests_per_second"]), key)
            + num_cell("success_rate", g["success_rate"], percent(g["success_rate"], decimals=2), key)
            + f"<td>{esc(ci_text)}</td>"
            + num_cell("latency_ms.p50", lat["p50"], ms(lat["p50"]), key)
            + num_cell("latency_ms.p95", lat["p95"], ms(lat["p95"]), key)
            + num_cell("latency_ms.p99", lat["p99"], ms(lat["p99"]), key)
            + "</tr>"
        )
    return rows


def health(doc: dict[str, Any], plots: Any) -> str:
    from mlmon.report import plots as pl

    s = doc["summary"]
    parts = ["<h2 id=\"health\">Serving health</h2>",
             table(["group", "records", "requests/s", "success rate", "95% interval", "p50", "p95", "p99"],
                    _summary_rows(s), "Whole selection, per model version and overall.")]
    t = doc.get("trend")
    if t is None:
        parts.append('<p class="note">No record has a timestamp: no health over time.</p>')
        return "".join(parts)
    by = t.get("by")
    series = [(group_label(g, by), g["windows"]) for g in t.get("groups", ())]
    if len(series) != 1:
        series.append(("all records", t["windows"]))
    parts.append(f'<p class="note">Windows of {esc(t["every"])}; limits drawn as horizontal lines '
                 "(dashed: warning, solid: critical).</p><div class=\"plots\">")
    for label, windows in series:
        if windows:
            parts.append(f'<figure class="wide">{pl.health(plots, label, windows, t["every"], doc["limits"])}'
                         "</figure>")
    parts.append("</div>")
    return "".join(parts)


def predictions(doc: dict[str, Any], plots: Any) -> str:
    from mlmon.report import plots as pl

    s = doc["summary"]
    by = s.get("by")
    groups = [(group_label(g, by), g) for g in s.get("groups", ())] or [("all records", s)]
    parts = ['<h2 id="predictions">Predictions</h2>']
    if any(g["classes"] for _, g in groups):
        parts.append(f'<div class="plots"><figure>{pl.classes(plots, groups)}</figure>')
        if any(g["confidence"]["n"] for _, g in groups):
            parts.append(f"<figure>{pl.confidence(plots, groups)}</figure>")
        parts.append("</div>")
    else:
        parts.append('<p class="note">No predicted class in the log.</p>')
    parts.append(predictions_drift(doc, plots))
    rows = []
    for label, g in groups:
        c = g["confidence"]
        rows.append(
            f'<tr><td class="t">{esc(label)}</td>'
            + num_cell("classes_distinct", g["classes_distinct"], f"{g['classes_distinct']:,}", label)
            + num_cell("confidence.mean", c["mean"], number(c["mean"], 3), label)
            + num_cell("confidence.low_share", c["low_share"], percent(c["low_share"]), label)
            + "</tr>"
        )
    parts.append(table(["group", "distinct classes", "mean confidence", "low-confidence share"], rows))
    return "".join(parts)


def inputs(doc: dict[str, Any]) -> str:
    i = doc["summary"]["input"]
    files = [
        f'<tr><td class="t">{esc(f["source"])}</td><td class="t">{esc(f["format"])}</td>'
        f'<td class="t">{esc(f["compression"])}</td>'
        + num_cell("lines", f["lines"], f"{f['lines']:,}", f["source"])
        + num_cell("records", f["records"], f"{f['records']:,}", f["source"])
        + num_cell("bad_lines", f["bad_lines"], f"{f['bad_lines']:,}", f["source"])
        + "</tr>"
        for f in i["files"]
    ]
    reasons = [f'<tr><td class="t">{esc(k)}</td>' + num_cell("reason", v, f"{v:,}", k) + "</tr>"
               for k, v in sorted(i["reasons"].items())]
    examples = [
        f'<tr><td class="t">{esc(x["source"])}:{x["line"]}</td><td class="t">{esc(x["reason"])}</td>'
        f'<td class="t"><pre>{esc(x["text"])}</pre></td></tr>'
        for x in i["examples"]
    ]
    out = [
        '<h2 id="input">Input accounting</h2>',
        f'<p class="note">{i["lines"]:,} lines read, {i["records"]:,} records, {i["bad_lines"]:,} bad lines; '
        f'{doc["summary"]["filtered_out"]:,} records outside the time selection.</p>',
        table(["file", "format", "compression", "lines", "records", "bad lines"], files),
    ]
    if reasons:
        out.append(table(["lines not used, by reason", "lines"], reasons))
    if examples:
        out.append(table(["where", "reason", "line (escaped)"], examples, "The first lines not used."))
    return "".join(out)
