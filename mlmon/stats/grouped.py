"""Drift per group (model version): one mergeable DriftAccumulator per value of --by, plus all records."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from mlmon.errors import OptionError
from mlmon.read.records import GROUP
from mlmon.stats.baseline import Baseline
from mlmon.stats.drift import DriftAccumulator, DriftOptions, FeatureDrift
from mlmon.stats.summary import NO_GROUP


@dataclass(frozen=True)
class GroupDrift:
    """The drift of one group's records against the baseline (BH across that group's features)."""

    group: str
    records: int
    features: tuple[FeatureDrift, ...]


class GroupedDriftAccumulator:
    """A DriftAccumulator for all records and one per group: fixed-size state per group."""

    def __init__(self, baseline: Baseline, *, max_groups: int = 100) -> None:
        self.baseline = baseline
        self.overall = DriftAccumulator(baseline)
        self.groups: dict[str, DriftAccumulator] = {}
        self.records: dict[str, int] = {}
        self.max_groups = max_groups

    def update(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self.overall.update(table)
        keys = pc.fill_null(table.column(GROUP), NO_GROUP) if GROUP in table.column_names else None
        uniques = [NO_GROUP] if keys is None else pc.unique(keys).to_pylist()
        if len(self.groups) + sum(k not in self.groups for k in uniques) > self.max_groups:
            raise OptionError(f"the --by field has more than {self.max_groups} distinct values: "
                              "group by a field with few values, such as model_version")
        for key in uniques:
            part = table if len(uniques) == 1 or keys is None else table.filter(pc.equal(keys, key))
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
            for key in sorted(self.groups)
        )
