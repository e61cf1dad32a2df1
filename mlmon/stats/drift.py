"""Feature drift against a baseline: KS and chi-square, effect sizes, mean deviation, BH correction."""

from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlmon.read.records import FEATURE_PREFIX, Kind
from mlmon.stats.baseline import Baseline, CategoricalProfile, NumericProfile

SMALL_SAMPLE = 10000
"""Up to this many values a side, KS p-values are scipy's exact ones (as `ks_2samp` does)."""
PSI_FLOOR = 1e-4
MIN_EXPECTED = 5.0
COUNT_BATCH = 1 << 17
"""Values of a numeric feature gathered before they are counted into the baseline's slots (1 MiB)."""


@dataclass(frozen=True)
class DriftOptions:
    p_threshold: float = 0.05
    min_effect: float = 0.1
    """KS D for numbers, PSI for categories; 0 gives the pure p-value rule."""
    mean_tolerance: float = 0.2
    min_samples: int = 30
    critical_effect: float = 0.25
    """Drift with an effect at or above this is critical rather than a warning."""


@dataclass
class _Numeric:
    profile: NumericProfile
    counts: np.ndarray
    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    small: list[np.ndarray] | None = field(default_factory=list)
    pending: list[np.ndarray] = field(default_factory=list)
    """Values not yet counted into `counts` (see `count_pending`)."""
    pending_n: int = 0
    edges: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.edges = np.asarray(self.profile.edges, dtype=np.float64)

    def count_pending(self) -> None:
        """Count the pending values into the slots: slot 2j holds values strictly between edge
        j-1 and edge j, slot 2j+1 values equal to edge j, the last slot values above all edges.

        Values are counted in sorted batches of up to COUNT_BATCH. When a batch has many more
        values than the baseline has edges, two binary searches per edge find every slot; else
        one search per value does (sorted values keep those searches cache-friendly)."""
        if not self.pending:
            return
        s = np.concatenate(self.pending)
        self.pending, self.pending_n = [], 0
        edges = self.edges
        if not len(edges):
            self.counts[0] += len(s)
            return
        s.sort()
        if len(s) > 2 * len(edges):
            below = np.searchsorted(s, edges, side="left")  # values < edge j
            upto = np.searchsorted(s, edges, side="right")  # values <= edge j
            self.counts[0 : 2 * len(edges) : 2] += below - np.concatenate(([0], upto[:-1]))
            self.counts[1::2] += upto - below
            self.counts[-1] += len(s) - upto[-1]
        else:
            idx = np.searchsorted(edges, s, side="left")
            slot = 2 * idx + (edges[np.minimum(idx, len(edges) - 1)] == s)
            self.counts += np.bincount(slot, minlength=len(self.counts))

    def update(self, v: np.ndarray) -> None:
        if len(v) == 0:
            return
        self.pending.append(v)
        self.pending_n += len(v)
        if self.pending_n >= COUNT_BATCH:
            self.count_pending()
        m = len(v)
        mean_b = float(v.mean())
        m2_b = float(((v - mean_b) ** 2).sum())
        self._merge_moments(m, mean_b, m2_b)
        if self.small is not None:
            self.small.append(v.copy())
            if sum(len(x) for x in self.small) > SMALL_SAMPLE:
                self.small = None

    def _merge_moments(self, m: int, mean_b: float, m2_b: float) -> None:
        n = self.n + m
        delta = mean_b - self.mean
        self.mean += delta * m / n
        self.m2 += m2_b + delta * delta * self.n * m / n
        self.n = n

    def merge(self, o: _Numeric) -> None:
        self.counts = self.counts + o.counts
        self.pending = self.pending + o.pending
        self.pending_n += o.pending_n
        if o.n:
            self._merge_moments(o.n, o.mean, o.m2)
        if self.small is not None and o.small is not None:
            self.small = self.small + o.small
            if sum(len(x) for x in self.small) > SMALL_SAMPLE:
                self.small = None
        else:
            self.small = None


