"""Canary analysis: each model version against a control, metric by metric, with a tolerance per metric."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlmon.errors import OptionError
from mlmon.read.records import CONFIDENCE, FEATURE_PREFIX, LATENCY, PRED_CLASS, SUCCESS, Kind
from mlmon.stats import effects as fx
from mlmon.stats.baseline import Baseline
from mlmon.stats.classes import ClassCounter
from mlmon.stats.drift import chi_square_table
from mlmon.stats.summary import (
    MIN_TAIL,
    GroupKey,
    Values,
    group_label,
    group_order,
    split_new_groups,
)
from mlmon.stats.weighted import Rounded, Weighted, ks, mann_whitney

Sample = np.ndarray | Weighted
"""The values of one side: all of them (exact), or distinct values with counts (approx)."""

Z95 = 1.959963984540054
BETTER, WORSE, SAME, NOT_ENOUGH = "better", "worse", "same", "not_enough_data"
DIFFERENT = "different"
"""The verdict of a feature whose traffic differs between the versions."""


@dataclass(frozen=True)
class CompareOptions:
    alpha: float = 0.05
    """A difference is real when its BH-adjusted p-value (or its 95% interval) says so."""
    min_records: int = 30
    """Fewer values than this on either side gives `not_enough_data`."""
    tolerance: tuple[tuple[str, float], ...] = ()
    """Per metric, the difference that still passes (overrides DEFAULT_TOLERANCE)."""
    max_groups: int = 100
    approx: bool = False
    """Round latencies, confidences and numeric features to within 1% (DDSketch buckets) and keep
    distinct values with counts: memory bounded per version; tests use asymptotic p-values."""

    def tol(self, metric: str) -> float:
        given = dict(self.tolerance)
        if metric in given:
            return given[metric]
        if metric.startswith("features."):
            return given.get("features", DEFAULT_TOLERANCE["features"])
        return DEFAULT_TOLERANCE[metric]


DEFAULT_TOLERANCE: dict[str, float] = {
    "latency_ms": 0.10,
    "latency_ms.p50": 0.10,
    "latency_ms.p95": 0.10,
    "latency_ms.p99": 0.10,
    "success_rate": 0.01,
    "classes": 0.05,
    "confidence": 0.10,
    "features": 0.10,
    "quality.accuracy": 0.01,
    "quality.mae": 0.10,
}
"""Latency: relative shift (0.10 = 10%); success rate: absolute difference (0.01 = one point);
class shares: total variation distance; confidence and features: KS D (PSI-free, on the values);
with labels, accuracy: absolute difference (one point), MAE: relative rise (10%)."""


@dataclass
class _Version:
    records: int = 0
    status_n: int = 0
    successes: int = 0
    latency: Values = field(default_factory=Values)
    confidence: Values = field(default_factory=Values)
    classes: ClassCounter = field(default_factory=ClassCounter)
    numeric: dict[str, Values] = field(default_factory=dict)
    categorical: dict[str, ClassCounter] = field(default_factory=dict)

    def merge(self, o: _Version) -> None:
        self.records += o.records
        self.status_n += o.status_n
        self.successes += o.successes
        self.latency.merge(o.latency)
        self.confidence.merge(o.confidence)
        self.classes.merge(o.classes)
        for k, v in o.numeric.items():
            self.numeric.setdefault(k, type(v)()).merge(v)
        for k, c in o.categorical.items():
            self.categorical.setdefault(k, ClassCounter()).merge(c)


def _values(col: pa.ChunkedArray) -> np.ndarray | None:
    if col.null_count == len(col):
        return None
    return np.asarray(pc.drop_null(col).to_numpy(), dtype=np.float64)


SKETCH_COLUMNS = 3072
"""Past the exact cap, a version's classes (or a feature's categories) are compared on the values
its frequent-items sketch keeps (at most this many a side) and one column for the rest."""
APPROX_FOLD = 1 << 16
"""With approx, rounded values are folded into distinct values with counts past this many (512 KiB)."""


class CompareAccumulator:
    """Mergeable per-version state. Exact tests need the values: latencies, confidences and numeric
    features are kept (8 bytes a value, less once folded into distinct values); counts are fixed.
    With `approx` each value is first rounded to within 1% (sketch.round_relative) and folded
    often, so a version holds at most a few thousand distinct values per metric."""

    def __init__(self, baseline: Baseline | None = None, *, max_groups: int = 100, approx: bool = False
                 ) -> None:
        self.approx = approx
        self.features = tuple((f.name, Kind.NUMERIC if f.numeric is not None else Kind.CATEGORICAL)
                              for f in baseline.features) if baseline else ()
        self.versions: dict[GroupKey, _Version] = {}
        """By the --by field's value; None: the records without the field (never a --control)."""
        self.max_groups = max_groups

    def update(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        parts = split_new_groups(table, self.versions, self.max_groups,
                                 "compare model versions, not request ids")
        for key, part in parts:
            self._update(key, part)

    def _update(self, key: GroupKey, t: pa.Table) -> None:
        if key not in self.versions:
            self.versions[key] = _Version(latency=self._store(), confidence=self._store())
        v = self.versions[key]
        v.records += t.num_rows
        if SUCCESS in t.column_names:
            s = t.column(SUCCESS)
            v.status_n += len(s) - s.null_count
            v.successes += int(pc.sum(pc.cast(s, pa.int64())).as_py() or 0)
        for col, store in ((LATENCY, v.latency), (CONFIDENCE, v.confidence)):
            if col in t.column_names and (x := _values(t.column(col))) is not None:
                store.extend(x)
        if PRED_CLASS in t.column_names:
            cls = t.column(PRED_CLASS)
            if cls.null_count < len(cls):
                _count_into(v.classes, cls)
        for name, kind in self.features:
            col = FEATURE_PREFIX + name
            if col not in t.column_names:
                continue
            if kind is Kind.NUMERIC:
                if (x := _values(t.column(col))) is not None:
                    v.numeric.setdefault(name, self._store()).extend(x)
            else:
                c = t.column(col)
                if c.null_count < len(c):
                    _count_into(v.categorical.setdefault(name, ClassCounter()), c)

    def _store(self) -> Values:
        return Rounded(APPROX_FOLD) if self.approx else Values()

    def merge(self, other: CompareAccumulator) -> None:
        for key, v in other.versions.items():
            if key in self.versions:
                self.versions[key].merge(v)
            else:
                self.versions[key] = v

    def result(self, control: str, options: CompareOptions | None = None) -> tuple[VersionComparison, ...]:
        from dataclasses import replace

        o = options or CompareOptions()
        if control not in self.versions:
            seen = ", ".join(group_label(k) for k in sorted(self.versions, key=group_order)[:10]) or "none"
            raise OptionError(f"--control {control!r} has no records (versions seen: {seen})")
        c = self.versions[control]
        return tuple(
            compare_version(key, self.versions[key], control, c, self.features,
                            replace(o, approx=o.approx or self.approx))
            for key in sorted(self.versions, key=group_order)
            if key != control
        )


@dataclass(frozen=True)
class MetricComparison:
    """One metric of a version against the control."""

    metric: str
    """The metric's one name: latency_ms, latency_ms.p99, success_rate, classes, confidence,
    features.<name>."""
    test: str | None
    """mann_whitney_u, order_statistics, two_proportion_z, chi_square or ks."""
    n_control: int
    n_treatment: int
    control: float | None
    """The control's value: median latency, a percentile, a success rate, a mean confidence."""
    treatment: float | None
    difference: float | None
    """treatment - control, in the metric's unit."""
    interval: tuple[float, float] | None
    """95% interval of the difference (order statistics for percentiles, Newcombe for rates)."""
    statistic: float | None
    p_value: float | None
    p_value_adjusted: float | None
    """Benjamini-Hochberg across this version's tests."""
    effect: float | None
    """What is held against the tolerance: relative shift, absolute difference, TV or KS D."""
    effect_measure: str | None
    tolerance: float
    verdict: str
    """better, worse, same or not_enough_data."""
    effect_interval: tuple[float, float] | None = None
    """95% bounds of the effect. A real difference is within tolerance only when its bound on
    the side of the difference is (as drift's effect gate): power then grows with n, where a
    tolerance held against the point estimate stops near 50% for a difference at the tolerance."""


@dataclass(frozen=True)
class VersionComparison:
    version: str | None
    """The --by field's value; None for the records without the field."""
    control: str
    records: int
    control_records: int
    metrics: tuple[MetricComparison, ...]
    traffic: tuple[MetricComparison, ...]
    """Each feature of this version's traffic against the control's: `different` means the versions
    are fed different traffic, so a difference in a metric may not be the model's doing."""
    verdict: str
    """worse when any metric is worse; not_enough_data when none could be judged; else pass."""


def _metric(metric: str, test: str | None, nc: int, nt: int, o: CompareOptions, **kw: object
            ) -> MetricComparison:
    base: dict[str, object] = {"control": None, "treatment": None, "difference": None, "interval": None,
                               "statistic": None, "p_value": None, "p_value_adjusted": None,
                               "effect": None, "effect_measure": None, "verdict": NOT_ENOUGH}
    base.update(kw)
    return MetricComparison(metric=metric, test=test, n_control=nc, n_treatment=nt,
                            tolerance=o.tol(metric), **base)  # type: ignore[arg-type]


def _array(v: Values) -> np.ndarray:
    parts = v.arrays()
    return np.concatenate(parts) if parts else np.empty(0)


def _sample(v: Values, o: CompareOptions) -> Sample:
    return Weighted.of(v) if o.approx else _array(v)


def _pct(x: Sample, q: float) -> float:
    return x.percentile(q) if isinstance(x, Weighted) else float(np.percentile(x, q * 100))


def _mean(x: Sample) -> float:
    return x.mean() if isinstance(x, Weighted) else float(x.mean())


def quantile_interval(x: Sample, q: float, level: float) -> tuple[float, float]:
    """Distribution-free interval for the q-quantile from order statistics: it holds the true
    quantile with probability at least `level` (binomial ranks)."""
    lo, hi = _ranks(len(x), q, 1 - level)
    if isinstance(x, Weighted):
        return x.order(lo), x.order(hi)
    part = np.partition(x, [lo - 1, hi - 1])
    return float(part[lo - 1]), float(part[hi - 1])


def _ranks(n: int, q: float, a: float) -> tuple[int, int]:
    """The 1-based ranks of quantile_interval at level 1 - a."""
    from scipy import stats

    lo = int(stats.binom.ppf(a / 2, n, q))
    hi = int(stats.binom.ppf(1 - a / 2, n, q)) + 1
    return max(lo, 1), min(hi, n)


def _order(x: Sample) -> Callable[[int], float]:
    """The k-th smallest value (1-based) of a sample, sorting it once."""
    if isinstance(x, Weighted):
        return x.order
    s = np.sort(x)
    return lambda k: float(s[k - 1])


P_FLOOR = 1e-12
"""The smallest quantile-difference p-value resolved (the bisection's lower end)."""


def quantile_difference_p(c: Sample, t: Sample, q: float) -> float:
    """p-value of "the q-quantiles differ", by inverting the order-statistic intervals: the
    smallest a at which the difference interval at level 1 - a (each side's interval at
    1 - a / 2, Bonferroni) excludes 0. At a = 0.05 that interval is the reported one, so p <
    0.05 exactly when the reported interval excludes 0; the p-value lets the percentiles join
    the other metrics' multiple-testing adjustment."""
    oc, ot = _order(c), _order(t)
    nc, nt = len(c), len(t)

    def excludes(a: float) -> bool:
        lc, uc = _ranks(nc, q, a / 2)
        lt, ut = _ranks(nt, q, a / 2)
        return ot(lt) > oc(uc) or ot(ut) < oc(lc)

    if not excludes(1.0):
        return 1.0
    if excludes(P_FLOOR):
        return P_FLOOR
    lo, hi = math.log(P_FLOOR), 0.0  # excludes(exp(hi)) holds, excludes(exp(lo)) does not
    for _ in range(60):
        mid = (lo + hi) / 2
        if excludes(math.exp(mid)):
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-4:
            break
    return math.exp(hi)


def newcombe(s1: int, n1: int, s2: int, n2: int) -> tuple[float, float]:
    """95% interval of p2 - p1 by Newcombe's hybrid score method (from the two Wilson intervals)."""
    from mlmon.stats.summary import wilson

    p1, p2 = s1 / n1, s2 / n2
    l1, u1 = wilson(s1, n1)
    l2, u2 = wilson(s2, n2)
    d = p2 - p1
    return d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2), d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)


