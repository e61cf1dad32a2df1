"""The labels join: exact accounting of every prediction and every label row, by hand."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from mlmon.read.records import CONFIDENCE, GROUP, KEY, PRED_CLASS, PRED_VALUE, TIMESTAMP
from mlmon.stats.labels import JoinAccumulator, LabelIndex, as_class


def _labels(rows: list[tuple[str | None, str | None, float | None]]) -> pa.Table:
    return pa.table({
        GROUP: pa.array([r[0] for r in rows], pa.string()),
        PRED_CLASS: pa.array([r[1] for r in rows], pa.string()),
        PRED_VALUE: pa.array([r[2] for r in rows], pa.float64()),
    })


def _preds(rows: list[tuple[str | None, str | None, float | None]]) -> pa.Table:
    n = len(rows)
    return pa.table({
        TIMESTAMP: pa.array([1_000_000_000 * i for i in range(n)], pa.timestamp("ns", "UTC")),
        KEY: pa.array([r[0] for r in rows], pa.string()),
        PRED_CLASS: pa.array([r[1] for r in rows], pa.string()),
        CONFIDENCE: pa.array([r[2] for r in rows], pa.float64()),
        PRED_VALUE: pa.array([None] * n, pa.float64()),
    })


def test_every_label_row_and_every_prediction_is_counted_once() -> None:
    index = LabelIndex()
    index.update(_labels([
        ("a", "1", None), ("b", None, 0.0),            # a number label: class "0"
        ("c", "1", None), ("c", None, 1.0),            # the same label twice: used once
        ("d", "1", None), ("d", "0", None), ("d", "1", None),  # labels disagree: all three out
        (None, "1", None),                             # no key
        ("e", None, None),                             # no label: the reader's missing_field
        ("f", "0", None), ("g", "0", None),            # f: two predictions; g: none
    ]))
    acc = index.accounting()
    assert (acc.rows, acc.keys, acc.duplicates, acc.conflicting, acc.without_key) == (9, 5, 1, 3, 1)
    assert acc.rows == acc.keys + acc.duplicates + acc.conflicting
    join = JoinAccumulator(index)
    join.update(_preds([("a", "1", 0.9), ("b", "1", 0.6), ("z", "0", 0.8), (None, "1", 0.7)]))
    join.update(_preds([("c", "1", 0.99), ("d", "0", 0.5), ("f", "0", 0.6), ("f", "0", 0.7)]))
    joined, j = join.result(regression=False)
    assert j.predictions == 8
    parts = (j.labelled, j.without_label, j.without_key, j.duplicate_predictions, j.ambiguous)
    assert parts == (3, 1, 1, 2, 1) and sum(parts) == j.predictions
    assert j.labels_without_prediction == 1  # g
    assert j.coverage == pytest.approx(3 / 7)
    assert joined.truth == ("1", 0.0, "1") and joined.pred_class == ("1", "1", "1")
    assert joined.confidence.tolist() == [0.9, 0.6, 0.99]


def test_a_regression_join_leaves_out_text_labels_and_predictions_without_a_value() -> None:
    index = LabelIndex()
    index.update(_labels([("a", None, 3.5), ("b", "n/a", None), ("c", None, 2.0)]))
    t = _preds([("a", None, None), ("b", None, None), ("c", None, None)])
    t = t.set_column(t.schema.get_field_index(PRED_VALUE), PRED_VALUE, pa.array([3.0, 1.0, None]))
    join = JoinAccumulator(index)
    join.update(t)
    joined, j = join.result(regression=True)
    assert joined.truth == (3.5,) and joined.pred_value.tolist() == [3.0]
    assert j.unusable == 2 and j.labelled == 1


@pytest.mark.parametrize(("v", "text"),
                         [(1.0, "1"), (2.5, "2.5"), ("cat", "cat"), (None, None), (-3.0, "-3")])
def test_classes_compare_as_text_and_whole_numbers_lose_their_fraction(v: object, text: str | None) -> None:
    assert as_class(v) == text  # type: ignore[arg-type]


def _run(carry: object, labels: list[tuple[str | None, str | None, float | None]],
         preds: list[tuple[str | None, str | None, float | None]], now: float, **limits: float) -> tuple:
    """One --state run of the join: the labels read this run, then this run's predictions."""
    from mlmon.stats.labels import Carry, WaitLimits

    assert isinstance(carry, Carry)
    index = LabelIndex()
    index.carry(carry.labels)
    if labels:
        index.update(_labels(labels))
    join = JoinAccumulator(index, carry=carry, now=now, limits=WaitLimits(**limits))  # type: ignore[arg-type]
    if preds:
        join.update(_preds(preds))
    joined, acc = join.result(regression=False)
    assert join.carried is not None
    w = acc.waiting
    assert w is not None
    parts = (acc.labelled, acc.without_label, acc.without_key, acc.duplicate_predictions, acc.ambiguous,
             acc.unusable)
    assert acc.predictions + w.from_earlier == sum(parts)
    return joined, acc, join.carried


