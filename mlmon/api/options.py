"""The options every entry point shares, from the words people write (`60m`, `250:400`, `1%`,
`now-2h`) to the library's option objects; a value that does not parse is an OptionError naming
the command-line flag (the keyword argument of the same name)."""

from __future__ import annotations

import math
import re
from typing import Any

from mlmon.errors import OptionError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNITS = {"ms": 1e6, "s": 1e9, None: 1e9, "m": 60e9, "h": 3600e9, "d": 86400e9, "w": 604800e9}


MAX_DURATION_NS = 2**63 - 1
"""The longest span a nanosecond clock of 64 bits can hold: about 292 years."""


def parse_duration(text: str, option: str = "--last") -> int:
    """`90s`, `60m`, `2h`, `1d` to nanoseconds; longer than ~292 years is a usage error."""
    m = _DURATION.match(text)
    if not m or float(m.group(1)) <= 0:
        raise OptionError(f"{option}: {text!r} is not a duration like 30s, 60m, 2h or 1d")
    ns = float(m.group(1)) * _UNITS[m.group(2)]
    if not math.isfinite(ns) or ns >= MAX_DURATION_NS:
        raise OptionError(f"{option}: {text!r} is longer than mlmon's clock spans (about 292 years, 106000d)")
    return max(int(ns), 1)


def parse_budget(text: str) -> float | int:
    """`1%`, `0.5%` (a share of record lines), `0.01` (a share below 1) or `100` (a count).
    `100%` allows every line to be bad; NaN, infinity and negative values are refused."""
    t = text.strip()
    try:
        if t.endswith("%"):
            v = float(t[:-1]) / 100
            if not 0 <= v <= 1:
                raise ValueError
            return v if v < 1 else math.inf
        v = float(t)
        if not math.isfinite(v):
            raise ValueError
    except ValueError:
        raise OptionError(
            f"--max-bad-lines: {text!r} is not a share (0% to 100%, e.g. 1%) or a count (100)"
        ) from None
    if v < 0:
        raise OptionError("--max-bad-lines must not be negative")
    if v >= 1 and v != int(v):  # 1.5 was read as a count of 1; 1.5% was perhaps meant
        raise OptionError(f"--max-bad-lines: {text!r} is not a whole count; for a share write {t}%")
    return v if v < 1 else int(v)


