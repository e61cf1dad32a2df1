"""What persists between runs (`--state FILE`): files read so far, firing alerts, breach counts,
cumulative counters, notifications not yet delivered, and when each group was last seen.

The file is JSON with a version, validated on load: a damaged state file is an error naming its
path, never silently reset. Runs on the same file take a lock (`FILE.lock` beside the file's real
path, so a symlink and its target share one lock) and replace the file atomically, so two runs at
once cannot corrupt it. A run commits its state last, after its outputs are written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import json
import math
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mlmon.errors import DataError, ExitCode, MlmonError, OutputError
from mlmon.read.follow import FileState
from mlmon.rules.check import RuleResult, Status
from mlmon.stats.labels import Carry, PendingLabel, PendingPrediction

VERSION = 1
MAX_PENDING = 100
"""Undelivered events kept per notification target (the newest; older ones are dropped)."""
MAX_BYTES = 256 << 20
"""Largest state file read (mlmon's own are a few KB per log file and firing alert)."""


class StateError(DataError):
    """A state file that cannot be read, is damaged, or is not an mlmon state file."""


class StateBusy(MlmonError):
    """Another run holds the state file's lock for longer than we wait."""

    exit_code = ExitCode.TEMPFAIL


@dataclass(frozen=True)
class AlertState:
    """A rule that is firing, as remembered between runs."""

    severity: str
    since: float
    last_notified: float
    message: str
    labels: dict[str, str] = field(default_factory=dict)
    """The labels it was sent to Alertmanager with (to resolve the same alert)."""


@dataclass(frozen=True)
class State:
    files: tuple[FileState, ...] = ()
    alerts: dict[str, AlertState] = field(default_factory=dict)
    breaches: dict[str, int] = field(default_factory=dict)
    """Consecutive runs in which each rule crossed a threshold (for `for`)."""
    totals: dict[str, float] = field(default_factory=dict)
    """Cumulative counters across runs (`predictions_total`, every `_count`, `_sum`, `_bucket`)."""
    last_run: float | None = None
    pending: dict[str, tuple[Event, ...]] = field(default_factory=dict)
    """Events a notification target did not accept, by target key (a hash of the target as
    given, never the URL: it may hold a token): sent again, before the new ones, next run."""
    seen: dict[str, float] = field(default_factory=dict)
    """When each group (`group|VERSION`, `missing|`) last had a record (for --state-retention)."""
    waiting: Carry = field(default_factory=Carry)
    """With labels: predictions awaiting their label, labels awaiting their prediction, and the
    labels files read so far."""


_FILE = {
    "type": "object",
    "additionalProperties": False,
    "required": [f.name for f in dataclasses.fields(FileState) if f.name != "done"],
    "properties": {
        "path": {"type": "string"},
        "dev": {"type": "integer"},
        "inode": {"type": "integer"},
        "size": {"type": "integer", "minimum": 0},
        "compressed": {"type": "boolean"},
        "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "fp_bytes": {"type": "integer", "minimum": 0},
        "offset": {"type": "integer", "minimum": 0},
        "lines": {"type": "integer", "minimum": 0},
        "done": {"type": "boolean"},
    },
}
_ALERT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["severity", "since", "last_notified", "message"],
    "properties": {
        "severity": {"enum": ["warning", "critical"]},
        "since": {"type": "number"},
        "last_notified": {"type": "number"},
        "message": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
_EVENT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "name", "severity", "message", "since"],
    "properties": {
        "kind": {"enum": ["firing", "repeat", "resolved", "superseded"]},
        "name": {"type": "string"},
        "severity": {"enum": ["warning", "critical"]},
        "message": {"type": "string"},
        "since": {"type": "number"},
        "group": {"type": ["string", "null"]},
        "metric": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
_LABELS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "files": {"type": "array", "items": _FILE},
        "predictions": {"type": "array"},
        "labels": {"type": "array"},
        "tables": {"type": "array", "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
    },
}
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "files", "alerts", "breaches"],
    "properties": {
        "version": {"const": VERSION},
        "files": {"type": "array", "items": _FILE},
        "alerts": {"type": "object", "additionalProperties": _ALERT},
        "breaches": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
        "totals": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
        "last_run": {"type": ["number", "null"]},
        "pending": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": _EVENT, "maxItems": MAX_PENDING},
        },
        "seen": {"type": "object", "additionalProperties": {"type": "number"}},
        "labels": _LABELS,
    },
}


