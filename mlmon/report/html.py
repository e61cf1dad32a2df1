"""The HTML report: one self-contained page (inline CSS and SVG, no script, no network) built
from the JSON documents of summary, drift, trend (and check); the sections are drawn by the
html_* modules beside this one."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mlmon import __version__
from mlmon.report.html_alerts import alerts_html, alerts_of, rules_table, verdict
from mlmon.report.html_drift import drift
from mlmon.report.html_page import esc, page
from mlmon.report.html_quality import quality
from mlmon.report.html_serving import health, inputs, predictions
from mlmon.report.render import SCHEMA_VERSION, drift_json, plain, summary_json

if TYPE_CHECKING:
    from mlmon.api.check_report import CheckReport
    from mlmon.api.report_data import ReportData
    from mlmon.rules.alerts import SummaryThresholds


def render_html(doc: dict[str, Any]) -> str:
    """The page of a report document (see `report_doc`)."""
    from mlmon.report.plots import Plots

    plots = Plots()
    alerts = alerts_of(doc)
    logs = ", ".join(str(f["source"]) for f in doc["summary"]["input"]["files"])
    body = [
        f"<h1>{esc(doc['title'])}</h1>",
        f'<p class="note">Logs: {esc(logs)}. mlmon {esc(doc["mlmon_version"])}.</p>',
        '<h2 id="verdict-alerts">Verdict and alerts</h2>',
        verdict(doc, alerts),
        alerts_html(alerts),
        rules_table(doc),
        health(doc, plots),
        drift(doc, plots),
        predictions(doc, plots),
        quality(doc, plots),
        inputs(doc),
    ]
    return page(doc["title"], body)


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
