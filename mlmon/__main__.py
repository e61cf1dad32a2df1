"""`python -m mlmon` runs the command-line interface."""

from mlmon.cli import console

console()
