"""The commands of `mlmon`, one module each, imported only when a run, a listing or a help needs them."""

from __future__ import annotations

import importlib
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup

from mlmon.cli.helptext import use_words
from mlmon.cli.options import ConfigFile, NoConfig

COMMANDS = ("baseline", "check", "compare", "drift", "report", "summary", "trend", "watch")
"""The commands defined in mlmon/cli/<name>.py, in the order `mlmon --help` lists them."""

META = "mlmon.config"
"""The key of the loaded config file (a rules.config.Config) in a command's context meta."""


def one_command() -> typer.Typer:
    """The Typer of a command's module (`cli`): the module defines its command with
    `@cli.command()`, and the mlmon group turns it into a click command on first use."""
    return typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)


class LazyGroup(TyperGroup):
    """A group that imports a command's module when the command is first used: `mlmon summary`
    imports the summary command and what it needs, not every command and its dependencies.
    Listing the commands (`mlmon --help`, shell completion, a mistyped name, a config file's
    schema) imports them all."""

    def load(self, name: str) -> Any:
        """The click command `name` (None when there is no such command)."""
        command = self.commands.get(name)
        if command is None and name in COMMANDS:
            module = importlib.import_module(f"mlmon.cli.{name}")
            command = typer.main.get_command(module.cli)
            _list_config_options(command)
            use_words(command)
            self.add_command(command, name)
        return command

    def all_commands(self) -> dict[str, Any]:
        """Every command by name, in the order of `list_commands`."""
        return {name: self.load(name) for name in self.list_commands(None)}

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return self.load(cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        if args and self.load(args[0]) is None:
            self.all_commands()  # not a command's name: typer suggests the nearest of all of them
        return super().resolve_command(ctx, args)


def _list_config_options(command: Any) -> None:
    """`--config FILE` and `--no-config` in the help of a command that does not declare them: the
    group takes them from any command's arguments before the command parses its own (see
    config.ConfiguredGroup), so every command accepts them."""
    names = {p.name for p in command.params}
    if {"config", "no_config"} <= names:
        return
    holder = one_command()

    @holder.command()
    def _options(config: ConfigFile = None, no_config: NoConfig = False) -> None:
        """Holds the two options."""

    for p in typer.main.get_command(holder).params:
        if p.name not in names:
            p.expose_value = False  # listed and accepted; the command's function does not take it
            command.params.append(p)
