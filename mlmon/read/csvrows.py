"""CSV framing: which lines make which rows, with quotes followed as pyarrow's parser follows
them, so a row with an unterminated quote costs its own line, never the rest of the file."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from mlmon.read.sources import Block, line_ends

MAX_ROW_LINES = 10_000
"""Most physical lines one row (a quoted value with newlines) may span. A quote still open
after that many lines or --max-line-bytes, one that closes into a row with the wrong number
of fields, or one whose value would hold a line that is a whole row by itself, makes its
first line a `bad_row`; reading goes on at the next line."""

ROW, CONT, BAD, BLANK = 0, 1, 2, 3
_LONE_CR = re.compile(rb"\r[^\r\n]")
"""A CR inside a line: pyarrow ends a row there (a CR-only file is recoded before this)."""
ParseBlock = Callable[[bytes], tuple[pa.Table, list[tuple[int | None, str]]]]
"""pyarrow's reading of whole rows: the table, and the refused rows (number among the
non-blank rows, from 1; text)."""


def _patterns(delim: bytes) -> tuple[re.Pattern[bytes], ...]:
    """Regular expressions for pyarrow's CSV grammar (parser.cc): a quote opens a quoted value
    only at the start of a field; `""` inside it is a quote; after the closing quote the field
    goes on unquoted, where quotes are plain characters; CR, LF or CRLF end a row."""
    d = re.escape(delim)
    rest = rb"[^" + d + rb"\r\n]*+"
    unquoted = rb'(?:[^"' + d + rb"\r\n]" + rest + rb")?"
    one_line = rb'(?:"(?:[^"\r\n]|"")*+"' + rest + rb"|" + unquoted + rb")"
    any_lines = rb'(?:"(?:[^"]|"")*+"' + rest + rb"|" + unquoted + rb")"
    # a row ends at its first CR or LF; CRs before the LF are empty lines to pyarrow (`\r\r\n`
    # from a CRLF file written again in text mode)
    one = re.compile(one_line + rb"(?:" + d + one_line + rb")*+\r*\n")
    row = re.compile(any_lines + rb"(?:" + d + any_lines + rb")*+\r*\n")
    counted = re.compile(any_lines + rb"(?:" + d + rb"|\r*\n)")
    return one, row, counted, re.compile(one_line)


@dataclass
class Framed:
    """Whole rows of some lines of a CSV file, ready for pyarrow, and what could not be a row."""

    data: bytes
    """The lines, as read (each ends with a newline)."""
    first_line: int
    kinds: np.ndarray
    """Per line: ROW (a row starts here), CONT (inside a row), BAD or BLANK."""
    starts: np.ndarray
    ends: np.ndarray
    """Offsets of each line's first byte and of its newline in `data`."""
    parsed: tuple[pa.Table, list[tuple[int | None, str]]] | None = None
    """pyarrow's reading of `data`, when it was read whole to check the framing."""

    @property
    def row_lines(self) -> np.ndarray:
        return self.first_line + np.flatnonzero(self.kinds == ROW)

    @property
    def blank(self) -> int:
        return int(np.count_nonzero(self.kinds == BLANK))

    def bad(self) -> list[tuple[int, bytes]]:
        return [(self.first_line + int(i), self.line(int(i))) for i in np.flatnonzero(self.kinds == BAD)]

    def line(self, i: int) -> bytes:
        return self.data[int(self.starts[i]) : int(self.ends[i])]

    def text_of(self, line_no: int) -> bytes:
        i = line_no - self.first_line
        return self.line(i) if 0 <= i < len(self.kinds) else b""

    def feed(self) -> bytes:
        """The rows (and blank lines) without the bad lines."""
        bad = np.flatnonzero(self.kinds == BAD)
        if not len(bad):
            return self.data
        parts, pos = [], 0
        for i in bad.tolist():
            parts.append(self.data[pos : int(self.starts[i])])
            pos = int(self.ends[i]) + 1
        parts.append(self.data[pos:])
        return b"".join(parts)

    def row_texts(self) -> list[bytes]:
        """Each row's bytes (all its lines), in order."""
        rows = np.flatnonzero(self.kinds == ROW).tolist()
        out = []
        for r in rows:
            j = r + 1
            while j < len(self.kinds) and self.kinds[j] == CONT:
                j += 1
            out.append(self.data[int(self.starts[r]) : int(self.ends[j - 1]) + 1])
        return out


