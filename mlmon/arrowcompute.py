"""pyarrow.compute as `pc`, imported the first time one of its functions is used, not at start-up."""

from __future__ import annotations

from typing import Any

__all__ = ["pc"]


class _Compute:
    """Stands for the `pyarrow.compute` module. Importing it builds a Python wrapper for each of
    Arrow's ~300 compute functions (about a tenth of a small log's start-up), and a summary of a
    small log that needs none of them (tests/cli/test_startup.py) never pays for it. Each
    function is looked up once, then kept here."""

    def __getattr__(self, name: str) -> Any:
        import pyarrow.compute  # the import system's lock serialises threads that ask at once

        value = getattr(pyarrow.compute, name)
        setattr(self, name, value)
        return value


pc: Any = _Compute()
