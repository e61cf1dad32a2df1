"""Renderers of `trend`: windows to strict JSON, or to a table with sparklines (returned, never printed)."""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.text import Text

from mlmon.api import TrendReport
from mlmon.api.documents import dump, trend_doc
from mlmon.api.documents import every_text as every_text
from mlmon.api.trend_report import TrendGroup
from mlmon.report.layout import Cell, Col, FitTable, _frame
from mlmon.report.render import (
    _input_table,
    _t,
    alert_lines,
    alerts_table,
    safe,
    verdict,
)
from mlmon.stats.sketch import RELATIVE_ACCURACY
from mlmon.stats.summary import group_label
from mlmon.stats.windows import HEADLINE, Window, headline

BARS = "▁▂▃▄▅▆▇█"
MAX_SPARK = 96
"""Sparklines show at most the last this many windows."""
MAX_FEATURE_COLUMNS = 6


def latency_method(rep: TrendReport) -> str:
    if rep.options.approx:
        return f"ddsketch, within {RELATIVE_ACCURACY:.0%} of the value at that rank"
    return "exact, numpy 'linear'"


def trend_json(rep: TrendReport) -> str:
    """The trend JSON document (TrendReport.to_dict), as printed."""
    return dump(trend_doc(rep))


def sparkline(values: list[float | None]) -> str:
    """One character per value, scaled between the smallest and largest; a gap for None."""
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    lo, hi = min(known), max(known)
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        elif hi == lo:
            out.append(BARS[0])
        else:
            out.append(BARS[min(len(BARS) - 1, int((v - lo) / (hi - lo) * len(BARS)))])
    return "".join(out)


def _fmt(metric: str, v: float | None) -> str:
    if v is None:
        return "-"
    if metric in ("success_rate", "confidence.low_share"):
        return f"{v:.2%}"
    if metric == "records":
        return f"{v:,.0f}"
    return f"{v:,.1f}"


GROUP_SPARKS = ("records", "success_rate", "latency_ms.p99")
"""The metrics drawn per group with --by."""


def _series(windows: tuple[Window, ...], metric: str) -> list[float | None]:
    if metric == "records":
        return [float(w.summary.records) for w in windows]
    if metric == "drifted":
        return [float(len(w.drifted)) if w.status == "ok" else None for w in windows]
    return [headline(w.summary, metric) if w.status == "ok" else None for w in windows]


class SparkTable:
    """Sparklines of the last windows, as many as the width holds (at most MAX_SPARK): a FitTable
    drawn at the width it is given, so a sparkline is never cut, only started later."""

    def __init__(self, rep: TrendReport) -> None:
        self.total = len(rep.windows)
        rows: list[tuple[str, str, list[float | None]]] = [
            (m, m, _series(rep.windows, m)) for m in ("records", *HEADLINE)
        ]
        if any(w.features for w in rep.windows):
            rows.append(("drifted", "drifted", _series(rep.windows, "drifted")))
        for g in rep.groups:
            rows += [(f"{safe(group_label(g.group))} {m}", m, _series(g.windows, m)) for m in GROUP_SPARKS]
        self.rows = [(label, m, v) for label, m, v in rows if any(x is not None for x in v)]

    def table(self, width: int) -> FitTable:
        widest = self._cells(min(MAX_SPARK, self.total))
        others = sum(max(cell_len(str(r[i])) for r in widest) for i in (0, 2, 3, 4)) + _frame(5)
        return self._table(max(8, min(MAX_SPARK, self.total, width - others)))

    def _table(self, shown: int) -> FitTable:
        cols = [Col("metric", "text"), Col("", "num", 1), Col("min", "num", 2), Col("max", "num", 3),
                Col("last", "num", 0)]
        caption = f"the last {shown} of {self.total} windows" if shown < self.total else None
        return FitTable(cols, self._cells(shown), title="Trend", caption=caption)

    def _cells(self, shown: int) -> list[list[Cell]]:
        cells: list[list[Cell]] = []
        for name, metric, values in self.rows:
            part = values[-shown:]
            known = [v for v in part if v is not None]

            def fmt(v: float | None, m: str = metric) -> str:
                return ("-" if v is None else f"{v:g}") if m == "drifted" else _fmt(m, v)

            lo = fmt(min(known)) if known else "-"
            hi = fmt(max(known)) if known else "-"
            cells.append([name, sparkline(part), lo, hi, fmt(part[-1])])
        return cells

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.table(options.max_width)


