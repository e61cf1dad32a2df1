"""The summary's fields a user reads, at their edges: group labels, the --by limit at equality,
timestamps, rates, overflowing latencies, the bounds of each percentile, and how values are kept."""

from __future__ import annotations

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
    keys = [None, "v2", "", "v10", "a"]
    assert sorted(keys, key=group_order) == ["", "a", "v10", "v2", None]


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
