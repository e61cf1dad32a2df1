"""Baseline: what the training data looked like, built from a DataFrame or a file, saved as JSON."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlmon.api.results import tidy
from mlmon.errors import OptionError
from mlmon.stats import baseline as _profile
from mlmon.stats.baseline import GRID_EDGES

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Baseline(_profile.Baseline):
    """The profile of training data drift is measured against: per numeric feature n, mean, std,
    min, max and a quantile grid; per categorical feature the category counts.

    `Baseline.from_frame(df)` profiles a DataFrame (or a pyarrow Table), `Baseline.from_file(path)`
    reads a baseline file (`mlmon baseline -o FILE`, `.save(path)`) or profiles training data
    (CSV, Parquet, JSON lines); `.save(path)` writes the file `mlmon drift --baseline` reads."""

    @classmethod
    def of(cls, profile: _profile.Baseline) -> Baseline:
        """The library's Baseline of a profile (mlmon.stats.baseline.Baseline)."""
        if isinstance(profile, cls):
            return profile
        return cls(**{f.name: getattr(profile, f.name) for f in dataclasses.fields(profile)})

    @classmethod
    def from_frame(
        cls,
        frame: Any,
        *,
        exclude: Iterable[str] = (),
        timestamp_field: str = "timestamp",
        grid: int = GRID_EDGES,
        source: str = "<DataFrame>",
    ) -> Baseline:
        """Profile every column of a pandas DataFrame or pyarrow Table but `exclude` and the
        timestamp field (columns that cannot be a feature are left out, named in `left_out`)."""
        from mlmon.api.frames import _frame_kind, as_table

        if _frame_kind(frame) is None:
            raise OptionError(
                f"Baseline.from_frame takes a pandas DataFrame or a pyarrow Table, not {type(frame).__name__}"
                + ("; for a file use Baseline.from_file(path)" if isinstance(frame, str | os.PathLike)
                   else "")
            )
        table = as_table(frame)
        if table.num_rows == 0:
            from mlmon.errors import DataError

            raise DataError(f"{source}: training data has no rows")
        named = set(exclude)
        missing = sorted(named - set(table.column_names))
        if missing:
            raise OptionError(f"exclude {missing[0]!r}: the frame has no such column")
        built = _profile.build(table, source=source, max_edges=_grid(grid), exclude={timestamp_field, *named})
        return cls.of(built)

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        exclude: Iterable[str] = (),
        timestamp_field: str = "timestamp",
        grid: int = GRID_EDGES,
    ) -> Baseline:
        """A baseline file (written by `mlmon baseline` or `.save`), or training data (one CSV,
        Parquet or JSON-lines file) profiled as `mlmon baseline` profiles it."""
        if not isinstance(path, str | os.PathLike):
            hint = "; for a DataFrame use Baseline.from_frame(df)" if hasattr(path, "columns") else ""
            raise OptionError(f"Baseline.from_file takes a path, not {type(path).__name__}{hint}")
        path = os.fspath(path)
        if _is_baseline_file(path):
            return cls.of(_profile.load(path))
        from mlmon.api.training import load_training

        named = frozenset(exclude)
        built = load_training(path, exclude={timestamp_field, *named}, max_edges=_grid(grid), named=named)
        return cls.of(built)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the baseline file (versioned JSON with a checksum; atomic for a regular file)."""
        _profile.save(self, os.fspath(path))

    def to_dict(self) -> dict[str, Any]:
        """The baseline file's JSON document."""
        return _profile.to_json(self)

    def to_pandas(self) -> pd.DataFrame:
        """One row per feature: name, kind, and its profile (n, mean, std, min, max or the categories)."""
        rows = []
        for f in self.features:
            row: dict[str, Any] = {"name": f.name, "kind": f.kind.value}
            if f.numeric is not None:
                p = f.numeric
                row.update(n=p.n, mean=p.mean, std=p.std, min=p.min, max=p.max)
            if f.categorical is not None:
                row.update(n=f.categorical.n, categories=dict(f.categorical.counts))
            rows.append(row)
        return tidy(rows, ("name", "kind"))

    def _repr_html_(self) -> str:
        from mlmon.api.results import _e

        head = f"mlmon baseline of {self.source}: {len(self.features)} features from {self.rows} rows"
        table = self.to_pandas().to_html(escape=True, index=False)
        return f'<div class="mlmon"><p>{_e(head)}</p>{table}</div>'


def _grid(grid: int) -> int:
    from mlmon.stats.baseline_schema import MAX_EDGES

    if not 11 <= grid <= MAX_EDGES:
        raise OptionError(f"grid must be from 11 to {MAX_EDGES}")
    return grid


def _is_baseline_file(path: str) -> bool:
    """Whether the file starts as a baseline file does (the reader checks the rest)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError:
        return False
    return head.lstrip().startswith(b"{") and b'"mlmon-baseline"' in head


def as_baseline(baseline: Any, reference: Any, *, timestamp_field: str, grid: int | None) -> Any:
    """The baseline of an entry point: a Baseline, a baseline file, or training data (`reference`:
    a path or a frame) profiled on the fly (exact KS with `grid` None). None when neither is given."""
    if baseline is not None and reference is not None:
        raise OptionError("give at most one of baseline= or reference=")
    if isinstance(baseline, _profile.Baseline):
        return baseline
    if baseline is not None:
        if not isinstance(baseline, str | os.PathLike):
            raise OptionError(
                f"baseline must be a Baseline or the path of a baseline file, not {type(baseline).__name__}"
                "; for training data give reference="
            )
        return _profile.load(os.fspath(baseline))
    if reference is None:
        return None
    from mlmon.api.frames import _frame_kind, as_table

    if _frame_kind(reference) is not None:
        table = as_table(reference)
        return _profile.build(table, source="<DataFrame>", max_edges=grid, exclude={timestamp_field})
    if not isinstance(reference, str | os.PathLike):
        raise OptionError(f"reference must be a path or a DataFrame, not {type(reference).__name__}")
    from mlmon.api.training import load_training

    return load_training(os.fspath(reference), exclude={timestamp_field}, max_edges=grid)
