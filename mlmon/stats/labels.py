"""Join labels to predictions by a request id, exactly, holding only the labels in memory."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from mlmon.arrowcompute import pc
from mlmon.read.follow import FileState
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
    carried: int = 0
    """--state: labels read by earlier runs still awaiting their prediction (in `keys`)."""


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
        self.read_at: dict[str, float] = {}
        """--state: when a run first read each carried label (seconds since the epoch)."""

    def carry(self, pending: tuple[PendingLabel, ...]) -> None:
        """The labels earlier runs read and kept (--state): joined as this run's own, before its
        rows are read, so a row that disagrees with one is a conflict."""
        for p in pending:
            self.labels[p.key] = p.label
            self.read_at[p.key] = p.read_at

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
        carried = sum(1 for k in self.read_at if k in self.labels)
        return LabelAccounting(
            self._rows, len(self.labels), sum(self._repeats.values()), self._conflicting, self._without_key,
            carried,
        )


@dataclass(frozen=True)
class JoinAccounting:
    """How the selected predictions met the labels:
    predictions + from_earlier = labelled + without_label + without_key + duplicate_predictions
    + ambiguous + unusable (from_earlier is 0 without --state)."""

    predictions: int
    """Records selected from the prediction log (this run's new records, with --state)."""
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
    waiting: Waiting | None = None
    """--state: the predictions and labels kept for later runs (None without a state)."""

    @property
    def coverage(self) -> float | None:
        """Share of the predictions with a key that have a usable label."""
        keyed = self.predictions - self.without_key
        return self.labelled / keyed if keyed else None


@dataclass(frozen=True)
class Waiting:
    """--state: what the join carried over from earlier runs and keeps for later ones."""

    from_earlier: int
    """Predictions read by earlier runs that this run used up (joined, or left out as
    duplicates, ambiguous or unusable): counted on the right side of the accounting."""
    predictions: int
    """Predictions with a key and no label yet, kept for later runs (after the limits)."""
    labels: int
    """Labels with no prediction yet, kept for later runs (after the limits)."""
    expired_predictions: int
    """Predictions dropped this run without a label: waiting longer than the age limit, or the
    oldest past the count limit. Never joined later."""
    expired_labels: int
    """Labels dropped this run without a prediction, by the same limits."""


@dataclass(frozen=True)
class PendingPrediction:
    """A prediction awaiting its label between runs (--state): what the metrics need of it."""

    key: str
    time_ns: int | None
    group: str | None
    pred_class: str | None
    confidence: float | None
    value: float | None
    read_at: float
    """When a run first read it (seconds since the epoch): the age limit counts from it."""


@dataclass(frozen=True)
class PendingLabel:
    """A label awaiting its prediction between runs (--state)."""

    key: str
    label: Label
    read_at: float


@dataclass(frozen=True)
class Carry:
    """The join's part of the state: predictions awaiting a label, labels awaiting a prediction,
    and the labels files read so far (followed as the logs are)."""

    predictions: tuple[PendingPrediction, ...] = ()
    labels: tuple[PendingLabel, ...] = ()
    files: tuple[FileState, ...] = ()
    """JSON-lines labels files, followed."""
    tables: tuple[str, ...] = ()
    """SHA-256 digests of the CSV and Parquet labels files read (a content read once)."""


@dataclass(frozen=True)
class WaitLimits:
    """Bounds on what the state keeps waiting; past them the oldest are dropped and counted."""

    max_predictions: int = 100_000
    max_labels: int = 100_000
    max_age: float = 30 * 86400.0
    """Seconds since a run first read it (--state-retention)."""


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

_Row = tuple[int, str | None, str | None, float, float]
"""A kept prediction: time (ns, NO_TIME without), group, class, confidence, value (NaN without)."""


class JoinAccumulator:
    """Streams the prediction log against a LabelIndex: keeps only the predictions whose key has a
    label (at most one per label key, plus the duplicates' count), so memory is bounded by the
    labels, not by the log.

    With `carry` (--state), the predictions earlier runs kept join too, and this run's predictions
    with a key and no label are kept for later runs as well (memory: the waiting predictions, at
    most `limits.max_predictions` of them in the state, plus this run's new ones while it reads)."""

    def __init__(self, index: LabelIndex, *, carry: Carry | None = None, now: float = 0.0,
                 limits: WaitLimits | None = None) -> None:
        self.index = index
        self._keys = pa.array(list(index.labels), pa.string())
        self._conflicts = pa.array(sorted(index.conflicts), pa.string())
        self._rows: dict[str, _Row] = {}
        self._copies: dict[str, int] = {}
        self._records = 0
        self._without_key = 0
        self._ambiguous = 0
        self._stateful = carry is not None
        self._now = now
        self._limits = limits or WaitLimits()
        self._earlier: set[str] = set()
        self._waiting: dict[str, _Row] = {}
        self._read_at: dict[str, float] = {}
        self._earlier_ambiguous = 0
        self.carried: Carry | None = None
        """--state: what the state keeps for the next run, once `result()` ran."""
        if carry is not None:
            for p in carry.predictions:
                row = (NO_TIME if p.time_ns is None else p.time_ns, p.group, p.pred_class,
                       math.nan if p.confidence is None else p.confidence,
                       math.nan if p.value is None else p.value)
                if p.key in index.conflicts:
                    self._earlier_ambiguous += 1
                elif p.key in index.labels:
                    self._rows[p.key] = row
                    self._earlier.add(p.key)
                else:
                    self._waiting[p.key] = row
                    self._read_at[p.key] = p.read_at
                    self._earlier.add(p.key)

    def update(self, chunk: pa.Table) -> None:
        if chunk.num_rows == 0:
            return
        keys = chunk.column(KEY)
        self._records += chunk.num_rows
        self._without_key += keys.null_count
        conflict = None
        if len(self._conflicts):
            conflict = pc.is_in(keys, value_set=self._conflicts)
            self._ambiguous += int(pc.sum(conflict).as_py() or 0)
        labelled = pc.is_in(keys, value_set=self._keys)
        for key, row in _rows_of(chunk.filter(labelled)):
            self._keep(self._rows, key, row)
        if self._stateful:
            rest = pc.and_(pc.invert(labelled), pc.is_valid(keys))
            if conflict is not None:
                rest = pc.and_(rest, pc.invert(conflict))
            for key, row in _rows_of(chunk.filter(pc.fill_null(rest, False))):
                if self._keep(self._waiting, key, row):
                    self._read_at[key] = self._now

    def _keep(self, into: dict[str, _Row], key: str, row: _Row) -> bool:
        if key in into:
            self._copies[key] = self._copies.get(key, 1) + 1
            return False
        into[key] = row
        return True

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
        matched = len(self._rows) - len([k for k in self._rows if k in self._copies])
        waiting = None
        if self._stateful:
            new_waiting = sum(1 for k in self._waiting if k not in self._earlier and k not in self._copies)
            without_label = new_waiting
            used = [k for k in self._rows if k in self._earlier] + [
                k for k in self._waiting if k in self._earlier and k in self._copies]
            kept_p, kept_l, expired = self._carry_out()
            self.carried = Carry(kept_p, kept_l)
            waiting = Waiting(
                from_earlier=len(used) + self._earlier_ambiguous,
                predictions=len(kept_p),
                labels=len(kept_l),
                expired_predictions=expired[0],
                expired_labels=expired[1],
            )
        else:
            without_label = self._records - self._without_key - matched - duplicates - self._ambiguous
        acc = JoinAccounting(
            predictions=self._records,
            labelled=len(truth),
            without_label=without_label,
            without_key=self._without_key,
            duplicate_predictions=duplicates,
            ambiguous=self._ambiguous + self._earlier_ambiguous,
            unusable=unusable,
            labels=self.index.accounting(),
            labels_without_prediction=len(self.index.labels) - len(self._rows),
            waiting=waiting,
        )
        return joined, acc

    def _carry_out(
        self,
    ) -> tuple[tuple[PendingPrediction, ...], tuple[PendingLabel, ...], tuple[int, int]]:
        """--state: the predictions still awaiting a label and the labels still awaiting a
        prediction, within the limits, and how many of each were dropped past them."""
        lim = self._limits
        oldest = self._now - lim.max_age
        preds = [
            PendingPrediction(k, None if r[0] == NO_TIME else r[0], r[1], r[2],
                              None if math.isnan(r[3]) else r[3], None if math.isnan(r[4]) else r[4],
                              self._read_at[k])
            for k, r in self._waiting.items() if k not in self._copies
        ]
        fresh_p = [p for p in preds if p.read_at >= oldest]
        fresh_p.sort(key=lambda p: p.read_at)  # stable: in the order read within one run
        kept_p = fresh_p[max(0, len(fresh_p) - lim.max_predictions):]
        labels = [
            PendingLabel(k, v, self.index.read_at.get(k, self._now))
            for k, v in self.index.labels.items() if k not in self._rows
        ]
        fresh_l = [p for p in labels if p.read_at >= oldest]
        fresh_l.sort(key=lambda p: p.read_at)
        kept_l = fresh_l[max(0, len(fresh_l) - lim.max_labels):]
        return tuple(kept_p), tuple(kept_l), (len(preds) - len(kept_p), len(labels) - len(kept_l))


def _rows_of(t: pa.Table) -> list[tuple[str, _Row]]:
    """The kept fields of each row of `t`, with its key."""
    n = t.num_rows
    if n == 0:
        return []
    names = t.column_names
    ts = t.column(TIMESTAMP).cast(pa.int64()).fill_null(NO_TIME).to_pylist()
    group = t.column(GROUP).to_pylist() if GROUP in names else [None] * n
    cls = t.column(PRED_CLASS).to_pylist() if PRED_CLASS in names else [None] * n
    conf = _floats(t, CONFIDENCE, n)
    value = _floats(t, PRED_VALUE, n)
    return [(key, (ts[i], group[i], cls[i], conf[i], value[i]))
            for i, key in enumerate(t.column(KEY).to_pylist())]


def _floats(t: pa.Table, name: str, n: int) -> list[float]:
    if name not in t.column_names:
        return [math.nan] * n
    return [math.nan if v is None else float(v) for v in t.column(name).to_pylist()]
