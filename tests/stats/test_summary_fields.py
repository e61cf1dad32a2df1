"""The summary's fields a user reads, at their edges: group labels, the --by limit at equality,
timestamps, rates, overflowing latencies, the bounds of each percentile, and how values are kept."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pyarrow as pa
import pytest
from test_summary import T0, table

from mlmon.errors import OptionError
from mlmon.read.records import CONFIDENCE, GROUP, LATENCY, PRED_VALUE, SUCCESS, TIMESTAMP
from mlmon.stats import summary, summaryshares
from mlmon.stats.summary import (
    ALL,
    NO_GROUP,
    SummaryAccumulator,
    SummaryOptions,
    Values,
    group_label,
    group_order,
    group_text,
    latency_stats,
    latency_stats_of_counts,
    merge_counts,
    split_groups,
    split_new_groups,
)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("v1", "v1"),
        ("a b", "a b"),  # inner spaces are fine
        ("", '""'),
        (" v1", '" v1"'),
        ("v1 ", '"v1 "'),
        ("(all)", '"(all)"'),
        ("(none)", '"(none)"'),
        ("()", '"()"'),
        ("(v1", "(v1"),  # only a value wrapped in both parentheses looks like a label
        ("v1)", "v1)"),
        ('"v1"', '"\\"v1\\""'),
        ('"', '"\\""'),
        ('v"1', 'v"1'),
    ],
)
def test_group_text_quotes_what_looks_like_a_label(value: str, shown: str) -> None:
    assert group_text(value) == shown


def test_group_label_and_order() -> None:
    assert group_label("v1", overall=True) == ALL == "(all)"
    assert group_label(None, overall=True) == ALL
    assert group_label(None) == NO_GROUP == "(none)"
    assert group_label("(none)") == '"(none)"'
    assert group_label("v2") == "v2"
    keys = [None, "v2", "", "v10", "a", "B"]
    assert sorted(keys, key=group_order) == ["", "B", "a", "v10", "v2", None]  # "" first, even before "B"


# --------------------------------------------------------------------- the --by limit


def _grouped(groups: list[str | None], **cols: list[object]) -> pa.Table:
    rows = [{GROUP: g, **{k: v[i] for k, v in cols.items()}} for i, g in enumerate(groups)]
    return table(rows)


@pytest.mark.parametrize("reader", ["compiled", "python"])
def test_the_group_limit_is_reached_at_equality_and_refused_past_it(
    monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    if reader == "python":
        monkeypatch.setenv(summaryshares.READER_ENV, "python")
    else:
        monkeypatch.delenv(summaryshares.READER_ENV, raising=False)
    acc = SummaryAccumulator(SummaryOptions(max_groups=3))
    acc.update(_grouped(["a", "b", "a"]))
    acc.update(_grouped(["b", "c", "a", "c"]))  # three groups: the limit, allowed
    acc.update(_grouped(["c", "a", "b"]))  # known groups are not counted again
    assert [g.group for g in acc.result().groups] == ["a", "b", "c"]
    assert acc.result().overall.records == 10
    with pytest.raises(OptionError) as err:
        acc.update(_grouped(["a", "d"]))
    assert str(err.value) == (
        "the --by field has more than 3 distinct values; group by a field with few values, "
        "such as model_version, or give --by ''"
    )
    # the records without the field are a group too
    acc = SummaryAccumulator(SummaryOptions(max_groups=2))
    acc.update(_grouped(["a", None, "a"]))
    with pytest.raises(OptionError, match="more than 2 distinct values"):
        acc.update(_grouped(["b"]))


def test_split_new_groups_counts_only_new_values() -> None:
    t = _grouped(["x", "y", None, "x"])
    assert [k for k, _ in split_new_groups(t, {"x", "y", None}, 3)] == ["x", "y", None]
    assert [k for k, _ in split_new_groups(t, {"x"}, 3)] == ["x", "y", None]
    with pytest.raises(OptionError) as err:
        split_new_groups(t, {"z"}, 3)
    assert str(err.value) == (
        "the --by field has more than 3 distinct values; group by a field with few values, "
        "such as model_version"
    )
    with pytest.raises(OptionError, match="; pick another$"):
        split_new_groups(t, set(), 2, "pick another")


def test_split_groups_in_order_of_first_appearance_the_nulls_last() -> None:
    t = _grouped(["b", None, "a", "b", None, "c"], **{LATENCY: [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    parts = split_groups(t)
    assert [k for k, _ in parts] == ["b", "a", "c", None]
    assert [p.column(LATENCY).to_pylist() for _, p in parts] == [[1.0, 4.0], [3.0], [6.0], [2.0, 5.0]]
    one = _grouped(["v", "v"])
    assert split_groups(one) == [("v", one)]  # the table itself, not a copy
    nulls = _grouped([None, None])
    assert split_groups(nulls) == [(None, nulls)]
    some = _grouped(["v", None])
    assert [(k, p.num_rows) for k, p in split_groups(some)] == [("v", 1), (None, 1)]
    bare = nulls.drop_columns([GROUP])
    assert split_groups(bare) == [(None, bare)]


# --------------------------------------------------------------------- how latencies are kept


def test_pages_double_from_4096_up_to_the_largest_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(summary, "PAGE_VALUES", 16384)
    v = Values()
    v.extend(np.arange(3.0))
    assert [len(p) for p in v.pages] == [4096] and (v.fill, v.in_pages(), len(v)) == (3, 3, 3)
    v.extend(np.arange(4093.0))  # exactly fills the first page: no second one yet
    assert [len(p) for p in v.pages] == [4096] and v.fill == 4096
    v.extend(np.arange(1.0))
    assert [len(p) for p in v.pages] == [4096, 8192] and v.fill == 1
    v.extend(np.arange(8192 + 16384 + 10.0))
    assert [len(p) for p in v.pages] == [4096, 8192, 16384, 16384]
    assert (v.fill, len(v)) == (11, 4096 + 8192 + 16384 + 11)
    assert v.sum.value() == 3 + 4093 * 4092 / 2 + (8192 + 16384 + 10) * (8192 + 16384 + 9) / 2
    v.extend(np.empty(0))
    assert len(v) == 4096 + 8192 + 16384 + 11 and len(v.pages) == 4


def test_pages_fold_when_they_reach_the_fold_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(summary, "FOLD_VALUES", 1000)
    v = Values()
    v.extend(np.tile([1.0, 2.0], 499))
    v.extend(np.array([3.0]))
    assert v.distinct is None and v.in_pages() == 999  # one short: kept in pages
    v.extend(np.array([2.0]))
    assert v.distinct is not None and v.counts is not None
    assert (v.distinct.tolist(), v.counts.tolist()) == ([1.0, 2.0, 3.0], [499, 500, 1])
    assert (v.in_pages(), len(v)) == (0, 1000)
    assert v.foldable
    v.fold()  # nothing in pages: nothing changes
    assert v.counts.tolist() == [499, 500, 1]


@pytest.mark.parametrize(("distinct", "foldable"), [(500, True), (501, False)])
def test_values_stay_folded_while_at_most_half_are_distinct(
    monkeypatch: pytest.MonkeyPatch, distinct: int, foldable: bool
) -> None:
    monkeypatch.setattr(summary, "FOLD_VALUES", 1000)
    v = Values()
    x = np.concatenate([np.arange(float(distinct)), np.zeros(1000 - distinct)])
    v.extend(x)
    assert v.distinct is not None and len(v.distinct) == distinct
    assert v.foldable is foldable
    v.extend(np.zeros(1000))
    assert (v.in_pages() == 0) is foldable  # folded again only while that pays
    assert sorted(np.concatenate(v.arrays()).tolist()) == sorted([*x.tolist(), *[0.0] * 1000])


def test_merge_keeps_every_value_and_the_sum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(summary, "FOLD_VALUES", 100)
    a, b, c = Values(), Values(), Values()
    a.extend(np.repeat([5.0, 7.0], 60))  # folded
    b.extend(np.repeat([7.0, 9.0], 60))  # folded
    b.extend(np.array([1.5, 2.5]))  # and two in pages
    c.extend(np.array([0.5]))
    a.merge(b)
    assert a.distinct is not None and a.counts is not None
    assert (a.distinct.tolist(), a.counts.tolist()) == ([5.0, 7.0, 9.0], [60, 120, 60])
    assert [p.tolist() for p in a.arrays(pages_only=True)] == [[1.5, 2.5]]
    assert len(a) == 242 and a.sum.value() == 60 * (5 + 14 + 9) + 4.0
    c.merge(a)  # a folded one into one that never folded
    assert c.distinct is not None and c.counts is not None and c.counts.tolist() == [60, 120, 60]
    want = [0.5, 1.5, 2.5, *[5.0] * 60, *[7.0] * 120, *[9.0] * 60]
    assert sorted(np.concatenate(c.arrays()).tolist()) == sorted(want)
    assert c.sum.value() == 0.5 + 60 * 28 + 4.0
    # one that stopped folding keeps the other from folding after the merge
    d, e = Values(), Values()
    e.extend(np.arange(100.0))
    assert e.foldable is False
    d.merge(e)
    assert d.foldable is False and len(d) == 100


def test_take_all_and_set() -> None:
    v = Values()
    v.extend(np.array([3.0, 1.0]))
    out = v.take_all()
    assert [a.tolist() for a in out] == [[3.0, 1.0]]
    assert (len(v), v.pages, v.distinct, v.counts) == (0, [], None, None)
    v.set(np.array([4.0, 5.0, 6.0]))
    assert (len(v), v.fill, [a.tolist() for a in v.arrays()]) == (3, 3, [[4.0, 5.0, 6.0]])
    v.set(np.empty(0))
    assert (len(v), v.pages, v.fill) == (0, [], 0)


def test_merge_counts_is_numpys_unique_of_all_the_values() -> None:
    parts = [(np.array([1.0, 3.0, 5.0]), np.array([2, 1, 4])),
             (np.array([0.5, 3.0, 9.0]), np.array([1, 6, 1])),
             (np.array([], dtype=float), np.array([], dtype=np.int64))]
    d, c = merge_counts(parts)
    every = np.repeat(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    want_d, want_c = np.unique(every, return_counts=True)
    assert (d.tolist(), c.tolist()) == (want_d.tolist(), want_c.tolist())
    assert (d.tolist(), c.tolist()) == ([0.5, 1.0, 3.0, 5.0, 9.0], [1, 2, 7, 4, 1])


# --------------------------------------------------------------------- fields of the result


def test_timestamps_in_milliseconds_and_one_instant_has_no_rate() -> None:
    acc = SummaryAccumulator()
    acc.update(table([{TIMESTAMP: T0 + 1_999_999}, {TIMESTAMP: T0 + 1_999_999}]))
    s = acc.result().overall
    # 1.999999 ms after 10:00: shown to the millisecond, cut (not rounded) as numpy's datetime64 does
    assert s.first_timestamp == s.last_timestamp == "2026-11-01T10:00:00.001Z"
    assert s.span_seconds == 0.0 and s.requests_per_second is None
    none = SummaryAccumulator()
    none.update(table([{SUCCESS: True}]))
    o = none.result().overall
    assert (o.first_timestamp, o.last_timestamp, o.span_seconds, o.requests_per_second) == (None,) * 4


def test_merged_accumulators_keep_the_earliest_and_latest_instant() -> None:
    a, b, c = SummaryAccumulator(), SummaryAccumulator(), SummaryAccumulator()
    a.update(table([{GROUP: "v1", TIMESTAMP: T0 + 5 * 10**9}, {GROUP: "v1", TIMESTAMP: T0 + 6 * 10**9}]))
    b.update(table([{GROUP: "v1", TIMESTAMP: T0 + 2 * 10**9}, {GROUP: "v1", TIMESTAMP: T0 + 9 * 10**9}]))
    c.update(table([{GROUP: "v1", SUCCESS: True}]))  # no timestamp: changes neither end
    for other in (b, c):
        a.merge(other)
    for s in (a.result().overall, a.result().groups[0]):
        assert s.first_timestamp == "2026-11-01T10:00:02.000Z"
        assert s.last_timestamp == "2026-11-01T10:00:09.000Z"
        assert s.span_seconds == 7.0 and s.requests_per_second == 5 / 7
    c.merge(b)  # into one without timestamps
    o = c.result().overall
    assert (o.first_timestamp, o.span_seconds) == ("2026-11-01T10:00:02.000Z", 7.0)


def test_groups_sorted_the_records_without_the_field_last_and_unread_by_not_listed() -> None:
    acc = SummaryAccumulator()
    acc.update(table([{GROUP: "v2", SUCCESS: True}, {GROUP: None, SUCCESS: False},
                      {GROUP: "v10", SUCCESS: True}]))
    acc.update(table([{SUCCESS: False}], group=False))  # read without --by: in the overall only
    acc.update(table([{GROUP: "", SUCCESS: True}]))
    r = acc.result()
    assert [g.group for g in r.groups] == ["", "v10", "v2", None]
    assert [g.records for g in r.groups] == [1, 1, 1, 1]
    assert (r.overall.group, r.overall.records, r.overall.successes, r.overall.errors) == (None, 5, 3, 2)


def test_a_summary_with_no_confidences_values_or_statuses() -> None:
    acc = SummaryAccumulator(SummaryOptions(low_confidence=0.7, prediction_range=(0.0, 1.0)))
    acc.update(table([{LATENCY: 3.0}]))
    s = acc.result().overall
    assert (s.success_n, s.successes, s.errors, s.success_rate, s.error_rate, s.success_rate_ci95) == (
        0, 0, 0, None, None, None)
    c = s.confidence
    assert (c.n, c.mean, c.low_threshold, c.low_count, c.low_share) == (0, None, 0.7, 0, None)
    assert [n for _, n in c.histogram] == [0] * 8
    assert (s.prediction_values, s.predictions_out_of_range) == (0, 0)


@pytest.mark.parametrize("reader", ["compiled", "python"])
def test_prediction_range_ends_are_inside(monkeypatch: pytest.MonkeyPatch, reader: str) -> None:
    if reader == "python":
        monkeypatch.setenv(summaryshares.READER_ENV, "python")
    else:
        monkeypatch.delenv(summaryshares.READER_ENV, raising=False)
    values = [-0.5, -0.25, 0.0, 0.3, 0.75, 0.7500001, 2.0]
    acc = SummaryAccumulator(SummaryOptions(prediction_range=(-0.25, 0.75)))
    acc.update(table([{GROUP: "g", PRED_VALUE: v} for v in values]))
    s = acc.result().groups[0]
    assert (s.prediction_values, s.predictions_out_of_range) == (7, 3)
    plain = SummaryAccumulator()
    plain.update(table([{GROUP: "g", PRED_VALUE: v} for v in values]))
    o = plain.result().overall
    assert (o.prediction_values, o.predictions_out_of_range) == (7, None)


@pytest.mark.parametrize("reader", ["compiled", "python"])
def test_low_confidence_is_strictly_below_the_threshold(monkeypatch: pytest.MonkeyPatch, reader: str) -> None:
    if reader == "python":
        monkeypatch.setenv(summaryshares.READER_ENV, "python")
    else:
        monkeypatch.delenv(summaryshares.READER_ENV, raising=False)
    acc = SummaryAccumulator(SummaryOptions(low_confidence=0.8))
    acc.update(table([{CONFIDENCE: v} for v in (0.79, 0.8, 0.81, 0.1)]))
    c = acc.result().overall.confidence
    assert (c.n, c.low_count, c.low_share) == (4, 2, 0.5)
    assert c.mean == pytest.approx((0.79 + 0.8 + 0.81 + 0.1) / 4)
    assert dict(c.histogram)["0.7-0.8"] == 2 and dict(c.histogram)["0.8-0.9"] == 1


# --------------------------------------------------------------------- latencies at the extremes


def test_latencies_near_the_largest_float_have_a_finite_mean(monkeypatch: pytest.MonkeyPatch) -> None:
    """Their sum overflows; the mean does not (by hand: each value over n, summed)."""
    big = [1.7e308, 1.6e308, 1.7e308]
    acc = SummaryAccumulator()
    acc.update(table([{GROUP: "g", LATENCY: v} for v in big]))
    for s in (acc.result().overall.latency_ms, acc.result().groups[0].latency_ms):
        assert s.mean == pytest.approx((1.7 + 1.6 + 1.7) / 3 * 1e308, rel=1e-12)
        assert (s.n, s.max, s.p50) == (3, 1.7e308, 1.7e308)
    direct = latency_stats(np.array(big))
    assert direct.mean == pytest.approx((1.7 + 1.6 + 1.7) / 3 * 1e308, rel=1e-12)
    counts = latency_stats_of_counts(np.array([1.6e308, 1.7e308]), np.array([1, 2]))
    assert counts.mean == pytest.approx((1.7 + 1.6 + 1.7) / 3 * 1e308, rel=1e-12)
    # and folded: the means come from the counts
    monkeypatch.setattr(summary, "FOLD_VALUES", 10)
    acc = SummaryAccumulator()
    acc.update(table([{GROUP: "g", LATENCY: v} for v in big * 4]))
    assert acc.groups["g"].latency.distinct is not None
    s = acc.result().overall.latency_ms
    assert s.n == 12 and s.mean == pytest.approx((1.7 + 1.6 + 1.7) / 3 * 1e308, rel=1e-12)


@pytest.mark.parametrize("reader", ["compiled", "python"])
@pytest.mark.parametrize("fold", [False, True], ids=["pages", "folded"])
def test_latencies_near_the_largest_float_print_no_warning(
    monkeypatch: pytest.MonkeyPatch, reader: str, fold: bool
) -> None:
    """Their sums overflow on the way: numpy's overflow warning must not reach the user's stderr."""
    if reader == "python":
        monkeypatch.setenv(summaryshares.READER_ENV, "python")
    else:
        monkeypatch.delenv(summaryshares.READER_ENV, raising=False)
    if fold:
        monkeypatch.setattr(summary, "FOLD_VALUES", 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        acc = SummaryAccumulator()
        acc.update(table([{GROUP: "g", LATENCY: v} for v in (1.7e308, 1.6e308, 1.7e308, 1.7e308)]))
        s = acc.result().overall.latency_ms
        latency_stats_of_counts(np.array([1.6e308, 1.7e308]), np.array([1, 3]))
        latency_stats(np.array([1.6e308, 1.7e308, 1.7e308, 1.7e308]))
    assert (acc.groups["g"].latency.distinct is not None) is fold
    assert s.mean == pytest.approx((1.6 + 3 * 1.7) / 4 * 1e308, rel=1e-12)


def test_latency_stats_leave_the_callers_values_alone_unless_told() -> None:
    x = np.array([5.0, 1.0, 4.0, 2.0, 3.0] * 40)
    before = x.tolist()
    s = latency_stats(x)
    assert x.tolist() == before
    assert (s.p50, s.max, s.n) == (3.0, 5.0, 200)
    latency_stats(x, in_place=True)
    assert sorted(x.tolist()) == sorted(before)


def test_a_group_without_latencies_beside_folded_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(summary, "FOLD_VALUES", 50)
    acc = SummaryAccumulator()
    lat = [float(i % 7) for i in range(120)]
    acc.update(table([{GROUP: "a", LATENCY: v} for v in lat] + [{GROUP: "b", SUCCESS: True}]))
    r = acc.result()
    a, b = r.groups
    assert acc.groups["a"].latency.distinct is not None
    assert (b.group, b.latency_ms.n, b.latency_ms.p50, b.latency_ms.mean) == ("b", 0, None, None)
    want = np.percentile(lat, [50, 95, 99])
    for s in (a.latency_ms, r.overall.latency_ms):
        assert (s.n, s.p50, s.p95, s.p99, s.max) == (120, *map(float, want), 6.0)
        assert s.mean == pytest.approx(np.mean(lat), rel=1e-12)


def test_one_latency_of_counts() -> None:
    s = latency_stats_of_counts(np.array([42.0]), np.array([1]))
    assert (s.n, s.mean, s.p50, s.p95, s.p99, s.max) == (1, 42.0, 42.0, 42.0, 42.0, 42.0)
    assert s.p99_lower == 42.0 and s.p99_upper is None
    e = latency_stats_of_counts(np.array([], dtype=float), np.array([], dtype=np.int64))
    assert (e.n, e.mean, e.p50, e.insufficient) == (0, None, None, ("p50", "p95", "p99"))


# --------------------------------------------------------------------- the compiled pass's tables


def _shares(t: pa.Table) -> list[summaryshares.GroupShare] | None:
    return summaryshares.shares(t, low_confidence=0.5, prediction_range=None, edges=summary.CONFIDENCE_EDGES)


@pytest.mark.parametrize(("value", "compiled"), [("python", False), (" Python\n", False), ("PYTHON", False),
                                                 ("native", True), ("", True), ("pythonic", True)])
def test_mlmon_reader_python_in_any_case_turns_the_compiled_pass_off(
    monkeypatch: pytest.MonkeyPatch, value: str, compiled: bool
) -> None:
    pytest.importorskip("mlmon._native")
    monkeypatch.setenv(summaryshares.READER_ENV, value)
    assert summaryshares.enabled() is compiled
    assert (_shares(table([{GROUP: "v1", LATENCY: 1.0}])) is not None) is compiled
    monkeypatch.delenv(summaryshares.READER_ENV)
    assert summaryshares.enabled() is True


def test_tables_of_other_shapes_go_the_python_way(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("mlmon._native")
    monkeypatch.delenv(summaryshares.READER_ENV, raising=False)
    t = table([{GROUP: "v1", LATENCY: 1.0, TIMESTAMP: T0}, {GROUP: "v2", LATENCY: 3.0, SUCCESS: True}])
    got = _shares(t)
    assert got is not None and [(g.key, g.records, g.latency.tolist()) for g in got] == [
        ("v1", 1, [1.0]), ("v2", 1, [3.0])]
    assert _shares(t.slice(0, 0)) is None  # no rows: nothing to count
    for name in (SUCCESS, LATENCY, CONFIDENCE, PRED_VALUE, TIMESTAMP, "pred_class"):
        assert _shares(t.drop_columns([name])) is None, name  # a column missing
    i = t.schema.get_field_index(TIMESTAMP)
    as_int = t.set_column(i, TIMESTAMP, pa.array([T0, None], pa.int64()))
    assert _shares(as_int) is None  # not a timestamp
    us = t.set_column(i, TIMESTAMP, pa.array([T0 // 1000, None], pa.timestamp("us", tz="UTC")))
    assert _shares(us) is None
    naive = t.set_column(i, TIMESTAMP, pa.array([T0, None], pa.timestamp("ns")))
    got = _shares(naive)  # any time zone, or none: read as nanoseconds
    assert got is not None and got[0].ts_min == got[0].ts_max == T0
    g = t.schema.get_field_index(GROUP)
    assert _shares(t.set_column(g, GROUP, t.column(GROUP).cast(pa.large_string()))) is None
    j = t.schema.get_field_index(LATENCY)
    assert _shares(t.set_column(j, LATENCY, t.column(LATENCY).cast(pa.float32()))) is None
    # and the accumulator gives the same summary either way
    for other in (as_int.set_column(i, TIMESTAMP, t.column(TIMESTAMP)), naive):
        acc = SummaryAccumulator()
        acc.update(other)
        got_groups = [(x.group, x.records, x.latency_ms.n) for x in acc.result().groups]
        assert got_groups == [("v1", 1, 1), ("v2", 1, 1)]


def test_the_compiled_shares_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    """One group's counts, each field by hand, from a table in two chunks read from an offset."""
    pytest.importorskip("mlmon._native")
    monkeypatch.delenv(summaryshares.READER_ENV, raising=False)
    rows = [
        {GROUP: "skip", LATENCY: 99.0},
        {GROUP: "a", LATENCY: 5.0, SUCCESS: True, "pred_class": "cat", CONFIDENCE: 0.3, PRED_VALUE: -2.0,
         TIMESTAMP: T0 + 7},
        {GROUP: "a", LATENCY: None, SUCCESS: False, "pred_class": "dog", CONFIDENCE: 0.5, PRED_VALUE: 0.5,
         TIMESTAMP: T0 + 3},
        {GROUP: None, LATENCY: 2.0, SUCCESS: None, "pred_class": "cat", CONFIDENCE: 0.95, PRED_VALUE: 4.0,
         TIMESTAMP: None},
        {GROUP: "a", LATENCY: 1.5, SUCCESS: True, "pred_class": "cat", CONFIDENCE: 0.99, PRED_VALUE: 1.0,
         TIMESTAMP: T0 + 9},
    ]
    # two chunks with buffers of their own, the first read from an offset
    t = pa.concat_tables([table(rows[:3]).slice(1), table(rows[3:])])
    assert t.column(LATENCY).num_chunks == 2 and t.column(LATENCY).chunk(0).offset == 1
    got = summaryshares.shares(t, low_confidence=0.5, prediction_range=(0.0, 1.0),
                               edges=summary.CONFIDENCE_EDGES)
    assert got is not None
    a, none = got
    assert (a.key, a.records, a.status_n, a.successes) == ("a", 3, 3, 2)
    assert a.latency.dtype == np.float64 and a.latency.tolist() == [5.0, 1.5]
    assert a.confidence.tolist() == [0.3, 0.5, 0.99] and a.conf_low == 1
    assert a.conf_hist.dtype == np.int64 and a.conf_hist.tolist() == [2, 0, 0, 0, 0, 0, 1, 0]
    assert (a.class_names, a.class_counts) == (["cat", "dog"], [2, 1])
    assert (a.value_n, a.value_outside, a.ts_min, a.ts_max) == (3, 1, T0 + 3, T0 + 9)
    assert (none.key, none.records, none.status_n, none.successes) == (None, 1, 0, 0)
    assert none.latency.tolist() == [2.0]
    assert (none.conf_hist.tolist(), none.ts_min, none.ts_max) == ([0, 0, 0, 0, 0, 1, 0, 0], None, None)
    bare = summaryshares.shares(t.drop_columns([GROUP]), low_confidence=0.96, prediction_range=None,
                                edges=summary.CONFIDENCE_EDGES)
    assert bare is not None and len(bare) == 1
    assert (bare[0].key, bare[0].records, bare[0].conf_low, bare[0].value_outside) == (None, 4, 3, 0)
    assert bare[0].latency.tolist() == [5.0, 2.0, 1.5] and bare[0].class_counts == [3, 1]
    # and the summary of those chunks is the one of the rows (both passes)
    for reader in ("native", "python"):
        monkeypatch.setenv(summaryshares.READER_ENV, reader)
        acc = SummaryAccumulator(SummaryOptions(prediction_range=(0.0, 1.0)))
        acc.update(t)
        r = acc.result()
        assert [(g.group, g.records, g.latency_ms.n, g.predictions_out_of_range) for g in r.groups] == [
            ("a", 3, 2, 1), (None, 1, 1, 1)]
        assert r.overall.latency_ms.max == 5.0 and r.overall.confidence.n == 4


