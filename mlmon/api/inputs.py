"""Which files of a directory argument are read: log files by name (or --include), notes for the rest."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from mlmon.errors import MlmonError, NoInputError

LOG_NAMES = ("*.jsonl", "*.ndjson", "*.json", "*.log", "*.log.[0-9]*", "*.csv", "*.tsv", "*.parquet", "*.pq")
"""What a directory gives without --include (each also compressed: .gz, .bz2, .zst)."""
_COMPRESSED = (".gz", ".bz2", ".zst", ".zstd")
_TABLES = (".csv", ".tsv", ".parquet", ".pq")


@dataclass
class Picked:
    """The files to read, and per directory the files left out and why (for a note on stderr)."""

    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _bare(name: str) -> str:
    low = name.lower()
    for ext in _COMPRESSED:
        if low.endswith(ext):
            return low[: -len(ext)]
    return low


def _matches(rel: str, patterns: Sequence[str]) -> bool:
    name = os.path.basename(rel)
    return any(
        fnmatch.fnmatch(name, p) or fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(_bare(name), p.lower())
        for p in patterns
    )


def table_columns(path: str) -> list[str] | None:
    """Column names of a CSV or Parquet file (its header or schema); None if they cannot be read."""
    from mlmon.read.sources import Format, ReadNotes, Source, open_source

    try:
        stream, fmt = open_source(Source(path), ReadNotes())
    except (MlmonError, OSError):
        return None
    try:
        if fmt is Format.PARQUET:
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        if fmt is Format.CSV:
            import csv

            head = stream.read(1 << 16).split(b"\n", 1)[0].removeprefix(b"\xef\xbb\xbf")
            row = next(csv.reader([head.decode("utf-8", "replace")]), [])
            return [c.strip() for c in row]
        return None
    except Exception:  # an unreadable table is reported by the read itself
        return None
    finally:
        stream.close()


def pick(logs: list[str], include: Sequence[str] | None, *, serving: Sequence[str] | None = None) -> Picked:
    """Expand directory arguments into the files to read; other arguments pass as given.

    A directory gives its log files by name (LOG_NAMES), or the files that match an --include
    GLOB (against the name or the path below the directory). With `serving` (the summary's
    serving fields), a CSV or Parquet file of a directory with none of them is a feature log:
    it is left out with a note, rather than failing the whole run."""
    from mlmon.read.sources import expand

    out = Picked()
    patterns = tuple(include) if include else LOG_NAMES
    for arg in logs:
        if arg == "-" or not os.path.isdir(arg):
            out.files.append(arg)
            continue
        own: list[tuple[str, str]] = []
        sources = expand([arg], left_out=own)
        out.notes += [f"left out {path}: {what} mlmon wrote, not a log" for path, what in own]
        kept: list[str] = []
        others: list[str] = []
        features: list[str] = []
        for s in sources:
            rel = os.path.relpath(s.path, arg)
            if not _matches(rel, patterns):
                others.append(rel)
            elif serving is not None and _bare(s.path).endswith(_TABLES) and not _has_any(s.path, serving):
                features.append(rel)
            else:
                kept.append(s.path)
        if others:
            out.notes.append(
                f"{arg}: left out {_names(others)}: not named like a log (--include GLOB picks files)"
            )
        if features:
            out.notes.append(
                f"{arg}: left out {_names(features)}: no serving fields, a feature log "
                "(`mlmon drift` reads it)"
            )
        if not kept:
            raise NoInputError(
                f"no input: directory {arg!r} holds no log file to read"
                + ("" if include else " (--include GLOB picks files by name)")
            )
        out.files.extend(kept)
    return out


def _has_any(path: str, fields: Sequence[str]) -> bool:
    cols = table_columns(path)
    if cols is None:
        return True  # let the read say what is wrong with it
    return any(f in cols or f.split(".")[0] in cols for f in fields)


def _names(rels: list[str]) -> str:
    shown = ", ".join(rels[:5])
    return shown + (f" and {len(rels) - 5} more" if len(rels) > 5 else "")