def load(path: str) -> State:
    """The state in `path`; a missing file is the first run (an empty state)."""
    import jsonschema

    try:
        # non-blocking open: a FIFO at the path must not wait for a writer
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return State()
    except OSError as exc:
        raise StateError(f"state file {path}: cannot read it: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        # /dev/zero or /dev/full would be read forever; mlmon writes its state as a regular file
        raise StateError(f"state file {path}: not a regular file; give a file path for --state")
    with os.fdopen(fd, "rb") as fh:
        try:
            raw = fh.read(MAX_BYTES + 1)
        except OSError as exc:
            raise StateError(f"state file {path}: cannot read it: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise StateError(
            f"state file {path} is larger than {MAX_BYTES >> 20} MiB, more than mlmon writes; "
            "move it away to start afresh"
        )
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StateError(
            f"state file {path} is damaged (not JSON: {exc}); move it away to start afresh"
        ) from None
    errors = sorted(
        jsonschema.Draft202012Validator(SCHEMA).iter_errors(doc), key=lambda e: list(e.absolute_path)
    )
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        raise StateError(
            f"state file {path} is damaged or not an mlmon state file ({where}: {e.message}); "
            "move it away to start afresh"
        )
    return State(
        files=tuple(FileState(**f) for f in doc["files"]),
        alerts={k: AlertState(**v) for k, v in doc["alerts"].items()},
        breaches=dict(doc["breaches"]),
        totals=dict(doc.get("totals", {})),
        last_run=doc.get("last_run"),
        pending={k: tuple(Event(**e) for e in v) for k, v in doc.get("pending", {}).items()},
        seen=dict(doc.get("seen", {})),
        waiting=_waiting(doc.get("labels", {}), path),
    )


def _waiting(doc: dict[str, Any], path: str) -> Carry:
    """The state's `labels` section as the join's carry. Its files are checked by the schema; the
    waiting rows here, each against its shape (faster than the schema on 100,000 of them):
    predictions `[key, time ns or null, group, class, confidence, value, when first read]`, labels
    `[key, label, when first read]`."""
    preds: list[PendingPrediction] = []
    labels: list[PendingLabel] = []
    try:
        for row in doc.get("predictions", []):
            if not isinstance(row, list) or len(row) != 7:
                raise ValueError(row)
            k, ts, g, c, conf, v, at = row
            if not (isinstance(k, str) and _opt(ts, int) and _opt(g, str) and _opt(c, str)
                    and _num(conf, True) and _num(v, True) and _num(at, False)):
                raise ValueError(row)
            preds.append(PendingPrediction(k, ts, g, c, conf, v, at))
        for row in doc.get("labels", []):
            if not isinstance(row, list) or len(row) != 3:
                raise ValueError(row)
            k, lab, at = row
            if not (isinstance(k, str) and (isinstance(lab, str) or _num(lab, False)) and _num(at, False)):
                raise ValueError(row)
            labels.append(PendingLabel(k, lab if isinstance(lab, str) else float(lab), at))
    except ValueError as exc:  # the row: cut to 80 characters
        raise StateError(
            f"state file {path} is damaged or not an mlmon state file (labels: {str(exc.args[0])[:80]} is "
            "not a waiting prediction or label); move it away to start afresh"
        ) from None
    return Carry(tuple(preds), tuple(labels), tuple(FileState(**f) for f in doc.get("files", [])),
                 tuple(doc.get("tables", [])))


def _opt(v: object, kind: type) -> bool:
    return v is None or (isinstance(v, kind) and not isinstance(v, bool))


def _num(v: object, null: bool) -> bool:
    if v is None:
        return null
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def dumps(state: State) -> str:
    doc: dict[str, Any] = {
        "version": VERSION,
        "last_run": state.last_run,
        "files": [dataclasses.asdict(f) for f in state.files],
        "alerts": {k: dataclasses.asdict(v) for k, v in state.alerts.items()},
        "breaches": state.breaches,
        "totals": state.totals,
        "pending": {k: [dataclasses.asdict(e) for e in v] for k, v in state.pending.items() if v},
        "seen": state.seen,
    }
    w = state.waiting
    if w.files or w.predictions or w.labels or w.tables:
        doc["labels"] = {
            "files": [dataclasses.asdict(f) for f in w.files],
            "predictions": [[p.key, p.time_ns, p.group, p.pred_class, p.confidence, p.value, p.read_at]
                            for p in w.predictions],
            "labels": [[p.key, p.label, p.read_at] for p in w.labels],
            "tables": list(w.tables),
        }
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"


@contextlib.contextmanager
def locked(path: str, *, wait: float = 60.0) -> Iterator[None]:
    """Hold the lock of the state file for the run; wait up to `wait` seconds for another run.

    The lock sits beside the file's real path (symlinks resolved): two runs that name one state
    file in two ways (a symlink, `./x` and `x`, a relative and an absolute path) exclude each other."""
    lock_path = os.path.realpath(path) + ".lock"
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise OutputError(f"state file {path}: cannot create its lock {lock_path}: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise StateError(f"state file {path}: cannot lock {lock_path}: {exc.strerror}") from None
                if time.monotonic() >= deadline:
                    raise StateBusy(
                        f"state file {path} is in use by another run (waited {wait:g} s for {lock_path})"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Event:
    """A change to tell people about: a rule started firing (or changed severity), repeats, or resolved."""

    kind: str
    """firing, repeat, resolved, or superseded (the same rule fires with other labels now)."""
    name: str
    severity: str
    message: str
    since: float
    group: str | None = None
    metric: str = ""
    labels: dict[str, str] = field(default_factory=dict)


def apply_for(
    results: tuple[RuleResult, ...], breaches: dict[str, int]
) -> tuple[tuple[RuleResult, ...], dict[str, int]]:
    """`for = N`: a breach fires only in the N-th consecutive run that crosses (pending before).
    No data leaves the count as it was; an ok run resets it."""
    out: list[RuleResult] = []
    counts = dict(breaches)
    for r in results:
        if r.status is Status.NO_DATA:
            out.append(r)
            continue
        crossing = r.status in (Status.WARNING, Status.CRITICAL)
        counts[r.name] = counts.get(r.name, 0) + 1 if crossing else 0
        if crossing and counts[r.name] < r.for_runs:
            out.append(
                dataclasses.replace(
                    r,
                    status=Status.OK,
                    pending=True,
                    message=f"{r.message}; pending: crossed {counts[r.name]} of {r.for_runs} runs",
                )
            )
        else:
            out.append(r)
    return tuple(out), counts


def transitions(
    results: tuple[RuleResult, ...],
    alerts: dict[str, AlertState],
    *,
    now: float,
    repeat_interval: float | None,
    labels: dict[str, dict[str, str]],
) -> tuple[list[Event], dict[str, AlertState]]:
    """Events to send and the alerts firing after this run.

    A rule that starts firing, or changes severity, is an event; one still firing is an event
    again only after `repeat_interval` (never, when None); one that stopped is resolved. A rule
    with no data keeps its previous state: not knowing is not resolving."""
    events: list[Event] = []
    after: dict[str, AlertState] = {}
    seen = set()
    for r in results:
        seen.add(r.name)
        prev = alerts.get(r.name)
        if r.status is Status.NO_DATA:
            if prev is not None:
                after[r.name] = prev
            continue
        if r.status in (Status.WARNING, Status.CRITICAL):
            sev = r.status.value
            lab = labels.get(r.name, {})
            if prev is None or prev.severity != sev:
                if prev is not None and prev.labels != lab:
                    # Alertmanager knows the alert by its labels: end the old one (people are
                    # told about the new severity, not about a resolution)
                    events.append(
                        Event(
                            "superseded", r.name, prev.severity, prev.message, prev.since, labels=prev.labels
                        )
                    )
                since = now if prev is None else prev.since
                events.append(Event("firing", r.name, sev, r.message, since, r.group, r.metric, lab))
                after[r.name] = AlertState(sev, since, now, r.message, lab)
            elif repeat_interval is not None and now - prev.last_notified >= repeat_interval:
                events.append(
                    Event("repeat", r.name, sev, r.message, prev.since, r.group, r.metric, prev.labels)
                )
                after[r.name] = AlertState(sev, prev.since, now, r.message, prev.labels)
            else:
                after[r.name] = AlertState(sev, prev.since, prev.last_notified, r.message, prev.labels)
        elif prev is not None:
            events.append(
                Event(
                    "resolved",
                    r.name,
                    prev.severity,
                    f"resolved: {r.message}",
                    prev.since,
                    r.group,
                    r.metric,
                    prev.labels,
                )
            )
    for name, prev in alerts.items():
        if name not in seen:
            # the rule is gone from the config: resolve what it left firing
            events.append(
                Event(
                    "resolved",
                    name,
                    prev.severity,
                    f"resolved: rule {name} removed",
                    prev.since,
                    labels=prev.labels,
                )
            )
    return events, after
