"""Windows per group (model version): a WindowAccumulator per value of --by, on shared clock rows."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from mlmon.errors import OptionError
from mlmon.read.records import GROUP
from mlmon.stats.baseline import Baseline
from mlmon.stats.drift import DriftOptions
from mlmon.stats.summary import NO_GROUP, SummaryOptions
from mlmon.stats.windows import Window, WindowAccumulator, WindowOptions


@dataclass(frozen=True)
class GroupWindows:
    """One group's windows: clock windows share the rows of all records (0-record rows where the
    group had no traffic); record-count windows hold that group's records only."""

    group: str
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
        self.groups: dict[str, WindowAccumulator] = {}
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
            for key in sorted(self.groups)
        )