def test_across_runs_each_pair_joins_once_and_what_waits_is_kept() -> None:
    from mlmon.stats.labels import Carry

    # run 1: predictions a, b, c, d; a label for a only; a label for x (no prediction yet)
    j1, a1, c1 = _run(Carry(), [("a", "1", None), ("x", "0", None)],
                      [("a", "1", 0.9), ("b", "0", 0.8), ("c", "1", 0.7), ("d", "1", 0.6)], now=100.0)
    assert j1.truth == ("1",) and a1.without_label == 3
    assert [p.key for p in c1.predictions] == ["b", "c", "d"] and [p.key for p in c1.labels] == ["x"]
    assert {p.read_at for p in c1.predictions} == {100.0}
    # run 2: labels for b and c (c's label disagrees with itself: ambiguous), the prediction x, and a
    # second prediction of d (a duplicate of one kept: both out)
    j2, a2, c2 = _run(c1, [("b", "0", None), ("c", "1", None), ("c", "0", None)],
                      [("x", "0", 0.55), ("d", "0", 0.5)], now=200.0)
    assert sorted(zip(j2.truth, j2.pred_class, strict=True)) == [("0", "0"), ("0", "0")]  # b and x
    assert a2.waiting is not None and a2.waiting.from_earlier == 3  # b joined, c ambiguous, d duplicate
    assert (a2.labelled, a2.ambiguous, a2.duplicate_predictions) == (2, 1, 2)
    assert c2.predictions == () and c2.labels == ()
    # run 3: nothing new: nothing joins again
    j3, a3, c3 = _run(c2, [], [], now=300.0)
    assert len(j3) == 0 and a3.labelled == 0 and c3 == Carry()


def test_what_waits_past_the_limits_is_dropped_oldest_first_and_counted() -> None:
    from mlmon.stats.labels import Carry

    _, _, c1 = _run(Carry(), [("l1", "1", None)], [("p1", "1", 0.9), ("p2", "1", 0.9)], now=0.0)
    _, _, c2 = _run(c1, [("l2", "1", None)], [("p3", "1", 0.9)], now=10.0)
    # at most two predictions and one label: the oldest go
    _, acc, c3 = _run(c2, [], [("p4", "0", 0.9)], now=20.0, max_predictions=2, max_labels=1)
    assert [p.key for p in c3.predictions] == ["p3", "p4"] and [p.key for p in c3.labels] == ["l2"]
    assert acc.waiting is not None
    assert (acc.waiting.expired_predictions, acc.waiting.expired_labels) == (2, 1)
    # older than the age limit: dropped, even under the count
    _, acc, c4 = _run(c3, [], [], now=25.0, max_age=12.0)
    assert [p.key for p in c4.predictions] == ["p4"] and c4.labels == ()
    assert acc.waiting is not None and acc.waiting.expired_predictions == 1
    # a label for a prediction that waited joins it, whenever it comes
    j, acc, _ = _run(c4, [("p4", "1", None)], [], now=26.0)
    assert j.truth == ("1",) and j.pred_class == ("0",) and acc.waiting is not None
    assert acc.waiting.from_earlier == 1


# --- by hand: every count of the accounting, every field carried, at the edges -----------------


def test_whole_numbers_lose_their_fraction_up_to_two_to_the_53() -> None:
    assert as_class(200.0) == "200" and as_class(2.0**53 - 1) == str(2**53 - 1)
    assert as_class(2.0**53) == repr(2.0**53) and as_class(-(2.0**53)) == repr(-(2.0**53))
    assert as_class(2.0**53 + 2) == repr(2.0**53 + 2)
    assert as_class(float("nan")) is None and as_class(float("inf")) is None