def parse_range(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lo, hi = (float(x) for x in text.split(","))
        if math.isnan(lo) or math.isnan(hi):
            raise ValueError
    except ValueError:
        raise OptionError(f"--prediction-range: {text!r} is not LOW,HIGH (e.g. 0,1000)") from None
    if lo > hi:
        raise OptionError("--prediction-range: LOW is above HIGH")
    return lo, hi


_THRESHOLD_RULES: dict[str, tuple[bool, float, float, bool]] = {
    "--max-p95-ms": (True, 0.0, math.inf, False),
    "--max-p99-ms": (True, 0.0, math.inf, False),
    "--min-success-rate": (False, 0.0, 1.0, False),
    "--max-error-rate": (True, 0.0, 1.0, False),
    "--max-low-confidence-share": (True, 0.0, 1.0, False),
    "--max-out-of-range": (True, 0.0, math.inf, True),
    "--min-records": (False, 0.0, math.inf, True),
}
"""Option -> (upper limit?, lowest value, highest value, whole numbers only?)."""


def parse_threshold(text: str | None, option: str) -> Any:
    """`WARN[:CRIT]` (`250`, `250:400`, `:400`) to a rules.alerts.Threshold, checked for range and order.

    A bare number is returned as a float, so the rule keeps its own severity."""
    from mlmon.rules.alerts import Threshold

    if text is None:
        return None
    upper, lo, hi, whole = _THRESHOLD_RULES[option]
    parts = text.split(":")
    example = "250:400" if upper else "0.99:0.95"
    if len(parts) > 2 or not any(p.strip() for p in parts):
        raise OptionError(f"{option}: {text!r} is not WARN[:CRIT] (e.g. {example})")
    values: list[float | None] = []
    for p in parts:
        if not p.strip():
            values.append(None)
            continue
        try:
            v = float(p)
        except ValueError:
            raise OptionError(
                f"{option}: {p.strip()!r} is not a number (WARN[:CRIT], e.g. {example})"
            ) from None
        if not math.isfinite(v) or not lo <= v <= hi or (whole and v != int(v)):
            what = "a whole number" if whole else "a number"
            span = f"at least {lo:g}" if hi == math.inf else f"from {lo:g} to {hi:g}"
            raise OptionError(f"{option}: {p.strip()!r} must be {what} {span}")
        values.append(v)
    if len(values) == 1:
        return values[0]
    warn, crit = values
    if warn is not None and crit is not None and (crit < warn if upper else crit > warn):
        side = "above" if upper else "below"
        raise OptionError(
            f"{option}: the critical limit {crit:g} must be {side} the warning limit {warn:g} "
            f"(WARN:CRIT, e.g. {example})"
        )
    return Threshold(warning=warn, critical=crit)


_RELATIVE = re.compile(r"^\s*now\s*(?:([-+])\s*(.+))?$", re.IGNORECASE)
_EPOCH = re.compile(r"^\s*\d+(\.\d+)?\s*$")


def instant(text: str, option: str, tz: str, now_ns: int | None = None) -> int:
    """ISO 8601, epoch seconds (ms, us, ns by magnitude, as in logs), `now`, `now-2h`, `now+30m`."""
    import time

    from mlmon.read.records import parse_instant

    m = _RELATIVE.match(text)
    if m:
        now = time.time_ns() if now_ns is None else now_ns
        if not m.group(1):
            return now
        span = parse_duration(m.group(2), option)
        return now - span if m.group(1) == "-" else now + span
    if _EPOCH.match(text):
        import pyarrow as pa

        from mlmon.read.records import parse_timestamps

        arr, bad = parse_timestamps(pa.array([None], pa.string()), pa.array([float(text)]), tz)
        ns = arr.cast(pa.int64())[0].as_py()
        if not bad[0] and ns is not None:
            return int(ns)
    ns = parse_instant(text, tz)
    year = re.match(r"\s*([+-]?\d{4,})-", text)
    if ns is None and year and not 1678 <= int(year.group(1)) <= 2261:
        raise OptionError(f"{option}: {text!r} is outside the times mlmon can hold (years 1678 to 2261)")
    if ns is None:
        raise OptionError(
            f"{option}: {text!r} is not a time: ISO 8601 (2026-11-01T10:00:00Z), epoch seconds, "
            "now, or now-2h"
        )
    return ns


def selection(
    since: str | None,
    until: str | None,
    last: str | None,
    tz: str,
    window_rows: int | None = None,
    now_ns: int | None = None,
) -> Any:
    from mlmon.api import Selection

    given = (("--since", since, "now-1h"), ("--until", until, "now"), ("--last", last, "1h"))
    for option, value, example in given:
        if value is not None and not value.strip():
            # `--last "$WINDOW"` with WINDOW unset read the whole log as if no window was asked for
            raise OptionError(f"{option}: the value is empty; give one ({option} {example}) or leave it out")
    return Selection(
        since_ns=instant(since, "--since", tz, now_ns) if since else None,
        until_ns=instant(until, "--until", tz, now_ns) if until else None,
        last_ns=parse_duration(last) if last else None,
        window_rows=window_rows,
    )


def parse_max_age(text: str | None) -> Any:
    """`--max-age WARN[:CRIT]` durations (`1h`, `30m:2h`, `:2h`) to a Threshold in seconds; a bare
    duration is critical."""
    from mlmon.rules.alerts import Threshold

    if text is None:
        return None
    parts = text.split(":")
    if len(parts) > 2 or not any(p.strip() for p in parts):
        raise OptionError(f"--max-age: {text!r} is not WARN[:CRIT] durations (e.g. 1h or 30m:2h)")
    secs = [parse_duration(p, "--max-age") / 1e9 if p.strip() else None for p in parts]
    if len(secs) == 1:
        return secs[0]
    warn, crit = secs
    if warn is not None and crit is not None and crit < warn:
        raise OptionError(
            f"--max-age: the critical age {parts[1]} must not be below the warning age {parts[0]}"
        )
    return Threshold(warning=warn, critical=crit)


def gates(min_records: str | None, max_age: str | None, now_ns: int) -> Any:
    from mlmon.api import Gates
    from mlmon.rules.alerts import TrafficRules

    return Gates(
        TrafficRules(
            min_records=parse_threshold(min_records, "--min-records"),
            max_age_seconds=parse_max_age(max_age),
        ),
        now_ns=now_ns,
    )


def check_tz(tz: str) -> None:
    import zoneinfo

    if tz.upper() in ("UTC", "Z"):
        return
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise OptionError(f"--log-timezone: unknown time zone {tz!r} (e.g. UTC, Europe/Berlin)") from None


def budget(max_bad_lines: str, strict: bool) -> Any:
    from mlmon.api import Budget

    return Budget(max_bad=parse_budget(max_bad_lines), strict=strict)





def read_options(
    max_line_bytes: int = 16 << 20,
    max_decompressed_bytes: int | None = None,
    max_decompression_ratio: float | None = None,
    allow_large_window: bool = False,
    engine: str = "local",
    scheduler: str | None = None,
) -> Any:
    """ReadOptions from the read options every log command takes, each checked; `engine` local
    (threads on this machine) or dask (`scheduler`: its address; None starts one here)."""
    from mlmon.read.reader import ReadOptions
    from mlmon.read.sources import DEFAULT_MAX_RATIO

    ratio = float(max_decompression_ratio or DEFAULT_MAX_RATIO)
    if ratio < 1:
        raise OptionError("--max-decompression-ratio must be at least 1")
    if max_line_bytes < 1:
        raise OptionError("--max-line-bytes must be positive")
    if max_decompressed_bytes is not None and max_decompressed_bytes < 1:
        raise OptionError("--max-decompressed-bytes must be positive")
    engine = str(engine or "local").strip().lower()
    if engine not in ("local", "dask"):
        raise OptionError(f"--engine {engine!r}: choose local or dask")
    if scheduler and engine != "dask":
        raise OptionError("--scheduler needs --engine dask")
    return ReadOptions(
        max_line_bytes=max_line_bytes,
        max_decompressed_bytes=max_decompressed_bytes,
        max_decompression_ratio=ratio,
        allow_large_window=allow_large_window,
        engine=engine,
        scheduler=scheduler,
    )


def parse_every(text: str) -> tuple[int | None, int | None]:
    """`1h`, `15m`, `1d` to (nanoseconds, None); a bare whole number `5000` to (None, records)."""
    t = text.strip()
    if re.fullmatch(r"\d+", t):
        n = int(t)
        if n < 1:
            raise OptionError("--every: a record count must be at least 1")
        return None, n
    try:
        ns = parse_duration(t)
    except OptionError:
        raise OptionError(
            f"--every: {text!r} is neither a duration (30s, 15m, 1h, 1d) nor a record count (5000)"
        ) from None
    if ns < 1_000_000_000:
        raise OptionError("--every: windows shorter than 1s are not supported")
    return ns, None


def parse_tolerances(items: list[str] | None) -> tuple[tuple[str, float], ...]:
    """`success_rate=0.005` (repeatable) to (metric, tolerance) pairs, checked against the metric names."""
    from mlmon.stats.compare import DEFAULT_TOLERANCE

    out = []
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            v = float(value)
        except ValueError:
            v = -1.0
        if not sep or not 0 <= v < float("inf"):  # no NaN, no infinity (1e400)
            raise OptionError(f"--tolerance: {item!r} is not METRIC=VALUE (e.g. success_rate=0.005)")
        if name not in DEFAULT_TOLERANCE and not name.startswith("features."):
            known = ", ".join(DEFAULT_TOLERANCE)
            raise OptionError(f"--tolerance: unknown metric {name!r} (one of {known}, features.<name>)")
        out.append((name, v))
    return tuple(out)


def label_options(
    labels: str | list[str] | None,
    label_field: str = "label",
    join_field: str = "request_id",
    task: str = "auto",
    positive: str | None = None,
) -> Any:
    """LabelOptions from the labels options (--labels, --label-field, --join-field, --task,
    --positive-class), or None without labels."""
    if isinstance(labels, str):
        labels = [labels]
    if not labels:
        if positive is not None or task != "auto":
            raise OptionError("--task and --positive-class need --labels FILE")
        return None
    from mlmon.api.quality import LabelOptions
    from mlmon.stats.performance import Task

    if task not in ("auto", *(t.value for t in Task)):
        raise OptionError(f"--task: {task!r} is not auto, {', '.join(t.value for t in Task)}")
    chosen = None if task == "auto" else Task(task)
    return LabelOptions(tuple(labels), label_field, join_field, chosen, positive)