def two_proportion_z(s1: int, n1: int, s2: int, n2: int) -> tuple[float, float]:
    """Pooled two-proportion z statistic (p2 - p1) and its two-sided p-value."""
    from scipy import stats

    pooled = (s1 + s2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (s2 / n2 - s1 / n1) / se
    return z, float(2 * stats.norm.sf(abs(z)))


def _latency(c: Sample, t: Sample, o: CompareOptions) -> list[MetricComparison]:
    from scipy import stats

    nc, nt = len(c), len(t)
    out = []
    if min(nc, nt) < o.min_records:
        out.append(_metric("latency_ms", "mann_whitney_u", nc, nt, o))
    else:
        if isinstance(t, Weighted) and isinstance(c, Weighted):
            u, p = mann_whitney(t, c)
        else:
            res = stats.mannwhitneyu(t, c, alternative="two-sided",
                                     method="asymptotic" if max(nc, nt) > 8 else "auto")
            u, p = float(res.statistic), float(res.pvalue)
        mc, mt = _pct(c, 0.5), _pct(t, 0.5)
        lc, uc = quantile_interval(c, 0.5, 1 - (1 - 0.95) / 2)
        lt, ut = quantile_interval(t, 0.5, 1 - (1 - 0.95) / 2)
        out.append(_metric("latency_ms", "mann_whitney_u", nc, nt, o, control=mc, treatment=mt,
                           difference=mt - mc, statistic=u, p_value=p,
                           effect=(mt - mc) / mc if mc else None, effect_measure="relative_shift_of_median",
                           effect_interval=((lt - uc) / mc, (ut - lc) / mc) if mc else None))
    for name, q in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        metric = f"latency_ms.{name}"
        if min(nc, nt) < o.min_records or min(nc, nt) * (1 - q) < MIN_TAIL:
            out.append(_metric(metric, "order_statistics", nc, nt, o))
            continue
        vc, vt = _pct(c, q), _pct(t, q)
        # each side at 97.5%: the difference interval then holds with at least 95% (Bonferroni)
        lc, uc = quantile_interval(c, q, 1 - (1 - 0.95) / 2)
        lt, ut = quantile_interval(t, q, 1 - (1 - 0.95) / 2)
        interval = (lt - uc, ut - lc)
        rel = (vt - vc) / vc if vc else None
        rel_interval = (interval[0] / vc, interval[1] / vc) if vc else None
        # judged with the other metrics (_judge): real when the p-value of the intervals, adjusted
        # with the other tests, is below alpha; worse or better when the bound on the side of the
        # difference reaches beyond the tolerance
        out.append(_metric(metric, "order_statistics", nc, nt, o, control=vc, treatment=vt,
                           difference=vt - vc, interval=interval, effect=rel,
                           p_value=quantile_difference_p(c, t, q),
                           effect_measure="relative_shift", effect_interval=rel_interval))
    return out


def _success(c: _Version, t: _Version, o: CompareOptions) -> MetricComparison:
    n1, n2 = c.status_n, t.status_n
    if min(n1, n2) < o.min_records:
        return _metric("success_rate", "two_proportion_z", n1, n2, o)
    z, p = two_proportion_z(c.successes, n1, t.successes, n2)
    p1, p2 = c.successes / n1, t.successes / n2
    interval = newcombe(c.successes, n1, t.successes, n2)
    return _metric("success_rate", "two_proportion_z", n1, n2, o, control=p1, treatment=p2,
                   difference=p2 - p1, interval=interval,
                   statistic=z, p_value=p, effect=p2 - p1, effect_measure="difference",
                   effect_interval=interval)


def _count_into(counter: ClassCounter, col: pa.ChunkedArray) -> None:
    vc = pc.value_counts(pc.drop_null(col).combine_chunks())
    counter.update(vc.field("values").to_pylist(), vc.field("counts").to_pylist())


def compared_counts(a: ClassCounter, b: ClassCounter) -> tuple[dict[str, int], dict[str, int]]:
    """Both versions' counts on the same columns. Exact while each side is (up to EXACT_CLASSES
    distinct values); past that, the values either side's sketch keeps as frequent, each side's
    count of them a count it surely has (the sketch's lower bound), and one `(rest)` column of
    everything else, so the totals stay exact and memory fixed."""
    if a.exact is not None and b.exact is not None:
        return dict(a.exact), dict(b.exact)
    names = {c.name for side in (a, b) for c in side.result(SKETCH_COLUMNS).top}
    out: list[dict[str, int]] = []
    for side in (a, b):
        got = {k: v for k in names if (v := side.lower_bound(k))}
        rest = "(rest)"
        while rest in names:
            rest += "'"
        if other := side.total - sum(got.values()):
            got[rest] = other
        out.append(got)
    return out[0], out[1]


def _counts(metric: str, ca: ClassCounter, cb: ClassCounter, o: CompareOptions) -> MetricComparison:
    from scipy import stats

    a, b = compared_counts(ca, cb)
    n1, n2 = sum(a.values()), sum(b.values())
    if min(n1, n2) < o.min_records:
        return _metric(metric, "chi_square", n1, n2, o)
    table, _ = chi_square_table(dict(a), dict(b))
    if table.shape[1] < 2:
        stat, p = 0.0, 1.0
    else:
        res = stats.chi2_contingency(table, correction=False)
        stat, p = float(res.statistic), float(res.pvalue)
    cats = set(a) | set(b)
    tv = 0.5 * sum(abs(a.get(k, 0) / n1 - b.get(k, 0) / n2) for k in cats)
    k = max(2, len(cats))
    bounds = fx.bounds(tv, fx.l1_margin(n1, k) + fx.l1_margin(n2, k))
    return _metric(metric, "chi_square", n1, n2, o, statistic=stat, p_value=p, effect=tv,
                   effect_measure="total_variation", effect_interval=bounds)


def _ks(metric: str, c: Sample, t: Sample, o: CompareOptions) -> MetricComparison:
    from scipy import stats

    nc, nt = len(c), len(t)
    if min(nc, nt) < o.min_records:
        return _metric(metric, "ks", nc, nt, o)
    if isinstance(t, Weighted) and isinstance(c, Weighted):
        d, p = ks(t, c)
    else:
        res = stats.ks_2samp(t, c)
        d, p = float(res.statistic), float(res.pvalue)
    mc, mt = _mean(c), _mean(t)
    return _metric(metric, "ks", nc, nt, o, control=mc, treatment=mt, difference=mt - mc,
                   statistic=d, p_value=p, effect=d,
                   effect_measure="ks_d", effect_interval=fx.bounds(d, fx.dkw_margin(nc) + fx.dkw_margin(nt)))


def _judge(m: MetricComparison, o: CompareOptions) -> MetricComparison:
    """The verdict of a tested metric: a real difference (adjusted p < alpha) that the data do
    not show within tolerance (the effect's 95% bound on the side of the difference reaches
    beyond it; the point estimate where no bound is known)."""
    from dataclasses import replace

    if m.p_value_adjusted is None or m.effect is None:
        return m
    real = m.p_value_adjusted < o.alpha
    reach = abs(m.effect)
    if m.effect_interval is not None:
        low, high = m.effect_interval
        reach = max(reach, -low if m.effect < 0 else high)
    if not real or reach <= m.tolerance:
        return replace(m, verdict=SAME)
    if m.metric.startswith("latency_ms"):
        # an unchanged median judged on its upper bound (as reach is) is not "better"
        return replace(m, verdict=WORSE if m.effect >= 0 else BETTER)
    if m.metric == "success_rate":
        return replace(m, verdict=WORSE if m.effect < 0 else BETTER)
    if m.metric == "confidence" and m.difference is not None:
        return replace(m, verdict=WORSE if m.difference <= 0 else BETTER)  # same mean, other shape
    if m.metric.startswith("features."):
        return replace(m, verdict=DIFFERENT)
    return replace(m, verdict=WORSE)  # class shares that differ: the canary does not behave like the control


def compare_version(
    name: str | None,
    t: _Version,
    control: str,
    c: _Version,
    features: tuple[tuple[str, Kind], ...],
    o: CompareOptions,
) -> VersionComparison:
    from dataclasses import replace

    from scipy import stats

    metrics = _latency(_sample(c.latency, o), _sample(t.latency, o), o)
    metrics.append(_success(c, t, o))
    metrics.append(_counts("classes", c.classes, t.classes, o))
    metrics.append(_ks("confidence", _sample(c.confidence, o), _sample(t.confidence, o), o))
    traffic = []
    for fname, kind in features:
        metric = f"features.{fname}"
        if kind is Kind.NUMERIC:
            traffic.append(_ks(metric, _sample(c.numeric.get(fname, Values()), o),
                               _sample(t.numeric.get(fname, Values()), o), o))
        else:
            traffic.append(_counts(metric, c.categorical.get(fname, ClassCounter()),
                                   t.categorical.get(fname, ClassCounter()), o))
    every = metrics + traffic
    tested = [i for i, m in enumerate(every) if m.p_value is not None]
    if tested:
        ps = np.array([every[i].p_value for i in tested], dtype=float)
        adj = stats.false_discovery_control(ps, method="bh") if len(ps) > 1 else ps
        for i, a in zip(tested, adj, strict=True):
            every[i] = replace(every[i], p_value_adjusted=float(min(1.0, a)))
    every = [_judge(m, o) for m in every]
    metrics, traffic = every[: len(metrics)], every[len(metrics) :]
    verdicts = {m.verdict for m in metrics}
    verdict = WORSE if WORSE in verdicts else NOT_ENOUGH if verdicts == {NOT_ENOUGH} else "pass"
    return VersionComparison(name, control, t.records, c.records, tuple(metrics), tuple(traffic), verdict)