def _start(w: Window, offset: bool = False) -> str:
    """The window start as `2026-11-01 10:00`, with seconds only when they are not zero, and with
    the zone's offset when asked (`02:00+02:00`, `02:00+01:00`: the repeated autumn hour)."""
    text = w.window_start.replace("T", " ")
    text = text.removesuffix("Z")
    zone = text[19:] if len(text) > 19 and text[19] in "+-" else ""
    text = text[:19] if zone else text
    text = text[:16] if text.endswith(":00") and len(text) == 19 else text
    return text + zone if offset else text


def _starts(windows: tuple[Window, ...]) -> list[str]:
    """Each window's start; with the offsets when two would read the same (a DST fold)."""
    plain_starts = [_start(w) for w in windows]
    if len(set(plain_starts)) == len(plain_starts):
        return plain_starts
    return [_start(w, offset=True) for w in windows]


def _window_table(rep: TrendReport, group: TrendGroup | None = None) -> FitTable:
    windows = group.windows if group is not None else rep.windows
    all_breaches = group.breaches if group is not None else rep.breaches
    has_drift = any(w.features for w in windows)
    out_of_range = any(w.summary.predictions_out_of_range is not None for w in windows)
    smoothed = bool(windows and windows[0].smoothed)
    cols = [Col("window start", "num")]
    for name, prio in (("records", 1), ("req/s", 7), ("success", 2), ("95% CI", 8), ("p50", 6), ("p95", 4),
                       ("p99", 3), ("low conf", 9)):
        cols.append(Col(name, "text" if name == "success" else "num", prio))
    if out_of_range:
        cols.append(Col("out of range", priority=10))
    if has_drift:
        cols.append(Col("drift", priority=5))
    if smoothed:
        cols.append(Col(f"success~{rep.options.smooth}", priority=11))
        cols.append(Col(f"p99~{rep.options.smooth}", priority=11))
    cols.append(Col("crossed", "text", priority=0))
    rows: list[list[Cell]] = []
    for w, start, breaches in zip(windows, _starts(windows), all_breaches, strict=True):
        g = w.summary
        rps = "-" if g.requests_per_second is None else f"{g.requests_per_second:.2f}"
        cells: list[Cell] = [start + (" ~" if w.partial else ""), f"{g.records:,}", rps]
        if w.status != "ok":
            note = "no traffic" if w.status == "empty" else f"too few (< {rep.options.min_records})"
            cells += [Text(note, style="dim"), "", "", "", "", ""]
        else:
            lat = g.latency_ms
            ci = g.success_rate_ci95
            cells.append("-" if g.success_rate is None else f"{g.success_rate:.2%}")
            cells.append("-" if ci is None else f"{ci[0]:.1%}-{ci[1]:.1%}".replace("%-", "-"))
            for p in ("p50", "p95", "p99"):
                v = getattr(lat, p)
                cells.append("-" if v is None else f"{v:,.1f}" + ("*" if p in lat.insufficient else ""))
            cells.append("-" if g.confidence.low_share is None else f"{g.confidence.low_share:.1%}")
        if out_of_range:
            cells.append("-" if g.predictions_out_of_range is None else str(g.predictions_out_of_range))
        if has_drift:
            cells.append(str(len(w.drifted)) if w.status == "ok" else "-")
        if smoothed:
            sm = dict(w.smoothed)
            cells.append(_fmt("success_rate", sm.get("success_rate")))
            cells.append(_fmt("latency_ms.p99", sm.get("latency_ms.p99")))
        crit = sum(a.severity.value == "critical" for a in breaches)
        warn = len(breaches) - crit
        marks = " ".join(x for x in (f"{crit}!!" if crit else "", f"{warn}!" if warn else "") if x)
        cells.append(Text(marks, style="bold red" if crit else "yellow") if marks else "")
        rows.append(cells)
    cap = [f"latency percentiles: {latency_method(rep)}; * marks too few values above it to trust"]
    cap.append("crossed: thresholds crossed in that window, !! critical, ! warning (the JSON names them)")
    if windows and windows[-1].partial:
        cap.append("~ partial: the selection ends before the window does; req/s over the span it covers"
                   + ("; not judged (--include-partial judges it)" if rep.partial_excluded else ""))
    of = "" if group is None else f", {safe(rep.by or '')} {safe(group_label(group.group))}"
    return FitTable(
        cols,
        rows,
        title=f"Windows of {every_text(rep)} ({rep.options.timezone}){of}, latency in ms",
        caption="\n".join(cap) if group is (rep.groups[-1] if rep.groups else None) else None,
    )


