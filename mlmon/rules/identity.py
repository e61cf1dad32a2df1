"""A run's identity: labels (`service`, `env`, ...) added to every alert, series and Pushgateway group."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
"""A Prometheus (and Alertmanager) label name, matched whole (`fullmatch`: a `$` would let a
trailing newline through: a quoted TOML key `"svc\\n"` would split a line of the Prometheus file)."""

RESERVED = frozenset(
    {
        "alertname",
        "severity",
        "metric",
        "model_version",
        "model_version_missing",
        "feature",
        "status",
        "le",
        "quantile",
        "rule",
        "measure",
        "job",
    }
)
"""Labels mlmon sets itself (and the Pushgateway's job): an identity label of the same name
would overwrite one of them, or be overwritten."""

MAX_VALUE = 1024


def label_problem(name: str, value: str) -> str | None:
    """Why `name=value` cannot be an identity label, or None when it can."""
    if not NAME.fullmatch(name):
        return f"{name!r} is not a label name (letters, digits and _, not starting with a digit)"
    if name.startswith("__"):
        return f"{name!r}: names starting with __ are reserved by Prometheus"
    if name in RESERVED:
        return f"{name!r} is a label mlmon sets itself ({', '.join(sorted(RESERVED))})"
    if not value:
        return f"{name}: the value is empty (Prometheus reads an empty label as no label)"
    if len(value) > MAX_VALUE:
        return f"{name}: the value is longer than {MAX_VALUE} characters"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return f"{name}: the value holds a control character"
    return None


def parse_label_flags(specs: Iterable[str]) -> list[tuple[str, str]]:
    """`KEY=VALUE` texts as pairs; ValueError naming the first bad one."""
    out = []
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep:
            raise ValueError(f"{spec!r}: give KEY=VALUE, e.g. service=fraud-model")
        problem = label_problem(name.strip(), value)
        if problem:
            raise ValueError(problem)
        out.append((name.strip(), value))
    return out


def check_labels(labels: Mapping[str, object]) -> dict[str, str]:
    """A `labels = {...}` table checked; ValueError naming the first bad entry."""
    out = {}
    for name, value in labels.items():
        if not isinstance(value, str):
            raise ValueError(f"{name}: the value must be text (in quotes)")
        problem = label_problem(name, value)
        if problem:
            raise ValueError(problem)
        out[name] = value
    return out
