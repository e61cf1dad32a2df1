"""Renderers: results to strict JSON or to rich tables. They return values; they never print."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.text import Text

from mlmon.api.documents import JOINT_KEYS as JOINT_KEYS
from mlmon.api.documents import SCHEMA_VERSION as SCHEMA_VERSION
from mlmon.api.documents import drift_doc, dump, summary_doc
from mlmon.api.documents import drift_rows_json as drift_rows_json
from mlmon.api.documents import drifted_names as drifted_names
from mlmon.api.documents import freshness_json as freshness_json
from mlmon.api.documents import plain as plain
from mlmon.escape import terminal
from mlmon.numfmt import duration, ms, number, p_value, percent, stat
from mlmon.read.reader import Example, InputReport
from mlmon.report.layout import Cell, Col, FitTable
from mlmon.rules.alerts import Alert, Severity, mean_deviation_text
from mlmon.stats.summary import NO_GROUP, GroupSummary, SummaryResult, group_label

if TYPE_CHECKING:
    from mlmon.api import DriftReport, SummaryReport
    from mlmon.api.selection import Freshness
    from mlmon.stats.drift import FeatureDrift

def safe(text: str) -> str:
    """Escape C0, DEL, C1 and bidi controls so log text cannot drive a terminal, and invisible
    characters (no-break, zero-width and other odd spaces, a byte order mark, line and paragraph
    separators, tag characters, lone surrogates) so what a line holds can be seen: the terminal
    escaper of mlmon/escape.py, for tables and stderr."""
    return terminal(text)


def summary_json(rep: SummaryReport, *, by: str | None) -> str:
    """The summary's JSON document (SummaryReport.to_dict), as printed."""
    return dump(summary_doc(rep, by=by))


def drift_json(rep: DriftReport) -> str:
    """The drift JSON document (DriftReport.to_dict), as printed."""
    return dump(drift_doc(rep))


def _t(s: str, style: str = "") -> Text:
    return Text(safe(s), style=style)


def _group_table(rep: SummaryReport, by: str | None) -> FitTable:
    cols = [
        Col(by or "group", "text"),
        Col("records", priority=1),
        Col("success rate", "text", priority=2),
        Col("errors", priority=5),
        Col("p50 ms", priority=6),
        Col("p95 ms", priority=4),
        Col("p99 ms", priority=3),
        Col("max ms", priority=7),
        Col("mean ms", priority=8),
    ]
    rows: list[list[Cell]] = []
    absent = {m.metric for m in rep.missing}  # no record has the field: shown as missing, never as a value
    for g in (rep.result.overall, *rep.result.groups):
        lat = g.latency_ms
        marks = {p: ("*" if p in lat.insufficient else "") for p in ("p50", "p95", "p99")}
        if "latency_ms" in absent:
            latency = ["missing"] * 5
        else:
            latency = [ms(lat.p50) + marks["p50"], ms(lat.p95) + marks["p95"], ms(lat.p99) + marks["p99"]]
            latency += [ms(lat.max), ms(lat.mean)]
        if "success_rate" in absent:
            success = ["missing", "missing"]
        else:
            success = [f"{percent(g.success_rate, decimals=2)} (n={g.success_n})", str(g.errors)]
        rows.append([_group_cell(g, rep.result), str(g.records), *success, *latency])
    return FitTable(
        cols,
        rows,
        title="Serving health",
        caption="Percentiles are exact (numpy 'linear'); * marks too few values above it to trust.",
    )


def _group_cell(g: GroupSummary, result: SummaryResult) -> Text:
    """The label of a row: `(all)` bold, `(none)` (records without the --by field) italic, a value
    as it is, quoted when it looks like one of those two."""
    overall = g is result.overall
    style = "bold" if overall else ("italic" if g.group is None else "")
    return _t(group_label(g.group, overall=overall), style)