class DriftAccumulator:
    """Mergeable drift state: per numeric feature a count per baseline edge (fixed size);
    per categorical feature a count per category."""

    def __init__(self, baseline: Baseline) -> None:
        self.baseline = baseline
        self.numeric: dict[str, _Numeric] = {}
        self.categorical: dict[str, Counter[str]] = {}
        for f in baseline.features:
            if f.numeric is not None:
                size = 2 * len(f.numeric.edges) + 1
                self.numeric[f.name] = _Numeric(f.numeric, np.zeros(size, dtype=np.int64))
            else:
                self.categorical[f.name] = Counter()

    @staticmethod
    def _values(table: pa.Table, present: set[str], name: str) -> pa.ChunkedArray | None:
        """The feature's non-null values in this table, or None when it has none."""
        col = FEATURE_PREFIX + name
        if col not in present or table.column(col).null_count == table.num_rows:
            return None
        return pc.drop_null(table.column(col))

    def update(self, table: pa.Table) -> None:
        present = set(table.column_names)  # one set per table: a lookup per feature is O(1)
        for name, st in self.numeric.items():
            if (values := self._values(table, present, name)) is not None:
                st.update(np.asarray(values.to_numpy(), dtype=np.float64))
        for name, counter in self.categorical.items():
            if (values := self._values(table, present, name)) is not None:
                for d in pc.value_counts(values.combine_chunks()).to_pylist():
                    counter[d["values"]] += int(d["counts"])

    def merge(self, other: DriftAccumulator) -> None:
        for name, st in other.numeric.items():
            self.numeric[name].merge(st)
        for name, c in other.categorical.items():
            self.categorical[name].update(c)

    def result(self, options: DriftOptions | None = None) -> tuple[FeatureDrift, ...]:
        o = options or DriftOptions()
        rows = []
        for f in self.baseline.features:
            if f.numeric is not None:
                self.numeric[f.name].count_pending()
                rows.append(_numeric_result(f.name, f.numeric, self.numeric[f.name], o))
            elif f.categorical is not None:
                rows.append(_categorical_result(f.name, f.categorical, self.categorical[f.name], o))
        return adjust(tuple(rows), o)


@dataclass(frozen=True)
class FeatureDrift:
    """One feature of the log against its baseline."""

    name: str
    kind: str
    n: int
    baseline_n: int
    status: str
    """`ok`, `insufficient_data` (fewer than --min-samples values) or `not_in_log`."""
    test: str | None
    """`ks` (two-sample Kolmogorov-Smirnov) or `chi_square` (2 x k homogeneity)."""
    statistic: float | None
    """KS D, or the chi-square statistic."""
    p_value: float | None
    p_value_adjusted: float | None
    """Benjamini-Hochberg across the features tested in this run."""
    p_method: str | None
    effect_size: float | None
    effect_measure: str | None
    """`ks_d` for numbers, `psi` for categories."""
    psi: float | None
    mean: float | None
    baseline_mean: float | None
    mean_deviation: float | None
    mean_deviation_kind: str | None
    """`relative` (|mean - base| / |base|), or `std` (in baseline standard deviations)
    where the baseline mean is near zero (|mean| < 0.1 std)."""
    mean_shift: bool
    """mean_deviation above --mean-tolerance."""
    drift: bool
    """adjusted p < --p-threshold and effect_size >= --min-effect."""
    unseen_categories: tuple[tuple[str, float], ...] = ()
    """Categories the training data never had: (name, share of the log)."""
    exact: bool = True
    """False when KS D was computed on the baseline's quantile grid (within one bin's mass)."""


def _mean_deviation(mean: float, p: NumericProfile) -> tuple[float, str]:
    base = p.mean
    if base == 0 or (p.std > 0 and abs(base) < 0.1 * p.std):
        if p.std > 0:
            return abs(mean - base) / p.std, "std"
        return abs(mean - base), "absolute"
    return abs(mean - base) / abs(base), "relative"


def ks_from_counts(p: NumericProfile, counts: np.ndarray, m: int) -> float:
    """KS D between the baseline's CDF and a sample counted into the baseline's edges.

    counts[2i] holds values in (edge i-1, edge i), counts[2i+1] values equal to edge i, and
    the last slot values above the last edge. With exact edges this is the exact D.

    On a quantile grid the baseline CDF is known only at the edges, so D is taken there
    alone: a lower bound within one bin's mass of the true D. (Comparing the log just below
    an edge with the baseline at the previous edge would add up to one bin's mass even when
    the log is the training data itself, and with millions of rows that bias alone is
    "significant".)
    """
    cdf = np.asarray(p.cdf)
    if not len(cdf):
        return 0.0
    cum = np.cumsum(counts) / m
    at_edge = cum[1::2]  # F_log(edge i)
    d = float(np.max(np.abs(at_edge - cdf)))
    if p.exact:
        # no training value lies strictly between two edges: the baseline CDF just below
        # edge i is its value at edge i-1
        below_edge = cum[0::2][: len(cdf)]  # F_log just below edge i
        prev_base = np.concatenate(([0.0], cdf[:-1]))
        d = max(d, float(np.max(np.abs(below_edge - prev_base))))
    return d


