"""Serving health and model behaviour: mergeable accumulators and their frozen results."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa

from mlmon.arrowcompute import pc
from mlmon.errors import OptionError
from mlmon.read.records import CONFIDENCE, GROUP, LATENCY, PRED_CLASS, PRED_VALUE, SUCCESS, TIMESTAMP
from mlmon.stats import percentile as pct
from mlmon.stats.classes import TOP_CLASSES, ClassCounter, ClassShare
from mlmon.stats.exactsum import ExactSum
from mlmon.stats.summaryshares import GroupShare, shares

PERCENTILES = (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))
CONFIDENCE_EDGES = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
"""Upper bounds of the confidence histogram buckets (the seed's Prometheus buckets)."""
MIN_TAIL = 10
"""A percentile q needs n * (1 - q) >= MIN_TAIL values above it to be trusted."""
ALL = "(all)"
"""The table label of the all-records row. Only a label: in the data the overall is
`SummaryResult.overall` (the top level of the JSON), never a group."""
NO_GROUP = "(none)"
"""The table label of the records without the --by field. Only a label: in the data that group
is `None` (`"group": null` in the JSON), so a record whose field holds "(none)" stays apart."""


class _NoBy:
    """The key of records read without --by (no group column): part of the overall only."""


_NO_BY = _NoBy()
GroupKey = str | None
"""A group: the --by field's value, or None for the records without the field."""


def split_groups(table: pa.Table) -> list[tuple[GroupKey, pa.Table]]:
    """The table's rows by the value of its group column: (value, rows), None for null, in one
    pass per value. A table without a group column is one part with the key None."""
    if GROUP not in table.column_names:
        return [(None, table)]
    col = table.column(GROUP)
    nulls = col.null_count
    if nulls == len(col):
        return [(None, table)]
    uniques: list[str] = pc.unique(pc.drop_null(col).combine_chunks()).to_pylist()
    if not nulls and len(uniques) == 1:
        return [(uniques[0], table)]
    parts: list[tuple[GroupKey, pa.Table]] = [(k, table.filter(pc.equal(col, k))) for k in uniques]
    if nulls:
        parts.append((None, table.filter(pc.is_null(col))))
    return parts


def split_new_groups(
    table: pa.Table, known: Collection[object], max_groups: int,
    advice: str = "group by a field with few values, such as model_version",
) -> list[tuple[GroupKey, pa.Table]]:
    """split_groups, refusing (a usage error) a table that takes the groups past max_groups."""
    parts = split_groups(table)
    _refuse_past(len(known) + sum(k not in known for k, _ in parts), max_groups, advice)
    return parts


def _refuse_past(groups: int, max_groups: int, advice: str) -> None:
    if groups > max_groups:
        raise OptionError(f"the --by field has more than {max_groups} distinct values; {advice}")


_BY_ADVICE = "group by a field with few values, such as model_version, or give --by ''"


def group_text(value: str) -> str:
    """A group's value in text: quoted (JSON style) when it looks like a label mlmon uses, such as
    `(all)` or `(none)`, is empty, or has spaces at its ends; as it is otherwise."""
    if not value or value != value.strip() or (value.startswith("(") and value.endswith(")")) or (
        value.startswith('"')
    ):
        return json.dumps(value)
    return value


def group_label(group: GroupKey, *, overall: bool = False) -> str:
    """A group in a table cell: `(all)` for all records, `(none)` for the records without the
    --by field, a value as `group_text` gives it (so a value `(all)` shows as `"(all)"`)."""
    if overall:
        return ALL
    return NO_GROUP if group is None else group_text(group)


def group_order(key: GroupKey) -> tuple[bool, str]:
    """Sort key of groups: values in order, the records without the field last."""
    return (key is None, key or "")


PAGE_VALUES = 1 << 20
"""Largest page of kept values (8 MiB): big enough to be mmap-ed, so a freed page goes
straight back to the operating system."""
FOLD_VALUES = 1 << 19
"""Values kept in pages before they are folded into distinct values with counts (4 MiB)."""


class Values:
    """A multiset of float64 values, kept exactly.

    New values go to pages that grow by doubling up to 8 MiB: appending never copies what is
    kept, and a group of three values costs a small page, not 8 MiB. Past FOLD_VALUES, pages
    are folded into the sorted distinct values with their counts, as long as that halves the
    memory at least: latencies logged as 12.34 have few distinct values, so a month of logs
    takes megabytes, not 8 bytes a record. Values of which most are distinct stay in pages.
    """

    __slots__ = ("pages", "fill", "distinct", "counts", "foldable", "sum")

    def __init__(self) -> None:
        self.sum = ExactSum()
        """The sum of each extend's values, exact: the mean is the same whether the values were
        folded or not and however parts were merged (one file after another, or a cluster's)."""
        self.pages: list[np.ndarray] = []
        self.fill = 0
        """Values used in the last page."""
        self.distinct: np.ndarray | None = None
        """Sorted distinct folded values, or None before the first fold."""
        self.counts: np.ndarray | None = None
        self.foldable = True
        """False once a fold showed most values distinct: pages are no longer folded."""

    def in_pages(self) -> int:
        return sum(len(p) for p in self.pages[:-1]) + self.fill if self.pages else 0

    def __len__(self) -> int:
        return self.in_pages() + (int(self.counts.sum()) if self.counts is not None else 0)

    def extend(self, v: np.ndarray) -> None:
        if len(v):
            with np.errstate(over="ignore"):  # huge latencies: the mean is taken another way
                self.sum.add(float(v.sum()))
        i = 0
        while i < len(v):
            if not self.pages or self.fill == len(self.pages[-1]):
                size = min(PAGE_VALUES, max(4096, 2 * len(self.pages[-1]) if self.pages else 0))
                self.pages.append(np.empty(size, dtype=np.float64))
                self.fill = 0
            k = min(len(self.pages[-1]) - self.fill, len(v) - i)
            self.pages[-1][self.fill : self.fill + k] = v[i : i + k]
            self.fill += k
            i += k
        if self.foldable and self.in_pages() >= FOLD_VALUES:
            self.fold()

    def fold(self) -> None:
        """Move the values in pages into the distinct values and counts."""
        if not self.in_pages():
            return
        distinct, counts = np.unique(np.concatenate(self.arrays(pages_only=True)), return_counts=True)
        self.pages, self.fill = [], 0
        if self.distinct is not None and self.counts is not None:
            distinct, counts = merge_counts([(self.distinct, self.counts), (distinct, counts)])
        self.distinct, self.counts = distinct, counts
        if 2 * len(distinct) > int(counts.sum()):
            self.foldable = False

    def arrays(self, *, pages_only: bool = False) -> list[np.ndarray]:
        """The values as arrays (folded values come out sorted, each repeated by its count)."""
        out = [*self.pages[:-1], self.pages[-1][: self.fill]] if self.pages else []
        if not pages_only and self.distinct is not None and self.counts is not None:
            out.append(np.repeat(self.distinct, self.counts))
        return out

    def merge(self, other: Values) -> None:
        self.sum.merge(other.sum)
        if other.distinct is not None and other.counts is not None:
            parts = [(other.distinct, other.counts)]
            if self.distinct is not None and self.counts is not None:
                parts.append((self.distinct, self.counts))
            self.distinct, self.counts = merge_counts(parts)
        self.foldable = self.foldable and other.foldable
        if not other.in_pages():
            return  # keep the last page open for more values
        self.pages = [a for a in (*self.arrays(pages_only=True), *other.arrays(pages_only=True)) if len(a)]
        self.fill = len(self.pages[-1]) if self.pages else 0

    def take_all(self) -> list[np.ndarray]:
        """The values as arrays, leaving this empty (so each can be freed once copied)."""
        out = self.arrays()
        self.pages, self.fill, self.distinct, self.counts = [], 0, None, None
        return out

    def set(self, values: np.ndarray) -> None:
        self.pages, self.fill = ([values], len(values)) if len(values) else ([], 0)
        self.distinct = self.counts = None


def merge_counts(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and summed counts of several (distinct values, counts) pairs."""
    values = np.concatenate([v for v, _ in parts])
    counts = np.concatenate([c for _, c in parts])
    order = np.argsort(values, kind="stable")
    values, counts = values[order], counts[order]
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    return values[starts], np.add.reduceat(counts, starts) if len(values) else counts


@dataclass
class _State:
    records: int = 0
    status_n: int = 0
    successes: int = 0
    latency: Values = field(default_factory=Values)
    classes: ClassCounter = field(default_factory=ClassCounter)
    conf_n: int = 0
    conf_sum: ExactSum = field(default_factory=ExactSum)
    """Exact until read: the mean is the same however blocks and files were merged."""
    conf_low: int = 0
    conf_hist: np.ndarray = field(default_factory=lambda: np.zeros(len(CONFIDENCE_EDGES), np.int64))
    value_n: int = 0
    value_outside: int = 0
    ts_min: int | None = None
    ts_max: int | None = None

    def merge(self, o: _State, *, latency: bool = True) -> None:
        self.records += o.records
        self.status_n += o.status_n
        self.successes += o.successes
        if latency:
            self.latency.merge(o.latency)
        self.classes.merge(o.classes)
        self.conf_n += o.conf_n
        self.conf_sum.merge(o.conf_sum)
        self.conf_low += o.conf_low
        self.conf_hist = self.conf_hist + o.conf_hist
        self.value_n += o.value_n
        self.value_outside += o.value_outside
        for t in (o.ts_min, o.ts_max):
            if t is not None:
                self.ts_min = t if self.ts_min is None else min(self.ts_min, t)
                self.ts_max = t if self.ts_max is None else max(self.ts_max, t)


@dataclass(frozen=True)
class SummaryOptions:
    low_confidence: float = 0.5
    prediction_range: tuple[float, float] | None = None
    """Numeric predictions outside [low, high] are counted as out of range."""
    max_groups: int = 1000
    """More distinct --by values than this is a usage error: a table of request ids helps no one."""
    top_classes: int = TOP_CLASSES
    """Predicted classes listed by name; the rest are counted (`classes_other`, `classes_distinct`)."""


class SummaryAccumulator:
    """Mergeable state for `summary`: counts are fixed-size; latencies are kept exactly (see Values)."""

    def __init__(self, options: SummaryOptions | None = None) -> None:
        self.options = options or SummaryOptions()
        self.groups: dict[GroupKey | _NoBy, _State] = {}
        """By the --by field's value; None: records without the field; _NO_BY: read without --by."""

    def update(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        o = self.options
        got = shares(table, low_confidence=o.low_confidence, prediction_range=o.prediction_range,
                     edges=CONFIDENCE_EDGES)
        if got is not None:  # the same counts, in one compiled pass (summaryshares.py)
            if GROUP not in table.column_names:
                self._add(_NO_BY, got[0])
                return
            _refuse_past(len(self.groups) + sum(g.key not in self.groups for g in got), o.max_groups,
                         _BY_ADVICE)
            for g in got:
                self._add(g.key, g)
            return
        if GROUP in table.column_names:
            parts = split_new_groups(table, self.groups, self.options.max_groups, _BY_ADVICE)
            for key, part in parts:
                self._update(key, part)
        else:
            self._update(_NO_BY, table)

    def _update(self, key: GroupKey | _NoBy, t: pa.Table) -> None:
        s = self.groups.setdefault(key, _State())
        s.records += t.num_rows
        succ = t.column(SUCCESS)
        s.status_n += len(succ) - succ.null_count
        s.successes += int(pc.sum(pc.cast(succ, pa.int64())).as_py() or 0)
        lat = t.column(LATENCY)
        if lat.null_count < len(lat):
            s.latency.extend(np.asarray(pc.drop_null(lat).to_numpy(), dtype=np.float64))
        cls = t.column(PRED_CLASS)
        if cls.null_count < len(cls):
            vc = pc.value_counts(pc.drop_null(cls).combine_chunks())
            s.classes.update(vc.field("values").to_pylist(), vc.field("counts").to_pylist())
        conf = t.column(CONFIDENCE)
        if conf.null_count < len(conf):
            c = np.asarray(pc.drop_null(conf).to_numpy(), dtype=np.float64)
            s.conf_n += len(c)
            s.conf_sum.add(float(c.sum()))
            s.conf_low += int((c < self.options.low_confidence).sum())
            idx = np.searchsorted(np.asarray(CONFIDENCE_EDGES), c, side="left")
            s.conf_hist += np.bincount(idx, minlength=len(CONFIDENCE_EDGES))
        val = t.column(PRED_VALUE)
        if val.null_count < len(val):
            v = np.asarray(pc.drop_null(val).to_numpy(), dtype=np.float64)
            s.value_n += len(v)
            if self.options.prediction_range is not None:
                lo, hi = self.options.prediction_range
                s.value_outside += int(((v < lo) | (v > hi)).sum())
        ts = t.column(TIMESTAMP)
        if ts.null_count < len(ts):
            mm = pc.min_max(pc.cast(ts, pa.int64()))
            lo, hi = mm["min"].as_py(), mm["max"].as_py()
            s.ts_min = lo if s.ts_min is None else min(s.ts_min, lo)
            s.ts_max = hi if s.ts_max is None else max(s.ts_max, hi)

    def _add(self, key: GroupKey | _NoBy, g: GroupShare) -> None:
        """What `_update` adds for one group, from the compiled pass's share of the table."""
        s = self.groups.setdefault(key, _State())
        s.records += g.records
        s.status_n += g.status_n
        s.successes += g.successes
        if len(g.latency):
            s.latency.extend(g.latency)
        if g.class_names:
            s.classes.update(g.class_names, g.class_counts)
        if len(g.confidence):
            s.conf_n += len(g.confidence)
            s.conf_sum.add(float(g.confidence.sum()))
            s.conf_low += g.conf_low
            s.conf_hist += g.conf_hist
        if g.value_n:
            s.value_n += g.value_n
            if self.options.prediction_range is not None:
                s.value_outside += g.value_outside
        if g.ts_min is not None and g.ts_max is not None:
            s.ts_min = g.ts_min if s.ts_min is None else min(s.ts_min, g.ts_min)
            s.ts_max = g.ts_max if s.ts_max is None else max(s.ts_max, g.ts_max)

    def merge(self, other: SummaryAccumulator) -> None:
        for key, st in other.groups.items():
            self.groups.setdefault(key, _State()).merge(st)

    def result(self) -> SummaryResult:
        def order(kv: tuple[GroupKey | _NoBy, _State]) -> tuple[bool, bool, str]:
            return (True, True, "") if isinstance(kv[0], _NoBy) else (False, *group_order(kv[0]))

        ordered = sorted(self.groups.items(), key=order)
        states = [st for _, st in ordered]
        per_group, overall_latency = self._latency(states)
        overall = _State()
        for st in states:
            overall.merge(st, latency=False)  # latencies are done above
        groups = tuple(
            _group_result(k, st, self.options, lat)
            for (k, st), lat in zip(ordered, per_group, strict=True)
            if not isinstance(k, _NoBy)
        )
        if [g.group for g in groups] == [None]:
            groups = ()  # no record has the --by field: the overall row says it all
        overall_result = _group_result(None, overall, self.options, overall_latency)
        return SummaryResult(overall=overall_result, groups=groups)

    def _latency(self, states: list[_State]) -> tuple[list[LatencyStats], LatencyStats]:
        """Latency statistics of each group and of all (means from the exact sums)."""
        total = ExactSum()
        for st in states:
            total.merge(st.latency.sum)
        sums = [st.latency.sum for st in states]
        per_group, overall = self._latency_stats(states)
        return [_exact_mean(g, t) for g, t in zip(per_group, sums, strict=True)], _exact_mean(overall, total)

    def _latency_stats(self, states: list[_State]) -> tuple[list[LatencyStats], LatencyStats]:
        """Latency statistics of each group and of all: from counts when the values were folded."""
        if any(st.latency.distinct is not None for st in states) and all(
            st.latency.foldable for st in states
        ):
            for st in states:
                st.latency.fold()
            pairs = [(st.latency.distinct, st.latency.counts) for st in states]
            kept = [(d, c) for d, c in pairs if d is not None and c is not None]
            per_group = [latency_stats_of_counts(d, c) if d is not None and c is not None
                         else latency_stats(np.empty(0)) for d, c in pairs]
            return per_group, latency_stats_of_counts(*merge_counts(kept))
        latency = self._gather_latency(states)
        per_group = [latency_stats((st.latency.arrays() or [np.empty(0)])[0], in_place=True) for st in states]
        # Reordering the whole array in place would move values across the groups' slices (and
        # spoil a later result() or merge): do so only when one group holds them all.
        alone = sum(1 for st in states if len(st.latency)) <= 1
        return per_group, latency_stats(latency, in_place=alone)

    @staticmethod
    def _gather_latency(states: list[_State]) -> np.ndarray:
        """Move every latency chunk into one array, group after group, freeing chunks as it goes.

        Each group keeps a view of its contiguous slice, so the accumulator stays valid, and
        percentiles can partition in place: the peak is one copy of the latencies, not three.
        """
        out = np.empty(sum(len(st.latency) for st in states), dtype=np.float64)
        pos = 0
        for st in states:
            start = pos
            pages = st.latency.take_all()
            pages.reverse()  # popped from the end: in read order, whatever size the pages are
            while pages:
                a = pages.pop()
                out[pos : pos + len(a)] = a
                pos += len(a)
                del a
            st.latency.set(out[start:pos])
        return out


def _exact_mean(stats: LatencyStats, total: ExactSum) -> LatencyStats:
    """`stats` with the mean of the exact sum (kept as computed when that sum overflows)."""
    if not stats.n:
        return stats
    mean = total.value() / stats.n
    return replace(stats, mean=mean) if math.isfinite(mean) else stats


@dataclass(frozen=True)
class LatencyStats:
    """Latency in milliseconds; exact percentiles, numpy's `linear` method."""

    n: int
    mean: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None
    method: str = "linear"
    insufficient: tuple[str, ...] = ()
    """Percentiles with fewer than 10 values above them (marked `*`: the estimate is rough)."""
    p95_lower: float | None = None
    """A one-sided 95% lower confidence bound of the true p95 at every n: an order statistic,
    interpolated to the rank of exact coverage (mlmon/stats/percentile.py). An upper limit below
    it is proven crossed; that is the only way a p95 rule alerts, whatever n."""
    p99_lower: float | None = None
    """The same for p99."""
    p50_lower: float | None = None
    p50_upper: float | None = None
    """A one-sided 95% upper confidence bound of the true p50: a limit above it is proven not
    crossed. None when n is too small to bound that side (the verdict is then `not proven`)."""
    p95_upper: float | None = None
    p99_upper: float | None = None

    def bounds(self, name: str) -> tuple[float | None, float | None]:
        """(lower, upper) 95% bounds of a percentile (`p50`, `p95`, `p99`)."""
        return getattr(self, f"{name}_lower", None), getattr(self, f"{name}_upper", None)


@dataclass(frozen=True)
class ConfidenceStats:
    n: int
    mean: float | None
    low_threshold: float
    low_count: int
    low_share: float | None
    histogram: tuple[tuple[str, int], ...]
    """(bucket label, count) on the edges 0.5, 0.6, ..., 0.99, 1.0."""


@dataclass(frozen=True)
class GroupSummary:
    """Summary of one group (a model version, say) or of all records (`SummaryResult.overall`)."""

    group: str | None
    """The --by field's value; None for the records without the field, and for the overall."""
    records: int
    first_timestamp: str | None
    last_timestamp: str | None
    span_seconds: float | None
    requests_per_second: float | None
    success_n: int
    """Records with a status or success field: the denominator of the rates."""
    successes: int
    errors: int
    success_rate: float | None
    error_rate: float | None
    success_rate_ci95: tuple[float, float] | None
    """Wilson score interval."""
    latency_ms: LatencyStats
    classes: tuple[ClassShare, ...]
    """The most frequent predicted classes (at most --top-classes), by count then name."""
    classes_other: int
    """Records whose class is not listed in `classes`."""
    classes_distinct: int
    """Distinct predicted classes (a HyperLogLog estimate when not `classes_exact`)."""
    classes_exact: bool
    """True while the group had at most 10,000 distinct classes: every count and share is exact.
    Past that, counts are lower bounds from a frequent-items sketch (see mlmon/stats/classes.py)."""
    confidence: ConfidenceStats
    prediction_values: int
    predictions_out_of_range: int | None


@dataclass(frozen=True)
class SummaryResult:
    overall: GroupSummary
    groups: tuple[GroupSummary, ...]


def wilson(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion."""
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # The interval always holds p; clamp so rounding cannot put 0 or 1 outside it.
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def latency_stats(values: np.ndarray, *, in_place: bool = False) -> LatencyStats:
    """Exact statistics; with `in_place` the values are reordered instead of copied."""
    n = len(values)
    if n == 0:
        return LatencyStats(0, None, None, None, None, None, insufficient=("p50", "p95", "p99"))
    with np.errstate(over="ignore"):
        mean = float(values.mean())
    if not math.isfinite(mean):  # the sum of huge finite values overflowed; the mean does not
        mean = float((values / n).sum())
    top = float(values.max())
    qs = np.percentile(
        values, [q * 100 for _, q in PERCENTILES], method="linear", overwrite_input=in_place
    )
    p50, p95, p99 = (float(x) for x in qs)
    insufficient = tuple(name for name, q in PERCENTILES if n * (1 - q) < MIN_TAIL)
    # one partition at every rank the bounds take (in place when the caller allows it)
    ranks = pct.ranks_needed(n, tuple(q for _, q in PERCENTILES))
    part = values if in_place else values.copy()
    if ranks:
        part.partition(ranks)
    return LatencyStats(n, mean, p50, p95, p99, top, "linear", insufficient,
                        **_bounds(n, lambda k: float(part[k])))


def _bounds(n: int, kth: Callable[[int], float]) -> dict[str, float | None]:
    """The lower and upper 95% bounds of p50, p95 and p99, from the k-th smallest value."""
    out: dict[str, float | None] = {}
    for name, q in PERCENTILES:
        lo, hi = pct.bound_ranks(n, q)
        out[f"{name}_lower"] = pct.at_rank(lo, kth, n)
        out[f"{name}_upper"] = pct.at_rank(hi, kth, n)
    return out


def latency_stats_of_counts(distinct: np.ndarray, counts: np.ndarray) -> LatencyStats:
    """`latency_stats` of sorted distinct values with their counts, without expanding them.

    The percentiles are numpy's `linear` ones: the order statistics either side of the virtual
    index (n - 1) * q, interpolated by numpy itself on those two values."""
    n = int(counts.sum())
    if n == 0:
        return latency_stats(np.empty(0))
    weights = counts.astype(np.float64)
    with np.errstate(over="ignore"):
        mean = float(np.dot(distinct, weights)) / n
    if not math.isfinite(mean):
        mean = float(np.dot(distinct / n, weights))
    ends = np.cumsum(counts)  # values[k] is distinct[i] for the first i with ends[i] > k
    q = np.true_divide([q * 100 for _, q in PERCENTILES], 100)  # as np.percentile does
    virtual = (n - 1) * q
    below = np.floor(virtual)
    gamma = virtual - below
    lo = distinct[np.searchsorted(ends, np.minimum(below, n - 1), side="right")]
    hi = distinct[np.searchsorted(ends, np.minimum(below + 1, n - 1), side="right")]
    p50, p95, p99 = (
        float(np.quantile(np.array([a, b]), g, method="linear"))
        for a, b, g in zip(lo, hi, gamma, strict=True)
    )
    insufficient = tuple(name for name, q in PERCENTILES if n * (1 - q) < MIN_TAIL)
    top = float(distinct[-1])
    return LatencyStats(n, mean, p50, p95, p99, top, "linear", insufficient,
                        **_bounds(n, lambda k: float(distinct[np.searchsorted(ends, k, side="right")])))


def _iso(ns: int | None) -> str | None:
    if ns is None:
        return None
    return str(np.datetime64(ns, "ns").astype("datetime64[ms]")) + "Z"


def _group_result(name: str | None, s: _State, o: SummaryOptions, latency: LatencyStats) -> GroupSummary:
    span = None if s.ts_min is None or s.ts_max is None else (s.ts_max - s.ts_min) / 1e9
    rps = s.records / span if span else None
    classes = s.classes.result(o.top_classes)
    # bucket i holds values in (edge i-1, edge i], as Prometheus' `le` buckets
    labels = [f"<={CONFIDENCE_EDGES[0]}"] + [
        f"{lo}-{hi}" for lo, hi in zip(CONFIDENCE_EDGES, CONFIDENCE_EDGES[1:], strict=False)
    ]
    hist = tuple(zip(labels, (int(x) for x in s.conf_hist), strict=True))
    conf = ConfidenceStats(
        n=s.conf_n,
        mean=s.conf_sum.value() / s.conf_n if s.conf_n else None,
        low_threshold=o.low_confidence,
        low_count=s.conf_low,
        low_share=s.conf_low / s.conf_n if s.conf_n else None,
        histogram=hist,
    )
    errors = s.status_n - s.successes
    return GroupSummary(
        group=name,
        records=s.records,
        first_timestamp=_iso(s.ts_min),
        last_timestamp=_iso(s.ts_max),
        span_seconds=span,
        requests_per_second=rps,
        success_n=s.status_n,
        successes=s.successes,
        errors=errors,
        success_rate=s.successes / s.status_n if s.status_n else None,
        error_rate=errors / s.status_n if s.status_n else None,
        success_rate_ci95=wilson(s.successes, s.status_n) if s.status_n else None,
        latency_ms=latency,
        classes=classes.top,
        classes_other=classes.other,
        classes_distinct=classes.distinct,
        classes_exact=classes.exact,
        confidence=conf,
        prediction_values=s.value_n,
        predictions_out_of_range=s.value_outside if o.prediction_range is not None else None,
    )
