"""Feature drift against a baseline: KS and chi-square, effect bounds, mean deviation, BH correction."""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlmon.read.records import (
    CONFIDENCE,
    FEATURE_PREFIX,
    PRED_CLASS,
    PRED_VALUE,
    TYPE_ERRORS,
    Kind,
    normalize_category,
)
from mlmon.stats import effects as fx
from mlmon.stats import joint, novelty
from mlmon.stats.baseline import Baseline, CategoricalProfile, FeatureProfile, NumericProfile
from mlmon.stats.classes import ClassCounter
from mlmon.stats.edgeslots import native_counter
from mlmon.stats.moments import Moments
from mlmon.stats.prefetch import scipy_stats
from mlmon.stats.prefetch import start as prefetch_scipy
from mlmon.stats.quality import (
    MISSING_CRITICAL,
    MISSING_WARNING,
    OUT_OF_RANGE_CRITICAL,
    OUT_OF_RANGE_WARNING,
    fisher_greater_many,
    missing_level,
    missing_test,
    range_p_values,
    range_test,
)

SMALL_SAMPLE = 10000
"""Up to this many values a side, KS p-values are scipy's exact ones (as `ks_2samp` does)."""
MIN_EXPECTED = 5.0
MONTE_CARLO_BELOW = 10.0
"""A chi-square table with an expected count below this gets a Monte Carlo p-value: with small
expected counts the chi-square distribution understates the tail (a 5% flag in 100 values has
twice the nominal rate of p < 0.002), and BH's first steps live in that tail."""
MONTE_CARLO_DRAWS = (1_000, 19_000, 180_000)
"""Tables drawn with the observed margins, batch by batch: the next batch is drawn only while
the p-value so far is below the matching MONTE_CARLO_MORE (so a p-value is resolved to 1/20,001
when it is under 0.02, and to 1/200,001 when it is under 0.001, a tail `trend` tests at about
1e-5). The cuts fall from batch to batch, so the p-value is exact whatever batch it stops at:
P(p <= a) <= a for every a (a p-value at or above a cut came from the batch before it)."""
MONTE_CARLO_MORE = (0.02, 0.001)
MONTE_CARLO_SEED = 20261201
"""A fixed seed: the same counts give the same p-value on every run."""
HYPERGEOMETRIC_LIMIT = 1_000_000_000
"""numpy draws multivariate hypergeometric tables only for totals below this."""
FEW_VALUES = 20
"""A numeric feature with at most this many distinct training values (0/1 flags, small counts)
is tested on its value counts by chi-square: KS is very conservative on ties."""
TIED_VALUES = 50
"""Up to this many distinct training values, each seen TIED_REPEATS times on average (hour of
day, day of month, rounded scores), are counts too: KS on such ties found a one-hour shift of
hour of day in 33 of 50 runs of 1,000 values, where the counts' chi-square found 45, and its
stationary p <= 0.05 in only 0-2% of runs."""
TIED_REPEATS = 5


def few_valued(p: NumericProfile) -> bool:
    """Tested on value counts rather than by KS: see FEW_VALUES and TIED_VALUES."""
    k = len(p.edges)
    return p.exact and 0 < k and (k <= FEW_VALUES or (k <= TIED_VALUES and p.n >= TIED_REPEATS * k))


SMOOTH_ORDERS = (3, 6)
"""Orders of the smooth test for tied numbers (TIED_VALUES), the smaller p-value of the two
taken (smooth_min_p): order 3 (location, spread, skewness of the values) sees smooth changes
such as a shifted daily cycle best, order 6 changes with more shape (two daily peaks, one day
of the month, the top 5% moved). Over 26 plausible changes of tied features the pair needs on
average 0.85 of the smallest log size any single order or the chi-square needs for 90% power,
where the best single order (6) needs 0.81 and order 4 0.76, and at worst 0.32 (order 4: 0.11):
benchmarks/smooth_order.py."""


def smooth_min_p(orders: tuple[int, ...], p: float) -> float:
    """The p-value of the smaller of the smooth test's p-values at `orders` (one or two orders,
    rising), when the smaller is `p`: the chance under no change that either order's statistic
    reaches its chi-square quantile at p. The statistic of the higher order is the lower one's
    plus its further components, an independent chi-square (the components are independent
    standard normals under no change, the model whose chi-square tail each order's own p-value
    is), so that chance is P(T2 >= b) + the integral over t in [a, b) of the lower order's
    chi-square density at t times P(further components < b - t), with a and b the two orders'
    quantiles at p (Gauss-Legendre, 64 nodes: a smooth integrand on a short interval). Between
    p and twice p (Bonferroni)."""
    if len(orders) == 1 or not 0 < p < 1:
        return p
    from scipy import special

    k1, k2 = orders
    a = 2 * float(special.gammainccinv(k1 / 2, p))
    b = 2 * float(special.gammainccinv(k2 / 2, p))
    tail = float(special.gammaincc(k2 / 2, b / 2))
    if a < b:
        nodes, weights = _legendre()
        t = (b - a) / 2 * nodes + (a + b) / 2
        log_pdf = special.xlogy(k1 / 2 - 1, t) - t / 2 - special.gammaln(k1 / 2) - k1 / 2 * math.log(2)
        inner = special.gammainc((k2 - k1) / 2, (b - t) / 2)
        tail += (b - a) / 2 * float(np.sum(weights * np.exp(log_pdf) * inner))
    return float(min(2 * p, 1.0, max(p, tail)))


_GAUSS: list[tuple[np.ndarray, np.ndarray]] = []


def _legendre() -> tuple[np.ndarray, np.ndarray]:
    if not _GAUSS:
        _GAUSS.append(np.polynomial.legendre.leggauss(64))
    return _GAUSS[0]


def smooth_test(
    values: np.ndarray, base: np.ndarray, log: np.ndarray, orders: tuple[int, ...] = SMOOTH_ORDERS
) -> tuple[float, float, int]:
    """Neyman's smooth test of two samples given as counts over ordered distinct values:
    (statistic, p-value, components). The values are taken through the polynomials of degree 1
    .. k orthonormal under the pooled sample, and the statistic of order k is the sum over them
    of (log mean - baseline mean)^2 / (1/m + 1/n): the score test of a logistic regression of
    the sample label on those polynomials, N R^2 of the label regressed on them, chi-square with
    one degree of freedom per component. With two orders the p-value is that of the smaller of
    their two p-values (smooth_min_p), and the statistic and components those of the order that
    gave it. Exact with ties (it reads counts); it sees the order of the values, which the
    chi-square on the counts does not: a one-hour shift of hour of day moves every hour's share
    by the slope of the daily cycle, little per hour (23 degrees of freedom of the chi-square)
    but much in the low-order components."""
    stats = scipy_stats()
    n, m = float(base.sum()), float(log.sum())
    pooled = base + log
    keep = pooled > 0
    x, w = values[keep], pooled[keep] / (n + m)
    k = min(max(orders), int(keep.sum()) - 1)
    if k < 1 or not n or not m:
        return 0.0, 1.0, 0
    x = x - float(np.dot(w, x))
    sd = math.sqrt(float(np.dot(w, x * x)))
    if not sd > 0:
        return 0.0, 1.0, 0
    x = x / sd
    root = np.sqrt(w)[:, None]
    q, r = np.linalg.qr(np.vander(x, k + 1, increasing=True) * root)
    good = np.abs(np.diag(r)) > 1e-9 * abs(r[0, 0])  # a degree the few values cannot carry adds nothing
    h = (q / root)[:, 1:][:, good[1:]]
    if not h.shape[1]:
        return 0.0, 1.0, 0
    theta = (log[keep] / m) @ h - (base[keep] / n) @ h
    parts = theta**2 / (1 / m + 1 / n)
    ks = tuple(sorted({min(o, len(parts)) for o in orders}))
    found = [(float(stats.chi2.sf(float(np.sum(parts[:j])), j)), float(np.sum(parts[:j])), j) for j in ks]
    p, stat, df = min(found)
    return stat, smooth_min_p(ks, p), df