def _drift_table(rep: TrendReport, group: TrendGroup | None = None) -> FitTable:
    windows = group.windows if group is not None else rep.windows
    features = [f.name for f in next((w.features for w in windows if w.features), ())]
    shown = features[:MAX_FEATURE_COLUMNS]
    cols = [Col("window start"), *(Col(safe(name), priority=i + 1) for i, name in enumerate(shown))]
    cols.append(Col("drifted", "text", priority=0))
    rows: list[list[Cell]] = []
    for w, start in zip(windows, _starts(windows), strict=True):
        by_name = {f.name: f for f in w.features}
        cells: list[Cell] = [start]
        for name in shown:
            f = by_name.get(name)
            if f is None or f.effect_size is None or w.status != "ok":
                cells.append("-")
            else:
                cells.append(Text(f"{f.effect_size:.2f}" + ("!" if f.drift else ""),
                                  style="bold red" if f.drift else ""))
        cells.append(_t(", ".join(w.drifted)) if w.status == "ok" else Text("-"))
        rows.append(cells)
    caption = None
    if len(features) > len(shown):
        caption = f"{len(shown)} of {len(features)} features shown; the JSON has all"
    of = "" if group is None else f", {safe(rep.by or '')} {safe(group_label(group.group))}"
    title = (f"Drift by window{of}: effect (KS D for numbers, total variation for categories"
             + ("; multivariate: the rise of the PCA reconstruction error in reference sd"
                if "multivariate" in features else "") + "), ! = drift")
    return FitTable(cols, rows, title=title, caption=caption)


def trend_table(rep: TrendReport, *, sparklines: bool = True, quiet: bool = False) -> RenderableType:
    if quiet:
        return Group(verdict(rep.records, rep.alerts, fresh=rep.freshness), alert_lines(rep.alerts))
    head = f"{rep.records:,} records in {len(rep.windows)} windows"
    if rep.without_timestamp:
        head += f"; {rep.without_timestamp:,} without a timestamp (in no window)"
    if rep.filtered_out:
        head += f"; {rep.filtered_out:,} outside the selected range"
    if rep.out_of_order:
        head += (f"; {rep.out_of_order:,} out of time order (record windows follow read order, so they "
                 "may overlap in time: sort the log by time, or use a clock window such as --every 1h)")
    if rep.baseline_source:
        head += f"; drift against {rep.baseline_source}"
    parts: list[RenderableType] = [verdict(rep.records, rep.alerts, fresh=rep.freshness), _t(head)]
    if rep.windows:  # an empty selection has no rows: the records alert below says so
        parts.append(_window_table(rep))
    if any(w.features for w in rep.windows):
        parts.append(_drift_table(rep))
    for g in rep.groups:
        parts.append(_window_table(rep, g))
        if any(w.features for w in g.windows):
            parts.append(_drift_table(rep, g))
    if rep.quality is not None:
        from mlmon.report.quality import accounting_line, windows_table

        parts += [windows_table(rep.quality, rep.quality_windows), Text(accounting_line(rep.quality))]
    if sparklines and len(rep.windows) > 1:
        parts.append(SparkTable(rep))
    parts.append(_input_table(rep.input))
    parts.append(alerts_table(rep.alerts))
    if rep.alerts or any(rep.breaches):
        parts.append(Text("The exit code follows the last complete window: a rule fires when crossed in "
                          "each of the last --for windows."))
    return Group(*parts)