def test_label_rows_are_counted_by_hand() -> None:
    index = LabelIndex()
    index.update(_labels([
        ("n", None, 2.5), ("n", None, 2.5), ("n", None, 2.5),  # a number three times: two repeats
        ("m", None, 2.5), ("m", None, 3.5),  # two numbers that differ: a conflict
        ("r", "x", None), ("r", "x", None), ("r", "y", None),  # a repeat, then a conflict: 3 rows out
        (None, "1", None), (None, "2", None),  # no key, twice
        ("c", "1", None), ("c", None, 1.0),  # text 1 and number 1: the same class
    ]))
    acc = index.accounting()
    assert (acc.rows, acc.keys, acc.duplicates, acc.conflicting, acc.without_key) == (10, 2, 3, 5, 2)
    assert acc.rows == acc.keys + acc.duplicates + acc.conflicting
    assert index.labels == {"n": 2.5, "c": "1"} and index.conflicts == {"m", "r"}


def test_carried_labels_are_counted_while_they_wait() -> None:
    from mlmon.stats.labels import PendingLabel

    index = LabelIndex()
    index.carry((PendingLabel("a", "1", 5.0), PendingLabel("b", "0", 6.0)))
    index.update(_labels([("b", "1", None), ("c", "1", None)]))  # b now disagrees: a conflict
    acc = index.accounting()
    assert acc.carried == 1 and acc.keys == 2 and acc.conflicting == 2


def _preds_plain(keys: list[str | None], **cols: list[object]) -> pa.Table:
    """Predictions with only a key and the columns given (no timestamp value where None)."""
    n = len(keys)
    out = {TIMESTAMP: pa.array(cols.pop("ts", [None] * n), pa.timestamp("ns", "UTC")),
           KEY: pa.array(keys, pa.string())}
    for name, values in cols.items():
        out[name] = pa.array(values)
    return pa.table(out)


def test_a_prediction_log_with_only_some_columns_joins() -> None:
    index = LabelIndex()
    index.update(_labels([("a", None, 1.0), ("b", "0", None)]))
    join = JoinAccumulator(index)
    assert join.carried is None
    join.update(_preds_plain(["a", "b"], **{PRED_VALUE: [1.0, 0.0]}))  # no class, no confidence, no group
    joined, acc = join.result(regression=False)
    assert joined.truth == (1.0, "0") and joined.pred_class == ("1", "0")
    assert joined.time_ns.tolist() == [np.iinfo(np.int64).min] * 2 and joined.group == (None, None)
    assert np.isnan(joined.confidence).all() and joined.pred_value.tolist() == [1.0, 0.0]
    assert acc.labelled == 2 and acc.waiting is None and acc.labels == index.accounting()
    join = JoinAccumulator(index)
    join.update(_preds_plain(["a", "b"], ts=[7, None], **{PRED_CLASS: ["1", "0"], GROUP: ["g1", None],
                                                           CONFIDENCE: [0.5, None]}))
    joined, _ = join.result(regression=False)
    assert joined.time_ns.tolist() == [7, np.iinfo(np.int64).min] and joined.group == ("g1", None)
    assert joined.confidence[0] == 0.5 and np.isnan(joined.confidence[1])


def test_a_prediction_without_a_class_or_a_value_is_unusable() -> None:
    index = LabelIndex()
    index.update(_labels([("a", "1", None), ("b", "1", None), ("c", "1", None)]))
    join = JoinAccumulator(index)
    cols = {PRED_CLASS: [None, "1", None], PRED_VALUE: [None, None, 1.0]}
    join.update(_preds_plain(["a", "b", "c"], **cols))
    joined, acc = join.result(regression=False)
    assert acc.unusable == 1 and acc.labelled == 2 and joined.pred_class == ("1", "1")


def test_copies_of_a_key_are_all_left_out_and_the_next_keys_still_join() -> None:
    index = LabelIndex()
    index.update(_labels([("a", "1", None), ("b", "1", None), ("z", "0", None)]))
    join = JoinAccumulator(index)
    join.update(_preds([("a", "1", 0.9), ("a", "1", 0.8)]))
    join.update(_preds([("a", "0", 0.7), ("b", "1", 0.6)]))
    joined, acc = join.result(regression=False)
    assert acc.duplicate_predictions == 3 and acc.labelled == 1 and joined.truth == ("1",)
    assert acc.without_label == 0 and acc.labels_without_prediction == 1


