"""Renderers of `compare`: each version against the control, as strict JSON or as tables (returned)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from mlmon.api import CompareReport
from mlmon.api.documents import compare_doc, dump
from mlmon.numfmt import number, p_value
from mlmon.report.layout import Cell, Col, FitTable
from mlmon.report.render import (
    _input_table,
    _t,
    alert_lines,
    alerts_table,
    records_text,
    verdict,
)
from mlmon.stats.compare import MetricComparison, VersionComparison
from mlmon.stats.sketch import RELATIVE_ACCURACY
from mlmon.stats.summary import group_label, group_text

STYLE = {"worse": "bold red", "better": "green", "same": "", "not_enough_data": "dim", "different": "yellow",
         "pass": "green"}


def compare_json(rep: CompareReport) -> str:
    """The compare JSON document (CompareReport.to_dict), as printed."""
    return dump(compare_doc(rep))


def _v(metric: str, v: float | None) -> str:
    if v is None:
        return "-"
    if metric in ("success_rate",):
        return f"{v:.2%}"
    return number(v)  # 57,330, never 5.733e+04


def _diff(m: MetricComparison) -> str:
    if m.difference is None:
        return "-"
    if m.metric == "success_rate":
        text = f"{m.difference * 100:+.2f} pt"
        if m.interval:
            text += f" [{m.interval[0] * 100:+.2f}, {m.interval[1] * 100:+.2f}]"
        return text
    text = _signed(m.difference)
    if m.interval:
        text += f" [{_signed(m.interval[0])}, {_signed(m.interval[1])}]"
    return text


def _signed(x: float) -> str:
    """`+57,330`, `-1.25`: a difference with its sign, written as every other number."""
    return ("+" if x > 0 else "") + number(x)


def _rows(metrics: tuple[MetricComparison, ...]) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for m in metrics:
        rows.append([
            _t(m.metric),
            f"{m.n_control:,}/{m.n_treatment:,}",
            _v(m.metric, m.control),
            _v(m.metric, m.treatment),
            _diff(m),
            p_value(m.p_value_adjusted),
            _effect(m, m.effect),
            _effect(m, m.tolerance),
            Text(m.verdict.replace("_", " "), style=STYLE.get(m.verdict, "")),
        ])
    return rows


COLUMNS = [
    Col("metric", "text"),
    Col("n", "num", 6),
    Col("control", priority=3),
    Col("version", priority=3),
    Col("difference [95% CI]", "text", 4),
    Col("p adj", priority=5),
    Col("effect", priority=2),
    Col("tol", priority=2),
    Col("verdict", "text", 1),
]


def _effect(m: MetricComparison, v: float | None) -> str:
    """Relative shifts as %, rate differences in points, TV and KS D as numbers."""
    if v is None:
        return "-"
    sign = "+" if v is not m.tolerance else "±"
    if m.metric.startswith("latency_ms"):
        return f"{v:+.1%}" if sign == "+" else f"±{v:.0%}"
    if m.metric == "success_rate":
        return f"{v * 100:+.2f} pt" if sign == "+" else f"±{v * 100:g} pt"
    return f"{v:.3f}" if sign == "+" else f"{v:g}"


def _version_tables(v: VersionComparison) -> list[RenderableType]:
    title = Text(f"{safe_name(group_label(v.version))} against {safe_name(group_text(v.control))} "
                 f"({v.records:,} vs {v.control_records:,} records): ")
    title.append(v.verdict.replace("_", " ").upper(), style=STYLE.get(v.verdict, ""))
    out: list[RenderableType] = [FitTable(COLUMNS, _rows(v.metrics), title=title)]
    if v.traffic:
        different = [m.metric.removeprefix("features.") for m in v.traffic if m.verdict == "different"]
        cap = ("the versions see different traffic in: " + ", ".join(different) +
               "; differences in the metrics above may come from it") if different else \
            "both versions see the same traffic (no feature differs beyond tolerance)"
        name = safe_name(group_label(v.version))
        out.append(FitTable(COLUMNS, _rows(v.traffic), title=f"Traffic of {name}",
                            caption=_t(cap)))
    return out


def safe_name(s: str) -> str:
    from mlmon.report.render import safe

    return safe(s)


def compare_verdict(rep: CompareReport) -> Text:
    """The first line, as every command's: `OK: 2000 records, no version worse than v1.0`,
    `ALERT: 1 critical (2000 records)`, or `NO DATA: too few records to judge v2.0 (2000 records)`."""
    if rep.alerts:
        return verdict(rep.records, rep.alerts, fresh=rep.freshness)
    records = records_text(rep.records, rep.freshness)
    if rep.verdict == "not_enough_data":
        thin = ", ".join(group_label(v.version) for v in rep.versions if v.verdict == "not_enough_data")
        return Text(f"NO DATA: too few records to judge {safe_name(thin)} ({records})", style="magenta")
    return Text(f"OK: {records}, no version worse than {safe_name(group_label(rep.control))}",
                style="bold green")


def compare_table(rep: CompareReport, *, quiet: bool = False) -> RenderableType:
    if quiet:
        return Group(compare_verdict(rep), alert_lines(rep.alerts))
    head = Text(f"{rep.records:,} records by {rep.by}; control {safe_name(rep.control)}; verdict: ")
    head.append(rep.verdict.replace("_", " ").upper(), style=STYLE.get(rep.verdict, ""))
    parts: list[RenderableType] = [compare_verdict(rep), head]
    for v in rep.versions:
        parts += _version_tables(v)
    parts.append(Text(
        "n = control/version. Latency: Mann-Whitney U, effect = shift of the median; p50/p95/p99 with "
        "distribution-free (order statistic) intervals, effect = relative shift. Success rate: "
        "two-proportion z test, Newcombe interval, effect in points. Classes: chi-square, "
        "effect = total variation distance. Confidence and features: KS, effect = D. "
        "p adj = Benjamini-Hochberg "
        "across this version's tests. A metric is worse or better only when the difference is real "
        f"(p adj < {rep.options.alpha:g} or the interval excludes 0) and beyond its tolerance."
        + (f" --approx: values rounded to within {RELATIVE_ACCURACY:.0%}, asymptotic p-values."
           if rep.options.approx else ""),
        style="dim"))
    if rep.quality is not None:
        from mlmon.report.quality import quality_tables, versus_lines

        parts += quality_tables(rep.quality, rep.by)
        parts += versus_lines(rep.versus_control, rep.control)
    parts += [_input_table(rep.input), alerts_table(rep.alerts)]
    return Group(*parts)
