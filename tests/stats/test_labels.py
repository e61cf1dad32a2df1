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
