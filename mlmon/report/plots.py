"""The report's plots: matplotlib figures drawn to inline SVG, each with a title and alt text.

Plots take the report's JSON documents (plain dicts), so what they draw is what the JSON says.
Every text that came from a log or a config is escaped with `safe` before matplotlib sees it,
and matplotlib's math parsing is off, so a `$` in a category name is a dollar sign."""

from __future__ import annotations

import html
import io
import logging
import textwrap
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
from matplotlib.figure import Figure

from mlmon.report.render import safe

# Okabe-Ito: told apart with each common colour-vision deficiency, and in greyscale by line style
BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREEN = "#009E73"
ORANGE = "#E69F00"
SKY = "#56B4E9"
PURPLE = "#CC79A7"
BLACK = "#000000"
SERIES = (BLUE, VERMILLION, GREEN, ORANGE, SKY, PURPLE, BLACK)

_RC = {
    "svg.fonttype": "none",  # text stays text: small, selectable, found by a search
    "font.family": "sans-serif",
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=SERIES),
    "text.parse_math": False,
    "text.usetex": False,
    "path.simplify": True,
    "figure.dpi": 72,
}


class Plots:
    """Draws the report's figures; each figure's SVG ids are unique within the page."""

    def __init__(self) -> None:
        self.count = 0

    @contextmanager
    def figure(self, width: float, height: float, *, fixed: bool = True) -> Iterator[Figure]:
        """A figure with fixed margins (numbers on the axes: fast), or laid out to fit its labels
        (`fixed=False`, for category names of any length)."""
        with mpl.rc_context(_RC), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a missing glyph for a log's odd character is no error
            logging.getLogger("matplotlib").setLevel(logging.ERROR)
            if fixed:
                fig = Figure(figsize=(width, height))
                fig.subplots_adjust(left=0.72 / width, right=1 - 0.15 / width, bottom=0.5 / height,
                                    top=1 - 0.28 / height, hspace=0.45)
                yield fig
            else:
                yield Figure(figsize=(width, height), layout="constrained")

    def svg(self, fig: Figure, title: str, desc: str) -> str:
        """The figure as an inline `<svg>` with `<title>` and `<desc>` (its accessible name and
        description); `title` and `desc` are escaped here."""
        self.count += 1
        ident = f"fig{self.count}"
        buf = io.StringIO()
        with mpl.rc_context({**_RC, "svg.hashsalt": ident}), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None,
                                                     "Type": None})
        text = buf.getvalue()
        text = text[text.index("<svg"):]
        end = text.index(">") + 1
        head = text[:end].replace(
            "<svg ", f'<svg role="img" aria-labelledby="{ident}-t {ident}-d" id="{ident}" ', 1
        )
        alt = (f'<title id="{ident}-t">{html.escape(safe(title))}</title>'
               f'<desc id="{ident}-d">{html.escape(safe(desc))}</desc>')
        body = text[end:]
        # matplotlib's own <metadata> block (an RDF with no content once Date etc. are None)
        if "<metadata>" in body:
            a, _, rest = body.partition("<metadata>")
            body = a + rest.partition("</metadata>")[2]
        return head + alt + body


def wrapped(text: str, width_in: float) -> str:
    """A title broken into lines that fit a figure `width_in` inches wide (long names wrap rather
    than run off the figure's edge)."""
    chars = max(20, int(width_in * 11.5))
    return textwrap.fill(text, chars, break_long_words=True, break_on_hyphens=False)


def short(text: str, n: int = 28) -> str:
    """A tick label cut to `n` characters, with an ellipsis when cut (the full text is in the
    plot's description and the tables)."""
    return text if len(text) <= n else text[: n - 1] + "…"


def _bar_legend(fig: Figure, ax: Any, title: str) -> None:
    """Title and legend of a bar chart with category labels: on the figure, not the axes, so a
    long label column leaves them whole; the legend below the plot, where no bar is."""
    fig.suptitle(wrapped(title, 4.6), fontsize=9.5)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", fontsize=7, frameon=False,
               ncols=4)


def _times(windows: Sequence[dict[str, Any]]) -> list[datetime]:
    return [datetime.fromisoformat(w["window_start"].replace("Z", "+00:00")) for w in windows]


