"""How `--help` reads: placeholders are words (LOG..., FIELD, DURATION), option names never break."""

from __future__ import annotations

from enum import Enum
from typing import Any

from typer.core import TyperArgument

# Placeholders by parameter name; an option that sets its own metavar keeps it.
WORDS = {
    "logs": "LOG",
    "log": "LOG",
    "path": "FILE",
    "training_data": "DATA",
    "baseline": "FILE",
    "baseline_path": "FILE",
    "reference": "DATA",
    "config": "FILE",
    "output": "FILE",
    "by": "FIELD",
    "since": "TIME",
    "until": "TIME",
    "last": "DURATION",
    "every": "DURATION",
    "max_age": "DURATION",
    "log_timezone": "ZONE",
    "record_marker": "TEXT",
    "max_bad_lines": "SHARE|COUNT",
    "prediction_range": "LOW,HIGH",
    "success_value": "VALUE",
    "exclude": "COLUMN",
    "include": "GLOB",
}
_BY_TYPE = {int: "N", float: "NUMBER", str: "TEXT"}


def _word(param: Any) -> str | None:
    name = param.name or ""
    if name in WORDS:
        return WORDS[name]
    if name.endswith("_field"):
        return "FIELD"
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "|".join(str(m.value) for m in annotation)
    if getattr(annotation, "__origin__", None) is list:
        annotation = getattr(annotation, "__args__", (None,))[0]
    return _BY_TYPE.get(annotation) if isinstance(annotation, type) else None


class _WordArgument(TyperArgument):
    """An argument shown by its word: `LOG...` in the usage line and the arguments list
    (Typer writes `{logs}...` and `logs... <list[str]>`)."""

    def _usage_display_name(self) -> str:
        word = str(self.metavar)
        return word if self.required else f"[{word}]"

    def _rich_display_name(self) -> str:
        return str(self.metavar)

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


def tidy_help(command: Any) -> None:
    """Word placeholders for every parameter of a command (and of a group's commands), and
    help text that wraps at spaces only."""
    _keep_option_names_whole()
    use_words(command)


def use_words(command: Any) -> None:
    """Give every parameter of a command (and of the commands of a group) a word placeholder."""
    for sub in getattr(command, "commands", {}).values():
        use_words(sub)
    for param in getattr(command, "params", ()):
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            continue
        if isinstance(param, TyperArgument):
            if param.metavar is None:
                word = _word(param) or (param.name or "ARG").upper()
                param.metavar = word + ("..." if param.nargs != 1 else "")
            if type(param) is TyperArgument:
                param.__class__ = _WordArgument
        elif param.metavar is None:
            param.metavar = _word(param)


def _keep_option_names_whole() -> None:
    """Typer's help wrapping (click's TextWrapper) breaks lines at hyphens, which splits option
    names (`--min-` / `success-rate`) in help and examples; wrap at spaces only."""
    try:
        from typer._click import _textwrap
    except ImportError:  # a Typer without the vendored click: its own wrapping applies
        return
    base = _textwrap.TextWrapper
    if getattr(base, "_mlmon_whole_words", False):
        return

    class WholeWords(base):  # type: ignore[misc,valid-type]
        _mlmon_whole_words = True

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("break_on_hyphens", False)
            super().__init__(*args, **kwargs)

    _textwrap.TextWrapper = WholeWords  # type: ignore[misc]

