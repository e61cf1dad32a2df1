"""Realized performance (labels joined to predictions) as JSON and as tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.text import Text

from mlmon.api.documents import metric_json as metric_json
from mlmon.api.documents import metrics_json as metrics_json
from mlmon.api.documents import quality_json as quality_json
from mlmon.api.documents import windows_json as windows_json
from mlmon.escape import terminal
from mlmon.numfmt import number, percent
from mlmon.report.layout import Cell, Col, FitTable
from mlmon.stats.performance import Metric, Performance, Task
from mlmon.stats.summary import group_label

if TYPE_CHECKING:
    from mlmon.api.quality import VersusControl
    from mlmon.stats.performance import QualityReport

HEADLINE = {
    Task.CLASSIFICATION: ("accuracy", "macro_f1", "auc", "brier", "ece"),
    Task.REGRESSION: ("mae", "rmse", "mape"),
}
"""The metrics of the main table, per task; per-class metrics have a table of their own."""

LABELS = {"accuracy": "accuracy", "macro_f1": "macro-F1", "auc": "ROC AUC", "brier": "Brier",
          "ece": "ECE", "mae": "MAE", "rmse": "RMSE", "mape": "MAPE"}


def interval_cell(m: Metric | None, *, share: bool = False) -> str:
    """`0.8967 [0.8802, 0.9111]`, `-` (with nothing), or `- (why)` for a metric with no value."""
    if m is None:
        return "-"
    if m.value is None:
        return f"- ({m.reason})" if m.reason else "-"

    def f(x: float) -> str:
        return percent(x) if share else number(x)

    if m.low is None or m.high is None:
        return f(m.value)
    return f"{f(m.value)} [{f(m.low)}, {f(m.high)}]"


def accounting_line(q: QualityReport) -> str:
    a = q.accounting
    la = a.labels
    parts = [f"{a.labelled:,} of {a.predictions:,} predictions labelled"
             + (f" ({percent(a.coverage)} of those with a key)" if a.coverage is not None else "")]
    for n, what in ((a.without_label, "without a label yet"), (a.without_key, "without the join field"),
                    (a.duplicate_predictions, "sharing a key with another prediction (left out)"),
                    (a.ambiguous, "whose labels disagree (left out)"), (a.unusable, "not measurable")):
        if n:
            parts.append(f"{n:,} {what}")
    parts.append(f"{a.labels_without_prediction:,} labels without a prediction")
    w = a.waiting
    if w is not None:
        parts.append(f"{w.from_earlier:,} of the labelled read by earlier runs; waiting for the next runs: "
                     f"{w.predictions:,} predictions, {w.labels:,} labels")
        if w.expired_predictions or w.expired_labels:
            parts.append(f"dropped past the wait limits: {w.expired_predictions:,} predictions, "
                         f"{w.expired_labels:,} labels")
    if la.duplicates:
        parts.append(f"{la.duplicates:,} repeated label rows (used once)")
    if la.without_key:
        parts.append(f"{la.without_key:,} label rows without a key")
    unused = q.labels_input.reasons
    if any(unused.values()):
        why = ", ".join(f"{k}: {v:,}" for k, v in unused.items() if v)
        parts.append(f"labels-file lines not used: {why}")
    return "Labels: " + "; ".join(parts) + "."


def quality_tables(q: QualityReport, by: str | None) -> list[RenderableType]:
    """The headline metrics per group, the per-class metrics overall, and the join's accounting."""
    names = HEADLINE[q.task]
    cols = [Col(by or "group", "text"), Col("labelled", priority=1)]
    cols += [Col(LABELS[n], "text", priority=i + 2) for i, n in enumerate(names)]
    rows: list[list[Cell]] = []
    entries: list[tuple[str | None, bool, Performance]] = [(None, True, q.overall)]
    entries += [(g.group, False, g.performance) for g in q.groups]
    for group, overall, p in entries:
        label = Text(terminal(group_label(group, overall=overall)), style="bold" if overall else "")
        rows.append([label, f"{p.n:,}", *(interval_cell(p.get(n)) for n in names)])
    caption = "95% intervals in brackets: Wilson (accuracy), DeLong on the logit scale (AUC), " \
        "skew-corrected t (Brier, MAE, RMSE, MAPE), bootstrap (F1, ECE)."
    if q.overall.positive is not None:
        caption += f" AUC and Brier score take class {terminal(q.overall.positive)} as positive."
    out: list[RenderableType] = [
        FitTable(cols, rows, title="Realized performance", caption=caption),
    ]
    if q.task is Task.CLASSIFICATION and q.overall.classes:
        ccols = [Col("class", "text"), Col("precision", "text", priority=1),
                 Col("recall", "text", priority=2), Col("F1", "text", priority=3)]
        crows: list[list[Cell]] = []
        for c in q.overall.classes[:20]:
            crows.append([Text(terminal(c)), *(interval_cell(q.overall.get(f"{k}.{c}"))
                                                for k in ("precision", "recall", "f1"))])
        out.append(FitTable(ccols, crows, title="Per class (all labelled predictions)"))
    out.append(Text(accounting_line(q)))
    return out


def windows_table(q: QualityReport, windows: tuple[tuple[str, Performance], ...]) -> FitTable:
    """trend: the headline metrics window by window."""
    names = HEADLINE[q.task]
    cols = [Col("window", "text"), Col("labelled", priority=1)]
    cols += [Col(LABELS[n], "text", priority=i + 2) for i, n in enumerate(names)]
    rows: list[list[Cell]] = [
        [Text(terminal(start)), f"{p.n:,}", *(interval_cell(p.get(n)) for n in names)] for start, p in windows
    ]
    return FitTable(cols, rows, title="Realized performance by window",
                    caption="Each window holds the labelled predictions made in it; 95% intervals "
                    "in brackets.")


def versus_lines(versus: tuple[VersusControl, ...], control: str) -> list[RenderableType]:
    """compare --labels: one line per version, its accuracy (or MAE) minus the control's."""
    out: list[RenderableType] = []
    for v in versus:
        who = terminal(group_label(v.version))
        if v.difference is None:
            out.append(Text(f"{v.metric} of {who} against {terminal(control)}: not measured "
                            "(no labelled predictions on one side)"))
            continue
        bounds = "" if v.low is None or v.high is None else f" [{number(v.low)}, {number(v.high)}]"
        judged = "" if v.tolerance is None else f": {v.verdict.replace('_', ' ')} (tolerance {v.tolerance:g})"
        out.append(Text(f"{v.metric} of {who} minus {terminal(control)}'s: {number(v.difference)}{bounds} "
                        f"({number(v.value)} against {number(v.control_value)}; 95% interval){judged}",
                        style="bold red" if v.verdict == "worse" else ""))
    return out