def _date_axis(ax: Any) -> None:
    loc = mdates.AutoDateLocator(maxticks=6)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


def _limit_lines(ax: Any, limit: dict[str, Any] | None, unit: str = "") -> None:
    if not limit:
        return
    for key, style, color in (("warning", "--", ORANGE), ("critical", "-", VERMILLION)):
        v = limit.get(key)
        if v is not None:
            ax.axhline(v, linestyle=style, color=color, linewidth=1.0, label=f"{key} limit {v:g}{unit}")


def health(p: Plots, label: str, windows: Sequence[dict[str, Any]], every: str,
           limits: dict[str, Any]) -> str:
    """Requests, success rate (with its 95% interval) and latency p50/p95/p99 per window."""
    label = safe(label)
    t = _times(windows)
    long = len(wrapped(f"{label}: success rate with its 95% interval", 7.2).splitlines()) > 1
    with p.figure(7.2, 6.2 if long else 5.4, fixed=not long) as fig:
        ax1, ax2, ax3 = fig.subplots(3, 1, sharex=True)
        ax1.bar(t, [w["records"] for w in windows], width=_bar_width(t), color=SKY, edgecolor=BLUE,
                linewidth=0.4, align="edge")
        ax1.set_ylabel("requests per window")
        ax1.set_title(wrapped(f"{label}: requests per {every} window", 7.2))
        rate = [w["success_rate"] for w in windows]
        ci = [w["success_rate_ci95"] for w in windows]
        lo = [c[0] if c else float("nan") for c in ci]
        hi = [c[1] if c else float("nan") for c in ci]
        ax2.fill_between(t, [x * 100 for x in lo], [x * 100 for x in hi], color=GREEN, alpha=0.25,
                         linewidth=0, label="95% interval (Wilson)")
        ax2.plot(t, [x * 100 if x is not None else float("nan") for x in rate], color=GREEN,
                 marker=".", label="success rate")
        _limit_lines(ax2, _scaled(limits.get("success_rate"), 100), "%")
        ax2.set_ylabel("success rate (%)")
        ax2.set_title(wrapped(f"{label}: success rate with its 95% interval", 7.2))
        ax2.legend(loc="best", fontsize=7, frameon=False)
        for key, style, color in (("p50", ":", BLUE), ("p95", "--", ORANGE), ("p99", "-", VERMILLION)):
            ax3.plot(t, [_get(w, "latency_ms", key) for w in windows], linestyle=style, color=color,
                     marker=".", label=key)
        _limit_lines(ax3, limits.get("latency_ms.p95"), " ms (p95)")
        _limit_lines(ax3, limits.get("latency_ms.p99"), " ms (p99)")
        ax3.set_ylabel("latency (ms)")
        ax3.set_xlabel("window start (UTC)" if windows and windows[0]["window_start"].endswith("Z")
                       else "window start")
        ax3.set_title(wrapped(f"{label}: latency percentiles", 7.2))
        ax3.legend(loc="best", fontsize=7, frameon=False, ncols=3)
        _date_axis(ax3)
        n = sum(w["records"] for w in windows)
        return p.svg(fig, f"Serving health of {label}",
                     f"{len(windows)} windows of {every}, {n} requests: requests per window, success rate "
                     "with its 95% interval, and latency p50, p95 and p99 in milliseconds, with the limits "
                     "given drawn as horizontal lines.")


def _scaled(limit: dict[str, Any] | None, k: float) -> dict[str, Any] | None:
    if not limit:
        return None
    return {key: (v * k if isinstance(v, int | float) else v) for key, v in limit.items()}


def _get(w: dict[str, Any], a: str, b: str) -> float:
    v = (w.get(a) or {}).get(b)
    return float("nan") if v is None else float(v)


def _bar_width(t: list[datetime]) -> float:
    if len(t) < 2:
        return 0.02
    return float(mdates.date2num(t[1]) - mdates.date2num(t[0])) * 0.9