def _behaviour_table(groups: tuple[GroupSummary, ...], result: SummaryResult) -> FitTable:
    cols = [
        Col("group", "text"),
        Col("class shares", "text", priority=1),
        Col("confidence mean", priority=2),
        Col("low confidence", "text", priority=3),
        Col("numeric out of range", "text", priority=4),
    ]
    rows: list[list[Cell]] = []
    for g in groups:
        shown = g.classes[:8]
        shares = ", ".join(f"{safe(c.name)}: {percent(c.share)}" for c in shown)
        rest = g.classes_other + sum(c.count for c in g.classes[8:])
        if rest:
            total = rest + sum(c.count for c in shown)
            about = "" if g.classes_exact else "about "
            shares += f", other: {percent(rest / total)} ({about}{g.classes_distinct:,} classes in all)"
        c = g.confidence
        low = "-" if c.low_share is None else f"{percent(c.low_share)} < {number(c.low_threshold)} (n={c.n})"
        oor = (
            "-"
            if g.predictions_out_of_range is None
            else f"{g.predictions_out_of_range} of {g.prediction_values}"
        )
        rows.append([_group_cell(g, result), Text(shares or "-"), number(c.mean, 3), low, oor])
    return FitTable(cols, rows, title="Model behaviour")


def _input_table(r: InputReport) -> FitTable:
    cols = [
        Col("file", "text"),
        Col("lines", priority=1),
        Col("records", priority=1),
        Col("not used", "text", 2),
    ]
    rows: list[list[Cell]] = []
    for f in r.files:
        why = ", ".join(f"{k}: {v}" for k, v in f.reasons.items()) or "-"
        if f.truncated:
            why += f"; TRUNCATED: {f.truncated}"
        rows.append([_t(f.source), str(f.lines), str(f.records), _t(why)])
    if len(r.files) > 1:
        why = ", ".join(f"{k}: {v}" for k, v in r.reasons.items()) or "-"
        rows.append([Text("total", style="bold"), str(r.lines), str(r.records), _t(why)])
    return FitTable(cols, rows, title="Input")


def records_text(records: int, fresh: Freshness | None = None) -> str:
    """`2000 records`, and when the newest is older than the window (`--last 1h` counts back from
    the newest record, so a log that stopped still fills it) its age: `2000 records, newest 36 days ago`."""
    text = f"{records} records"
    if fresh is not None and fresh.stale:
        text += f", newest {duration(fresh.age_seconds)} ago"
    return text


def verdict(
    records: int,
    alerts: tuple[Alert, ...],
    not_measured: tuple[str, ...] = (),
    fresh: Freshness | None = None,
) -> Text:
    """The one-line answer that heads table output: `OK: 2000 records, no alerts` or
    `ALERT: 2 critical, 1 warning (2000 records)`; metrics no record could give are named, so an OK
    never reads as covering them (`OK: 2000 records, no alerts; not measured: latency_ms`); a newest
    record older than the window is dated (`OK: 2000 records, newest 36 days ago, no alerts`)."""
    line = _verdict(records_text(records, fresh), alerts)
    if not_measured:
        line.append(f"; not measured: {', '.join(not_measured)}", style="bold yellow")
    return line


def _verdict(records: str, alerts: tuple[Alert, ...]) -> Text:
    counts = {s: sum(1 for a in alerts if a.severity is s) for s in Severity}
    names = {Severity.CRITICAL: "critical", Severity.WARNING: "warning", Severity.INFO: "info"}
    listed = ", ".join(
        f"{counts[s]} {names[s]}{'s' if s is Severity.WARNING and counts[s] > 1 else ''}"
        for s in sorted(Severity, key=lambda s: -s.rank)
        if counts[s]
    )
    if counts[Severity.CRITICAL] or counts[Severity.WARNING]:
        style = "bold red" if counts[Severity.CRITICAL] else "bold yellow"
        return Text(f"ALERT: {listed} ({records})", style=style)
    return Text(f"OK: {records}, {listed or 'no alerts'}", style="bold green")


