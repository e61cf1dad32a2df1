"""Renderers: results to strict JSON or to rich tables. They return values; they never print."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from enum import Enum
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mlmon import __version__
from mlmon.api import DriftReport, SummaryReport
from mlmon.read.reader import Example, InputReport
from mlmon.rules.alerts import Alert, fmt_num, fmt_p, mean_deviation_text
from mlmon.stats.drift import FeatureDrift
from mlmon.stats.summary import GroupSummary

SCHEMA_VERSION = 1
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def safe(text: str) -> str:
    """Escape C0, DEL, C1 and bidi controls so log text cannot drive a terminal."""

    def esc(m: re.Match[str]) -> str:
        c = ord(m.group())
        return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"

    return _UNSAFE.sub(esc, text)


def plain(value: Any) -> Any:
    """Dataclasses, enums and tuples to JSON-ready values; non-finite floats become null."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _input_json(r: InputReport) -> dict[str, Any]:
    return {
        "lines": r.lines,
        "records": r.records,
        "bad_lines": r.bad_lines,
        "reasons": r.reasons,
        "files": [{**plain(f), "bad_lines": f.bad_lines} for f in r.files],
        "examples": plain(r.examples),
    }


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, allow_nan=False, sort_keys=False) + "\n"


def summary_json(rep: SummaryReport, *, by: str | None) -> str:
    overall = plain(rep.result.overall)
    overall.pop("group")
    doc = {
        "schema_version": SCHEMA_VERSION,
        "command": "summary",
        "mlmon_version": __version__,
        **overall,
        "records_read": rep.input.records,
        "filtered_out": rep.filtered_out,
        "by": by,
        "groups": plain(rep.result.groups),
        "input": _input_json(rep.input),
        "alerts": plain(rep.alerts),
    }
    return _dump(doc)


def drift_json(rep: DriftReport) -> str:
    doc = {
        "schema_version": SCHEMA_VERSION,
        "command": "drift",
        "mlmon_version": __version__,
        "records": rep.records,
        "records_read": rep.input.records,
        "filtered_out": rep.filtered_out,
        "baseline": {"source": rep.baseline_source, "rows": rep.baseline_rows},
        "features": plain(rep.features),
        "drifted": [f.name for f in rep.features if f.drift],
        "unknown_features": list(rep.unknown_features),
        "input": _input_json(rep.input),
        "alerts": plain(rep.alerts),
    }
    return _dump(doc)


def _num(v: float | None, fmt: str = ".2f") -> str:
    return "-" if v is None else format(v, fmt)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.2%}"


def _t(s: str, style: str = "") -> Text:
    return Text(safe(s), style=style)