TAIL_QUANTILES = (0.001, 0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99, 0.999)
"""Cuts of the tail test's bins, as shares of the baseline: finer where KS is blind."""
TAIL_EXPECTED = 10.0
"""A cut q takes part only when the smaller sample expects this many values beyond it
(min(n, m) * min(q, 1 - q)): the chi-square distribution then holds in every bin."""
UNSEEN_TOP = 10
"""Unseen categories listed by name; the rest are counted (`unseen_distinct`, `unseen_other_share`)."""
TABLE_CELLS = 1 << 20
"""Values (rows x columns) of small tables held before they are taken together (8 MiB: scipy.stats
loads while the log is read, and this keeps a 1M-line drift's peak memory under 300 MB)."""
COUNT_BATCH = 1 << 17
"""Values of a numeric feature gathered before they are counted into the baseline's slots (1 MiB)."""


MIN_SAMPLES = 30
"""Default fewest values of a feature (in the log and in the baseline) for a drift test."""


@dataclass(frozen=True)
class DriftOptions:
    p_threshold: float = 0.05
    """Drift (and a mean deviation) need a BH-adjusted p-value below this."""
    min_effect: float = 0.05
    """KS D for continuous numbers, total variation for categories and few-valued numbers.
    A feature drifts unless the data show its effect is below this (the upper 95% bound of
    the effect is under it); 0 gives the pure p-value rule."""
    mean_tolerance: float = 0.2
    """A mean deviation alert needs the mean to move more than this share of the larger of
    |baseline mean| and baseline std."""
    min_samples: int = MIN_SAMPLES
    critical_effect: float = 0.25
    """Drift whose effect is at least this even at its lower 95% bound is critical."""
    max_unseen_share: float = 0.01
    """An unseen share proven (at --p-threshold) to exceed the share the baseline predicts
    (its Good-Turing missing mass) by more than this is an alert."""
    critical_unseen_share: float = 0.05
    """The same proven beyond this is critical (a CI gate on --fail-on critical fails on it)."""
    missing_warning: float | None = MISSING_WARNING
    """`missing_share.<feature>` warns when the missing share rose significantly above training's
    and the upper 95% bound of the rise reaches this (mlmon.stats.quality)."""
    missing_critical: float | None = MISSING_CRITICAL
    """... and is critical when even the lower 95% bound of the rise reaches this."""
    out_of_range_warning: float | None = OUT_OF_RANGE_WARNING
    """`out_of_range.<feature>` warns when more values than chance fall outside training's
    [min, max] and the upper 95% bound of their share reaches this."""
    out_of_range_critical: float | None = OUT_OF_RANGE_CRITICAL
    """... and is critical when even the lower 95% bound of the share reaches this."""


@dataclass
class _Numeric:
    profile: NumericProfile
    counts: np.ndarray
    moments: Moments = field(default_factory=Moments)
    tails: list[tuple[float, float]] = field(default_factory=list)
    """Per update, (below, above) of its values, summed in order when read (`below`, `above`)."""
    small: list[np.ndarray] | None = field(default_factory=list)
    pending: list[np.ndarray] = field(default_factory=list)
    """Values not yet counted into `counts` (see `count_pending`)."""
    pending_n: int = 0
    edges: np.ndarray = field(init=False, repr=False)
    _native_count: Callable[[np.ndarray], np.ndarray] | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.edges = np.asarray(self.profile.edges, dtype=np.float64)
        exact_ks = self.profile.exact and self.profile.n <= SMALL_SAMPLE
        if not exact_ks or few_valued(self.profile):
            self.small = None  # the raw values serve only scipy's exact KS test (see _numeric_result)
        self._native_count = native_counter(self.edges)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (sent to a Dask worker) without the compiled counter: made anew there."""
        return {k: v for k, v in self.__dict__.items() if k != "_native_count"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._native_count = native_counter(self.edges)

    @property
    def n(self) -> int:
        return self.moments.n

    @property
    def mean(self) -> float:
        return self.moments.mean

    @property
    def m2(self) -> float:
        """Sum of squared deviations, divided by scale**2."""
        return self.moments.m2

    @property
    def scale(self) -> float:
        """1, or the power of two the values were divided by before squaring (values near 1e308)."""
        return self.moments.scale

    @property
    def below(self) -> float:
        """Sum of (first edge - x) over log values below the baseline's first edge."""
        total = 0.0
        for lo, _ in self.tails:
            total += lo
        return total

    @property
    def above(self) -> float:
        """Sum of (x - last edge) over log values above its last edge."""
        total = 0.0
        for _, hi in self.tails:
            total += hi
        return total

    @property
    def std(self) -> float:
        return self.moments.std()

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
        if self._native_count is not None:  # the same counts, without the sort (edgeslots.py)
            self.counts += self._native_count(s)
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
        below = above = 0.0
        if len(self.edges):
            with np.errstate(over="ignore", invalid="ignore"):
                lo, hi = self.edges[0], self.edges[-1]
                below = float(np.sum(lo - v[v < lo]))
                above = float(np.sum(v[v > hi] - hi))
        if self.pending_n >= COUNT_BATCH:
            self.count_pending()
        self.moments.update(v)
        self.tails.append((below, above))
        if self.small is not None:
            self.small.append(v.copy())
            if sum(len(x) for x in self.small) > SMALL_SAMPLE:
                self.small = None

    def merge(self, o: _Numeric) -> None:
        self.counts = self.counts + o.counts
        self.pending = self.pending + o.pending
        self.pending_n += o.pending_n
        self.moments.merge(o.moments)
        self.tails = self.tails + o.tails
        if self.small is not None and o.small is not None:
            self.small = self.small + o.small
            if sum(len(x) for x in self.small) > SMALL_SAMPLE:
                self.small = None
        else:
            self.small = None


class _Categories:
    """One categorical feature's log counts: exact for the baseline's categories (as many as the
    baseline has), and for the categories training never had a ClassCounter (exact up to its cap
    of distinct values, then fixed-size sketches), so a log of a million new values stays small.
    The unseen total is always exact; it is all the chi-square table takes of them."""

    __slots__ = ("known", "seen", "unseen")

    def __init__(self, known: frozenset[str]) -> None:
        self.known = known
        self.seen: Counter[str] = Counter()
        self.unseen = ClassCounter()

    def update(self, counts: dict[str, int]) -> None:
        new = {c: v for c, v in counts.items() if c not in self.known}
        self.seen.update({c: v for c, v in counts.items() if c in self.known})
        if new:
            self.unseen.update(list(new), list(new.values()))

    def merge(self, other: _Categories) -> None:
        self.seen.update(other.seen)
        self.unseen.merge(other.unseen)

    def total(self) -> int:
        return sum(self.seen.values()) + self.unseen.total