class Framer:
    """Cut a stream of line blocks into whole rows; an open row waits for the next block."""

    def __init__(
        self, ncols: int, max_row_bytes: int, oversized: list[int], parse_block: ParseBlock,
        delim: bytes = b",",
    ) -> None:
        self.ncols = ncols
        self.parse_block = parse_block
        self.cap = max_row_bytes
        self.oversized = oversized
        """Line numbers the line framing skipped as too long (left as empty lines in a block)."""
        self.delim = delim
        self._one, self._row, self._counted, self._one_field = _patterns(delim)
        self._carry = b""
        self._carry_line = 0
        self._carry_lines = 0

    def blocks(self, blocks: Iterator[Block]) -> Iterator[Framed]:
        for block in blocks:
            data = block.data if not block.tail else block.data + b"\n"
            if self._carry and block.first_line != self._carry_line + self._carry_lines:
                # a line skipped as oversized lies between: the open row cannot go on past it
                yield from self._frame(self._carry, self._carry_line, final=True)
                self._carry = b""
            if self._carry:
                data, first = self._carry + data, self._carry_line
                self._carry = b""
            else:
                first = block.first_line
            yield from self._frame(data, first, final=block.tail)
        if self._carry:
            carry, self._carry = self._carry, b""
            yield from self._frame(carry, self._carry_line, final=True)

    def _frame(self, data: bytes, first: int, *, final: bool) -> Iterator[Framed]:
        ends = line_ends(data)
        n = len(ends)
        if not n:
            return
        starts = np.concatenate(([0], ends[:-1] + 1))
        arr = np.frombuffer(data, dtype=np.uint8)
        lengths = ends - starts
        if b"\r" in data:  # a line of nothing but CRs is blank
            crs = np.concatenate(([0], np.cumsum(arr == 13)))
            blank = (crs[ends] - crs[starts]) == lengths
        else:
            blank = lengths == 0
        kinds = np.where(blank, BLANK, ROW).astype(np.int8)
        cut = n
        parsed = None
        lone_cr = _LONE_CR.search(data) is not None
        if b'"' in data and not lone_cr:
            # pyarrow reads the block whole; when it finds one row per non-blank line and the
            # last of them is closed, every line is a row as it stands (quoted CSV, the usual)
            parsed = _try(self.parse_block, data)
            rows = -1 if parsed is None else parsed[0].num_rows + len(parsed[1])
            nonblank = np.flatnonzero(~blank)
            last = int(nonblank[-1]) if len(nonblank) else -1
            if rows != len(nonblank) or (
                last >= 0 and not self._one.fullmatch(data, int(starts[last]), int(ends[last]) + 1)
            ):
                parsed = None
        if parsed is None and (b'"' in data or lone_cr):
            cut = self._slow(data, first, starts, ends, kinds, final)
        if cut < n:
            self._carry = data[int(starts[cut]) :]
            self._carry_line = first + cut
            self._carry_lines = n - cut
        if cut:
            end = int(ends[cut - 1]) + 1
            yield Framed(data[:end], first, kinds[:cut], starts[:cut], ends[:cut], parsed)

    def _suspects(self, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Lines that may not be one closed row: an odd number of quotes, a quote that neither
        opens a field nor closes one (`""` inside a value, `ab"c`), or a lone CR. Others are
        rows as they stand (most quoted CSV: `"a","b c",1`), found without a Python loop."""
        n = len(ends)
        sus = np.zeros(n, dtype=bool)
        delim = self.delim[0]
        q = np.flatnonzero(arr == 34)
        if len(q):
            qline = np.searchsorted(ends, q)
            per_line = np.bincount(qline, minlength=n)
            sus |= (per_line % 2) == 1
            rank = np.arange(len(q)) - (np.cumsum(per_line) - per_line)[qline]
            prev = arr[np.maximum(q - 1, 0)]
            nxt = arr[np.minimum(q + 1, len(arr) - 1)]
            opens = (q == starts[qline]) | (prev == delim)
            closes = (nxt == delim) | (nxt == 10) | (nxt == 13)
            ok = np.where(rank % 2 == 0, opens, closes)
            sus[qline[~ok]] = True
        cr = np.flatnonzero(arr == 13)
        if len(cr):
            after = arr[np.minimum(cr + 1, len(arr) - 1)]
            lone = cr[(after != 10) & (after != 13)]
            sus[np.searchsorted(ends, lone)] = True
        return np.flatnonzero(sus)

    def _slow(
        self, data: bytes, first: int, starts: np.ndarray, ends: np.ndarray, kinds: np.ndarray, final: bool
    ) -> int:
        """Frame the lines that may hold part of a quoted value (or a lone CR) one row at a
        time; the number of lines decided (the rest waits for the next block)."""
        n = len(ends)
        arr = np.frombuffer(data, dtype=np.uint8)
        skipped = {x - first for x in self.oversized if first <= x < first + n}
        st: list[int] = starts.tolist()  # Python ints: this loop runs once per quoted row
        en: list[int] = ends.tolist()
        one, row, size = self._one.fullmatch, self._row.match, len(data)
        done = 0  # lines before this one are decided
        for i in self._suspects(arr, starts, ends).tolist():
            if i < done:
                continue
            pos = st[i]
            if one(data, pos, en[i] + 1):
                continue  # a closed row after all (`""` inside a value)
            last = min(i + MAX_ROW_LINES, n)
            endpos = min(en[last - 1] + 1, pos + self.cap + 2)
            m = row(data, pos, endpos)
            if m is not None:
                k = bisect.bisect_left(st, m.end()) if m.end() < size else n
                inside = bool(skipped) and any(i < j < k for j in skipped)
                if (
                    not inside
                    and self._fields(data, pos, m.end()) == self.ncols
                    and not any(self._is_row(data, st[j], en[j] + 1) for j in range(i + 1, k - 1))
                    and not self._same_opening(data, st[i], en[i] + 1, st[k - 1], en[k - 1] + 1)
                ):
                    kinds[i + 1 : k] = CONT
                    done = k
                    continue
            elif not final and endpos == size and last == n and endpos - pos <= self.cap:
                return int(i)  # a quoted value still open at the end of what was read: wait for more
            kinds[i] = BAD
            done = i + 1
        return n

    def _same_opening(self, data: bytes, a: int, b: int, c: int, d: int) -> bool:
        """Lines [a, b) and [c, d), each read by itself, open a quote at the same field: two
        rows with the same stray quote (a value that begins with one), not one row whose value
        spans lines."""
        if self._one.fullmatch(data, c, d):
            return False  # the second line by itself is a closed row: it opens nothing
        field = self._open_field(data, a, b)
        return field is not None and field == self._open_field(data, c, d)

    def _open_field(self, data: bytes, pos: int, end: int) -> int | None:
        """The field at which a line read by itself opens a quote that it does not close."""
        count = 0
        while True:
            pos = self._one_field.match(data, pos, end).end()  # type: ignore[union-attr]
            if pos < end and data[pos] == self.delim[0]:
                count += 1
                pos += 1
                continue
            return count if pos < end and data[pos] == 34 else None

    def _is_row(self, data: bytes, a: int, b: int) -> bool:
        """The line [a, b) is a whole row by itself (the right number of fields, quotes closed)."""
        return bool(self._one.fullmatch(data, a, b)) and self._fields(data, a, b) == self.ncols

    def _fields(self, data: bytes, pos: int, end: int) -> int:
        """Fields of the row at `pos` that ends (with its newline) at `end`."""
        return len(self._counted.findall(data, pos, end))


def parse(framed: Framed, names: list[str], parse_block: ParseBlock) -> (
    tuple[pa.Table, np.ndarray, list[tuple[int, str | bytes]]]
):
    """pyarrow's rows of a framed piece with the physical line of each, and the rows pyarrow
    refused (wrong number of fields) with theirs."""
    lines = framed.row_lines
    empty = pa.table({n: pa.array([], pa.binary()) for n in names})
    if not len(lines):
        return empty, lines, []
    got = framed.parsed if framed.parsed is not None else _try(parse_block, framed.feed())
    table, invalid = got if got is not None else (empty, [(None, "")])
    numbers = [num for num, _ in invalid]
    if got is not None and table.num_rows + len(invalid) == len(lines) and all(
        num is not None and 1 <= num <= len(lines) for num in numbers
    ):
        keep = np.ones(len(lines), dtype=bool)
        idx = np.asarray(numbers, dtype=np.int64) - 1
        keep[idx] = False
        if int(keep.sum()) == table.num_rows:
            refused: list[tuple[int, str | bytes]] = [
                (int(lines[j]), text) for j, (_, text) in zip(idx, invalid, strict=True)
            ]
            return table, lines[keep], refused
    # the grammar above and pyarrow's disagree on this piece: one row at a time, to be sure
    tables, kept = [], []
    refused = []
    for line, text in zip(lines.tolist(), framed.row_texts(), strict=True):
        one = _try(parse_block, text)
        if one is not None and one[0].num_rows == 1 and not one[1]:
            t = one[0]
            tables.append(t)
            kept.append(line)
        else:
            refused.append((line, text.rstrip(b"\r\n")))
    table = pa.concat_tables(tables) if tables else empty
    return table, np.asarray(kept, dtype=np.int64), refused


def _try(parse_block: ParseBlock, data: bytes) -> tuple[pa.Table, list[tuple[int | None, str]]] | None:
    """pyarrow's reading, or None where it fails: a row with the wrong number of fields whose
    text is not UTF-8 makes pyarrow's handler fail, and then the whole read."""
    try:
        return parse_block(data)
    except pa.ArrowInvalid:
        return None