def alert_lines(alerts: tuple[Alert, ...]) -> Group:
    """Alerts as `SEVERITY metric: message` lines (for --quiet and mail): they wrap, never cut."""
    lines = []
    for a in alerts:
        style = "bold red" if a.severity is Severity.CRITICAL else "yellow"
        line = Text.assemble((a.severity.value.upper(), style), " ", safe(a.metric), ": ", safe(a.message))
        lines.append(line)
    return Group(*lines)


def alerts_table(alerts: tuple[Alert, ...]) -> RenderableType:
    if not alerts:
        return Text("No alerts.", style="green")
    cols = [Col("severity", "num"), Col("metric", "text", 1), Col("message", "text", 2)]
    rows: list[list[Cell]] = []
    for a in alerts:
        style = "bold red" if a.severity.value == "critical" else "yellow"
        rows.append([Text(a.severity.value.upper(), style=style), _t(a.metric), _t(a.message)])
    return FitTable(cols, rows, title="Alerts")


def summary_table(rep: SummaryReport, *, by: str | None, quiet: bool = False) -> RenderableType:
    """Table output: the verdict line first; with quiet, only the verdict and the alerts."""
    o = rep.result.overall
    unmeasured = tuple(m.metric for m in rep.missing)
    if quiet:
        return Group(verdict(o.records, rep.alerts, unmeasured, rep.freshness), alert_lines(rep.alerts))
    head = Text(
        f"{o.records} records"
        + (f" from {o.first_timestamp} to {o.last_timestamp}" if o.first_timestamp else "")
        + (f" ({o.span_seconds:.0f} s, {o.requests_per_second:.2f} req/s)" if o.requests_per_second else "")
        + (f"; {rep.filtered_out} outside the selected range" if rep.filtered_out else "")
    )
    parts: list[RenderableType] = [
        verdict(o.records, rep.alerts, unmeasured, rep.freshness), head, _group_table(rep, by)
    ]
    groups = (o, *rep.result.groups)
    if any(g.classes or g.confidence.n or g.prediction_values for g in groups):
        parts.append(_behaviour_table(groups, rep.result))
    if rep.quality is not None:
        from mlmon.report.quality import quality_tables

        parts += quality_tables(rep.quality, by)
    parts += [_input_table(rep.input), alerts_table(rep.alerts)]
    return Group(*parts)


def _effect_cell(f: FeatureDrift) -> str:
    if f.effect_size is None:
        return "-"
    return f"{stat(f.effect_size)} [{stat(f.effect_low)}, {stat(f.effect_high)}]"


def drift_table(rep: DriftReport, *, quiet: bool = False) -> RenderableType:
    """Table output: the verdict line first; with quiet, only the verdict and the alerts."""
    if quiet:
        return Group(verdict(rep.records, rep.alerts, fresh=rep.freshness), alert_lines(rep.alerts))
    head = Text(
        f"{rep.records} records"
        + (f"; {rep.filtered_out} outside the selected window" if rep.filtered_out else "")
    )
    parts: list[RenderableType] = [verdict(rep.records, rep.alerts, fresh=rep.freshness), head]
    title = f"Drift against {safe(rep.baseline_source)} ({rep.baseline_rows} rows)"
    parts += drift_parts(rep.features, title)
    for g in rep.groups:  # with --by: a table per model version
        by = safe(rep.by or "group")
        label = f"{by} = {safe(group_label(g.group))}" if g.group is not None else f"{by} missing: {NO_GROUP}"
        parts += drift_parts(g.features, f"{label} ({g.records} records)")
    if rep.unknown_features:
        more = f" and {len(rep.unknown_features) - 10} more" if len(rep.unknown_features) > 10 else ""
        parts.append(
            _t("log features the baseline does not know (not checked): "
               + ", ".join(rep.unknown_features[:10]) + more)
        )
    parts += [_t(f"not tested: {safe(line)}") for line in rep.not_tested]
    return Group(*parts, _input_table(rep.input), alerts_table(rep.alerts))