class DriftAccumulator:
    """Mergeable drift state: per numeric feature a count per baseline edge (fixed size);
    per categorical feature a count per training category and bounded unseen counts."""

    def __init__(self, baseline: Baseline) -> None:
        self.baseline = baseline
        self.numeric: dict[str, _Numeric] = {}
        self.categorical: dict[str, _Categories] = {}
        self._held: list[pa.Table] = []
        self._held_cells = 0
        self._rows = 0
        self.records = 0
        """Records taken: each feature's missing share is over these."""
        self.missing: dict[str, int] = {f.name: 0 for f in baseline.features}
        """Per feature, records without a value (null, absent key, empty cell)."""
        self.counted: dict[str, int] = {}
        """Per feature, values given by add_counts: of records taken in tables without the
        feature's column, so not missing."""
        self.type_errors: dict[str, int] = {}
        """Per feature, values of the wrong type (text where a number is read); None of them
        reaches the tests, and the rest of their record is kept."""
        self.predictions: DriftAccumulator | None = None
        """The predictions against the baseline's (its `predictions`), as features are tested."""
        if baseline.predictions:
            preds = Baseline(baseline.source, baseline.rows, baseline.predictions)
            self.predictions = DriftAccumulator(preds)
        self.joint = joint.JointAccumulator(baseline.multivariate) if baseline.multivariate else None
        """The joint test of the numeric features (mlmon.stats.joint), when the baseline has a model."""
        for f in baseline.features:
            if f.numeric is not None:
                size = 2 * len(f.numeric.edges) + 1
                self.numeric[f.name] = _Numeric(f.numeric, np.zeros(size, dtype=np.int64))
            elif f.categorical is not None:
                known = frozenset(c for c, v in f.categorical.counts if v > 0)
                self.categorical[f.name] = _Categories(known)

    @staticmethod
    def _values(table: pa.Table, present: set[str], name: str) -> pa.ChunkedArray | None:
        """The feature's non-null values in this table, or None when it has none."""
        col = FEATURE_PREFIX + name
        if col not in present or table.column(col).null_count == table.num_rows:
            return None
        return pc.drop_null(table.column(col))

    def update(self, table: pa.Table) -> None:
        """Hold small tables and take them together: the work per table and feature is then
        paid once per TABLE_CELLS values, not once per block of a wide log. Once MIN_SAMPLES
        records have come, the import of scipy.stats (for the tests in result()) starts in the
        background; a smaller log has no feature to test at the default --min-samples, and
        does not import scipy.stats at all (with a lower --min-samples, result() imports it)."""
        self._rows += table.num_rows
        if self._rows >= MIN_SAMPLES:
            prefetch_scipy()
        if self._held and table.schema != self._held[0].schema:
            self._flush()
        self._held.append(table)
        self._held_cells += table.num_rows * max(1, table.num_columns)
        if self._held_cells >= TABLE_CELLS:
            self._flush()

    def settle(self) -> None:
        """Take every held table and count every pending value (result() does this)."""
        self._flush()
        for st in self.numeric.values():
            st.count_pending()

    def file_done(self) -> None:
        """The end of an input file: its held tables are taken now, never with the next file's,
        so the float sums of the moments are the same whether the files are read one after
        another here or each on a cluster's worker (`--engine dask`)."""
        self._flush()

    def _flush(self) -> None:
        if not self._held:
            return
        table = self._held[0] if len(self._held) == 1 else pa.concat_tables(self._held)
        self._held, self._held_cells = [], 0
        self._take(table)

    def _take(self, table: pa.Table) -> None:
        present = set(table.column_names)  # one set per table: a lookup per feature is O(1)
        n = table.num_rows
        self.records += n
        wrong = _type_errors(table, present, list(self.missing))
        for name in self.missing:
            col = FEATURE_PREFIX + name
            nulls = table.column(col).null_count if col in present else n
            self.missing[name] += nulls - wrong.get(name, 0)  # a wrong type is not a missing value
        for name, k in wrong.items():
            self.type_errors[name] = self.type_errors.get(name, 0) + k
        for name, st in self.numeric.items():
            if (values := self._values(table, present, name)) is not None:
                st.update(np.asarray(values.to_numpy(), dtype=np.float64))
        for name, counter in self.categorical.items():
            if (values := self._values(table, present, name)) is not None:
                vc = pc.value_counts(values.combine_chunks())
                counter.update(dict(zip(vc.field("values").to_pylist(),
                                        vc.field("counts").to_pylist(), strict=True)))
        if self.joint is not None:
            self.joint.update(_matrix(table, present, self.joint.model.features))
        if self.predictions is not None:
            self.predictions._take(_prediction_table(table, present, self.predictions.baseline))

    def add_counts(self, name: str, counts: dict[str, int]) -> None:
        """Category counts from elsewhere (a pre-aggregated log): the same as reading the values.
        They are values of records taken (before or after) in tables without this feature's
        column, so those records do not count as missing it."""
        self.categorical[name].update(counts)
        self.counted[name] = self.counted.get(name, 0) + sum(counts.values())

    def merge(self, other: DriftAccumulator) -> None:
        self._flush()
        other._flush()
        self.records += other.records
        for name, k in other.missing.items():
            self.missing[name] += k
        for name, k in other.counted.items():
            self.counted[name] = self.counted.get(name, 0) + k
        for name, k in other.type_errors.items():
            self.type_errors[name] = self.type_errors.get(name, 0) + k
        for name, st in other.numeric.items():
            self.numeric[name].merge(st)
        for name, c in other.categorical.items():
            self.categorical[name].merge(c)
        if self.joint is not None and other.joint is not None:
            self.joint.merge(other.joint)
        if self.predictions is not None and other.predictions is not None:
            self.predictions.merge(other.predictions)

    def result(self, options: DriftOptions | None = None) -> tuple[FeatureDrift, ...]:
        o = options or DriftOptions()
        self._flush()
        rows: list[FeatureDrift] = []
        pending: list[tuple[int, int, int]] = []
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # no library warning reaches a user
            for f in self.baseline.features:
                if f.numeric is not None:
                    self.numeric[f.name].count_pending()
                    r = _numeric_result(f.name, f.numeric, self.numeric[f.name], o)
                    if r.p_value is not None and math.isnan(r.p_value):
                        pending.append((len(rows), f.numeric.n, r.n))
                    rows.append(r)
                elif f.categorical is not None:
                    rows.append(_categorical_result(f.name, f.categorical, self.categorical[f.name], o))
            rows = _ks_pvalues(rows, pending)
            rows = [r if r.tail_p_value is None or r.p_value is None else replace(
                r, ks_p_value=r.p_value, p_value=min(1.0, 2 * min(r.p_value, r.tail_p_value)))
                for r in rows]
            profiles = {f.name: f for f in self.baseline.features}
            rows = self._with_quality(rows, profiles, o)
        if self.predictions is not None:  # their tests join this run's one BH adjustment
            rows += [replace(r, role="prediction") for r in self.predictions.result(o)]
        if self.joint is not None:
            rows.append(self._joint_row(o))
        return adjust(tuple(rows), o)

    def _joint_row(self, o: DriftOptions) -> FeatureDrift:
        assert self.joint is not None
        row: dict[str, Any] = {
            **_NONE, "name": joint.NAME, "kind": joint.NAME, "role": joint.NAME, "test": joint.METHOD,
            "effect_measure": "error_rise_sd", "mean_deviation": None, "mean_deviation_kind": None,
            "records": self.records, **self.joint.fields(o.min_samples),
        }
        return FeatureDrift(**row)

    def _with_quality(
        self, rows: list[FeatureDrift], profiles: dict[str, FeatureProfile], o: DriftOptions
    ) -> list[FeatureDrift]:
        """The rows with their data-quality fields (mlmon.stats.quality): the missing share,
        values of the wrong type, values outside training's range, a feature that became
        constant. The p-values of all features are computed in one call per test."""
        fields = [self._quality_fields(r, profiles[r.name], o) for r in rows]
        batches: list[tuple[str, Callable[..., np.ndarray]]] = [
            ("missing_p_value", fisher_greater_many), ("out_of_range_p_value", range_p_values)]
        for key, batch in batches:
            due = [i for i, f in enumerate(fields) if f.get(key) is not None and math.isnan(f[key])]
            if due:
                args = np.array([fields[i].pop("_" + key) for i in due], dtype=np.int64).T
                for i, p in zip(due, batch(*args).tolist(), strict=True):
                    fields[i][key] = float(p)
        return [replace(r, **{k: v for k, v in f.items() if not k.startswith("_")})
                for r, f in zip(rows, fields, strict=True)]

    def _quality_fields(self, row: FeatureDrift, prof: FeatureProfile, o: DriftOptions) -> dict[str, Any]:
        p = prof.numeric if prof.numeric is not None else prof.categorical
        base_n, base_missing = (p.n, p.dropped) if p is not None else (0, 0)
        missing = max(0, self.missing.get(row.name, 0) - self.counted.get(row.name, 0))
        t = missing_test(missing, self.records, base_missing, base_n,
                         min_records=o.min_samples if row.status != "missing" else self.records + 1,
                         defer=True)
        out: dict[str, Any] = {
            "type_errors": self.type_errors.get(row.name, 0), "missing": t.missing,
            "records": t.records, "missing_share": t.share, "baseline_missing_share": t.baseline_share,
            "missing_p_value": t.p_value, "missing_low": t.low, "missing_high": t.high,
            "_missing_p_value": (t.missing, t.records, base_missing, base_n + base_missing),
        }
        enough = row.n >= o.min_samples
        if prof.numeric is not None:
            st = self.numeric[row.name]
            outside = int(st.counts[0] + st.counts[-1]) if len(st.edges) else 0
            r = range_test(outside, st.n, prof.numeric.n, min_samples=o.min_samples, defer=True)
            out.update(out_of_range=r.outside, out_of_range_share=r.share, out_of_range_expected=r.expected,
                       out_of_range_p_value=r.p_value, out_of_range_low=r.low, out_of_range_high=r.high,
                       constant=enough and st.m2 == 0 and prof.numeric.std > 0
                       and self._not_chance(np.diff(np.asarray(prof.numeric.cdf), prepend=0.0), st.n, o),
                       _out_of_range_p_value=(outside, st.n, prof.numeric.n))
        elif prof.categorical is not None:
            c = self.categorical[row.name]
            distinct = sum(1 for v in c.seen.values() if v)
            distinct += c.unseen.result(1).distinct if c.unseen.total else 0
            trained = sum(1 for _, v in prof.categorical.counts if v > 0)
            cat = prof.categorical
            shares = np.array([v for _, v in cat.counts], dtype=float) / max(1, cat.n)
            out["constant"] = enough and distinct == 1 and trained > 1 and \
                self._not_chance(shares, c.total(), o)
        return out

    def _not_chance(self, shares: np.ndarray, n: int, o: DriftOptions) -> bool:
        """One value in all n draws is not chance: drawn from training's shares, the log would
        show a single value with probability sum(share^n) (a 5% flag is all 0 in 50 values 7.7%
        of the time), which must be below --p-threshold over the baseline's features (Bonferroni).
        On a quantile grid the shares are the bins' (an upper bound of the chance)."""
        chance = float(np.sum(np.power(np.clip(shares, 0.0, 1.0), n)))
        return chance < o.p_threshold / max(1, len(self.baseline.features))