# --------------------------------------------------------------------- the bounds of each percentile


@pytest.mark.parametrize("n", [19, 20, 21, 199, 200, 999, 1000])
def test_counts_mark_percentiles_with_fewer_than_ten_values_above(n: int) -> None:
    """n (1 - q) < 10 exactly (n (100 - q%) < 1000 in integers), folded values as kept ones."""
    want = tuple(name for name, p in (("p50", 50), ("p95", 95), ("p99", 99)) if n * (100 - p) < 1000)
    x = np.arange(n, dtype=float) % 7
    d, c = np.unique(x, return_counts=True)
    assert latency_stats_of_counts(d, c).insufficient == want
    assert latency_stats(x).insufficient == want


def test_bounds_by_name() -> None:
    s = latency_stats(np.arange(1.0, 301.0))
    for name in ("p50", "p95", "p99"):
        lo, hi = s.bounds(name)
        assert (lo, hi) == (getattr(s, f"{name}_lower"), getattr(s, f"{name}_upper"))
    assert s.bounds("p50")[0] is not None and s.bounds("p50")[1] is not None
    lo50, hi50 = s.bounds("p50")
    assert lo50 < s.p50 < hi50  # type: ignore[operator]
    assert s.bounds("p75") == (None, None)  # no such percentile: nothing bounds it


