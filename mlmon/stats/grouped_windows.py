"""Windows per group (model version): a WindowAccumulator per value of --by, on shared clock rows."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from mlmon.stats.baseline import Baseline
from mlmon.stats.drift import DriftOptions
from mlmon.stats.summary import GroupKey, SummaryOptions, group_order, split_new_groups
from mlmon.stats.windows import Window, WindowAccumulator, WindowOptions


@dataclass(frozen=True)
class GroupWindows:
    """One group's windows: clock windows share the rows of all records (0-record rows where the
    group had no traffic); record-count windows hold that group's records only."""

    group: GroupKey
    """The --by field's value; None for the records without the field."""
    records: int
    windows: tuple[Window, ...]


class GroupedWindowAccumulator:
    """A WindowAccumulator for all records and one per group."""

    def __init__(
        self,
        options: WindowOptions,
        *,
        summary: SummaryOptions | None = None,
        baseline: Baseline | None = None,
        drift: DriftOptions | None = None,
        max_groups: int = 100,
    ) -> None:
        self.summary, self.baseline, self.drift = summary, baseline, drift
        self.options = options
        self.overall = WindowAccumulator(options, summary=summary, baseline=baseline, drift=drift)
        self.groups: dict[GroupKey, WindowAccumulator] = {}
        self.records: dict[GroupKey, int] = {}
        self.max_groups = max_groups

    def update(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self.overall.update(table)
        for key, part in split_new_groups(table, self.groups, self.max_groups):
            if key not in self.groups:
                self.groups[key] = WindowAccumulator(
                    self.options, summary=self.summary, baseline=self.baseline, drift=self.drift
                )
                self.records[key] = 0
            self.groups[key].update(part)
            self.records[key] += part.num_rows

    def result(self, drift: DriftOptions | None = None) -> tuple[GroupWindows, ...]:
        span = self.overall.starts()
        return tuple(
            GroupWindows(key, self.records[key], self.groups[key].result(drift, span=span))
            for key in sorted(self.groups, key=group_order)
        )
