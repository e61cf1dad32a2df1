"""What the public entry points take as `source`: paths, or a pandas DataFrame or pyarrow Table."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Iterator
from typing import Any

from mlmon.errors import MlmonError, OptionError

FRAME_NAME = "<DataFrame>"
TABLE_NAME = "<pyarrow.Table>"

SOURCE_TYPES = "a path, a list of paths, a pandas DataFrame or a pyarrow Table"


def _frame_kind(source: Any) -> str | None:
    """The name a frame is reported under, or None when `source` is not a frame."""
    module = type(source).__module__.split(".")[0]
    name = type(source).__name__
    if module == "pandas" and name == "DataFrame":
        return FRAME_NAME
    if module == "pyarrow" and name in ("Table", "RecordBatch"):
        return TABLE_NAME
    return None


def paths_of(source: Any, what: str = "source") -> list[str]:
    """A path or a list of paths as a list of str; anything else an OptionError naming what is taken."""
    if isinstance(source, str | os.PathLike):
        return [os.fspath(source)]
    if isinstance(source, list | tuple) and source and all(isinstance(p, str | os.PathLike) for p in source):
        return [os.fspath(p) for p in source]
    if isinstance(source, list | tuple) and not source:
        raise OptionError(f"{what} is an empty list: give {SOURCE_TYPES}")
    raise OptionError(f"{what} must be {SOURCE_TYPES}, not {type(source).__name__}")


def as_table(source: Any) -> Any:
    """A pandas DataFrame or pyarrow Table/RecordBatch as a pyarrow Table (the index of a
    DataFrame is left out)."""
    import pyarrow as pa

    if isinstance(source, pa.Table):
        return source
    if isinstance(source, pa.RecordBatch):
        return pa.Table.from_batches([source])
    try:
        return pa.Table.from_pandas(source, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as exc:
        raise OptionError(f"cannot turn the DataFrame into a table: {exc}") from None


@contextlib.contextmanager
def sources(source: Any) -> Iterator[tuple[list[str], dict[str, str]]]:
    """The paths to read, and the names to report a temporary file under. A frame is written to a
    temporary Parquet file and read as mlmon reads Parquet logs (one row a record, columns by
    name or dotted path through structs); it is removed afterwards."""
    kind = _frame_kind(source)
    if kind is None:
        yield paths_of(source), {}
        return
    import pyarrow.parquet as pq

    table = as_table(source)
    with tempfile.TemporaryDirectory(prefix="mlmon-frame-") as folder:
        path = os.path.join(folder, "frame.parquet")
        pq.write_table(table, path)
        try:
            yield [path], {path: kind}
        except MlmonError as exc:  # name the frame, not the temporary file
            exc.args = tuple(a.replace(path, kind) if isinstance(a, str) else a for a in exc.args)
            raise


def renamed(report: Any, names: dict[str, str]) -> Any:
    """A result whose input report names the temporary files of frames by what they were."""
    if not names:
        return report
    inp = report.input

    def name(s: str) -> str:
        return names.get(s, s)

    inp = dataclasses.replace(
        inp,
        files=tuple(dataclasses.replace(f, source=name(f.source)) for f in inp.files),
        examples=tuple(dataclasses.replace(e, source=name(e.source)) for e in inp.examples),
    )
    return dataclasses.replace(report, input=inp)
