"""Evidence over windows: features pooled over the latest windows, false alarms over the log controlled."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from mlmon.stats import effects as fx
from mlmon.stats.baseline import Baseline
from mlmon.stats.drift import DriftOptions, few_valued
from mlmon.stats.windows import Window

ALPHA = 0.05
"""Chance that a stationary log shows evidence in any of HORIZON windows, for any feature."""
HORIZON = 48
"""Windows the false-alarm rate ALPHA is stated over (two days of hourly windows). Each window
spends ALPHA / HORIZON, whatever the log's length, so `trend` run again as a log grows (cron)
tests each window once at the same level: ALPHA over 48 windows, 2 x ALPHA over 96."""
SCALES = (1, 2, 4, 8, 16, 32, 64)
"""Numbers of latest windows pooled (those up to the log's window count)."""
MIN_SHIFT = 0.05
"""A pooled mean shift counts only when its 95% upper bound reaches this many baseline standard
deviations: a shift the data prove smaller is no evidence, however many records there are."""


RANK_VARIANCE = 1 / 12
"""Variance of one value's mid-rank in the baseline when nothing changed (at most 1/12; less
with ties)."""


@dataclass(frozen=True)
class Evidence:
    """A feature's evidence ending at one window: the windows pooled, and the test."""

    feature: str
    first: str
    """Start of the first window pooled."""
    last: str
    """Start of the last window pooled (the window the evidence is found in)."""
    windows: int
    """Windows pooled (1 for a category's own drift test)."""
    n: int
    test: str
    """`pooled_rank` (continuous numbers: the pooled windows' mean rank in the baseline against
    0.5, a Mann-Whitney test of the pooled windows against the baseline sample) or
    `drift` (the window's own drift test, any feature)."""
    shift_sd: float | None
    """Pooled mean minus baseline mean, in baseline standard deviations (`pooled_rank`): the
    size of the shift, held to MIN_SHIFT."""
    p_value: float
    threshold: float
    """ALPHA over the tests of HORIZON windows (each window's scales and features)."""


def _z_sf2(z: float) -> float:
    """Two-sided normal tail."""
    return math.erfc(abs(z) / math.sqrt(2))


def accumulate(
    windows: Sequence[Window], baseline: Baseline, drift: DriftOptions | None = None, alpha: float = ALPHA,
) -> tuple[Evidence, ...]:
    """Every window at which some feature shows evidence, and the evidence.

    Numbers (continuous): at each window, the feature's values over the latest 1, 2, 4, ...
    windows against the baseline by their mean rank in it (records-weighted mean of each
    window's `mean_rank`; z against 0.5 with the variance 1/12 per value on both sides: a
    Mann-Whitney test, whose normal tail holds at these small thresholds for any shape, where a
    heavy-tailed feature's mean is far from normal); evidence when the two-sided p-value is below
    alpha / tests and the pooled mean's shift (in baseline std) reaches MIN_SHIFT at its 95%
    upper bound. Every feature, numbers too (a change of shape leaves the mean where it
    was): the window's own drift test and effect gate (drift's rule) at alpha / tests. `tests`
    counts HORIZON windows and every scale and feature ending at each, so a stationary log shows
    evidence in any of HORIZON windows with chance at most alpha (Bonferroni; windows share the
    baseline, which makes their tests slightly dependent), and the threshold does not depend on
    how long the log is. A persistent small shift adds up: 0.1 sd in windows of 500
    records is z = 2.2 in one window, 8.9 pooled over 16 (by the mean; 0.98 of that by the mean
    rank on normal data)."""
    o = drift or DriftOptions()
    ok = [i for i, w in enumerate(windows) if w.status == "ok" and w.features]
    if not ok:
        return ()
    count = len(windows)
    scales = [s for s in SCALES if s <= max(1, count)]
    profiles = {f.name: f for f in baseline.features}
    numeric = {name for name, f in profiles.items()
               if f.numeric is not None and not few_valued(f.numeric) and f.numeric.std > 0}
    per_window = sum(len(SCALES) + 1 if name in numeric else 1 for name in profiles)
    threshold = alpha / (HORIZON * max(1, per_window))
    out: list[Evidence] = []
    for end in range(count):
        w = windows[end]
        if w.status != "ok":
            continue
        for f in w.features:
            prof = profiles.get(f.name)
            if prof is None or f.status != "ok":
                continue
            ev = None
            if f.name in numeric and prof.numeric is not None:
                ev = _pooled(windows, end, f.name, prof.numeric.mean, prof.numeric.std, prof.numeric.n,
                             scales, threshold)
            if ev is None and f.p_value is not None and f.p_value < threshold and \
                    f.effect_high is not None and fx.at_least(f.effect_high, o.min_effect):
                ev = Evidence(f.name, w.window_start, w.window_start, 1, f.n, "drift", None,
                              f.p_value, threshold)
            if ev is not None:
                out.append(ev)
    return tuple(out)


def _pooled(
    windows: Sequence[Window], end: int, name: str, mean_b: float, std_b: float, n_b: int,
    scales: list[int], threshold: float,
) -> Evidence | None:
    """The strongest pooled-mean evidence for one feature ending at window `end`, or None."""
    best: Evidence | None = None
    for s in scales:
        if end + 1 < s:
            break
        n, total, ranks = 0, 0.0, 0.0
        for w in windows[end + 1 - s: end + 1]:
            f = next((x for x in w.features if x.name == name), None) if w.status == "ok" else None
            if f is not None and f.status == "ok" and f.mean is not None and f.mean_rank is not None and f.n:
                n += f.n
                total += f.mean * f.n
                ranks += f.mean_rank * f.n
        if not n:
            continue
        shift = (total / n - mean_b) / std_b
        se = math.sqrt(1 / n + 1 / n_b)
        # the test is on the pooled mean rank (bounded terms: its normal tail holds at the tiny
        # thresholds used here, where a heavy-tailed feature's mean is far from normal)
        p = _z_sf2((ranks / n - 0.5) / math.sqrt(RANK_VARIANCE * (1 / n + 1 / n_b)))
        reach = abs(shift) + 1.959963984540054 * se
        if p < threshold and fx.at_least(reach, MIN_SHIFT) and (best is None or p < best.p_value):
            best = Evidence(name, windows[end + 1 - s].window_start, windows[end].window_start, s, n,
                            "pooled_rank", shift, p, threshold)
    return best
