"""The log's and the baseline's distribution of each feature, side by side, for plots."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlmon.stats.drift import DriftAccumulator

MAX_POINTS = 101
"""ECDF points kept per numeric feature (of the baseline's up to 1,001 edges): a plot needs no more."""
MAX_CATEGORIES = 20
"""Categories kept per categorical feature (the most common of training and of the log)."""


@dataclass(frozen=True)
class NumericDistribution:
    """Empirical CDFs of one numeric feature at the same points (the baseline's quantile edges)."""

    name: str
    x: tuple[float, ...]
    baseline_cdf: tuple[float, ...]
    """Share of training values <= x."""
    log_cdf: tuple[float, ...]
    """Share of the log's values <= x (empty when the log has none)."""
    log_n: int
    log_below: float
    """Share of the log's values below the smallest training value."""
    log_above: float
    """Share of the log's values above the largest training value."""


@dataclass(frozen=True)
class CategoryShare:
    category: str
    """As written in the log or the training data: untrusted text."""
    baseline_share: float
    log_share: float
    unseen: bool
    """Training never had this category."""


@dataclass(frozen=True)
class CategoricalDistribution:
    name: str
    shares: tuple[CategoryShare, ...]
    log_n: int
    other_baseline_share: float
    """Share of training values in categories not listed."""
    other_log_share: float


Distribution = NumericDistribution | CategoricalDistribution


def _numeric(name: str, acc: DriftAccumulator) -> NumericDistribution:
    st = acc.numeric[name]
    st.count_pending()
    edges = np.asarray(st.profile.edges, dtype=np.float64)
    base = np.asarray(st.profile.cdf, dtype=np.float64)
    counts = st.counts
    m = int(counts.sum())
    if len(edges) == 0:
        return NumericDistribution(name, (), (), (), m, 0.0, 0.0)
    keep = np.unique(np.linspace(0, len(edges) - 1, min(MAX_POINTS, len(edges))).round().astype(int))
    if m:
        upto = np.cumsum(counts)[1 : 2 * len(edges) : 2]  # slot 2j+1 closes edge j: values <= edge j
        log = tuple(float(v) for v in upto[keep] / m)
        below = float(counts[0]) / m
        above = float(counts[-1]) / m
    else:
        log, below, above = (), 0.0, 0.0
    return NumericDistribution(
        name, tuple(float(v) for v in edges[keep]), tuple(float(v) for v in base[keep]), log, m, below, above
    )


def _categorical(name: str, acc: DriftAccumulator) -> CategoricalDistribution:
    c = acc.categorical[name]
    prof = next(f.categorical for f in acc.baseline.features if f.name == name)
    assert prof is not None
    base_total = sum(v for _, v in prof.counts) or 1
    unseen = {s.name: s.count for s in c.unseen.result(MAX_CATEGORIES).top} if c.unseen.total else {}
    log_total = c.total()
    denom = log_total or 1
    base = dict(prof.counts)
    names = sorted(
        set(base) | set(c.seen) | set(unseen),
        key=lambda k: (-max(base.get(k, 0) / base_total, (c.seen.get(k, 0) + unseen.get(k, 0)) / denom), k),
    )[:MAX_CATEGORIES]
    shares = tuple(
        CategoryShare(k, base.get(k, 0) / base_total, (c.seen.get(k, 0) + unseen.get(k, 0)) / denom,
                      k not in base or base[k] == 0)
        for k in names
    )
    return CategoricalDistribution(
        name,
        shares,
        log_total,
        max(0.0, 1.0 - sum(s.baseline_share for s in shares)),
        max(0.0, 1.0 - sum(s.log_share for s in shares)) if log_total else 0.0,
    )


def distributions(acc: DriftAccumulator) -> tuple[Distribution, ...]:
    """Each baseline feature's distribution in the baseline and in what `acc` has taken."""
    acc.settle()
    out: list[Distribution] = []
    for f in acc.baseline.features:
        if f.name in acc.numeric:
            out.append(_numeric(f.name, acc))
        elif f.name in acc.categorical:
            out.append(_categorical(f.name, acc))
    return tuple(out)
