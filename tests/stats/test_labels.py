"""The labels join: exact accounting of every prediction and every label row, by hand."""

from __future__ import annotations

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
