"""Accumulators per group (model version): one for all records and one per value of --by; drift per group."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import pyarrow as pa

from mlmon.stats.baseline import Baseline
from mlmon.stats.drift import DriftAccumulator, DriftOptions, FeatureDrift
from mlmon.stats.summary import GroupKey, group_order, split_new_groups


class _Accumulator(Protocol):
    def update(self, table: pa.Table) -> None: ...


A = TypeVar("A", bound=_Accumulator)


@dataclass(frozen=True)
class GroupDrift:
    """The drift of one group's records against the baseline (BH across that group's features)."""

    group: GroupKey
    """The --by field's value; None for the records without the field."""
    records: int
    features: tuple[FeatureDrift, ...]


class ByGroup(Generic[A]):
    """One accumulator for all records and one per value of --by (the records without the
    field are the group None), each made by `make`; at most `max_groups` groups."""

    def __init__(self, make: Callable[[], A], max_groups: int) -> None:
        self._make = make
        self.overall = make()
        self.groups: dict[GroupKey, A] = {}
        self.records: dict[GroupKey, int] = {}
        self.max_groups = max_groups

    def update(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self.overall.update(table)
        for key, part in split_new_groups(table, self.groups, self.max_groups):
            if key not in self.groups:
                self.groups[key] = self._make()
                self.records[key] = 0
            self.groups[key].update(part)
            self.records[key] += part.num_rows

    def file_done(self) -> None:
        """The end of an input file (see DriftAccumulator.file_done)."""
        for acc in (self.overall, *self.groups.values()):
            done = getattr(acc, "file_done", None)
            if done is not None:
                done()


class GroupedDriftAccumulator(ByGroup[DriftAccumulator]):
    """A DriftAccumulator for all records and one per group: fixed-size state per group."""

    def __init__(self, baseline: Baseline, *, max_groups: int = 100) -> None:
        self.baseline = baseline
        super().__init__(lambda: DriftAccumulator(baseline), max_groups)

    def merge(self, other: GroupedDriftAccumulator) -> None:
        self.overall.merge(other.overall)
        for key, acc in other.groups.items():
            if key in self.groups:
                self.groups[key].merge(acc)
                self.records[key] += other.records[key]
            else:
                self.groups[key] = acc
                self.records[key] = other.records[key]

    def result(self, options: DriftOptions | None = None) -> tuple[GroupDrift, ...]:
        return tuple(
            GroupDrift(key, self.records[key], self.groups[key].result(options))
            for key in sorted(self.groups, key=group_order)
        )
