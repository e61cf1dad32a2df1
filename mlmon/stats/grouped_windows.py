"""Windows per group (model version): a WindowAccumulator per value of --by, on shared clock rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from mlmon.stats.baseline import Baseline
from mlmon.stats.drift import DriftOptions
from mlmon.stats.grouped import ByGroup
from mlmon.stats.summary import GroupKey, SummaryOptions, group_order
from mlmon.stats.windows import Window, WindowAccumulator, WindowOptions


@dataclass(frozen=True)
class GroupWindows:
    """One group's windows: clock windows share the rows of all records (0-record rows where the
    group had no traffic); record-count windows hold that group's records only."""

    group: GroupKey
    """The --by field's value; None for the records without the field."""
    records: int
    windows: tuple[Window, ...]


class GroupedWindowAccumulator(ByGroup[WindowAccumulator]):
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
        super().__init__(
            lambda: WindowAccumulator(options, summary=summary, baseline=baseline, drift=drift),
            max_groups,
        )

    def coarsen(self, every_ns: int) -> None:
        """Merge every group's windows into longer ones (see WindowAccumulator.coarsen)."""
        self.overall.coarsen(every_ns)
        for acc in self.groups.values():
            acc.coarsen(every_ns)
        self._make = self._longer(self._make, every_ns)

    @staticmethod
    def _longer(make: Callable[[], WindowAccumulator], every_ns: int) -> Callable[[], WindowAccumulator]:
        def made() -> WindowAccumulator:
            acc = make()
            acc.options = dataclasses.replace(acc.options, every_ns=every_ns)
            return acc

        return made

    def result(self, drift: DriftOptions | None = None) -> tuple[GroupWindows, ...]:
        span = self.overall.starts()
        return tuple(
            GroupWindows(key, self.records[key], self.groups[key].result(drift, span=span))
            for key in sorted(self.groups, key=group_order)
        )
