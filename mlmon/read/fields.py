"""Field names seen in records, so an option that names a field no record has can suggest one."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

MAX_DEPTH = 4
MAX_NAMES = 500


def _walk(value: Any, prefix: str, depth: int, out: set[str], containers: set[str]) -> None:
    if not isinstance(value, dict) or depth >= MAX_DEPTH:
        return
    for key, v in value.items():
        if len(out) >= MAX_NAMES:
            return
        name = f"{prefix}{key}"
        out.add(name)
        if isinstance(v, dict | list):
            containers.add(name)
        _walk(v, name + ".", depth + 1, out, containers)


def names_in_json(texts: Iterable[bytes], containers: set[str] | None = None) -> set[str]:
    """Dotted paths of the objects among some record texts (JSON after any prefix); the paths
    whose value is an object or a list are added to `containers` when it is given."""
    out: set[str] = set()
    kept: set[str] = set() if containers is None else containers
    for text in texts:
        try:
            rec = json.loads(text)
        except (ValueError, RecursionError):
            continue
        _walk(rec, "", 0, out, kept)
    return out


def names_in_schema(schema: pa.Schema) -> set[str]:
    """Dotted paths of a table's columns, struct fields included."""
    out: set[str] = set()

    def walk(fields: Iterable[pa.Field], prefix: str, depth: int) -> None:
        for f in fields:
            out.add(prefix + f.name)
            if pa.types.is_struct(f.type) and depth + 1 < MAX_DEPTH:
                walk(list(f.type), prefix + f.name + ".", depth + 1)

    walk(schema, "", 0)
    return out


def suggest(name: str, seen: Iterable[str], n: int = 3) -> list[str]:
    """The seen names closest to `name` (difflib), also matching on the last part of a path."""
    names = sorted(set(seen))
    close = difflib.get_close_matches(name, names, n=n, cutoff=0.6)
    if len(close) < n:
        last = name.rsplit(".", 1)[-1]
        by_last: dict[str, list[str]] = {}
        for s in names:
            by_last.setdefault(s.rsplit(".", 1)[-1], []).append(s)
        for m in difflib.get_close_matches(last, list(by_last), n=n, cutoff=0.6):
            close += [s for s in by_last[m] if s not in close]
    return close[:n]


def absent_message(option: str, path: str, need: str, seen: Iterable[str]) -> str:
    """One line: which field no record has, for what, and the closest names that records do have."""
    names = set(seen)
    close = suggest(path, names)
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
    elif names:
        hint = "fields seen: " + ", ".join(sorted(names)[:12]) + ("..." if len(names) > 12 else "")
    else:
        hint = "no field names were seen"
    return f"no record has the field {path!r} ({option}), which {need}; {hint}"
