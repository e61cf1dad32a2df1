"""--state with labels: the labels files' rows that are new since the last run.

JSON-lines labels files are followed line by line as the logs are (grown, rotated, compressed:
mlmon.read.follow). A CSV or Parquet labels file (a table: a delivery per file) is known by a
digest (SHA-256) of its whole content: read whole when no run has read that content, else not
read. A table file that changes is read whole again; its rows that were used already find no
prediction waiting (a joined prediction leaves the state), so no pair is ever counted twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from types import TracebackType

from mlmon.errors import NoInputError
from mlmon.read.follow import FileState, FollowPlan, plan
from mlmon.read.reader import FileReport, Lost
from mlmon.read.sources import Format, Source, expand, format_for


@dataclass(frozen=True)
class LabelPlan:
    """The reads of the labels files in one run."""

    follow: FollowPlan | None
    """The JSON-lines files, followed (None when there is none)."""
    tables: tuple[Source, ...]
    """CSV and Parquet files whose content no run has read."""
    digests: tuple[str, ...] = field(default=())
    """The digests of every table file there now (what the state remembers)."""

    @property
    def sources(self) -> list[Source]:
        return [*(self.follow.sources if self.follow is not None else []), *self.tables]

    @property
    def lost(self) -> tuple[Lost, ...]:
        return self.follow.lost if self.follow is not None else ()

    def files(self, files: tuple[FileReport, ...]) -> tuple[FileState, ...]:
        return self.follow.files(files) if self.follow is not None else ()

    def close(self) -> None:
        if self.follow is not None:
            self.follow.close()

    def __enter__(self) -> LabelPlan:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _digest(path: str) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    except OSError as exc:
        raise NoInputError(f"cannot read {path!r}: {exc.strerror or exc}") from None
    return h.hexdigest()


def _format(s: Source) -> Format:
    try:
        with open(s.path, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise NoInputError(f"cannot read {s.path!r}: {exc.strerror or exc}") from None
    return format_for(s, head)


def label_plan(
    paths: list[str], known: tuple[FileState, ...], tables_read: tuple[str, ...], *, since: float | None
) -> LabelPlan:
    """The new rows of the labels files `paths`: `known` the JSON-lines files followed so far,
    `tables_read` the digests of the table files read so far."""
    named = expand(paths)
    lines = [s.path for s in named if _format(s) is Format.JSONL]
    tables = [s for s in named if s.path not in lines]
    follow = plan(lines, known, since=since) if lines or known else None
    digests = {s.path: _digest(s.path) for s in tables}
    done = set(tables_read)
    new = tuple(s for s in tables if digests[s.path] not in done)
    return LabelPlan(follow, new, tuple(dict.fromkeys(digests.values())))