def _matrix(table: pa.Table, present: set[str], names: tuple[str, ...]) -> np.ndarray:
    """Rows x the named numeric features, NaN where a value is missing (or the column is)."""
    out = np.full((table.num_rows, len(names)), np.nan)
    for j, name in enumerate(names):
        col = FEATURE_PREFIX + name
        if col in present:
            out[:, j] = np.asarray(table.column(col).to_numpy(), dtype=np.float64)
    return out


PREDICTION_COLUMNS = {"prediction.class": PRED_CLASS, "prediction.confidence": CONFIDENCE,
                      "prediction.value": PRED_VALUE}
"""The reader's column for each prediction a baseline may profile."""


def _prediction_table(table: pa.Table, present: set[str], base: Baseline) -> pa.Table:
    """The records' predictions as feature columns (null where the reader has none)."""
    cols, names = [], []
    for f in base.features:
        src = PREDICTION_COLUMNS[f.name]
        typ = pa.float64() if f.kind is Kind.NUMERIC else pa.string()
        col = table.column(src) if src in present else pa.nulls(table.num_rows, typ)
        cols.append(normalize_category(col) if f.kind is not Kind.NUMERIC else col)
        names.append(FEATURE_PREFIX + f.name)
    return pa.table(cols, names=names)


def _type_errors(table: pa.Table, present: set[str], names: list[str]) -> dict[str, int]:
    """Per feature, the rows of this table whose value had the wrong type (records.TYPE_ERRORS
    holds the indices into the read plan's features, which are the baseline's, in order)."""
    if TYPE_ERRORS not in present or table.column(TYPE_ERRORS).null_count == table.num_rows:
        return {}
    vc = pc.value_counts(pc.drop_null(table.column(TYPE_ERRORS)).combine_chunks())
    out: dict[str, int] = {}
    for text, count in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True):
        for j in text.split(","):
            name = names[int(j)]
            out[name] = out.get(name, 0) + int(count)
    return out


@dataclass(frozen=True)
class FeatureDrift:
    """One feature of the log against its baseline."""

    name: str
    kind: str
    n: int
    baseline_n: int
    status: str
    """`ok`, `insufficient_data` (fewer than --min-samples values a side) or `missing` (no value
    in the log: an alert)."""
    test: str | None
    """`ks` (two-sample Kolmogorov-Smirnov, with the tail test), `chi_square` (2 x k homogeneity
    on category or value counts; numbers with at most 20 distinct training values) or `smooth`
    (tied numbers, 21 to 50 distinct values seen 5 times each on average, such as hour of day:
    Neyman's smooth test of orders 3 and 6 on the value counts, see smooth_test)."""
    statistic: float | None
    """KS D, or the chi-square statistic."""
    p_value: float | None
    p_value_adjusted: float | None
    """Benjamini-Hochberg across every test of this run (drift and mean tests of all features)."""
    p_method: str | None
    effect_size: float | None
    effect_measure: str | None
    """`ks_d` (KS D) for continuous numbers, `tv` (total variation over the tested columns)
    for categories and few-valued numbers."""
    effect_low: float | None
    """Lower 95% bound of the effect (critical drift needs it at --critical-effect)."""
    effect_high: float | None
    """Upper 95% bound of the effect (drift needs it at --min-effect)."""
    psi: float | None
    """Population stability index (baseline deciles for numbers, tested columns for categories),
    each cell smoothed by half a count."""
    wasserstein_sd: float | None
    """Wasserstein-1 distance in baseline standard deviations (numeric features): scipy's exact
    one when the raw values are held (every training value kept, as --reference does, and at
    most 10,000 values a side); else on the baseline's edges, the log's values taken at the edge
    at or below them (off by up to the gaps between edges: 38% at n = 100 measured)."""
    mean: float | None
    baseline_mean: float | None
    mean_deviation: float | None
    """|mean - baseline mean| divided by the larger of |baseline mean| and baseline std."""
    mean_deviation_kind: str | None
    """`relative` (the divisor is |baseline mean|), `std` (it is the baseline std) or
    `absolute` (both are 0)."""
    mean_se: float | None
    """Standard error of mean_deviation: sqrt(v / n + baseline var / baseline n) over the
    divisor, where v is the larger of the log's and the baseline's variance."""
    mean_p_value: float | None
    """Welch's z test that the mean moved by more than --mean-tolerance: the upper normal tail at
    (mean_deviation - tolerance) / mean_se."""
    mean_p_value_adjusted: float | None
    mean_shift: bool
    """mean_deviation beyond --mean-tolerance and mean_p_value_adjusted below --p-threshold."""
    drift: bool
    """p_value_adjusted below --p-threshold and effect_high at least --min-effect."""
    unseen_categories: tuple[tuple[str, float], ...] = ()
    """The most common values the training data never had: (name, share of the log), at most 10."""
    unseen_share: float = 0.0
    """Share of the log's values the training data never had (all of them)."""
    unseen_distinct: int = 0
    unseen_other_share: float = 0.0
    """Share of unseen values not listed in unseen_categories."""
    exact: bool = True
    """False when KS D was computed on the baseline's quantile grid (within one bin's mass)."""
    unseen_expected: float | None = None
    """The unseen share the baseline predicts: its share of values seen once (Good-Turing's
    missing mass). Rare values of a long-tail category are expected to be new in a log."""
    unseen_expected_se: float | None = None
    """Standard error of unseen_expected (Esty's)."""
    ks_p_value: float | None = None
    """Continuous numbers: the KS test's own p-value."""
    tail_p_value: float | None = None
    """Continuous numbers: the tail test's p-value (chi-square on the counts in bins cut at the
    baseline's 0.1, 1, 5, 10, 25, 50, 75, 90, 95, 99 and 99.9% quantiles, those the sample
    sizes support). `p_value` is twice the smaller of the two (Bonferroni over the pair)."""
    smooth_components: int | None = None
    """Tied numbers (`test` `smooth`): the components (degrees of freedom) of the smooth test's
    order with the smaller p-value (3 or 6; `statistic` is that order's)."""
    mean_rank: float | None = None
    """Continuous numbers: the log values' mean mid-rank in the baseline (mean of P(X < x) +
    P(X = x) / 2 over the baseline X; Mann-Whitney's U / (n m)): 0.5 when nothing changed.
    `trend` pools it over windows (mlmon.stats.evidence)."""
    unseen_p_value: float | None = None
    """p-value of the unseen count against unseen_expected (beta-binomial upper tail); None
    when the log has no unseen value. The drift test combines it with the chi-square on the
    training values' counts (Bonferroni over the two)."""
    missing: int = 0
    """Records without a value for the feature: a JSON null, an absent key, an empty CSV cell
    or a Parquet null (mlmon.stats.quality)."""
    records: int = 0
    """Records read for the drift run: `missing_share` is missing / records."""
    missing_share: float | None = None
    baseline_missing_share: float | None = None
    """Training's share of values missing or not finite (the baseline's `dropped` over its `n` +
    `dropped`)."""
    missing_p_value: float | None = None
    """One-sided Fisher exact test that missing_share is above baseline_missing_share; None when
    the log has no missing value, fewer than --min-samples records, or no value at all."""
    missing_p_value_adjusted: float | None = None
    """Benjamini-Hochberg with the run's drift and mean tests."""
    missing_low: float | None = None
    """Lower 95% bound of missing_share - baseline_missing_share (Newcombe's score interval)."""
    missing_high: float | None = None
    missing_increased: str | None = None
    """`warning` or `critical` when the missing share rose (see missing_level), else None."""
    out_of_range: int = 0
    """Numeric values below training's min or above its max (the baseline's first and last edge)."""
    out_of_range_share: float | None = None
    """out_of_range over the feature's n; None for categories."""
    out_of_range_expected: float | None = None
    """The share chance puts outside: 2 / (baseline n + 1)."""
    out_of_range_p_value: float | None = None
    """One-sided beta-binomial test that more values than chance are outside; None when none is."""
    out_of_range_p_value_adjusted: float | None = None
    out_of_range_low: float | None = None
    """Wilson 95% bounds of out_of_range_share."""
    out_of_range_high: float | None = None
    out_of_range_breached: str | None = None
    """`warning` or `critical` when more values than chance fall outside training's range and the
    share's bounds reach the limits (as missing_increased), else None."""
    type_errors: int = 0
    """Records whose value for the feature had the wrong type (text where training had numbers,
    a number or an object where it had text): not tested, not missing, the record kept."""
    constant: bool = False
    """The feature has one value in the log (at least --min-samples of them) where training had
    several, and that is not chance (drawn from training's shares, one value in all of them has
    probability under --p-threshold over the number of features): a stuck default or a broken
    feature pipeline."""
    role: str = "feature"
    """`feature`; `prediction` for the model's predictions (`prediction.class`, ...), tested as
    features are; `multivariate` for the joint test of the numeric features (mlmon.stats.joint:
    `mean` and `baseline_mean` are the mean reconstruction errors, the effect their difference in
    reference standard deviations, `missing` the records lacking one of its features)."""


