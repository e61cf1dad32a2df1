"""The transient progress line stays one line at any terminal width (a wrapped one is not erased)."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.progress import Progress

from mlmon.cli.app import _progress_columns


@pytest.mark.parametrize("width", [40, 60, 80, 100, 200])
@pytest.mark.parametrize("sized", [True, False])
def test_progress_line_is_one_line(width: int, sized: bool) -> None:
    console = Console(width=width, record=True, force_terminal=True, color_system=None)
    prog = Progress(*_progress_columns(sized=sized), console=console, auto_refresh=False)
    name = "predictions-2026-11-01-eu-west-1-canary.jsonl.gz"
    task = prog.add_task("read", total=2_560_000_000 if sized else None, file=name)
    prog.update(task, advance=123_456_789)
    console.print(prog.make_tasks_table(prog.tasks))
    lines = console.export_text().splitlines()
    assert len(lines) == 1, lines
    assert len(lines[0]) <= width
    if width >= 80:  # room for the whole byte count and the file name's start
        assert "0.1/2.6 GB" in lines[0] if sized else "123.5/? MB" in lines[0]
        assert "reading predictions-2026" in lines[0]