def numeric_distribution(p: Plots, d: dict[str, Any], effect: str) -> str:
    """The baseline's and the log's empirical CDFs of one numeric feature."""
    name = safe(d["name"])
    title = wrapped(f"{name}: cumulative distribution", 4.6)
    with p.figure(4.6, 2.9, fixed="\n" not in title) as fig:
        ax = fig.subplots()
        ax.step(d["x"], d["baseline_cdf"], where="post", color=BLUE, linestyle="--", label="baseline")
        if d["log_cdf"]:
            ax.step(d["x"], d["log_cdf"], where="post", color=VERMILLION, label=f"log (n={d['log_n']})")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(wrapped(f"{name} (value, unit as logged)", 4.6))
        ax.set_ylabel("share of values ≤ x")
        ax.set_title(title)
        ax.legend(loc="lower right", fontsize=7, frameon=False)
        out = f" {d['log_below']:.1%} of the log is below and {d['log_above']:.1%} above the training range."
        return p.svg(fig, f"Distribution of {name}: baseline and log",
                     f"Empirical cumulative distributions of {name} in the training baseline (dashed) and "
                     f"in the log (solid); {effect}.{out}")


def categorical_distribution(p: Plots, d: dict[str, Any], effect: str) -> str:
    """Category shares in the baseline and in the log; categories training never had are hatched."""
    name = safe(d["name"])
    shares = d["shares"]
    labels = [short(safe(s["category"])) + (" (unseen)" if s["unseen"] else "") for s in shares]
    y = list(range(len(shares)))
    with p.figure(4.6, max(1.9, 1.2 + 0.28 * len(shares)), fixed=False) as fig:
        ax = fig.subplots()
        ax.barh([v - 0.2 for v in y], [s["baseline_share"] * 100 for s in shares], height=0.4,
                color=BLUE, label="baseline")
        bars = ax.barh([v + 0.2 for v in y], [s["log_share"] * 100 for s in shares], height=0.4,
                       color=VERMILLION, label="log")
        for bar, s in zip(bars, shares, strict=True):
            if s["unseen"]:
                bar.set_hatch("///")
                bar.set_edgecolor(BLACK)
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.set_xlabel("share of values (%)")
        _bar_legend(fig, ax, f"{name}: category shares")
        unseen = [safe(s["category"]) for s in shares if s["unseen"]]
        extra = f" Categories training never had: {', '.join(unseen)}." if unseen else ""
        return p.svg(fig, f"Categories of {name}: baseline and log",
                     f"Share of each category of {name} in the training baseline and in the log; "
                     f"{effect}.{extra}")


def feature_over_time(p: Plots, name: str, windows: Sequence[dict[str, Any]], every: str) -> str:
    """One feature's drift effect per window, with its 95% bounds; drifted windows marked."""
    rows: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for w in windows:  # a window without the feature (no traffic) is a gap in the line
        f = next((f for f in w.get("features", ()) if f["name"] == name), None)
        rows.append((w, f or {"effect_size": None, "effect_low": None, "effect_high": None,
                              "effect_measure": None, "drift": False, "_none": True}))
    t = _times([w for w, _ in rows])
    eff = [f["effect_size"] if f["effect_size"] is not None else float("nan") for _, f in rows]
    lo = [f["effect_low"] if f["effect_low"] is not None else float("nan") for _, f in rows]
    hi = [f["effect_high"] if f["effect_high"] is not None else float("nan") for _, f in rows]
    measure = next((f["effect_measure"] for _, f in rows if f["effect_measure"]), "effect")
    label = safe(name)
    title = wrapped(f"{label}: drift per {every} window", 4.6)
    with p.figure(4.6, 2.9, fixed="\n" not in title) as fig:
        ax = fig.subplots()
        ax.fill_between(t, lo, hi, color=SKY, alpha=0.35, linewidth=0, label="95% bounds")
        ax.plot(t, eff, color=BLUE, marker=".", label=measure)
        dt = [x for x, (_, f) in zip(t, rows, strict=True) if f["drift"]]
        de = [e for e, (_, f) in zip(eff, rows, strict=True) if f["drift"]]
        if dt:
            ax.plot(dt, de, linestyle="none", marker="X", color=VERMILLION, markersize=6, label="drift")
        ax.set_ylim(bottom=0)
        ax.set_ylabel(f"effect ({measure}, 0-1)")
        utc = bool(rows) and rows[0][0]["window_start"].endswith("Z")
        ax.set_xlabel("window start (UTC)" if utc else "window start")
        ax.set_title(title)
        ax.legend(loc="best", fontsize=7, frameon=False, ncols=3)
        _date_axis(ax)
        return p.svg(fig, f"Drift of {label} over time",
                     f"The {measure} effect of {label} against the baseline in each {every} window, with "
                     f"its 95% bounds; {len(dt)} of {sum('_none' not in f for _, f in rows)} windows "
                     "with values drifted.")


