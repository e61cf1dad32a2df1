"""--help teaches: word placeholders, option names never broken, examples kept whole."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from mlmon.cli import app


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for name in group.list_commands(None):
        cmd = group.get_command(None, name)
        if getattr(cmd, "commands", None):
            out += _commands(cmd, (*prefix, name))
        else:
            out.append((*prefix, name))
    return out


COMMANDS = _commands(typer.main.get_command(app))


def _help(args: tuple[str, ...], width: int) -> str:
    r = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": str(width)})
    assert r.exit_code == 0, r.output
    return r.output


def test_every_command_is_covered() -> None:
    assert {c[0] for c in COMMANDS} >= {"summary", "drift", "baseline"}


@pytest.mark.parametrize("width", [60, 80, 120])
@pytest.mark.parametrize("args", [(), *COMMANDS], ids=lambda a: " ".join(a) or "mlmon")
def test_help_reads_as_words_and_never_breaks_option_names(args: tuple[str, ...], width: int) -> None:
    text = _help(args, width)
    # placeholders are words: LOG..., FIELD, N -- not {logs}..., <str>, <list[str]>, <int>
    assert not re.search(r"<(str|int|float|list\[\w+\])>|\{\w+\}", text), text
    # a line never ends inside a word broken at its hyphen (`--min-` / `success-rate`)
    assert not re.search(r"[a-z]-\n\s+[a-z]", text), text
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("mlmon ") and not stripped.startswith("mlmon: "):
            # an example: kept as written, shorter than the narrowest help we test
            assert len(line) <= 80, line
    # a number in parentheses is a default only where there is one
    assert not re.search(r"\(\d[\d.:]*\)", text), text


def test_examples_are_whole_at_80_columns() -> None:
    text = _help(("summary",), 80)
    assert "mlmon summary sample_logs/predictions.jsonl \\\n" in text
    assert "--last 60m --max-p99-ms 250 --min-success-rate 0.99" in text
    assert "Usage: mlmon summary [OPTIONS] LOG..." in text


def test_root_help_lists_every_exit_code() -> None:
    from mlmon.errors import ExitCode

    text = " ".join(_help((), 80).split())
    for code in ExitCode:
        assert re.search(rf"\b{int(code)} ", text), code


def test_h_is_help_and_v_is_the_version() -> None:
    for args in [(), *COMMANDS]:
        r = CliRunner().invoke(app, [*args, "-h"], env={"COLUMNS": "80"})
        assert r.exit_code == 0 and r.output.startswith("Usage: mlmon"), (args, r.output)
    v = CliRunner().invoke(app, ["-V"])
    assert v.exit_code == 0 and v.output.startswith("mlmon ")


def _terminal_help(args: tuple[str, ...], width: int) -> str:
    """Help as a terminal of `width` columns shows it (a process of its own: the in-process test
    runner fixes help at 80 columns)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "COLUMNS": str(width)}
    done = subprocess.run([sys.executable, "-m", "mlmon", *args, "--help"], env=env, capture_output=True,
                          text=True, check=True)
    return done.stdout


@pytest.mark.parametrize("width", [60, 80, 120])
def test_help_fits_the_terminal_and_the_command_list_is_whole(width: int) -> None:
    text = _terminal_help((), width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "..." not in text.split("Commands:")[1]  # each command's summary is whole
    for args in (("summary",), ("check",), ("compare",), ("config", "init")):
        shown = _terminal_help(args, width)
        assert max(len(line) for line in shown.splitlines()) <= width, args
    if width > 80:  # a wide terminal gets wide help
        assert max(len(line) for line in _terminal_help(("summary",), width).splitlines()) > 80


@pytest.mark.parametrize("args", [c for c in COMMANDS if c[0] != "config"], ids=" ".join)
def test_config_is_listed_by_every_command_that_takes_it(args: tuple[str, ...]) -> None:
    text = _help(args, 100)
    assert "--config FILE" in text and "--no-config" in text
