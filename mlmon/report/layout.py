"""Tables that fit any width: numbers stay whole, names fold, extra columns move to a second table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

Kind = Literal["num", "text"]
Cell = str | Text

# A text column gives up its width only down to this (or its longest word, if shorter);
# past that a long name folds onto the next line rather than pushing every number out.
_TEXT_FLOOR = 16
# ...and never below this (or its full width, if narrower), so a list does not become a column
# of single words.
_TEXT_COMFORT = 12


@dataclass(frozen=True)
class Col:
    """One column: `num` cells never wrap and always show whole; `text` cells wrap at spaces and
    fold long words. `priority` orders what stays in the first table when the screen is narrow
    (0 = most important); the first `key` columns of a FitTable repeat in every part."""

    header: str
    kind: Kind = "num"
    priority: int = 0


def _lines(cell: Text) -> list[str]:
    return cell.plain.split("\n") or [""]


def _widest(cell: Text) -> int:
    return max((cell_len(line) for line in _lines(cell)), default=0)


def _longest_word(cell: Text) -> int:
    return max((cell_len(w) for w in cell.plain.split()), default=0)


@dataclass(frozen=True)
class _Span:
    """Width bounds of one column's content (cell padding not included): `most` shows every
    cell on one line; `whole` keeps every word whole; `least` is what a text column may shrink
    to (long words fold past it)."""

    most: int
    whole: int
    least: int


def _span(col: Col, cells: Iterable[Text]) -> _Span:
    head = Text(col.header)
    cells = list(cells)
    most = max([_widest(c) for c in cells] + [_widest(head), 1])
    head_word = _longest_word(head)
    if col.kind == "num":
        whole = max([_widest(c) for c in cells] + [head_word, 1])
        return _Span(most, whole, whole)
    word = max([_longest_word(c) for c in cells] + [head_word, 1])
    return _Span(most, word, max(min(word, _TEXT_FLOOR), min(most, _TEXT_COMFORT)))


def _frame(n: int) -> int:
    """Borders and padding a rich Table with n columns adds to the content widths."""
    return 3 * n + 1


class FitTable:
    """A table that picks its layout when it is drawn, for the width it is given.

    At full width it is one table. When that does not fit, text columns wrap (down to their
    longest word, or fold past _TEXT_FLOOR), then the least important columns move to a second
    (third...) table that repeats the key columns. When not even the key and one more column fit,
    every row is stacked as `header: value` lines. A number, a marker or a name is never cut."""

    def __init__(
        self,
        columns: Sequence[Col],
        rows: Sequence[Sequence[Cell]],
        *,
        title: str | Text | None = None,
        caption: str | Text | None = None,
        key: int = 1,
    ) -> None:
        if not 1 <= key <= len(columns):
            raise ValueError("key must name at least one existing column")
        self.columns = tuple(columns)
        self.rows = tuple(tuple(c if isinstance(c, Text) else Text(c) for c in r) for r in rows)
        for r in self.rows:
            if len(r) != len(self.columns):
                raise ValueError("every row needs one cell per column")
        self.title = title
        self.caption = caption
        self.key = key
        self.spans = tuple(_span(c, (r[i] for r in self.rows)) for i, c in enumerate(self.columns))

    # -- layout ---------------------------------------------------------------------------

    def _least(self, idx: Sequence[int], whole_keys: bool) -> int:
        return sum(self._floor(i, whole_keys) for i in idx) + _frame(len(idx))

    def _floor(self, i: int, whole_keys: bool) -> int:
        return self.spans[i].whole if whole_keys and i < self.key else self.spans[i].least

    def _most(self, idx: Sequence[int]) -> int:
        return sum(self.spans[i].most for i in idx) + _frame(len(idx))

    def parts(self, width: int) -> tuple[list[list[int]], bool] | None:
        """Column indexes of each table for this width, and whether the key columns stay whole
        (they fold only when nothing else would fit); None when the rows must be stacked."""
        for whole_keys in (True, False):
            parts = self._parts(width, whole_keys)
            if parts is not None:
                return parts, whole_keys
        return None

    def _parts(self, width: int, whole_keys: bool) -> list[list[int]] | None:
        keys = list(range(self.key))
        rest = sorted(range(self.key, len(self.columns)), key=lambda i: (self.columns[i].priority, i))
        if not rest:
            return [keys] if self._least(keys, whole_keys) <= width else None
        parts: list[list[int]] = []
        while rest:
            chosen = list(keys)
            left: list[int] = []
            for i in rest:
                if self._least([*chosen, i], whole_keys) <= width:
                    chosen.append(i)
                else:
                    left.append(i)
            if len(chosen) == len(keys):
                return None
            parts.append(sorted(chosen))
            rest = left
        return parts

    def _widths(self, idx: Sequence[int], width: int, whole_keys: bool) -> list[int]:
        """Content widths: as wide as the content; then text columns give way, then headers wrap."""
        widths = [self.spans[i].most for i in idx]
        floors = [self._floor(i, whole_keys) for i in idx]
        excess = sum(widths) + _frame(len(idx)) - width
        for kind in ("text", "num"):  # a number column gives way last: only its header wraps
            while excess > 0:
                slack = [
                    j for j, i in enumerate(idx) if self.columns[i].kind == kind and widths[j] > floors[j]
                ]
                if not slack:
                    break
                j = max(slack, key=lambda j: (widths[j], j))
                widths[j] -= 1
                excess -= 1
        return widths

    def _table(
        self, idx: Sequence[int], width: int, whole_keys: bool, title: str | Text | None, caption: bool
    ) -> Table:
        t = Table(title=title, title_justify="left", caption=self.caption if caption else None)
        for i, w in zip(idx, self._widths(idx, width, whole_keys), strict=True):
            col = self.columns[i]
            num = col.kind == "num"
            t.add_column(
                Text(col.header, no_wrap=False, overflow="fold"),  # a header wraps even over numbers
                justify="right" if num and i >= self.key else "left",
                no_wrap=num,
                overflow="fold",
                width=w,
            )
        for r in self.rows:
            t.add_row(*(r[i] for i in idx))
        return t

    def _stacked(self) -> Group:
        out: list[Text] = []
        if self.title is not None:
            out.append(self.title.copy() if isinstance(self.title, Text) else Text(self.title))
        for r in self.rows:
            head = Text(" ").join(r[i] for i in range(self.key))
            head.stylize("bold")
            out.append(head)
            for i in range(self.key, len(self.columns)):
                line = Text("  " + self.columns[i].header + ": ")
                line.append_text(r[i])
                out.append(line)
        if self.caption is not None:
            out.append(self.caption.copy() if isinstance(self.caption, Text) else Text(self.caption))
        for t in out:
            t.overflow = "fold"
        return Group(*out)

    def layout(self, width: int) -> Group:
        """What is drawn at this width (a Group of tables, or stacked rows)."""
        found = self.parts(width)
        if found is None:
            return self._stacked()
        parts, whole_keys = found
        tables = []
        for n, idx in enumerate(parts):
            title: str | Text | None = self.title
            if n and self.title is not None:
                title = (
                    Text.assemble(self.title, " (continued)")
                    if isinstance(self.title, Text)
                    else (f"{self.title} (continued)")
                )
            tables.append(self._table(idx, width, whole_keys, title, caption=n == len(parts) - 1))
        return Group(*tables)

    # -- rich protocol --------------------------------------------------------------------

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.layout(options.max_width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        everything = list(range(len(self.columns)))
        most = self._most(everything)
        title = self.title if isinstance(self.title, Text) else Text(self.title or "")
        return Measurement(min(most, 20), max(most, _widest(title))).with_maximum(options.max_width)