def classes(p: Plots, groups: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """Predicted class shares per model version."""
    names: list[str] = []
    for _, g in groups:
        for c in g["classes"]:
            if c["name"] not in names:
                names.append(c["name"])
    names = names[:15]
    y = list(range(len(names)))
    k = max(len(groups), 1)
    h = 0.8 / k
    with p.figure(4.6, max(1.9, 1.2 + 0.3 * len(names) * max(1, k / 2)), fixed=False) as fig:
        ax = fig.subplots()
        for i, (label, g) in enumerate(groups):
            share = {c["name"]: c["share"] for c in g["classes"]}
            ax.barh([v - 0.4 + h * (i + 0.5) for v in y], [share.get(n, 0.0) * 100 for n in names],
                    height=h, color=SERIES[i % len(SERIES)], label=short(safe(label)))
        ax.set_yticks(y, [short(safe(str(n))) for n in names])
        ax.invert_yaxis()
        ax.set_xlabel("share of predictions (%)")
        _bar_legend(fig, ax, "Predicted classes per model version")
        return p.svg(fig, "Predicted classes per model version",
                     f"Share of each of the {len(names)} most frequent predicted classes, for each of "
                     f"{len(groups)} model versions.")


def confidence(p: Plots, groups: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """The confidence histogram per model version, as shares of its predictions."""
    with p.figure(4.6, 3.2, fixed=False) as fig:
        ax = fig.subplots()
        labels: list[str] = []
        k = max(len(groups), 1)
        w = 0.8 / k
        for i, (label, g) in enumerate(groups):
            hist = g["confidence"]["histogram"]
            labels = [b for b, _ in hist]
            total = sum(c for _, c in hist) or 1
            ax.bar([j - 0.4 + w * (i + 0.5) for j in range(len(hist))], [c / total * 100 for _, c in hist],
                   width=w, color=SERIES[i % len(SERIES)], label=short(safe(label)))
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.set_xlabel("confidence of the predicted class (bucket)")
        ax.set_ylabel("share of predictions (%)")
        _bar_legend(fig, ax, "Prediction confidence per model version")
        return p.svg(fig, "Prediction confidence per model version",
                     f"Histogram of the prediction confidence for each of {len(groups)} model versions, "
                     "as shares of each version's predictions.")


def quality_over_time(p: Plots, windows: Sequence[dict[str, Any]], every: str, names: Sequence[str],
                      labels: dict[str, str]) -> str:
    """The realized quality's headline metrics per window: the first with its 95% interval."""
    t = _times(windows)
    shown = [n for n in names if any(w["metrics"].get(n, {}).get("value") is not None for w in windows)][:3]
    regression = "mae" in names
    with p.figure(7.2, 2.9) as fig:
        ax = fig.subplots()
        for i, (n, style) in enumerate(zip(shown, ("-", "--", ":"), strict=False)):
            vals = [_get(w["metrics"], n, "value") for w in windows]
            if i == 0:
                ax.fill_between(t, [_get(w["metrics"], n, "low") for w in windows],
                                [_get(w["metrics"], n, "high") for w in windows], color=SKY, alpha=0.35,
                                linewidth=0, label=f"{labels[n]}: 95% interval")
            ax.plot(t, vals, color=SERIES[i], linestyle=style, marker=".", label=labels[n])
        ax.set_ylabel("error (unit as logged)" if regression else "metric value (0-1)")
        utc = bool(windows) and windows[0]["window_start"].endswith("Z")
        ax.set_xlabel("window start (UTC)" if utc else "window start")
        ax.set_title(f"Realized quality per {every} window")
        ax.legend(loc="best", fontsize=7, frameon=False, ncols=2)
        _date_axis(ax)
        n = sum(w["labelled"] for w in windows)
        return p.svg(fig, "Realized quality over time",
                     f"{', '.join(labels[x] for x in shown)} of the labelled predictions in each {every} "
                     f"window ({n} labelled in {len(windows)} windows), the first with its 95% interval.")
