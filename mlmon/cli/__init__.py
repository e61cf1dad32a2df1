"""The `mlmon` command: options in, one library call, a renderer, an exit code out."""

from mlmon.cli import baseline, check, compare, drift, summary, trend  # noqa: F401  (each registers its command)
from mlmon.cli.app import _WithoutPandas, app, main
from mlmon.cli.config import config_app
from mlmon.cli.options import FailOn, Fmt

app.add_typer(config_app)

__all__ = ["FailOn", "Fmt", "_WithoutPandas", "app", "main"]
