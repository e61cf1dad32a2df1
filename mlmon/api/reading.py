"""How the log commands read their logs, as one value: fields, record window, bad lines, limits, engine."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlmon.api import options as opt
from mlmon.errors import OptionError

if TYPE_CHECKING:
    from mlmon.read.records import ReadPlan

Instant = str | float | dt.datetime | None
"""ISO 8601, epoch seconds, `now`, `now-2h`, or a datetime (naive: in `log_timezone`)."""
Span = str | dt.timedelta | None
"""`60m`, `2h`, `1d`, or a timedelta."""


@dataclass(frozen=True, kw_only=True)
class Reading:
    """The reading options the log commands share, named as their flags (`--timestamp-field` is
    `timestamp_field`), with the commands' defaults. Values are checked where they are used, so a
    bad one is an OptionError naming its flag."""

    timestamp_field: str = "timestamp"
    latency_field: str = "latency_ms"
    status_field: str = "status"
    success_field: str = "success"
    success_value: tuple[str, ...] | None = None
    """Status values that mean success (compared in lower case); None: success, ok."""
    prediction_field: str = "prediction"
    class_field: str = "prediction.class"
    confidence_field: str = "prediction.confidence"
    features_field: str = "input.features"
    record_marker: str | None = None
    """Only lines containing this text are records; their JSON follows it."""
    log_timezone: str = "UTC"
    """The time zone of timestamps written without an offset, and of `since` and `until`."""
    since: Instant = None
    until: Instant = None
    last: Span = None
    max_bad_lines: str | float = "1%"
    """A share of record lines (`"1%"`, 0.01) or a count (100)."""
    strict: bool = False
    max_line_bytes: int = 16 << 20
    max_decompressed_bytes: int | None = None
    max_decompression_ratio: float = 1000.0
    allow_large_window: bool = False
    engine: str = "local"
    """local (threads on this machine) or dask (one task per file; `scheduler` its address)."""
    scheduler: str | None = None
    include: tuple[str, ...] | None = None
    """The files of a directory argument to read (globs); None: log files by name."""

    def __post_init__(self) -> None:
        for name in ("success_value", "include"):  # one text, or any sequence: kept as a tuple
            value = getattr(self, name)
            if value is not None and not isinstance(value, tuple):
                object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))

    @classmethod
    def of(cls, reading: Reading | None, options: Mapping[str, Any], entry: str,
           without: Iterable[str] = ()) -> Reading:
        """`reading` (or the defaults) with the keyword arguments an entry point was given on top;
        a keyword that is no reading option, or one in `without`, is a TypeError as Python gives."""
        refused = set(without)
        for name in options:
            if name not in FIELDS or name in refused:
                raise TypeError(f"{entry}() got an unexpected keyword argument {name!r}")
        out = dataclasses.replace(reading or cls(), **options)
        for name in refused:
            if getattr(out, name) != FIELDS[name]:
                raise OptionError(f"{entry}() does not take the reading option {name}")
        return out

    def plan(self, by: str | None = "model_version") -> ReadPlan:
        """What the reader extracts: the fields, the group field `by` (ReadPlan's default), the
        record marker."""
        from mlmon.read.records import FieldMap, ReadPlan

        fields = FieldMap(
            timestamp=self.timestamp_field,
            latency=self.latency_field,
            status=self.status_field,
            success=self.success_field,
            prediction=self.prediction_field,
            pred_class=self.class_field,
            confidence=self.confidence_field,
            features=self.features_field,
        )
        values = self.success_value
        success = frozenset(v.lower() for v in values) if values else frozenset({"success", "ok"})
        return ReadPlan(fields=fields, by=by, record_marker=self.record_marker,
                        log_timezone=self.log_timezone, success_values=success)

    def serving(self) -> tuple[str, ...]:
        """The summary's serving fields: a feature log of a directory has none of them."""
        return (self.latency_field, self.status_field, self.success_field, self.prediction_field,
                self.class_field, self.confidence_field)

    def limits(self, *, engine: bool = True) -> Any:
        """mlmon.read.reader.ReadOptions: the size limits, and (`engine`) the engine."""
        limits = (self.max_line_bytes, self.max_decompressed_bytes, self.max_decompression_ratio,
                  self.allow_large_window)
        if not engine:
            return opt.read_options(*limits)
        return opt.read_options(*limits, self.engine, self.scheduler)

    def selection(self, window_rows: int | None = None, now_ns: int | None = None) -> Any:
        """The records selected by time (`since`, `until`, `last`), and the newest `window_rows`."""
        return opt.selection(_instant(self.since, "--since"), _instant(self.until, "--until"),
                             span(self.last, "--last"), self.log_timezone, window_rows, now_ns=now_ns)

    def budget(self) -> Any:
        """The bad lines allowed before the run fails."""
        return opt.budget(str(self.max_bad_lines), self.strict)

    def picked(self, paths: list[str], on_note: Callable[[str], None] | None,
               serving: Sequence[str] | None = None) -> list[str]:
        """The files to read: directory arguments expanded (`include`), each note to `on_note`."""
        from mlmon.api.inputs import pick

        picked = pick(paths, self.include, serving=serving)
        for note in picked.notes:
            (on_note or _log_note)(note)
        return picked.files


FIELDS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(Reading)}
"""The reading options by name, with their defaults."""


def _log_note(message: str) -> None:
    import logging

    logging.getLogger("mlmon").info("%s", message)


def _instant(value: Instant, option: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(float(value))
    raise OptionError(f"{option}: give a time (ISO 8601 text, epoch seconds or a datetime), "
                      f"not {type(value).__name__}")


def span(value: Span, option: str) -> str | None:
    """A span as the flag's text (`60m`), a timedelta in seconds."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dt.timedelta):
        return f"{value.total_seconds()!r}s"
    raise OptionError(f"{option}: give a span (60m, 2h) or a timedelta, not {type(value).__name__}")