def _mean_fields(p: NumericProfile, st: _Numeric, tolerance: float) -> dict[str, object]:
    """Mean deviation on one scale without a cliff: |diff| / max(|baseline mean|, std), its
    standard error on that scale, and the p-value that it is beyond the tolerance."""
    scale = fx.pow2_scale(st.mean, p.mean, p.std, st.std)
    mean_s, base_s, std_s = st.mean / scale, p.mean / scale, p.std / scale
    diff_s = mean_s - base_s
    denom = max(abs(base_s), std_s)
    kind = "absolute" if denom == 0 else "relative" if abs(base_s) >= std_s else "std"
    dev = abs(diff_s) * scale if denom == 0 else abs(diff_s) / denom
    # the log's mean gets the larger of the two variances: a small window whose values happen to
    # be all equal (a 5% flag with no 1 in 100 values) is not an infinitely precise mean
    # (hypot, not a sum of squares: a spread of 1e-160 on this scale squares into a subnormal
    # and loses its digits)
    se_s = math.hypot(max(st.std / scale, std_s) / math.sqrt(st.n), std_s / math.sqrt(p.n))
    se = se_s * scale if denom == 0 else se_s / denom
    # the test on the scaled values (z = (|diff| - tolerance * denom) / se there): dev and se
    # alone may overflow, both when the baseline mean is tiny and its std 0 (inf / inf), and se
    # squared when the baseline is all zeros and the log's values are huge (an absolute
    # deviation, tested against 0 whatever the tolerance)
    pval = mean_p_value(abs(diff_s), se_s, tolerance * denom, kind)
    return {"mean_deviation": dev, "mean_deviation_kind": kind, "mean_se": se, "mean_p_value": pval}


def mean_p_value(deviation: float, se: float, tolerance: float, kind: str | None) -> float:
    """p-value of Welch's z that the mean moved by more than `tolerance` (on the deviation's
    scale): the normal upper tail at (deviation - tolerance) / se. An `absolute` deviation (the
    baseline mean and std are both 0) is tested against 0."""
    margin = 0.0 if kind == "absolute" else tolerance
    return fx.welch_p(deviation, se * se, 1, 0.0, 1, margin_s=margin)


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


def _ks_pvalues(rows: list[FeatureDrift], pending: list[tuple[int, int, int]]) -> list[FeatureDrift]:
    """Asymptotic KS p-values (the Kolmogorov distribution with the effective n = nm/(n+m), as
    scipy's `ks_2samp` does), all features in one vectorised call."""
    if not pending:
        return rows
    stats = scipy_stats()

    idx = [i for i, _, _ in pending]
    en = np.array([round(n * m / (n + m)) for _, n, m in pending], dtype=float)
    d = np.array([rows[i].statistic for i in idx], dtype=float)
    ps = np.clip(stats.kstwo.sf(d, en), 0.0, 1.0)
    out = list(rows)
    for i, pv in zip(idx, ps.tolist(), strict=True):
        out[i] = replace(rows[i], p_value=float(pv))
    return out


def _numeric_psi(p: NumericProfile, counts: np.ndarray, m: int) -> float | None:
    """PSI on the baseline's deciles (cut at the edges where its CDF crosses k/10)."""
    cdf = np.asarray(p.cdf)
    if len(cdf) < 2:
        return None
    cuts = np.unique(np.searchsorted(cdf, np.arange(1, 10) / 10, side="left"))
    cuts = cuts[cuts < len(cdf) - 1]
    base_cum = np.concatenate((cdf[cuts], [1.0]))
    log_cum = np.concatenate((np.cumsum(counts)[2 * cuts + 1], [m]))
    base = np.diff(np.round(base_cum * p.n), prepend=0.0)
    return fx.psi(base, np.diff(log_cum, prepend=0.0))


_NONE = {"statistic": None, "p_value": None, "p_value_adjusted": None, "p_method": None,
         "effect_size": None, "effect_low": None, "effect_high": None, "psi": None,
         "wasserstein_sd": None, "mean_p_value": None, "mean_p_value_adjusted": None, "mean_se": None,
         "mean_shift": False, "drift": False}


