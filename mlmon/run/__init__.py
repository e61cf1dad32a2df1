"""Runs that keep state between them (`check --state`): a library, no printing, no exit codes."""