def _group_table(rep: SummaryReport, by: str | None) -> Table:
    t = Table(title="Serving health", title_justify="left")
    t.add_column(_t(by or "group"))
    for name in ("records", "success rate", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms", "mean ms"):
        t.add_column(name, justify="right")
    for g in (rep.result.overall, *rep.result.groups):
        lat = g.latency_ms
        marks = {p: ("*" if p in lat.insufficient else "") for p in ("p50", "p95", "p99")}
        t.add_row(
            _t(g.group, "bold" if g.group == "(all)" else ""),
            str(g.records),
            f"{_pct(g.success_rate)} (n={g.success_n})",
            str(g.errors),
            _num(lat.p50) + marks["p50"],
            _num(lat.p95) + marks["p95"],
            _num(lat.p99) + marks["p99"],
            _num(lat.max),
            _num(lat.mean),
        )
    t.caption = "Percentiles are exact (numpy 'linear'); * marks too few values above it to trust."
    return t


def _behaviour_table(groups: tuple[GroupSummary, ...]) -> Table:
    t = Table(title="Model behaviour", title_justify="left")
    t.add_column("group")
    t.add_column("class shares")
    t.add_column("confidence mean", justify="right")
    t.add_column("low confidence", justify="right")
    t.add_column("numeric out of range", justify="right")
    for g in groups:
        shares = ", ".join(f"{safe(c.name)}: {c.share:.1%}" for c in g.classes[:8])
        if len(g.classes) > 8:
            shares += f", ... ({len(g.classes)} classes)"
        c = g.confidence
        low = "-" if c.low_share is None else f"{c.low_share:.1%} < {c.low_threshold:g} (n={c.n})"
        oor = (
            "-"
            if g.predictions_out_of_range is None
            else f"{g.predictions_out_of_range} of {g.prediction_values}"
        )
        t.add_row(_t(g.group), Text(shares or "-"), _num(c.mean, ".3f"), low, oor)
    return t


def _input_table(r: InputReport) -> Table:
    t = Table(title="Input", title_justify="left")
    t.add_column("file")
    t.add_column("lines", justify="right")
    t.add_column("records", justify="right")
    t.add_column("not used")
    for f in r.files:
        why = ", ".join(f"{k}: {v}" for k, v in f.reasons.items()) or "-"
        if f.truncated:
            why += f"; TRUNCATED: {f.truncated}"
        t.add_row(_t(f.source), str(f.lines), str(f.records), _t(why))
    if len(r.files) > 1:
        why = ", ".join(f"{k}: {v}" for k, v in r.reasons.items()) or "-"
        t.add_row(Text("total", style="bold"), str(r.lines), str(r.records), _t(why))
    return t


def alerts_table(alerts: tuple[Alert, ...]) -> RenderableType:
    if not alerts:
        return Text("No alerts.", style="green")
    t = Table(title="Alerts", title_justify="left")
    t.add_column("severity")
    t.add_column("metric")
    t.add_column("message")
    for a in alerts:
        style = "bold red" if a.severity.value == "critical" else "yellow"
        t.add_row(Text(a.severity.value.upper(), style=style), _t(a.metric), _t(a.message))
    return t


def summary_table(rep: SummaryReport, *, by: str | None) -> RenderableType:
    o = rep.result.overall
    head = Text(
        f"{o.records} records"
        + (f" from {o.first_timestamp} to {o.last_timestamp}" if o.first_timestamp else "")
        + (f" ({o.span_seconds:.0f} s, {o.requests_per_second:.2f} req/s)" if o.requests_per_second else "")
        + (f"; {rep.filtered_out} outside the selected range" if rep.filtered_out else "")
    )
    parts: list[RenderableType] = [head, _group_table(rep, by)]
    groups = (o, *rep.result.groups)
    if any(g.classes or g.confidence.n or g.prediction_values for g in groups):
        parts.append(_behaviour_table(groups))
    parts += [_input_table(rep.input), alerts_table(rep.alerts)]
    return Group(*parts)


def _effect_cell(f: FeatureDrift) -> str:
    if f.effect_size is None:
        return "-"
    return f"{f.effect_size:.3f} [{f.effect_low or 0.0:.3f}, {f.effect_high or 0.0:.3f}]"


def drift_table(rep: DriftReport) -> RenderableType:
    t = Table(
        title=Text(f"Drift against {safe(rep.baseline_source)} ({rep.baseline_rows} rows)"),
        title_justify="left",
    )
    for name, just in (
        ("feature", "left"),
        ("n", "right"),
        ("mean", "right"),
        ("baseline", "right"),
        ("mean dev", "right"),
        ("test", "left"),
        ("p adj", "right"),
        ("effect [95%]", "right"),
        ("PSI", "right"),
        ("W sd", "right"),
        ("drift", "left"),
    ):
        t.add_column(name, justify=just)  # type: ignore[arg-type]
    for f in rep.features:
        dev = mean_deviation_text(f)
        if f.mean_shift:
            dev += " !"
        verdict = Text("DRIFT", style="bold red") if f.drift else Text(f.status if f.status != "ok" else "no")
        extra = ""
        if f.unseen_share:
            extra = f"; unseen {f.unseen_share:.1%}: " + ", ".join(
                f"{safe(c)} {s:.1%}" for c, s in f.unseen_categories[:3]
            )
            if f.unseen_distinct > 3:
                extra += f" +{f.unseen_distinct - 3} more"
        t.add_row(
            _t(f.name),
            str(f.n),
            "-" if f.mean is None else fmt_num(f.mean),
            "-" if f.baseline_mean is None else fmt_num(f.baseline_mean),
            dev,
            f.test or "-",
            "-" if f.p_value_adjusted is None else fmt_p(f.p_value_adjusted),
            _effect_cell(f),
            _num(f.psi, ".3f"),
            _num(f.wasserstein_sd, ".3f"),
            Text.assemble(verdict, extra),
        )
    t.caption = (
        "effect: KS D (ks) or total variation (chi_square) [95% bounds]. drift = BH-adjusted p "
        "below --p-threshold and an upper bound at least --min-effect; '!' marks a significant "
        "mean deviation beyond --mean-tolerance"
    )
    head = Text(
        f"{rep.records} records"
        + (f"; {rep.filtered_out} outside the selected window" if rep.filtered_out else "")
    )
    parts: list[RenderableType] = [head, t]
    if rep.unknown_features:
        more = f" and {len(rep.unknown_features) - 10} more" if len(rep.unknown_features) > 10 else ""
        parts.append(
            _t("log features the baseline does not know (not checked): "
               + ", ".join(rep.unknown_features[:10]) + more)
        )
    return Group(*parts, _input_table(rep.input), alerts_table(rep.alerts))


def example_lines(examples: tuple[Example, ...]) -> list[str]:
    """Diagnostics for stderr: where the first unused lines are, escaped."""
    return [f"{safe(e.source)}:{e.line}: {e.reason}: {safe(e.text)}" for e in examples]
