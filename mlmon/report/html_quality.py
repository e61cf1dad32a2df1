"""The HTML report's realized quality (with --labels): metrics with their intervals, overall and by window."""

from __future__ import annotations

from typing import Any

from mlmon.numfmt import number, percent
from mlmon.report.html_page import esc, group_label, num_cell, table


def _interval_text(m: dict[str, Any]) -> str:
    if m["value"] is None:
        return "-" + (f" ({m['reason']})" if m.get("reason") else "")
    if m["low"] is None or m["high"] is None:
        return number(m["value"])
    return f"{number(m['value'])} [{number(m['low'])}, {number(m['high'])}]"


def quality(doc: dict[str, Any], plots: Any) -> str:
    """Realized quality (with --labels): the headline metrics with their 95% intervals per model
    version and overall, the join's accounting, and the metrics window by window."""
    from mlmon.report import plots as pl
    from mlmon.report.quality import HEADLINE, LABELS
    from mlmon.stats.performance import Task

    q = doc["summary"].get("quality")
    if q is None:
        return ""
    names = HEADLINE[Task(q["task"])]
    by = doc["summary"].get("by")
    groups = [(group_label(g, by), g) for g in q["groups"]]
    if len(groups) != 1:
        groups.append(("all labelled", {"labelled": q["labelled"], "metrics": q["metrics"]}))
    rows = []
    for label, g in groups:
        key = "all" if label == "all labelled" else label
        m = g["metrics"]
        cells = "".join(num_cell(f"quality.{n}", m[n]["value"], _interval_text(m[n]), key)
                        for n in names if n in m)
        labelled = num_cell("quality.labelled", g["labelled"], f"{g['labelled']:,}", key)
        rows.append(f'<tr><td class="t">{esc(label)}</td>' + labelled + cells + "</tr>")
    j = q["join"]
    cover = f" ({percent(q['coverage'])} of those with a key)" if q["coverage"] is not None else ""
    extra = [f"{j[k]:,} {w}" for k, w in (("without_label", "without a label yet"),
                                          ("without_key", "without the join field"),
                                          ("duplicate_predictions", "sharing a key (left out)"),
                                          ("ambiguous", "whose labels disagree (left out)")) if j[k]]
    note = (f"{j['labelled']:,} of {j['predictions']:,} predictions labelled{cover}, joined by "
            f"{q['join_field']} to the labels in {', '.join(q['labels']['files'])}"
            + "".join(f"; {x}" for x in extra)
            + f"; {j['labels_without_prediction']:,} labels without a prediction.")
    parts = ['<h2 id="quality">Realized quality</h2>', f'<p class="note">{esc(note)}</p>',
             table(["group", "labelled", *(LABELS[n] for n in names)], rows,
                    "Each metric with its 95% interval in brackets.")]
    t = doc.get("trend")
    windows = ((t or {}).get("quality") or {}).get("windows") or []
    if any(w["labelled"] for w in windows) and t is not None:
        parts.append(f'<div class="plots"><figure class="wide">'
                     f'{pl.quality_over_time(plots, windows, t["every"], names, LABELS)}</figure></div>')
    if windows:
        wrows = [f'<tr><td class="t">{esc(w["window_start"])}</td>'
                 + num_cell("quality.labelled", w["labelled"], f"{w['labelled']:,}", w["window_start"])
                 + "".join(f"<td>{esc(_interval_text(w['metrics'][n]))}</td>" if n in w["metrics"]
                           else "<td>-</td>" for n in names) + "</tr>"
                 for w in windows]
        parts += ['<h3 id="quality-windows">By window</h3>',
                  table(["window", "labelled", *(LABELS[n] for n in names)], wrows)]
    return "".join(parts)
