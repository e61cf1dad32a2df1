"""`mlmon watch`'s screen: a WatchView as rich renderables that fit the terminal's width and height."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mlmon.api.watch import WatchView
from mlmon.numfmt import ms, number, percent
from mlmon.report.render import safe
from mlmon.stats.summary import GroupSummary

SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def age_text(seconds: float) -> str:
    """`45s`, `12m`, `3h05m`: how long an alert has fired."""
    s = max(int(seconds), 0)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def _duration(seconds: float) -> str:
    return age_text(seconds) if seconds % 3600 else f"{int(seconds // 3600)}h"


def _row(label: str, g: GroupSummary, last: float) -> list[Text | str]:
    rate = g.records / last if last > 0 else None
    lat = g.latency_ms
    return [
        Text(safe(label)[:24]),
        f"{g.records:,}",
        number(rate, 3) if rate is not None else "-",
        percent(g.success_rate, decimals=2),
        ms(lat.p95),
        ms(lat.p99),
    ]


def _versions(v: WatchView, room: int) -> Table:
    t = Table(box=box.SIMPLE_HEAD, expand=False, pad_edge=False, padding=(0, 1), show_edge=False)
    for name, justify in (("version", "left"), ("records", "right"), ("req/s", "right"),
                          ("success", "right"), ("p95", "right"), ("p99", "right")):
        t.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    groups = list(v.groups)
    shown = groups[: max(room - 1, 1)] if len(groups) > 1 else []
    for g in shown:
        t.add_row(*_row("(no version)" if g.group is None else g.group, g, v.last_seconds))
    if len(groups) > len(shown) and shown:
        t.add_row(Text(f"... {len(groups) - len(shown)} more", style="dim"), "", "", "", "", "")
    if v.overall is not None:
        t.add_row(*_row("all", v.overall, v.last_seconds), style="bold")
    return t


def watch_view(v: WatchView, *, width: int, height: int, paths: str, every: float) -> RenderableType:
    """The screen, at most `height` lines of `width` columns: a header, health per model version,
    drifted features, and the active alerts with their age (lists are cut to the room left)."""
    head = Text(no_wrap=True, overflow="ellipsis")
    head.append("mlmon watch ", style="bold")
    head.append(safe(paths)[: max(width - 40, 10)])
    head.append(f"  last {_duration(v.last_seconds)}, every {_duration(every)}", style="dim")
    status = Text(no_wrap=True, overflow="ellipsis")
    if v.waiting:
        status.append(f"waiting: {safe(v.waiting)}", style="yellow")
    elif v.records == 0:
        status.append("no records yet", style="yellow")
    else:
        status.append(f"{v.records:,} records, newest {v.newest}; {v.lines:,} lines read, "
                      f"{v.bad_lines:,} bad; poll {v.polls}", style="dim")
    parts: list[RenderableType] = [head, status]
    used = 2
    if v.overall is not None:
        n_groups = len(v.groups) if len(v.groups) > 1 else 0
        room_versions = max(min(n_groups + 1, (height - used) // 2 - 2), 1)
        parts.append(_versions(v, room_versions))
        used += 2 + min(n_groups, room_versions) + 1 + (1 if n_groups > room_versions else 0)
    drifted = [f for f in v.drift if f.drift]
    if v.drift:
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"drift: {len(drifted)} of {len(v.drift)} features", style="bold")
        if drifted:
            line.append(": ")
            line.append(", ".join(
                f"{safe(f.name)} ({f.effect_measure} {number(f.effect_size, 2)})" for f in drifted
            ), style="red")
        parts.append(line)
        used += 1
    room = max(height - used - 1, 1)
    alerts = Text(no_wrap=False)
    alerts.append(f"alerts: {len(v.alerts)} active", style="bold")
    shown = v.alerts[: room - 1] if len(v.alerts) > room - 1 else v.alerts
    for a in shown:
        alerts.append("\n")
        sev = a.alert.severity.value
        alerts.append(f"{sev[:4].upper():4} ", style=SEVERITY_STYLE.get(sev, ""))
        alerts.append(f"{age_text(v.now - a.since):>6} ", style="dim")
        msg = safe(a.alert.message)
        alerts.append(msg[: max(width - 13, 10)])
    if len(shown) < len(v.alerts):
        alerts.append(f"\n... {len(v.alerts) - len(shown)} more", style="dim")
    parts.append(alerts)
    keys = Text("q quits, Ctrl-C interrupts", style="dim", no_wrap=True)
    parts.append(keys)
    return Group(*parts)
