"""The `mlmon` command: options in, one library call, a renderer, an exit code out.

Each command is in its own module (mlmon/cli/commands.py lists them), imported when it runs.
Importing this package loads nothing heavy: the console script's error boundary
(mlmon/cli/boundary.py) must be in place before typer, rich or numpy are imported."""

from __future__ import annotations

import sys
import types
from typing import Any

from mlmon.cli import boundary

__all__ = ["FailOn", "Fmt", "_WithoutPandas", "app", "console", "main"]


def console() -> None:
    """The `mlmon` console script and `python -m mlmon`: the error boundary (mlmon/cli/boundary.py)
    is in place before the app, typer, rich or numpy are imported."""
    boundary.console(_main)


def _main() -> None:
    from mlmon.cli.app import main

    main()


def __getattr__(name: str) -> Any:
    import importlib

    if name in ("app", "main", "_WithoutPandas"):
        return getattr(importlib.import_module("mlmon.cli.app"), name)
    if name in ("FailOn", "Fmt"):
        return getattr(importlib.import_module("mlmon.cli.options"), name)
    raise AttributeError(f"module 'mlmon.cli' has no attribute {name!r}")


class _Package(types.ModuleType):
    """`mlmon.cli.app` is the Typer app (as `from mlmon.cli import app` has always given), not
    the submodule of that name that the import system would bind here once it is loaded."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "app" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
