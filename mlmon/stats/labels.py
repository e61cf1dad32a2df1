"""Join labels to predictions by a request id, exactly, holding only the labels in memory."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlmon.read.records import CONFIDENCE, GROUP, KEY, PRED_CLASS, PRED_VALUE, TIMESTAMP

Label = str | float
"""A true label: a class (text) or a regression value (a number)."""


def as_class(label: Label | None) -> str | None:
    """A label or a predicted value as the class text classes are compared in: a whole number is
    written without a fraction (`1.0` and `1` are class `1`), as the readers write integers."""
    if label is None or isinstance(label, str):
        return label
    if not math.isfinite(label):
        return None
    return str(int(label)) if label == int(label) and abs(label) < 2**53 else repr(label)


def _same(a: Label, b: Label) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return as_class(a) == as_class(b)
    return a == b


@dataclass(frozen=True)
class LabelAccounting:
    """How the rows of the labels files were used: rows = keys + duplicates + conflicting."""

    rows: int
    """Label rows with a join key and a label."""
    keys: int
    """Distinct keys with one label (the join's right side)."""
    duplicates: int
    """Rows repeating a key with the same label (the label is used once)."""
    conflicting: int
    """Rows of keys whose labels disagree: all left out, the truth is ambiguous."""
    without_key: int
    """Rows with a label but no join key (not usable; not in `rows`)."""


class LabelIndex:
    """The labels by join key, built chunk by chunk from the labels files.

    Memory: one dict entry per distinct key (its text and its label: 91 bytes a label measured
    with 11-character keys), whatever the size of the prediction log."""

    def __init__(self) -> None:
        self.labels: dict[str, Label] = {}
        self.conflicts: set[str] = set()
        self._repeats: dict[str, int] = {}
        self._rows = 0
        self._conflicting = 0
        self._without_key = 0

    def update(self, chunk: pa.Table) -> None:
        """A chunk read from a labels file with the join field as the group (GROUP) and the label
        field as a bare prediction: text in PRED_CLASS, a number in PRED_VALUE."""
        keys = chunk.column(GROUP).to_pylist()
        classes = chunk.column(PRED_CLASS).to_pylist()
        values = chunk.column(PRED_VALUE).to_pylist()
        for key, cls, value in zip(keys, classes, values, strict=True):
            label: Label | None = cls if cls is not None else value
            if label is None:
                continue  # the reader counts a row without the label field (missing_field)
            if key is None:
                self._without_key += 1
                continue
            self._rows += 1
            if key in self.conflicts:
                self._conflicting += 1
                continue
            old = self.labels.get(key)
            if old is None:
                self.labels[key] = label
            elif _same(old, label):
                self._repeats[key] = self._repeats.get(key, 0) + 1
            else:
                del self.labels[key]
                self.conflicts.add(key)
                self._conflicting += 2 + self._repeats.pop(key, 0)

    def accounting(self) -> LabelAccounting:
        return LabelAccounting(
            self._rows, len(self.labels), sum(self._repeats.values()), self._conflicting, self._without_key
        )


@dataclass(frozen=True)
class JoinAccounting:
    """How the selected predictions met the labels:
    predictions = labelled + without_label + without_key + duplicate_predictions + ambiguous
    (+ unusable, below)."""

    predictions: int
    """Records selected from the prediction log."""
    labelled: int
    """Predictions joined to exactly one label and used in the metrics."""
    without_label: int
    """Predictions with a join key that no label has (yet)."""
    without_key: int
    """Predictions without the join field."""
    duplicate_predictions: int
    """Predictions sharing a labelled key with another prediction (all copies left out)."""
    ambiguous: int
    """Predictions whose key has labels that disagree (left out)."""
    unusable: int
    """Joined, but not measurable: no predicted class or value, or a regression label that is
    not a number (left out)."""
    labels: LabelAccounting
    labels_without_prediction: int
    """Distinct label keys that no selected prediction has (not yet logged, or outside the
    window, or another log's)."""

    @property
    def coverage(self) -> float | None:
        """Share of the predictions with a key that have a usable label."""
        keyed = self.predictions - self.without_key
        return self.labelled / keyed if keyed else None


@dataclass(frozen=True)
class Joined:
    """The labelled predictions, as arrays of one length (order: by key, so runs agree)."""

    truth: tuple[Label, ...]
    pred_class: tuple[str | None, ...]
    confidence: np.ndarray
    """float64, NaN where the prediction had no confidence."""
    pred_value: np.ndarray
    """float64, NaN where the prediction had no numeric value."""
    time_ns: np.ndarray
    """int64 nanoseconds since the epoch; the minimum int64 where the record had no time."""
    group: tuple[str | None, ...]

    def __len__(self) -> int:
        return len(self.truth)


NO_TIME = np.iinfo(np.int64).min


class JoinAccumulator:
    """Streams the prediction log against a LabelIndex: keeps only the predictions whose key has a
    label (at most one per label key, plus the duplicates' count), so memory is bounded by the
    labels, not by the log."""

    def __init__(self, index: LabelIndex) -> None:
        self.index = index
        self._keys = pa.array(list(index.labels), pa.string())
        self._conflicts = pa.array(sorted(index.conflicts), pa.string())
        self._rows: dict[str, tuple[int, str | None, str | None, float, float]] = {}
        self._copies: dict[str, int] = {}
        self._records = 0
        self._without_key = 0
        self._ambiguous = 0

    def update(self, chunk: pa.Table) -> None:
        if chunk.num_rows == 0:
            return
        keys = chunk.column(KEY)
        self._records += chunk.num_rows
        self._without_key += keys.null_count
        if len(self._conflicts):
            self._ambiguous += int(pc.sum(pc.is_in(keys, value_set=self._conflicts)).as_py() or 0)
        hit = chunk.filter(pc.is_in(keys, value_set=self._keys))
        if hit.num_rows == 0:
            return
        names = hit.column_names
        n = hit.num_rows
        ts = hit.column(TIMESTAMP).cast(pa.int64()).fill_null(NO_TIME).to_pylist()
        group = hit.column(GROUP).to_pylist() if GROUP in names else [None] * n
        cls = hit.column(PRED_CLASS).to_pylist() if PRED_CLASS in names else [None] * n
        conf = _floats(hit, CONFIDENCE, n)
        value = _floats(hit, PRED_VALUE, n)
        for i, key in enumerate(hit.column(KEY).to_pylist()):
            if key in self._rows:
                self._copies[key] = self._copies.get(key, 1) + 1
                continue
            self._rows[key] = (ts[i], group[i], cls[i], conf[i], value[i])

    def result(self, *, regression: bool) -> tuple[Joined, JoinAccounting]:
        """The joined pairs and the accounting. `regression`: the labels must be numbers."""
        truth: list[Label] = []
        rows = []
        unusable = 0
        for key in sorted(self._rows):
            if key in self._copies:
                continue
            row = self._rows[key]
            label = self.index.labels[key]
            if regression:
                ok = not isinstance(label, str) and not math.isnan(row[4])
            else:
                ok = row[2] is not None or not math.isnan(row[4])
            if not ok:
                unusable += 1
                continue
            truth.append(label)
            rows.append(row)
        joined = Joined(
            tuple(truth),
            tuple(r[2] if r[2] is not None else as_class(r[4]) for r in rows),
            np.array([r[3] for r in rows], dtype=np.float64),
            np.array([r[4] for r in rows], dtype=np.float64),
            np.array([r[0] for r in rows], dtype=np.int64),
            tuple(r[1] for r in rows),
        )
        duplicates = sum(self._copies.values())
        matched = len(self._rows) - len(self._copies)
        acc = JoinAccounting(
            predictions=self._records,
            labelled=len(truth),
            without_label=self._records - self._without_key - matched - duplicates - self._ambiguous,
            without_key=self._without_key,
            duplicate_predictions=duplicates,
            ambiguous=self._ambiguous,
            unusable=unusable,
            labels=self.index.accounting(),
            labels_without_prediction=len(self.index.labels) - len(self._rows),
        )
        return joined, acc


def _floats(t: pa.Table, name: str, n: int) -> list[float]:
    if name not in t.column_names:
        return [math.nan] * n
    return [math.nan if v is None else float(v) for v in t.column(name).to_pylist()]
