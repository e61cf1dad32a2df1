"""Drift per group (model version): one mergeable DriftAccumulator per value of --by, plus all records."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from mlmon.stats.baseline import Baseline
from mlmon.stats.drift import DriftAccumulator, DriftOptions, FeatureDrift
from mlmon.stats.summary import GroupKey, group_order, split_new_groups


@dataclass(frozen=True)
class GroupDrift:
    """The drift of one group's records against the baseline (BH across that group's features)."""

    group: GroupKey
    """The --by field's value; None for the records without the field."""
    records: int
    features: tuple[FeatureDrift, ...]


class GroupedDriftAccumulator:
    """A DriftAccumulator for all records and one per group: fixed-size state per group."""

    def __init__(self, baseline: Baseline, *, max_groups: int = 100) -> None:
        self.baseline = baseline
        self.overall = DriftAccumulator(baseline)
        self.groups: dict[GroupKey, DriftAccumulator] = {}
        self.records: dict[GroupKey, int] = {}
        self.max_groups = max_groups

    def update(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self.overall.update(table)
        for key, part in split_new_groups(table, self.groups, self.max_groups):
            if key not in self.groups:
                self.groups[key] = DriftAccumulator(self.baseline)
                self.records[key] = 0
            self.groups[key].update(part)
            self.records[key] += part.num_rows

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