def test_ambiguous_predictions_add_up_over_chunks() -> None:
    index = LabelIndex()
    index.update(_labels([("d", "1", None), ("d", "0", None), ("e", "1", None)]))
    join = JoinAccumulator(index)
    join.update(_preds([("d", "1", 0.9)]))
    join.update(_preds([("d", "1", 0.9), ("e", "1", 0.5)]))
    _, acc = join.result(regression=False)
    assert acc.ambiguous == 2 and acc.labelled == 1


def test_no_labels_at_all_leaves_every_prediction_without_one() -> None:
    join = JoinAccumulator(LabelIndex())
    join.update(_preds([("a", "1", 0.9), (None, "1", 0.9), ("b", "0", 0.5)]))
    joined, acc = join.result(regression=False)
    assert len(joined) == 0 and (acc.without_label, acc.without_key, acc.labelled) == (2, 1, 0)
    assert acc.coverage == 0.0
    nothing = JoinAccumulator(LabelIndex())
    nothing.update(_preds([(None, "1", 0.9)]))
    assert nothing.result(regression=False)[1].coverage is None


def test_a_waiting_prediction_keeps_every_field_across_runs() -> None:
    from mlmon.stats.labels import Carry, PendingPrediction

    index = LabelIndex()
    join = JoinAccumulator(index, carry=Carry(), now=50.0)
    join.update(_preds_plain(["p", "q", None], ts=[7, None, 1], **{
        PRED_CLASS: ["1", None, "1"], GROUP: ["g", None, "g"], CONFIDENCE: [0.75, None, 0.1],
        PRED_VALUE: [None, 3.5, None]}))
    _, acc = join.result(regression=False)
    assert join.carried is not None and acc.waiting is not None
    assert (acc.waiting.predictions, acc.waiting.labels, acc.without_label) == (2, 0, 2)
    assert join.carried.predictions == (
        PendingPrediction("p", 7, "g", "1", 0.75, None, 50.0),
        PendingPrediction("q", None, None, None, None, 3.5, 50.0),
    )
    # the next run: labels for both; each joins with the fields it had
    index = LabelIndex()
    index.update(_labels([("p", "0", None), ("q", None, 3.0)]))
    join = JoinAccumulator(index, carry=join.carried, now=60.0)
    joined, acc = join.result(regression=False)
    assert joined.truth == ("0", 3.0) and joined.pred_class == ("1", "3.5")
    assert joined.time_ns.tolist() == [7, np.iinfo(np.int64).min] and joined.group == ("g", None)
    assert joined.confidence[0] == 0.75 and np.isnan(joined.confidence[1])
    assert acc.waiting is not None and acc.waiting.from_earlier == 2


def test_carried_predictions_whose_labels_now_disagree_are_all_ambiguous() -> None:
    from mlmon.stats.labels import Carry, PendingPrediction

    carry = Carry(predictions=(PendingPrediction("a", None, None, "1", None, None, 1.0),
                               PendingPrediction("b", None, None, "1", None, None, 1.0)))
    index = LabelIndex()
    index.update(_labels([("a", "1", None), ("a", "0", None), ("b", "1", None), ("b", "0", None)]))
    join = JoinAccumulator(index, carry=carry, now=2.0)
    _, acc = join.result(regression=False)
    assert acc.ambiguous == 2 and acc.waiting is not None and acc.waiting.from_earlier == 2


def test_what_was_read_exactly_the_age_limit_ago_is_kept() -> None:
    from mlmon.stats.labels import Carry, PendingLabel, PendingPrediction, WaitLimits

    carry = Carry(predictions=(PendingPrediction("p", None, None, "1", None, None, 8.0),),
                  labels=(PendingLabel("l", "1", 8.0),))
    index = LabelIndex()
    index.carry(carry.labels)
    join = JoinAccumulator(index, carry=carry, now=20.0, limits=WaitLimits(max_age=12.0))
    _, acc = join.result(regression=False)
    assert join.carried is not None
    assert [p.key for p in join.carried.predictions] == ["p"]
    assert [p.key for p in join.carried.labels] == ["l"]
    assert acc.waiting is not None and (acc.waiting.expired_predictions, acc.waiting.expired_labels) == (0, 0)