@pytest.mark.parametrize(("k", "n"), [(16, 16), (40, 40), (0, 21), (0, 37)])
def test_the_success_rate_interval_stays_within_zero_and_one(k: int, n: int) -> None:
    """At these n the Wilson formula rounds to 1.0000000000000002 above (or -1.4e-17 below): the
    interval a user reads (and the JSON holds) is clamped to [0, 1], and holds the rate."""
    acc = SummaryAccumulator()
    acc.update(table([{SUCCESS: i < k} for i in range(n)]))
    s = acc.result().overall
    assert s.success_rate == k / n
    lo, hi = s.success_rate_ci95  # type: ignore[misc]
    assert 0.0 <= lo <= k / n <= hi <= 1.0
    assert (hi == 1.0) if k == n else (lo == 0.0)


def test_a_merge_keeps_the_later_end_when_the_other_ends_sooner() -> None:
    a, b = SummaryAccumulator(), SummaryAccumulator()
    a.update(table([{GROUP: "v1", TIMESTAMP: T0 + 5 * 10**9}, {GROUP: "v1", TIMESTAMP: T0 + 12 * 10**9},
                    {GROUP: "v2", TIMESTAMP: T0 + 3 * 10**9}]))
    b.update(table([{GROUP: "v1", TIMESTAMP: T0 + 2 * 10**9}, {GROUP: "v1", TIMESTAMP: T0 + 9 * 10**9}]))
    a.merge(b)
    r = a.result()
    v1, v2 = r.groups
    assert (v1.first_timestamp, v1.last_timestamp) == ("2026-11-01T10:00:02.000Z", "2026-11-01T10:00:12.000Z")
    assert (v2.first_timestamp, v2.last_timestamp) == ("2026-11-01T10:00:03.000Z", "2026-11-01T10:00:03.000Z")
    # the overall: v1 (to 12 s) merged before v2 (3 s) keeps 12 s
    assert (r.overall.first_timestamp, r.overall.last_timestamp) == (
        "2026-11-01T10:00:02.000Z", "2026-11-01T10:00:12.000Z")
    assert r.overall.span_seconds == 10.0 and r.overall.requests_per_second == 5 / 10


