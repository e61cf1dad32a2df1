"""`mlmon watch`'s screen: a WatchView as rich renderables that fit the terminal's width and height."""

from __future__ import annotations

from rich import box
from rich.console import Console, Group, RenderableType
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


def _versions(v: WatchView, rows: int) -> Table:
    t = Table(box=box.SIMPLE_HEAD, expand=False, pad_edge=False, padding=(0, 1), show_edge=False)
    for name, justify in (("version", "left"), ("records", "right"), ("req/s", "right"),
                          ("success", "right"), ("p95", "right"), ("p99", "right")):
        t.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    groups = list(v.groups) if len(v.groups) > 1 else []
    shown = groups[:rows]
    # requests per second over the span the records cover (at most --last), all groups alike
    span = v.last_seconds
    if v.overall is not None and v.overall.span_seconds:
        span = min(span, max(v.overall.span_seconds, 1.0))
    for g in shown:
        t.add_row(*_row("(no version)" if g.group is None else g.group, g, span))
    if len(groups) > len(shown):
        t.add_row(Text(f"... {len(groups) - len(shown)} more", style="dim"), "", "", "", "", "")
    if v.overall is not None:
        t.add_row(*_row("all", v.overall, span), style="bold")
    return t


def watch_view(v: WatchView, *, width: int, paths: str, every: float, versions: int = 1000,
               alerts: int = 1000, drift: bool = True) -> RenderableType:
    """The screen: a header, health per model version (at most `versions` rows), drifted
    features, and the active alerts with their age (at most `alerts` of them)."""
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
    if v.lost:
        status.append(f"; {v.lost} file(s) lost", style="yellow")
    parts: list[RenderableType] = [head, status]
    if v.overall is not None:
        parts.append(_versions(v, versions))
    # the count is of features; the joint test and the predictions' drift are named after them
    feats = [f for f in v.drift if f.role == "feature"]
    drifted = [f for f in feats if f.drift] + [f for f in v.drift if f.role != "feature" and f.drift]
    if v.drift and drift:
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"drift: {sum(f.drift for f in feats)} of {len(feats)} features", style="bold")
        if drifted:
            line.append(": ")
            line.append(", ".join(
                f"{safe(f.name)} ({f.effect_measure} {number(f.effect_size, 2)})" for f in drifted
            ), style="red")
        parts.append(line)
    box_ = Text(no_wrap=True, overflow="ellipsis")
    box_.append(f"alerts: {len(v.alerts)} active", style="bold")
    shown = v.alerts[:alerts]
    for a in shown:
        box_.append("\n")
        sev = a.alert.severity.value
        box_.append(f"{sev[:4].upper():4} ", style=SEVERITY_STYLE.get(sev, ""))
        box_.append(f"{age_text(v.now - a.since):>6} ", style="dim")
        where = "" if a.alert.group is None else f"[{safe(a.alert.group)[:12]}] "
        box_.append((where + safe(a.alert.message))[: max(width - 12, 10)])
    if len(shown) < len(v.alerts):
        box_.append(f"\n... {len(v.alerts) - len(shown)} more", style="dim")
    parts.append(box_)
    parts.append(Text("q quits, Ctrl-C interrupts", style="dim", no_wrap=True, overflow="ellipsis"))
    return Group(*parts)


def fitted(console: Console, v: WatchView, *, paths: str, every: float) -> RenderableType:
    """The screen at the console's size: alerts, then model versions, then the drift line are cut
    until it fits (rows counted by rendering, so a narrow terminal is measured, not guessed)."""
    width, height = console.size
    options = console.options.update(width=width, height=None)

    def rows(r: RenderableType) -> int:
        return len(console.render_lines(r, options, pad=False))

    tries = [(1000, a, True) for a in range(len(v.alerts), -1, -1)]
    tries += [(n, 0, True) for n in range(len(v.groups), -1, -1)]
    tries.append((0, 0, False))
    for versions, alerts, drift in tries:
        r = watch_view(v, width=width, paths=paths, every=every, versions=versions, alerts=alerts,
                       drift=drift)
        if rows(r) <= height:
            return r
    return r