def drift_parts(rows: tuple[FeatureDrift, ...], title: str) -> list[RenderableType]:
    """The features' table, then the predictions' (when the baseline has them), then the joint
    test's line (when it has a joint model)."""
    out: list[RenderableType] = [_features_table(tuple(f for f in rows if f.role == "feature"), Text(title))]
    preds = tuple(f for f in rows if f.role == "prediction")
    if preds:
        head = Text(f"Predictions ({title[:1].lower()}{title[1:]})")
        out.append(_features_table(preds, head, first="prediction"))
    joint = next((f for f in rows if f.role == "multivariate"), None)
    if joint is not None:
        out.append(_t(joint_text(joint)))
    return out


def joint_text(f: FeatureDrift) -> str:
    """One line on the joint test: the errors, the rise with its bounds, the verdict."""
    head = "joint drift (PCA reconstruction error of the numeric features)"
    if f.status != "ok":
        return f"{head}: {f.status} ({f.n} complete records)"
    verdict_word = "DRIFT" if f.drift else "no drift"
    return (f"{head}: mean error {number(f.mean)} vs reference {number(f.baseline_mean)}, rise "
            f"{_effect_cell(f)} reference sd, adjusted p {p_value(f.p_value_adjusted)}: {verdict_word} "
            f"({f.n} complete records" + (f", {f.missing} lacking a feature)" if f.missing else ")"))


def _missing_cell(f: FeatureDrift) -> str:
    if f.missing_share is None:
        return "-"
    return percent(f.missing_share) + (" !" if f.missing_increased else "")


def _features_table(features: tuple[FeatureDrift, ...], title: Text, first: str = "feature") -> FitTable:
    cols = [
        Col(first, "text"),
        Col("n", priority=6),
        Col("mean", priority=4),
        Col("baseline", priority=5),
        Col("mean dev", priority=3),
        Col("missing", priority=2),
        Col("test", "text", priority=8),
        Col("p adj", priority=2),
        Col("effect [95%]", "text", priority=7),
        Col("PSI", priority=9),
        Col("W sd", priority=10),
        Col("drift", "text", priority=1),
    ]
    rows: list[list[Cell]] = []
    for f in features:
        dev = mean_deviation_text(f)
        if f.mean_shift:
            dev += " !"
        drifted = Text("DRIFT", style="bold red") if f.drift else Text(f.status if f.status != "ok" else "no")
        extra = ""
        if f.unseen_share:
            extra = f"; unseen {percent(f.unseen_share)}: " + ", ".join(
                f"{safe(c)} {percent(s)}" for c, s in f.unseen_categories[:3]
            )
            if f.unseen_distinct > 3:
                extra += f" +{f.unseen_distinct - 3} more"
        if f.out_of_range:
            mark = " !" if f.out_of_range_breached else ""
            extra += f"; {percent(f.out_of_range_share)} out of range{mark}"
        if f.constant:
            extra += "; CONSTANT"
        rows.append(
            [
                _t(f.name),
                str(f.n),
                number(f.mean),
                number(f.baseline_mean),
                dev,
                _missing_cell(f),
                f.test or "-",
                p_value(f.p_value_adjusted),
                _effect_cell(f),
                stat(f.psi),
                stat(f.wasserstein_sd),
                Text.assemble(drifted, extra),
            ]
        )
    return FitTable(
        cols,
        rows,
        title=title,
        caption=(
            "effect: KS D (ks) or total variation (chi_square) [95% bounds]. drift = BH-adjusted p "
            "below --p-threshold and an upper bound at least --min-effect; '!' marks a significant "
            "mean deviation beyond --mean-tolerance; missing: share of records without a value, '!' when it "
            "rose significantly above training's (missing_share.<feature>)"
        ),
    )


def example_lines(examples: tuple[Example, ...]) -> list[str]:
    """Diagnostics for stderr: where the first unused lines are, escaped."""
    return [f"{safe(e.source)}:{e.line}: {e.reason}: {safe(e.text)}" for e in examples]
