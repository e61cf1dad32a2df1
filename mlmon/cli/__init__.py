"""The `mlmon` command: options in, one library call, a renderer, an exit code out.

Each command is in its own module (mlmon/cli/commands.py lists them), imported when it runs."""

from mlmon.cli.app import _WithoutPandas, app, console, main
from mlmon.cli.config import config_app
from mlmon.cli.options import FailOn, Fmt

app.add_typer(config_app)

__all__ = ["FailOn", "Fmt", "_WithoutPandas", "app", "console", "main"]