def _numeric_result(name: str, p: NumericProfile, st: _Numeric, o: DriftOptions) -> FeatureDrift:
    m = st.n
    few = few_valued(p)
    row: dict[str, object] = {
        **_NONE, "name": name, "kind": Kind.NUMERIC.value, "n": m, "baseline_n": p.n,
        "mean": st.mean if m else None, "baseline_mean": p.mean, "mean_deviation": None,
        "mean_deviation_kind": None, "exact": p.exact,
        "test": "chi_square" if few else "ks", "effect_measure": "tv" if few else "ks_d",
    }
    if m == 0:
        return FeatureDrift(**{**row, "status": "missing", "test": None, "effect_measure": None})  # type: ignore[arg-type]
    if m < o.min_samples or p.n < o.min_samples:
        return FeatureDrift(**{**row, "status": "insufficient_data"})  # type: ignore[arg-type]
    row.update(_mean_fields(p, st, o.mean_tolerance))
    row["psi"] = _numeric_psi(p, st.counts, m)
    w = fx.wasserstein_sd(np.asarray(p.edges), np.asarray(p.cdf), np.cumsum(st.counts)[1::2] / m,
                          (st.below / m, st.above / m), p.std)
    if st.small is not None and p.exact and max(m, p.n) <= SMALL_SAMPLE and p.std > 0 and not few:
        # the raw values are at hand (--reference, small samples): scipy's exact distance
        reference = np.repeat(np.asarray(p.edges), _edge_counts(p))
        w = float(scipy_stats().wasserstein_distance(reference, np.concatenate(st.small))) / p.std
    row["wasserstein_sd"] = w if w is not None and math.isfinite(w) else None
    if few:
        base = dict(zip(map(repr, p.edges), _edge_counts(p).tolist(), strict=True))
        log = {repr(e): int(c) for e, c in zip(p.edges, st.counts[1::2], strict=True) if c}
        unseen_n = m - sum(log.values())
        unseen = (("(not a training value)", unseen_n),) if unseen_n else ()
        found = _count_test(base, {**log, **dict(unseen)}, m, unseen, o)
        if len(p.edges) > FEW_VALUES:  # tied (hour of day): the smooth test, which sees the order
            stat, pval, df = smooth_test(_slot_values(p, st), _slot_base(p), st.counts.astype(float))
            if found["unseen_p_value"] is not None:  # with the novelty test, as _count_test does
                pval = min(1.0, 2 * min(pval, float(found["unseen_p_value"])))  # type: ignore[arg-type]
            found.update(statistic=stat, p_value=pval, p_method="asymptotic", smooth_components=df)
            row["test"] = "smooth"
        return FeatureDrift(**{**row, **found})  # type: ignore[arg-type]
    if st.small is not None and p.exact and max(m, p.n) <= SMALL_SAMPLE:
        stats = scipy_stats()

        reference = np.repeat(np.asarray(p.edges), _edge_counts(p))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = stats.ks_2samp(reference, np.concatenate(st.small))
        # scipy falls back to the asymptotic p-value when the exact one fails (it warns)
        method = "asymptotic" if any("asymp" in str(w.message) for w in caught) else "exact"
        d, pval = float(res.statistic), float(res.pvalue)
    else:
        d = ks_from_counts(p, st.counts, m)
        pval, method = math.nan, "asymptotic"  # filled in for all features at once
    rank = mean_rank(p, st.counts, m)
    tail = tail_table(p, st.counts, m)
    # the feature's p-value is twice the smaller of KS's and the tail test's: the tail test's
    # Monte Carlo draws stop once they cannot go below KS's
    def ks_p() -> float:  # asked only when the tail test would draw more tables
        return pval if not math.isnan(pval) else float(scipy_stats().kstwo.sf(d, round(m * p.n / (m + p.n))))

    tail_p = chi_square_test(tail, enough=ks_p)[1] if tail.shape[1] >= 2 else 1.0
    # D is within one grid bin's mass of the true D on a quantile grid (always below it)
    grid = 0.0 if p.exact else float(np.max(np.diff(np.asarray(p.cdf), prepend=0.0)))
    margin = fx.dkw_margin(m) + fx.dkw_margin(p.n)
    low, high = fx.bounds(d, margin)
    return FeatureDrift(**{**row, "status": "ok", "statistic": d, "p_value": pval, "p_method": method,  # type: ignore[arg-type]
                           "effect_size": d, "effect_low": low, "effect_high": min(1.0, high + grid),
                           "tail_p_value": tail_p, "mean_rank": rank})


def _slot_base(p: NumericProfile) -> np.ndarray:
    """The baseline's counts in the slots of `_Numeric.counts` (exact edges: all at the edges)."""
    out = np.zeros(2 * len(p.edges) + 1)
    out[1::2] = _edge_counts(p)
    return out


def _slot_values(p: NumericProfile, st: _Numeric) -> np.ndarray:
    """A value for each slot of `_Numeric.counts`: the edge itself; between two edges their
    midpoint; below the first edge and above the last the log's mean value there."""
    e = np.asarray(p.edges, dtype=float)
    out = np.empty(2 * len(e) + 1)
    out[1::2] = e
    out[2:-1:2] = (e[:-1] + e[1:]) / 2
    out[0] = e[0] - (st.below / st.counts[0] if st.counts[0] else 1.0)
    out[-1] = e[-1] + (st.above / st.counts[-1] if st.counts[-1] else 1.0)
    return out


def mean_rank(p: NumericProfile, counts: np.ndarray, m: int) -> float | None:
    """The log values' mean mid-rank in the baseline: the mean over log values x of
    P(X < x) + P(X = x) / 2 under the baseline's distribution (Mann-Whitney's U / (n m) against
    the baseline sample). 0.5 when the log is drawn like the baseline, whatever the shape; its
    variance is at most 1/12 per value on either side, with bounded terms (no heavy tail).

    Exact on exact edges. On a quantile grid a value between two edges takes the middle of the
    baseline mass between them (off by at most half a bin's mass, about 0.0005, and on average
    not at all when the log is drawn like the baseline) and a value at an edge the CDF there."""
    cdf = np.asarray(p.cdf, dtype=float)
    if not len(cdf) or not m:
        return None
    prev = np.concatenate(([0.0], cdf[:-1]))
    below = prev if p.exact else cdf  # P(X < edge j)
    mids = np.empty(2 * len(cdf) + 1)
    mids[0 : 2 * len(cdf) : 2] = (prev + below) / 2  # strictly between edge j-1 and edge j
    mids[1::2] = (below + cdf) / 2  # at edge j
    mids[-1] = 1.0  # above every edge
    return float(np.dot(counts, mids) / m)


def tail_table(p: NumericProfile, counts: np.ndarray, m: int) -> np.ndarray:
    """The tail test's 2 x k table: baseline and log counts in bins cut at the grid edges where
    the baseline's CDF first reaches each of TAIL_QUANTILES (those with TAIL_EXPECTED values
    expected beyond them in the smaller sample). Exact with ties and on a saved grid: a value
    equal to an edge is counted with it, on both sides."""
    cdf = np.asarray(p.cdf)
    smaller = min(m, p.n)
    qs = [q for q in TAIL_QUANTILES if smaller * min(q, 1 - q) >= TAIL_EXPECTED]
    if len(cdf) < 2 or not qs:
        return np.zeros((2, 1))
    cuts = np.unique(np.searchsorted(cdf, qs, side="left"))
    cuts = cuts[cuts < len(cdf) - 1]
    base_cum = np.concatenate((np.round(cdf[cuts] * p.n), [float(p.n)]))
    log_cum = np.concatenate((np.cumsum(counts)[2 * cuts + 1].astype(float), [float(m)]))
    table = np.vstack((np.diff(base_cum, prepend=0.0), np.diff(log_cum, prepend=0.0)))
    return table[:, table.sum(axis=0) > 0]


def _edge_counts(p: NumericProfile) -> np.ndarray:
    return np.diff(np.round(np.asarray(p.cdf) * p.n), prepend=0).astype(np.int64)