def _ks_pvalue(d: float, n: int, m: int) -> float:
    from scipy import stats

    big, small = sorted([float(n), float(m)], reverse=True)
    en = big * small / (big + small)
    return float(min(1.0, max(0.0, stats.kstwo.sf(d, round(en)))))


def _psi(expected: np.ndarray, actual: np.ndarray) -> float:
    e = np.maximum(expected, PSI_FLOOR)
    a = np.maximum(actual, PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def _numeric_psi(p: NumericProfile, counts: np.ndarray, m: int) -> float | None:
    """PSI on the baseline's deciles (cut at the edges where its CDF crosses k/10)."""
    cdf = np.asarray(p.cdf)
    if len(cdf) < 2:
        return None
    cuts = np.unique(np.searchsorted(cdf, np.arange(1, 10) / 10, side="left"))
    cuts = cuts[cuts < len(cdf) - 1]
    base_cum = np.concatenate((cdf[cuts], [1.0]))
    log_cum = np.concatenate((np.cumsum(counts)[2 * cuts + 1] / m, [1.0]))
    return _psi(np.diff(base_cum, prepend=0.0), np.diff(log_cum, prepend=0.0))


def _numeric_result(name: str, p: NumericProfile, st: _Numeric, o: DriftOptions) -> FeatureDrift:
    m = st.n
    mean = st.mean if m else None
    dev, dev_kind = _mean_deviation(st.mean, p) if m else (None, None)
    base = {"name": name, "kind": Kind.NUMERIC.value, "n": m, "baseline_n": p.n, "mean": mean,
                "baseline_mean": p.mean, "mean_deviation": dev, "mean_deviation_kind": dev_kind,
                "mean_shift": bool(m >= o.min_samples and p.n >= o.min_samples and dev is not None
                                  and dev > o.mean_tolerance), "exact": p.exact}
    if m == 0:
        return FeatureDrift(status="not_in_log", test=None, statistic=None, p_value=None,
                            p_value_adjusted=None, p_method=None, effect_size=None,
                            effect_measure=None, psi=None, drift=False, **base)  # type: ignore[arg-type]
    if m < o.min_samples or p.n < o.min_samples:
        return FeatureDrift(status="insufficient_data", test="ks", statistic=None, p_value=None,
                            p_value_adjusted=None, p_method=None, effect_size=None,
                            effect_measure="ks_d", psi=None, drift=False, **base)  # type: ignore[arg-type]
    if st.small is not None and p.exact and max(m, p.n) <= SMALL_SAMPLE:
        from scipy import stats

        per_edge = np.diff(np.round(np.asarray(p.cdf) * p.n), prepend=0).astype(np.int64)
        reference = np.repeat(np.asarray(p.edges), per_edge)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = stats.ks_2samp(reference, np.concatenate(st.small))
        # scipy falls back to the asymptotic p-value when the exact one fails (it warns)
        method = "asymptotic" if any("asymp" in str(w.message) for w in caught) else "exact"
        d, pval = float(res.statistic), float(res.pvalue)
    else:
        d = ks_from_counts(p, st.counts, m)
        pval, method = _ks_pvalue(d, p.n, m), "asymptotic"
    return FeatureDrift(status="ok", test="ks", statistic=d, p_value=pval, p_value_adjusted=None,
                        p_method=method, effect_size=d, effect_measure="ks_d",
                        psi=_numeric_psi(p, st.counts, m), drift=False, **base)  # type: ignore[arg-type]


def chi_square_table(base: dict[str, int], log: dict[str, int]) -> tuple[np.ndarray, list[str]]:
    """A 2 x k table of counts. Seen categories with an expected count under 5 merge into one
    column; categories the baseline never had form one `(unseen)` column of their own, which is
    never merged into a seen one (that would hide a renamed category)."""
    seen = [c for c in set(base) | set(log) if base.get(c, 0) > 0]
    cats = sorted(seen, key=lambda c: (-(base.get(c, 0) + log.get(c, 0)), c))
    cols = [[base.get(c, 0), log.get(c, 0)] for c in cats]
    names = list(cats)
    unseen = sum(v for c, v in log.items() if base.get(c, 0) <= 0)
    rows_total = np.array([sum(base.values()), sum(log.values())], dtype=float)
    grand = rows_total.sum()

    def min_expected(col: list[int]) -> float:
        return float(min(rows_total) * sum(col) / grand)

    # Columns are sorted by total, so the rare ones are a tail: pool all of them into one
    # column, then let the pool absorb the next smallest column until it is large enough.
    rare = next((i for i, col in enumerate(cols) if min_expected(col) < MIN_EXPECTED), len(cols))
    rare = max(rare, 1)
    if len(cols) - rare >= 2 and len(cols) > 2:
        pooled = [sum(c[0] for c in cols[rare:]), sum(c[1] for c in cols[rare:])]
        cols, names = cols[:rare] + [pooled], names[:rare] + ["(other)"]
    while len(cols) > 2 and min_expected(cols[-1]) < MIN_EXPECTED:
        last = cols.pop()
        names.pop()
        cols[-1] = [cols[-1][0] + last[0], cols[-1][1] + last[1]]
        names[-1] = "(other)"
    if unseen:
        cols.append([0, unseen])
        names.append("(unseen)")
    return np.array(cols, dtype=float).reshape(-1, 2).T, names


def _categorical_result(
    name: str, p: CategoricalProfile, counter: Counter[str], o: DriftOptions
) -> FeatureDrift:
    m = sum(counter.values())
    base = {"name": name, "kind": Kind.CATEGORICAL.value, "n": m, "baseline_n": p.n, "mean": None,
            "baseline_mean": None, "mean_deviation": None, "mean_deviation_kind": None,
            "mean_shift": False}
    base_counts = dict(p.counts)
    unseen = tuple(sorted(((c, v / m) for c, v in counter.items() if c not in base_counts),
                          key=lambda kv: (-kv[1], kv[0])))
    if m == 0:
        return FeatureDrift(status="not_in_log", test=None, statistic=None, p_value=None,
                            p_value_adjusted=None, p_method=None, effect_size=None,
                            effect_measure=None, psi=None, drift=False, **base)  # type: ignore[arg-type]
    if m < o.min_samples or p.n < o.min_samples:
        return FeatureDrift(status="insufficient_data", test="chi_square", statistic=None,
                            p_value=None, p_value_adjusted=None, p_method=None, effect_size=None,
                            effect_measure="psi", psi=None, drift=False,
                            unseen_categories=unseen, **base)  # type: ignore[arg-type]
    table, _ = chi_square_table(base_counts, dict(counter))
    if table.shape[1] < 2:
        stat, pval = 0.0, 1.0
    else:
        from scipy import stats

        res = stats.chi2_contingency(table, correction=False)
        stat, pval = float(res.statistic), float(res.pvalue)
    cats = [c for c, _ in p.counts]
    expected = np.array([base_counts[c] / p.n for c in cats] + [0.0])
    actual = np.array([counter.get(c, 0) / m for c in cats] + [sum(v for _, v in unseen)])
    psi = _psi(expected, actual)
    return FeatureDrift(status="ok", test="chi_square", statistic=stat, p_value=pval,
                        p_value_adjusted=None, p_method="asymptotic", effect_size=psi,
                        effect_measure="psi", psi=psi, drift=False, unseen_categories=unseen,
                        **base)  # type: ignore[arg-type]


def adjust(rows: tuple[FeatureDrift, ...], o: DriftOptions) -> tuple[FeatureDrift, ...]:
    """Benjamini-Hochberg across the tested features, then the drift verdict."""
    from dataclasses import replace

    tested = [i for i, r in enumerate(rows) if r.p_value is not None]
    if not tested:
        return rows
    from scipy import stats

    ps = np.array([rows[i].p_value for i in tested], dtype=float)
    adj = stats.false_discovery_control(ps, method="bh") if len(ps) > 1 else ps
    out = list(rows)
    for i, a in zip(tested, adj, strict=True):
        r = rows[i]
        a = float(min(1.0, a))
        effect = r.effect_size if r.effect_size is not None else 0.0
        drift = a < o.p_threshold and effect >= o.min_effect and not math.isnan(effect)
        out[i] = replace(r, p_value_adjusted=a, drift=drift)
    return tuple(out)
