"""The CLI sits on the library: nothing outside mlmon/cli imports it, no command imports another
command, no module of the CLI takes a private name from another, and its imports form no circle."""

from __future__ import annotations

import ast
from pathlib import Path

from mlmon.cli.commands import COMMANDS

PACKAGE = Path(__file__).resolve().parents[2] / "mlmon"
CLI = "mlmon.cli"
COMMAND_MODULES = {f"{CLI}.{c}" for c in (*COMMANDS, "config")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


MODULES = _modules()


def _imports(name: str) -> list[tuple[str, list[str]]]:
    """Every import statement of a module, at any depth (in functions too): (module, names taken).
    `from package import sub` counts as importing the submodule."""
    tree = ast.parse(MODULES[name].read_text())
    out: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = [a.name for a in node.names if f"{node.module}.{a.name}" in MODULES]
            names = [a.name for a in node.names if f"{node.module}.{a.name}" not in MODULES]
            out += [(f"{node.module}.{s}", []) for s in subs]
            if names:
                out.append((node.module, names))
    return out


def test_only_the_cli_and_main_import_the_cli() -> None:
    for name in MODULES:
        if name == CLI or name.startswith(CLI + ".") or name == "mlmon.__main__":
            continue
        for target, _ in _imports(name):
            assert not (target == CLI or target.startswith(CLI + ".")), (name, target)


def test_no_command_imports_another_command() -> None:
    for name in MODULES:
        if not name.startswith(CLI + ".") or name == f"{CLI}.app":  # the app assembles the commands
            continue
        for target, _ in _imports(name):
            assert target not in COMMAND_MODULES or target == name, (name, target)


def test_no_cli_module_takes_a_private_name_of_another() -> None:
    for name in MODULES:
        if not name.startswith(CLI):
            continue
        for target, names in _imports(name):
            if target.startswith(CLI) and target != name:
                private = [n for n in names if n.startswith("_") and not n.startswith("__")]
                assert not private, (name, target, private)


def test_the_cli_imports_form_no_circle() -> None:
    cli = {n for n in MODULES if n.startswith(CLI + ".")}
    edges = {n: {t for t, _ in _imports(n) if t in cli and t != n} for n in cli}
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            raise AssertionError("import circle: " + " -> ".join([*path[path.index(node):], node]))
        if node in done:
            return
        for nxt in sorted(edges[node]):
            visit(nxt, [*path, node])
        done.add(node)

    for n in sorted(cli):
        visit(n, [])
    assert done == cli
