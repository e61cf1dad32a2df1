"""The HTML report: one self-contained page (inline CSS and SVG, no script, no network) built
from the JSON documents of summary, drift, trend (and check).

Every string that came from a log, a baseline or a config passes `_e` (control and bidi
characters made visible, then HTML-escaped); the page's Content-Security-Policy forbids every
load and every script, so even a mistake here could not fetch or run anything."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mlmon import __version__
from mlmon.numfmt import ms, number, p_value, percent
from mlmon.report.render import SCHEMA_VERSION, drift_json, plain, safe, summary_json
from mlmon.rules.guidance import topic, what_to_do

if TYPE_CHECKING:
    from mlmon.api.check_report import CheckReport
    from mlmon.api.report_data import ReportData
    from mlmon.rules.alerts import SummaryThresholds

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


def _e(value: Any) -> str:
    """Untrusted text for HTML: controls and bidi marks made visible, then escaped (quotes too)."""
    return html.escape(safe(str(value)), quote=True)


def _num(metric: str, value: float | int | None, text: str, group: str | None = None) -> str:
    """A number cell that carries its exact JSON value (data-value), for tests and scripts."""
    raw = "" if value is None else json.dumps(value)
    g = "" if group is None else f' data-group="{_e(group)}"'
    return f'<td data-metric="{_e(metric)}"{g} data-value="{_e(raw)}">{_e(text)}</td>'


def _todo(metric: str) -> str:
    return what_to_do(metric) or "See this metric's section below."


def _group_label(g: dict[str, Any], by: str | None) -> str:
    if g.get("group") is None:
        return f"without {by}" if by else "all records"
    return str(g["group"])


def _alerts(doc: dict[str, Any]) -> list[dict[str, Any]]:
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


def _verdict(doc: dict[str, Any], alerts: list[dict[str, Any]]) -> str:
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
    return f'<p class="verdict {cls}" id="verdict">{_e(text)}</p>'


SHOWN_PER_TOPIC = 5
"""Alerts of one topic listed before the rest fold away (a `<details>`: no script needed)."""


def _alert_item(a: dict[str, Any]) -> str:
    group = a.get("group")
    where = f" ({_e(group)})" if group is not None and str(group) not in a["message"] else ""
    return (f'<li data-metric="{_e(a["metric"])}"><span class="sev {_e(a["severity"])}">{_e(a["severity"])}'
            f"</span> <code>{_e(a['metric'])}</code>{where}: {_e(a['message'])}</li>")


def _alerts_html(alerts: list[dict[str, Any]]) -> str:
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
        more = (f'<details><summary>{len(rest)} more <code>{_e(label)}</code> alerts</summary>'
                f'<ul class="alerts">{"".join(rest)}</ul></details>' if rest else "")
        parts.append(f'<div class="topic"><ul class="alerts">{"".join(shown)}</ul>{more}'
                     f'<p class="note todo">What to do: {_e(_todo(group[0]["metric"]))}</p></div>')
    return "".join(parts)


def _table(head: Iterable[str], rows: Iterable[str], caption: str = "") -> str:
    cap = f"<caption class=\"note\">{_e(caption)}</caption>" if caption else ""
    ths = "".join(f'<th class="t">{h}</th>' if i == 0 else f"<th>{h}</th>" for i, h in enumerate(head))
    return f'<div class="scroll"><table>{cap}<thead><tr>{ths}</tr></thead><tbody>{"".join(rows)}</tbody>' \
           "</table></div>"


def _summary_rows(s: dict[str, Any]) -> list[str]:
    by = s.get("by")
    groups = [*s.get("groups", ()), {**s, "group": None, "_overall": True}]
    rows = []
    for g in groups:
        label = "all records" if g.get("_overall") else _group_label(g, by)
        key = "all" if g.get("_overall") else label
        lat = g["latency_ms"]
        ci = g.get("success_rate_ci95")
        ci_text = f"{percent(ci[0], decimals=2)} - {percent(ci[1], decimals=2)}" if ci else "-"
        rows.append(
            f'<tr><td class="t">{_e(label)}</td>'
            + _num("records", g["records"], f"{g['records']:,}", key)
            + _num("requests_per_second", g["requests_per_second"], number(g["requests_per_second"]), key)
            + _num("success_rate", g["success_rate"], percent(g["success_rate"], decimals=2), key)
            + f"<td>{_e(ci_text)}</td>"
            + _num("latency_ms.p50", lat["p50"], ms(lat["p50"]), key)
            + _num("latency_ms.p95", lat["p95"], ms(lat["p95"]), key)
            + _num("latency_ms.p99", lat["p99"], ms(lat["p99"]), key)
            + "</tr>"
        )
    return rows


def _health(doc: dict[str, Any], plots: Any) -> str:
    from mlmon.report import plots as pl

    s = doc["summary"]
    parts = ["<h2 id=\"health\">Serving health</h2>",
             _table(["group", "records", "requests/s", "success rate", "95% interval", "p50", "p95", "p99"],
                    _summary_rows(s), "Whole selection, per model version and overall.")]
    t = doc.get("trend")
    if t is None:
        parts.append('<p class="note">No record has a timestamp: no health over time.</p>')
        return "".join(parts)
    by = t.get("by")
    series = [(_group_label(g, by), g["windows"]) for g in t.get("groups", ())]
    if len(series) != 1:
        series.append(("all records", t["windows"]))
    parts.append(f'<p class="note">Windows of {_e(t["every"])}; limits drawn as horizontal lines '
                 "(dashed: warning, solid: critical).</p><div class=\"plots\">")
    for label, windows in series:
        if windows:
            parts.append(f'<figure class="wide">{pl.health(plots, label, windows, t["every"], doc["limits"])}'
                         "</figure>")
    parts.append("</div>")
    return "".join(parts)


def _effect(f: dict[str, Any]) -> str:
    if f["effect_size"] is None:
        return "no effect (" + str(f["status"]).replace("_", " ") + ")"
    return (f"{f['effect_measure']} {number(f['effect_size'], 3)} (95% bounds {number(f['effect_low'], 3)}"
            f" - {number(f['effect_high'], 3)})")


def _drift(doc: dict[str, Any], plots: Any) -> str:
    from mlmon.report import plots as pl

    d = doc.get("drift")
    if d is None:
        return ('<h2 id="drift">Drift</h2><p class="note">No baseline given (--baseline or --reference): '
                "drift not checked.</p>")
    feats = sorted(d["features"], key=lambda f: (f["effect_size"] is None, -(f["effect_size"] or 0.0)))
    rows = _drift_rows(feats)
    parts = [
        '<h2 id="drift">Drift per feature</h2>',
        f'<p class="note">Against the baseline {_e(d["baseline"]["source"])} '
        f'({d["baseline"]["rows"]:,} rows); '
        f'{len(d["drifted"])} of {len(feats)} features drifted. Sorted by effect.</p>',
        _table(["feature", "kind", "verdict", "effect", "low 95%", "high 95%", "adjusted p", "PSI", "n"],
               rows),
    ]
    dists = {x["name"]: x for x in doc.get("distributions", ())}
    t = doc.get("trend")
    over_time = doc.get("every_given") and t is not None and any(w.get("features") for w in t["windows"])
    for f in feats:
        parts.append(f'<h3 id="feature-{_e(f["name"])}">{_e(f["name"])}'
                     f'{" <span class=drifted>(drift)</span>" if f["drift"] else ""}</h3>'
                     f'<p class="note">{_e(_effect(f))}</p><div class="plots">')
        x = dists.get(f["name"])
        if x is not None and x["kind"] == "numeric" and x["x"]:
            parts.append(f"<figure>{pl.numeric_distribution(plots, x, _effect(f))}</figure>")
        elif x is not None and x["kind"] == "categorical" and x["shares"]:
            parts.append(f"<figure>{pl.categorical_distribution(plots, x, _effect(f))}</figure>")
        if over_time and t is not None:
            parts.append(f"<figure>{pl.feature_over_time(plots, f['name'], t['windows'], t['every'])}"
                         "</figure>")
        parts.append("</div>")
    return "".join(parts)


def _drift_rows(rows_in: list[dict[str, Any]]) -> list[str]:
    rows = []
    for f in rows_in:
        n = f["name"]
        rows.append(
            f'<tr><td class="t{" drifted" if f["drift"] else ""}">{_e(n)}</td><td class="t">{_e(f["kind"])}'
            f'</td><td class="t">{"drift" if f["drift"] else "-"}</td>'
            + _num("effect_size", f["effect_size"], number(f["effect_size"], 3), n)
            + _num("effect_low", f["effect_low"], number(f["effect_low"], 3), n)
            + _num("effect_high", f["effect_high"], number(f["effect_high"], 3), n)
            + _num("p_value_adjusted", f["p_value_adjusted"], p_value(f["p_value_adjusted"]), n)
            + _num("psi", f["psi"], number(f["psi"], 3), n)
            + _num("n", f["n"], f"{f['n']:,}", n)
            + "</tr>"
        )
    return rows


DRIFT_HEAD = ["name", "kind", "verdict", "effect", "low 95%", "high 95%", "adjusted p", "PSI", "n"]


def _predictions_drift(doc: dict[str, Any], plots: Any) -> str:
    """The predictions against the baseline's (when it profiled them): the drift rows and both
    distributions of each."""
    from mlmon.report import plots as pl

    preds = (doc.get("drift") or {}).get("predictions") or []
    if not preds:
        return ""
    dists = {x["name"]: x for x in doc.get("distributions", ())}
    parts = ['<h3 id="predictions-baseline">Predictions against the baseline</h3>',
             _table(DRIFT_HEAD, _drift_rows(preds), "The model's outputs tested as features are.")]
    parts.append('<div class="plots">')
    for f in preds:
        x = dists.get(f["name"])
        if x is not None and x["kind"] == "numeric" and x["x"]:
            parts.append(f"<figure>{pl.numeric_distribution(plots, x, _effect(f))}</figure>")
        elif x is not None and x["kind"] == "categorical" and x["shares"]:
            parts.append(f"<figure>{pl.categorical_distribution(plots, x, _effect(f))}</figure>")
    parts.append("</div>")
    return "".join(parts)


def _predictions(doc: dict[str, Any], plots: Any) -> str:
    from mlmon.report import plots as pl

    s = doc["summary"]
    by = s.get("by")
    groups = [(_group_label(g, by), g) for g in s.get("groups", ())] or [("all records", s)]
    parts = ['<h2 id="predictions">Predictions</h2>']
    if any(g["classes"] for _, g in groups):
        parts.append(f'<div class="plots"><figure>{pl.classes(plots, groups)}</figure>')
        if any(g["confidence"]["n"] for _, g in groups):
            parts.append(f"<figure>{pl.confidence(plots, groups)}</figure>")
        parts.append("</div>")
    else:
        parts.append('<p class="note">No predicted class in the log.</p>')
    parts.append(_predictions_drift(doc, plots))
    rows = []
    for label, g in groups:
        c = g["confidence"]
        rows.append(
            f'<tr><td class="t">{_e(label)}</td>'
            + _num("classes_distinct", g["classes_distinct"], f"{g['classes_distinct']:,}", label)
            + _num("confidence.mean", c["mean"], number(c["mean"], 3), label)
            + _num("confidence.low_share", c["low_share"], percent(c["low_share"]), label)
            + "</tr>"
        )
    parts.append(_table(["group", "distinct classes", "mean confidence", "low-confidence share"], rows))
    return "".join(parts)


def _interval_text(m: dict[str, Any]) -> str:
    if m["value"] is None:
        return "-" + (f" ({m['reason']})" if m.get("reason") else "")
    if m["low"] is None or m["high"] is None:
        return number(m["value"])
    return f"{number(m['value'])} [{number(m['low'])}, {number(m['high'])}]"


def _quality(doc: dict[str, Any], plots: Any) -> str:
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
    groups = [(_group_label(g, by), g) for g in q["groups"]]
    if len(groups) != 1:
        groups.append(("all labelled", {"labelled": q["labelled"], "metrics": q["metrics"]}))
    rows = []
    for label, g in groups:
        key = "all" if label == "all labelled" else label
        cells = "".join(_num(f"quality.{n}", g["metrics"][n]["value"], _interval_text(g["metrics"][n]), key)
                        for n in names if n in g["metrics"])
        rows.append(f'<tr><td class="t">{_e(label)}</td>'
                    + _num("quality.labelled", g["labelled"], f"{g['labelled']:,}", key) + cells + "</tr>")
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
    parts = ['<h2 id="quality">Realized quality</h2>', f'<p class="note">{_e(note)}</p>',
             _table(["group", "labelled", *(LABELS[n] for n in names)], rows,
                    "Each metric with its 95% interval in brackets.")]
    t = doc.get("trend")
    windows = ((t or {}).get("quality") or {}).get("windows") or []
    if any(w["labelled"] for w in windows) and t is not None:
        parts.append(f'<div class="plots"><figure class="wide">'
                     f'{pl.quality_over_time(plots, windows, t["every"], names, LABELS)}</figure></div>')
    if windows:
        wrows = [f'<tr><td class="t">{_e(w["window_start"])}</td>'
                 + _num("quality.labelled", w["labelled"], f"{w['labelled']:,}", w["window_start"])
                 + "".join(f"<td>{_e(_interval_text(w['metrics'][n]))}</td>" if n in w["metrics"]
                           else "<td>-</td>" for n in names) + "</tr>"
                 for w in windows]
        parts += ['<h3 id="quality-windows">By window</h3>',
                  _table(["window", "labelled", *(LABELS[n] for n in names)], wrows)]
    return "".join(parts)


def _inputs(doc: dict[str, Any]) -> str:
    i = doc["summary"]["input"]
    files = [
        f'<tr><td class="t">{_e(f["source"])}</td><td class="t">{_e(f["format"])}</td>'
        f'<td class="t">{_e(f["compression"])}</td>'
        + _num("lines", f["lines"], f"{f['lines']:,}", f["source"])
        + _num("records", f["records"], f"{f['records']:,}", f["source"])
        + _num("bad_lines", f["bad_lines"], f"{f['bad_lines']:,}", f["source"])
        + "</tr>"
        for f in i["files"]
    ]
    reasons = [f'<tr><td class="t">{_e(k)}</td>' + _num("reason", v, f"{v:,}", k) + "</tr>"
               for k, v in sorted(i["reasons"].items())]
    examples = [
        f'<tr><td class="t">{_e(x["source"])}:{x["line"]}</td><td class="t">{_e(x["reason"])}</td>'
        f'<td class="t"><pre>{_e(x["text"])}</pre></td></tr>'
        for x in i["examples"]
    ]
    out = [
        '<h2 id="input">Input accounting</h2>',
        f'<p class="note">{i["lines"]:,} lines read, {i["records"]:,} records, {i["bad_lines"]:,} bad lines; '
        f'{doc["summary"]["filtered_out"]:,} records outside the time selection.</p>',
        _table(["file", "format", "compression", "lines", "records", "bad lines"], files),
    ]
    if reasons:
        out.append(_table(["lines not used, by reason", "lines"], reasons))
    if examples:
        out.append(_table(["where", "reason", "line (escaped)"], examples, "The first lines not used."))
    return "".join(out)


def _check(doc: dict[str, Any]) -> str:
    c = doc.get("check")
    if c is None:
        return ""
    rows = [
        f'<tr><td class="t">{_e(r["name"])}</td><td class="t"><span class="sev {_e(r["status"])}">'
        f'{_e(r["status"])}</span></td>' + _num("value", r["value"], number(r["value"]), r["name"])
        + f'<td class="t">{_e(r["message"])}</td></tr>'
        for r in c["results"]
    ]
    return '<h3 id="rules">Rules</h3>' + _table(["rule", "status", "value", "detail"], rows)


def render_html(doc: dict[str, Any]) -> str:
    """The page of a report document (see `report_doc`)."""
    from mlmon.report.plots import Plots

    plots = Plots()
    alerts = _alerts(doc)
    logs = ", ".join(str(f["source"]) for f in doc["summary"]["input"]["files"])
    body = [
        f"<h1>{_e(doc['title'])}</h1>",
        f'<p class="note">Logs: {_e(logs)}. mlmon {_e(doc["mlmon_version"])}.</p>',
        '<h2 id="verdict-alerts">Verdict and alerts</h2>',
        _verdict(doc, alerts),
        _alerts_html(alerts),
        _check(doc),
        _health(doc, plots),
        _drift(doc, plots),
        _predictions(doc, plots),
        _quality(doc, plots),
        _inputs(doc),
    ]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{_e(doc['title'])}</title><style>{STYLE}</style></head>\n<body><main>"
        + "\n".join(body)
        + "</main></body></html>\n"
    )


def _limits(t: SummaryThresholds | None) -> dict[str, Any]:
    from mlmon.rules.alerts import rules

    return {} if t is None else {k: plain(v) for k, v in rules(t).items()}


def report_doc(data: ReportData, *, thresholds: SummaryThresholds | None = None,
               title: str = "mlmon report") -> dict[str, Any]:
    """The report's document: the JSON of summary, trend and drift as those commands print them,
    and the distributions the plots draw."""
    from mlmon.report.trend import trend_json

    dists = _dists(data.distributions)
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "report",
        "mlmon_version": __version__,
        "title": title,
        "summary": json.loads(summary_json(data.summary, by=data.by)),
        "trend": json.loads(trend_json(data.trend)) if data.trend is not None else None,
        "drift": json.loads(drift_json(data.drift)) if data.drift is not None else None,
        "distributions": dists,
        "every_given": data.every_given,
        "limits": _limits(thresholds),
    }


def _check_limits(rep: CheckReport) -> dict[str, Any]:
    """The limits of the check's serving rules, drawn in the health plots (the first rule of each
    metric: the one the table lists first)."""
    out: dict[str, Any] = {}
    for r in rep.results:
        if r.metric in ("latency_ms.p95", "latency_ms.p99", "success_rate") and r.metric not in out:
            out[r.metric] = {"warning": r.warning, "critical": r.critical}
    return out


def _dists(dists: Iterable[Any]) -> list[dict[str, Any]]:
    return [{"kind": "numeric" if hasattr(d, "x") else "categorical", **plain(d)} for d in dists]


def check_doc(rep: CheckReport, *, config: str | None, notifications: list[dict[str, Any]],
              title: str = "mlmon check") -> dict[str, Any]:
    """The report document of a `check` run: its summary and drift as summary and drift print
    them, its rules' results, and (when the run kept them: `views`) its records window by window
    and each feature's distributions, drawn as `mlmon report` draws them."""
    from mlmon.api.drift import DriftReport
    from mlmon.api.summary import SummaryReport
    from mlmon.report.checks import check_json
    from mlmon.report.trend import trend_json

    summary = SummaryReport(rep.input, rep.records, rep.filtered_out, rep.summary, (), quality=rep.quality)
    drift = None
    if rep.features is not None:
        rows = max((f.baseline_n for f in rep.features), default=0)
        drift = DriftReport(rep.input, rep.records, rep.filtered_out, "the check's baseline", rows,
                            rep.features, ())
    by = "model_version" if rep.summary.groups else None
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "check",
        "mlmon_version": __version__,
        "title": title,
        "summary": json.loads(summary_json(summary, by=by)),
        "trend": json.loads(trend_json(rep.trend)) if rep.trend is not None else None,
        "drift": json.loads(drift_json(drift)) if drift is not None else None,
        "distributions": _dists(rep.distributions),
        "every_given": False,
        "limits": _check_limits(rep),
        "check": json.loads(check_json(rep, config=config, notifications=notifications)),
    }
