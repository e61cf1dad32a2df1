"""The report's plots with long names from a log: no text runs off its figure, every plot has a
title, axis labels and alt text, and every colour is one of the Okabe-Ito palette's (or a grey)."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytest.importorskip("matplotlib")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.text import Text  # noqa: E402,TC002

from mlmon.report import plots as pl  # noqa: E402

LONG = "fraud-detector-2026-11-01-build-4711-with-a-rather-long-release-tag"
FEATURE = "feature_with_a_rather_long_name_from_the_feature_store_v2"
CATEGORIES = ["Bundesrepublik Deutschland (Federal Republic of Germany), enterprise customers",
              "US", "a" * 120, "brand-new-segment-never-seen-in-training"]


def _window(i: int, *, empty: bool = False) -> dict[str, Any]:
    start = f"2026-11-02T{i:02d}:00:00Z"
    f = [] if empty else [{"name": FEATURE, "effect_size": 0.1 * (i % 3), "effect_low": 0.0,
                           "effect_high": 0.2, "effect_measure": "ks_d", "drift": i % 3 == 2}]
    return {"window_start": start, "records": 0 if empty else 300,
            "success_rate": None if empty else 0.98, "success_rate_ci95": None if empty else [0.96, 0.99],
            "latency_ms": {"p50": None if empty else 20.0, "p95": None if empty else 60.0,
                           "p99": None if empty else 90.0},
            "features": f}


WINDOWS = [_window(i, empty=i in (4, 5)) for i in range(10)]
GROUPS = [(LONG, {"classes": [{"name": c, "share": 0.25} for c in CATEGORIES],
                  "confidence": {"n": 10, "histogram": [["<=0.5", 2], ["0.5-0.9", 5], [">0.9", 3]]}}),
          ("v2", {"classes": [{"name": "US", "share": 1.0}],
                  "confidence": {"n": 4, "histogram": [["<=0.5", 1], ["0.5-0.9", 1], [">0.9", 2]]}})]


def _draw_all(p: pl.Plots) -> list[str]:
    limits = {"latency_ms.p99": {"warning": 100.0, "critical": 150.0},
              "success_rate": {"warning": 0.99, "critical": 0.95}}
    numeric = {"name": FEATURE, "x": [0.0, 1.0, 2.0], "baseline_cdf": [0.2, 0.6, 1.0],
               "log_cdf": [0.1, 0.5, 1.0], "log_n": 300, "log_below": 0.0, "log_above": 0.01}
    shares = {"name": FEATURE, "shares": [
        {"category": c, "baseline_share": 0.0 if i == 3 else 0.3, "log_share": 0.25, "unseen": i == 3}
        for i, c in enumerate(CATEGORIES)]}
    return [
        pl.health(p, LONG, WINDOWS, "1h", limits),
        pl.numeric_distribution(p, numeric, "ks_d 0.1"),
        pl.categorical_distribution(p, shares, "tv 0.2"),
        pl.feature_over_time(p, FEATURE, WINDOWS, "1h"),
        pl.classes(p, GROUPS),
        pl.confidence(p, GROUPS),
    ]


def _drawn_texts(fig: Any) -> list[Text]:
    """Titles, axis labels, legends and the tick labels inside the axes' ranges (matplotlib keeps
    labels of ticks beyond the range, which it does not draw)."""
    out: list[Text] = list(fig.texts)
    for leg in fig.legends:
        out += leg.get_texts()
    for ax in fig.axes:
        out += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        if ax.get_legend() is not None:
            out += ax.get_legend().get_texts()
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            out += [t.label1 for t in axis.get_major_ticks() if lo <= t.get_loc() <= hi]
    return out


def test_no_text_runs_off_its_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    figures = []
    real = pl.Plots.svg

    def keep(self: pl.Plots, fig: Any, title: str, desc: str) -> str:
        out = real(self, fig, title, desc)  # drawn (and laid out) first
        figures.append(fig)
        return out

    monkeypatch.setattr(pl.Plots, "svg", keep)
    _draw_all(pl.Plots())
    assert len(figures) == 6
    for fig in figures:
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        box = fig.bbox
        texts = [t for t in _drawn_texts(fig) if t.get_visible() and t.get_text().strip()]
        assert len(texts) > 5
        for t in texts:
            b = t.get_window_extent(renderer)
            assert box.x0 - 1 <= b.x0 and b.x1 <= box.x1 + 1, (t.get_text(), b, box)
            assert box.y0 - 1 <= b.y0 and b.y1 <= box.y1 + 1, (t.get_text(), b, box)


def test_every_plot_is_labelled_and_in_the_palette() -> None:
    svgs = _draw_all(pl.Plots())
    allowed = {c.lower() for c in pl.SERIES} | {"#ffffff"}
    for svg in svgs:
        assert svg.startswith('<svg role="img" aria-labelledby="')
        title = re.search(r"<title id=\"[^\"]+\">([^<]+)</title>", svg)
        desc = re.search(r"<desc id=\"[^\"]+\">([^<]+)</desc>", svg)
        assert title and desc and len(desc.group(1)) > 40
        colours = {c.lower() for c in re.findall(r"#[0-9a-fA-F]{6}\b", svg)}
        for c in colours - allowed:  # anything else is a grey (axes, text, grid)
            r, g, b = (int(c[i:i + 2], 16) for i in (1, 3, 5))
            assert r == g == b, (c, title.group(1))
    text = " ".join(svgs)
    # axis labels with units, on every kind of plot
    for label in ("requests per window", "success rate (%)", "latency (ms)", "share of values ≤ x",
                  "share of values (%)", "effect (ks_d, 0-1)", "share of predictions (%)",
                  "window start (UTC)", "(value, unit as logged)"):
        assert label in text, label
    # the empty windows are gaps, and the description counts only windows with values
    assert "of 8 windows with values drifted" in text