def chi_square_table(
    base: dict[str, int], log: dict[str, int], *, pool_unseen: frozenset[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """A 2 x k table of counts. Seen categories with an expected count under 5 merge into one
    column; categories the baseline never had form one `(unseen)` column of their own, which is
    never merged into a seen one (that would hide a renamed category).

    With `pool_unseen` (the drift test, whose novelty test sees the unseen values apart) the
    table is the two samples' union treated alike: an unseen category is a column like a seen
    one, rare ones of either side pool into `(other)`, and the names in `pool_unseen` (unseen
    values counted only in bulk) always pool. Training's rare categories and the log's new ones
    are then exchangeable, as homogeneity needs; a separate `(unseen)` column would set the
    log's rare values against none of training's (the training sample's own rare values sit in
    seen columns), and a long-tail category would drift on stationary data. The pool then
    never absorbs a larger column (its small expected count gets the Monte Carlo p-value): a
    renamed category, rare by the expected count of the smaller side, stays apart from the
    category it replaced."""
    if pool_unseen is not None:
        forced = [c for c in pool_unseen if c in log and base.get(c, 0) <= 0]
        keys = [c for c in set(base) | set(log) if c not in forced and (base.get(c, 0) or log.get(c, 0))]
        unseen = 0
    else:
        forced = []
        keys = [c for c in set(base) | set(log) if base.get(c, 0) > 0]
        unseen = sum(v for c, v in log.items() if base.get(c, 0) <= 0)
    cats = sorted(keys, key=lambda c: (-(base.get(c, 0) + log.get(c, 0)), c))
    cols = [[base.get(c, 0), log.get(c, 0)] for c in cats]
    names = list(cats)
    rows_total = np.array([sum(base.values()), sum(log.values())], dtype=float)
    grand = rows_total.sum()

    def min_expected(col: list[int]) -> float:
        return float(min(rows_total) * sum(col) / grand)

    # Columns are sorted by total, so the rare ones are a tail: pool all of them into one
    # column, then let the pool absorb the next smallest column until it is large enough.
    rare = next((i for i, col in enumerate(cols) if min_expected(col) < MIN_EXPECTED), len(cols))
    rare = max(rare, 1)
    extra = sum(log[c] for c in forced)
    if (len(cols) - rare >= 2 and len(cols) > 2) or (extra and len(cols) > rare):
        pooled = [sum(c[0] for c in cols[rare:]), sum(c[1] for c in cols[rare:]) + extra]
        cols, names = cols[:rare] + [pooled], names[:rare] + ["(other)"]
    elif extra:
        cols, names = cols + [[0, extra]], names + ["(other)"]
    while pool_unseen is None and len(cols) > 2 and min_expected(cols[-1]) < MIN_EXPECTED:
        last = cols.pop()
        names.pop()
        cols[-1] = [cols[-1][0] + last[0], cols[-1][1] + last[1]]
        names[-1] = "(other)"
    if unseen:
        cols.append([0, unseen])
        names.append("(unseen)")
    return np.array(cols, dtype=float).reshape(-1, 2).T, names


def chi_square_test(
    table: np.ndarray, enough: float | Callable[[], float] = 0.0
) -> tuple[float, float, str]:
    """Pearson's chi-square on a 2 x k table (scipy's `chi2_contingency` without correction):
    (statistic, p-value, `asymptotic`, `exact` or `monte_carlo`).

    The chi-square distribution's p-value is taken where it holds: every expected count at least
    MONTE_CARLO_BELOW and the p-value at least the last of MONTE_CARLO_MORE (0.001). Beyond that
    its tail is too light for counts (48 ones in a window of 500 values of a 5% flag: 2.6e-6 by
    the chi-square distribution, 1.7e-5 exactly; `trend` tests each window near 1e-5, and
    stationary flags alerted there), and the p-value is exact under the conditional null of homogeneity
    (the log's row given both margins). Two columns: the hypergeometric law of the log's count
    in the first, whose distance from its expectation the statistic grows with (`exact`, at any
    depth). More columns: the share of tables drawn with the same row and column totals
    (multivariate hypergeometric) whose statistic is at least the observed one,
    (hits + 1) / (draws + 1), with draws added in batches while it is small
    (MONTE_CARLO_DRAWS); never below 1/(draws + 1), since a table beyond every drawn one is only
    known to be beyond them (a 40-level category in windows of 500 values had chi-square
    p-values near 1e-6 on stationary data). With
    a billion or more values in all (numpy draws hypergeometric tables only below that) the
    log's row is drawn multinomially from the column shares, which differs from the conditional
    null by the finite-population factor 1 - n_log / total.

    `enough`: the caller takes the smaller of this p-value and another one, `enough` (or what
    it returns, asked only when draws would be added); drawing stops once the p-value can no
    longer fall below it (the p-value returned is then at least `enough`, and the smaller of
    the two is the same as after every batch)."""
    if table.shape[1] < 2:
        return 0.0, 1.0, "asymptotic"
    stats = scipy_stats()

    res = stats.chi2_contingency(table, correction=False)
    stat, p_asym = float(res.statistic), float(res.pvalue)
    expected = np.asarray(res.expected_freq, dtype=float)
    if expected.min() >= MONTE_CARLO_BELOW and p_asym >= MONTE_CARLO_MORE[-1]:
        return stat, p_asym, "asymptotic"
    if table.shape[1] == 2:
        return stat, _two_column_tail(table, expected, stat), "exact"
    cols = table.sum(axis=0).astype(np.int64)
    n_log = int(table[1].sum())
    weight = 1.0 / expected[0] + 1.0 / expected[1]  # both rows' cells move together
    rng = np.random.default_rng(MONTE_CARLO_SEED)
    reach = stat - 1e-9 * max(1.0, stat)  # ties count as reaching it (rounding aside)
    hits = drawn = 0
    total = int(cols.sum())
    most = sum(MONTE_CARLO_DRAWS)
    for i, size in enumerate(MONTE_CARLO_DRAWS):
        if total < HYPERGEOMETRIC_LIMIT:
            x = rng.multivariate_hypergeometric(cols, n_log, size=size)
        else:  # numpy's limit; the log is then a vanishing share of the total (n_log / total)
            x = rng.multinomial(n_log, cols / total, size=size)
        sims = ((x - expected[1]) ** 2 * weight).sum(axis=1)
        hits += int(np.count_nonzero(sims >= reach))
        drawn += size
        p = (hits + 1) / (drawn + 1)
        if i == len(MONTE_CARLO_MORE) or p >= MONTE_CARLO_MORE[i]:
            return stat, p, "monte_carlo"
        if callable(enough):
            enough = float(enough())
        if (hits + 1) / (most + 1) >= enough > 0:  # the other p-value decides, however many draws
            return stat, max(p, enough), "monte_carlo"
    return stat, (hits + 1) / (drawn + 1), "monte_carlo"


def _two_column_tail(table: np.ndarray, expected: np.ndarray, stat: float) -> float:
    """Exact conditional p-value of Pearson's chi-square on a 2 x 2 table: the log's count x in
    the first column is hypergeometric given the margins, and the statistic is
    (x - expected)^2 times the sum of 1 / expected over the four cells, so the p-value is the
    hypergeometric chance of a count at least as far from its expectation on either side."""
    stats = scipy_stats()
    total = int(round(float(table.sum())))
    first = int(round(float(table[:, 0].sum())))
    n_log = int(round(float(table[1].sum())))
    centre = float(expected[1, 0])
    scale = float(np.sum(1.0 / expected))
    reach = max(0.0, stat - 1e-9 * max(1.0, stat))  # ties count as reaching it (rounding aside)
    gap = math.sqrt(reach / scale)
    hi = math.ceil(centre + gap)
    while hi - 1 >= centre and (hi - 1 - centre) ** 2 * scale >= reach:
        hi -= 1
    lo = math.floor(centre - gap)
    while lo + 1 <= centre and (centre - lo - 1) ** 2 * scale >= reach:
        lo += 1
    law = stats.hypergeom(total, first, n_log)
    p = float(law.sf(hi - 1)) + (float(law.cdf(lo)) if lo >= 0 else 0.0)
    return min(1.0, p)


def _count_test(
    base: dict[str, int], log: dict[str, int], m: int,
    unseen: tuple[tuple[str, int], ...], o: DriftOptions, bulk: frozenset[str] = frozenset(),
) -> dict[str, object]:
    """Chi-square on the counts, total variation with its bounds and PSI on the tested columns.

    Without unseen values this is the chi-square on the whole table. With them, the count of
    values training never had is tested against the share the baseline predicts (its
    Good-Turing missing mass, `novelty`), and the chi-square takes the two samples' union with
    rare categories of either side pooled (see chi_square_table; `bulk` names the unseen
    values counted only in bulk); the p-value is twice the smaller of the two (Bonferroni). A
    rare value of a long-tail category new to the log is then no evidence of drift, while a
    renamed or new category (a column of its own, and more unseen values than predicted) still
    is. Total variation and PSI are taken on the tested table."""
    unseen_n = sum(v for c, v in log.items() if base.get(c, 0) <= 0)
    share, se, n_base = novelty.expected_share(base.values())
    p_unseen = None
    if unseen_n:
        table, _ = chi_square_table(base, log, pool_unseen=bulk)
        p_unseen = novelty.p_value(unseen_n, m, share, se, n_base)
        stat, p_union, method = chi_square_test(table, enough=p_unseen)
        pval = min(1.0, 2 * min(p_union, p_unseen))
    else:
        table, _ = chi_square_table(base, log)
        stat, pval, method = chi_square_test(table)
    shares = table / table.sum(axis=1, keepdims=True)
    tv = float(0.5 * np.abs(shares[0] - shares[1]).sum())
    k = table.shape[1]
    low, high = fx.bounds(tv, fx.l1_margin(m, k) + fx.l1_margin(n_base, k))
    top = unseen[:UNSEEN_TOP]
    return {
        "status": "ok", "statistic": stat, "p_value": pval, "p_method": method,
        "effect_size": tv, "effect_low": low, "effect_high": high,
        "psi": fx.psi(table[0], table[1]),
        "unseen_categories": tuple((c, v / m) for c, v in top),
        "unseen_share": unseen_n / m, "unseen_distinct": len(unseen),
        "unseen_other_share": (unseen_n - sum(c for _, c in top)) / m,
        "unseen_expected": share, "unseen_expected_se": se, "unseen_p_value": p_unseen,
    }


def _categorical_result(
    name: str, p: CategoricalProfile, counts: _Categories, o: DriftOptions
) -> FeatureDrift:
    m = counts.total()
    row: dict[str, object] = {
        **_NONE, "name": name, "kind": Kind.CATEGORICAL.value, "n": m, "baseline_n": p.n,
        "mean": None, "baseline_mean": None, "mean_deviation": None, "mean_deviation_kind": None,
        "test": "chi_square", "effect_measure": "tv",
    }
    if m == 0:
        return FeatureDrift(**{**row, "status": "missing", "test": None, "effect_measure": None})  # type: ignore[arg-type]
    if m < o.min_samples or p.n < o.min_samples:
        return FeatureDrift(**{**row, "status": "insufficient_data"})  # type: ignore[arg-type]
    base = dict(p.counts)
    new = counts.unseen.result(UNSEEN_TOP)
    unseen = tuple((c.name, c.count) for c in new.top)
    log = {**counts.seen, **dict(unseen)}
    if new.other:  # the unseen values not listed: one more unseen column entry for the table
        rest = "(other unseen)"
        while rest in base or rest in log:
            rest += "'"
        log[rest] = new.other
    found = _count_test(base, log, m, unseen, o, frozenset([rest]) if new.other else frozenset())
    found.update(unseen_distinct=new.distinct, unseen_share=new.total / m,
                 unseen_other_share=new.other / m)
    return FeatureDrift(**{**row, **found})  # type: ignore[arg-type]


def adjust(rows: tuple[FeatureDrift, ...], o: DriftOptions) -> tuple[FeatureDrift, ...]:
    """Benjamini-Hochberg across every test of the run (each feature's drift test and each
    numeric feature's mean test), then the verdicts."""
    family = [(i, "p_value") for i, r in enumerate(rows) if r.p_value is not None]
    family += [(i, "mean_p_value") for i, r in enumerate(rows) if r.mean_p_value is not None]
    family += [(i, "missing_p_value") for i, r in enumerate(rows) if r.missing_p_value is not None]
    family += [(i, "out_of_range_p_value") for i, r in enumerate(rows) if r.out_of_range_p_value is not None]
    if not family:
        return rows
    stats = scipy_stats()

    ps = np.array([getattr(rows[i], key) for i, key in family], dtype=float)
    adj = stats.false_discovery_control(ps, method="bh") if len(ps) > 1 else ps
    changes: dict[int, dict[str, object]] = {}
    for (i, key), a in zip(family, adj, strict=True):
        changes.setdefault(i, {})[key + "_adjusted"] = float(min(1.0, a))
    out = list(rows)
    for i, ch in changes.items():
        r = replace(rows[i], **ch)  # type: ignore[arg-type]
        out[i] = replace(r, drift=drift_level(r, o) is not None, mean_shift=mean_shifted(r, o),
                         missing_increased=missing_level(
                             r.missing_p_value_adjusted, r.missing_low, r.missing_high,
                             p_threshold=o.p_threshold, warning=o.missing_warning,
                             critical=o.missing_critical),
                         out_of_range_breached=missing_level(
                             r.out_of_range_p_value_adjusted, r.out_of_range_low, r.out_of_range_high,
                             p_threshold=o.p_threshold, warning=o.out_of_range_warning,
                             critical=o.out_of_range_critical))
    return tuple(out)


# The verdict rules: `mlmon drift`, `trend` and `check` decide with these and nothing else.


def drift_level(
    f: FeatureDrift, o: DriftOptions, *, warning: float | None = None, critical: float | None = None
) -> str | None:
    """Drift means: the BH-adjusted p-value is below --p-threshold and the effect's upper 95%
    bound reaches `warning` (the data do not show the change is smaller than that): `warning`.
    When the lower bound reaches `critical` too (the change is shown to be at least that large):
    `critical`. Without limits, --min-effect and --critical-effect; a limit set to None (a
    check rule with only one of them) is never reached."""
    if warning is None and critical is None:
        warning, critical = (joint.WARNING, joint.CRITICAL) if f.role == joint.NAME else (
            o.min_effect, o.critical_effect)
    if f.p_value_adjusted is None or not f.p_value_adjusted < o.p_threshold:
        return None
    if critical is not None and f.effect_low is not None and fx.at_least(f.effect_low, critical):
        return "critical"
    if warning is not None and f.effect_high is not None and fx.at_least(f.effect_high, warning):
        return "warning"
    return None


def mean_shifted(f: FeatureDrift, o: DriftOptions) -> bool:
    """A mean deviation means: the mean moved by more than --mean-tolerance (of the larger of
    |baseline mean| and baseline std), and the test that it moved by more than that has a
    BH-adjusted p-value below --p-threshold. The p-values are those of o.mean_tolerance (see
    at_mean_tolerance for another tolerance)."""
    return bool(
        f.mean_p_value_adjusted is not None
        and f.mean_p_value_adjusted < o.p_threshold
        and f.mean_deviation is not None
        and fx.beyond(f.mean_deviation, o.mean_tolerance)
    )


def unseen_breached(f: FeatureDrift, limit: float, p_threshold: float = 0.05) -> bool:
    """The share of values training never had is shown to exceed the share the baseline
    predicts by more than the limit (--max-unseen-share): the unseen count's beta-binomial
    p-value at that excess is below p_threshold. The point estimate must be beyond it too."""
    if f.unseen_expected is None or f.unseen_expected_se is None or not f.n:
        return fx.beyond(f.unseen_share, limit)
    unseen = round(f.unseen_share * f.n)
    if not fx.beyond(f.unseen_share - f.unseen_expected, limit):
        return False
    p = novelty.p_value(unseen, f.n, f.unseen_expected, f.unseen_expected_se, f.baseline_n, limit)
    return p < p_threshold


def at_mean_tolerance(
    rows: tuple[FeatureDrift, ...], tolerance: float, o: DriftOptions
) -> tuple[FeatureDrift, ...]:
    """The run's results with every mean test redone at another tolerance (a check rule with a
    limit of its own) and the BH adjustment and verdicts redone with it."""
    if tolerance == o.mean_tolerance:
        return rows
    redone = tuple(
        r if r.mean_deviation is None or r.mean_se is None
        else replace(r, mean_p_value=mean_p_value(r.mean_deviation, r.mean_se, tolerance,
                                                  r.mean_deviation_kind))
        for r in rows
    )
    return adjust(redone, replace(o, mean_tolerance=tolerance))