def test_two_groups_keep_their_own_latencies_across_results(rng: np.random.Generator) -> None:
    """The overall's percentiles must not reorder the array the two groups' values are slices of."""
    fast, slow = np.round(rng.gamma(2.0, 20.0, 300), 2), np.round(rng.gamma(2.0, 25.0, 200), 2)
    rows = [{GROUP: "fast", LATENCY: float(v)} for v in fast]
    rows += [{GROUP: "slow", LATENCY: float(v)} for v in slow]
    order = rng.permutation(len(rows))
    acc = SummaryAccumulator()
    acc.update(table([rows[i] for i in order]))
    for _ in range(2):
        r = acc.result()
        for g, want in zip(r.groups, (fast, slow), strict=True):
            pcts = np.percentile(want, [50, 95, 99])
            assert (g.latency_ms.p50, g.latency_ms.p95, g.latency_ms.p99, g.latency_ms.max) == (
                *map(float, pcts), want.max())
        every = np.concatenate([fast, slow])
        assert r.overall.latency_ms.p50 == float(np.percentile(every, 50))


def test_the_mean_latency_is_the_same_however_the_values_were_read(
    monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator
) -> None:
    """Each table's sum is kept exactly: reading the tables in one go, merging parts read apart in
    another order, or folding the values gives the same mean to the last digit (by hand: the exact
    sum of the tables' sums, math.fsum, over n)."""
    chunks = [rng.lognormal(3.0, 1.5, n) for n in (1000, 37, 2500, 999)]
    tables = [table([{GROUP: "v1", LATENCY: float(v)} for v in c]) for c in chunks]
    n = sum(len(c) for c in chunks)
    want = math.fsum(float(np.sum(c)) for c in chunks) / n

    def read(parts: list[int]) -> SummaryAccumulator:
        acc = SummaryAccumulator()
        for i in parts:
            acc.update(tables[i])
        return acc

    one = read([0, 1, 2, 3])
    apart = read([3, 2])
    apart.merge(read([1, 0]))
    means = [one.result().overall.latency_ms.mean, apart.result().overall.latency_ms.mean,
             apart.result().groups[0].latency_ms.mean]
    monkeypatch.setattr(summary, "FOLD_VALUES", 500)
    folded = read([2, 0, 3, 1])
    assert folded.groups["v1"].latency.distinct is not None
    means.append(folded.result().overall.latency_ms.mean)
    assert means == [want] * 4


def test_classes_past_the_top_are_counted_as_other_and_distinct() -> None:
    """Top 2 of 4 classes (by hand): dog 4, cat 3 listed; emu 2 + ant 1 = 3 records other; 4 distinct."""
    names = ["dog"] * 4 + ["cat"] * 3 + ["emu"] * 2 + ["ant"] + [None]
    acc = SummaryAccumulator(SummaryOptions(top_classes=2))
    acc.update(table([{GROUP: "g", "pred_class": c} for c in names]))
    for s in (acc.result().overall, acc.result().groups[0]):
        assert [(c.name, c.count) for c in s.classes] == [("dog", 4), ("cat", 3)]
        assert (s.classes_other, s.classes_distinct, s.classes_exact) == (3, 4, True)
