"""Read every source into canonical tables while accounting for every line."""

from __future__ import annotations

import os
import stat
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from mlmon.errors import DataError, raise_if_environment
from mlmon.read import remote
from mlmon.read.fields import names_in_json, names_in_schema
from mlmon.read.jsonlines import SNIFF_LINES, BlockParser, BlockResult, record_text, sniff
from mlmon.read.native import block_parser
from mlmon.read.readahead import read_ahead
from mlmon.read.records import NOT_BAD, REASONS, SEQ, Checked, ReadPlan, check_rows, reason_name
from mlmon.read.sources import (
    DEFAULT_MAX_LINE_BYTES,
    DEFAULT_MAX_RATIO,
    STDIN,
    Block,
    Format,
    ReadNotes,
    Source,
    iter_blocks,
    open_source,
)
from mlmon.read.tables import TablePiece, csv_pieces, from_table, has_serving_columns, parquet_pieces

MAX_EXAMPLES = 5
PARSE_WORKERS = 2
FIELD_SNIFF_LINES = 100
"""Lines of each JSON file whose field names are kept for suggestions."""


@dataclass(frozen=True)
class Example:
    """One line that was not used, to show the user where to look."""

    source: str
    line: int
    """Line number (rows for CSV and Parquet), counting from 1."""
    reason: str
    text: str
    """The start of the line, decoded with undecodable bytes as escapes. Untrusted."""


@dataclass(frozen=True)
class FileReport:
    """How one source's lines were used."""

    source: str
    format: str
    compression: str
    lines: int
    """Lines read (rows for CSV and Parquet)."""
    records: int
    """Lines that became valid records."""
    reasons: dict[str, int]
    """Lines not used, by reason; lines == records + sum(reasons)."""
    truncated: str | None
    consumed: int | None = None
    """--state: content bytes read as whole lines from where the read started."""
    unfinished: str | None = None
    """--state: a compressed file still being written (read again from `consumed` next run)."""
    changed: bool = False
    """--state: a plain file cut or replaced while it was read (the rest is read next run)."""

    @property
    def bad_lines(self) -> int:
        return sum(v for k, v in self.reasons.items() if k not in NOT_BAD)


@dataclass(frozen=True)
class Lost:
    """A followed file (--state) that is gone with bytes not read: rotated away or deleted."""

    source: str
    bytes: int
    """Bytes of it known not to have been read when it was last seen: at least this many (a
    live log gone may have grown after)."""


@dataclass(frozen=True)
class InputReport:
    """How all sources' lines were used, per file and in total."""

    files: tuple[FileReport, ...]
    lines: int
    records: int
    reasons: dict[str, int]
    bad_lines: int
    examples: tuple[Example, ...]
    fields_seen: frozenset[str] = frozenset()
    """Dotted field names seen in the first records of each file (for suggestions)."""
    containers_seen: frozenset[str] = frozenset()
    """Those of `fields_seen` whose value was an object or a list in some of those records."""
    left_out: tuple[tuple[str, str], ...] = ()
    """Files of a folder or glob left out as mlmon's own (path, what it is)."""
    lost: tuple[Lost, ...] = ()
    """--state: followed files with unread bytes that could not be found any more."""

    @property
    def truncated(self) -> tuple[FileReport, ...]:
        return tuple(f for f in self.files if f.truncated)


@dataclass(frozen=True)
class ReadOptions:
    """Knobs for reading inputs."""

    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    max_decompressed_bytes: int | None = None
    max_examples: int = MAX_EXAMPLES
    max_decompression_ratio: float | None = DEFAULT_MAX_RATIO
    """A compressed input that expands more than this many times (past 16 MiB) stops (65)."""
    allow_large_window: bool = False
    """Read zstd files whose window is over 128 MiB (they need that much memory)."""
    engine: str = "local"
    """`local`: this process reads the files one after another; `dask`: one task per file on a
    Dask cluster's workers, the accumulators merged as a tree (the same answers)."""
    scheduler: str | None = None
    """The Dask scheduler's address (tcp://host:8786); None starts a cluster on this machine."""


@dataclass
class _Tally:
    lines: int = 0
    records: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


def _unknown() -> int | None:
    return None


class Reader:
    """Iterate canonical tables from sources; `report()` afterwards tells what was used."""

    def __init__(
        self,
        sources: list[Source],
        plan: ReadPlan,
        *,
        require: tuple[str, ...],
        options: ReadOptions | None = None,
        on_bytes: Callable[[int], None] | None = None,
    ) -> None:
        self.sources = sources
        self.plan = plan
        self.require = require
        self.options = options or ReadOptions()
        self.on_bytes = on_bytes
        self.on_file_done: Callable[[], None] | None = None
        """Called after the last table of each source (accumulators that hold tables take them)."""
        self._files: list[FileReport] = []
        self._examples: list[Example] = []
        self._seq = 0
        self._fields_seen: set[str] = set()
        self._containers_seen: set[str] = set()
        self._bad_examples = 0
        self._normal_examples = 0

    def _want_examples(self) -> bool:
        return self._bad_examples < self.options.max_examples

    def _want_any_examples(self) -> bool:
        """Whether a block parser should still collect lines to show: while either kind has
        a free slot. (Asking only about bad lines made the non_record examples depend on which
        worker thread parsed its block before the first blocks' bad lines were counted.)"""
        return self._want_examples() or self._normal_examples < self.options.max_examples

    def _want_kind(self, normal: bool) -> bool:
        """Whether lines of one kind to show are still wanted (normal ones, or bad ones)."""
        return self._normal_examples < self.options.max_examples if normal else self._want_examples()

    def _example(self, source: str, line: int, reason: str, text: bytes | str) -> None:
        # Each kind has its own slots: non_record, blank and incomplete_tail lines (a normal
        # part of a log) never use up the ones for bad lines, which stderr shows.
        if reason in NOT_BAD:
            if self._normal_examples >= self.options.max_examples:
                return
            self._normal_examples += 1
        else:
            if not self._want_examples():
                return
            self._bad_examples += 1
        if isinstance(text, bytes):
            text = text[:300].decode("utf-8", errors="backslashreplace")
        self._examples.append(Example(source, line, reason, text[:200]))

    def tables(self) -> Iterator[pa.Table]:
        for source in self.sources:
            yield from self._read(source)
            if self.on_file_done is not None:
                self.on_file_done()

    def _size(self, source: Source) -> int | None:
        if remote.is_url(source.opens):
            return remote.size(source.opens)
        try:
            st = os.stat(source.opens)
        except OSError:
            return None
        return st.st_size if stat.S_ISREG(st.st_mode) else None

    def _tracked(self, source: Source, tables: Iterator[pa.Table], position: Callable[[], int | None]) -> (
        Iterator[pa.Table]
    ):
        """Report progress in bytes of the files on disk: after each table, how far into the
        file the reader is; at its end, the rest of its size, so the bytes reported for a
        regular file add up to its size whatever its format or compression."""
        on_bytes = self.on_bytes
        if on_bytes is None:
            yield from tables
            return
        size = self._size(source)
        done = 0
        for table in tables:
            pos = position()
            if pos is not None and size is not None and pos > done:
                pos = min(pos, size)
                on_bytes(pos - done)
                done = pos
            yield table
        if size is not None and size > done:
            on_bytes(size - done)

    def _read(self, source: Source) -> Iterator[pa.Table]:
        notes = ReadNotes()
        tally = _Tally()
        try:
            stream, fmt = open_source(
                source,
                notes,
                max_decompressed_bytes=self.options.max_decompressed_bytes,
                max_ratio=self.options.max_decompression_ratio,
                large_window=self.options.allow_large_window,
            )
        except DataError as exc:
            raise DataError(f"{source.name}: {exc}") from None
        try:
            position = stream.position
            if fmt is Format.JSONL:
                gen = self._jsonl(source, stream, notes, tally)
            elif fmt is Format.CSV:
                pieces = csv_pieces(
                    stream, notes, max_line_bytes=self.options.max_line_bytes, name=source.path
                )
                gen = self._table_rows(source, pieces, tally)
            else:
                stream.close()
                if source.path == "-":
                    raise DataError("Parquet cannot be read from stdin; give its path")
                where = source.opens
                gen = self._table_rows(
                    source, parquet_pieces(remote.open_url(where) if remote.is_url(where) else where), tally
                )
                position = _unknown
            yield from self._tracked(source, gen, position)
        except DataError as exc:
            if str(exc).startswith(source.name):
                raise
            raise DataError(f"{source.name}: {exc}") from None
        except OSError as exc:
            raise_if_environment(exc)
            raise DataError(f"{source.name}: read failed: {exc}") from None
        except pa.ArrowException as exc:  # a damaged or unusual Parquet file: data, never a crash
            text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
            raise DataError(f"{source.name}: cannot read as {fmt.value}: {text}") from None
        finally:
            if source.path != "-":
                stream.close()
        if notes.truncated and tally.lines == 0 and not notes.oversized_lines:
            # a compressed file of which not one line could be read is unreadable input, not
            # an empty one (and never silently skipped next to other files)
            raise DataError(f"{source.name}: {notes.truncated}; not one line could be read from it")
        if notes.oversized_lines:
            tally.reasons["oversized"] += len(notes.oversized_lines)
            tally.reasons["blank"] -= notes.oversized_placeholders
            tally.lines += len(notes.oversized_lines) - notes.oversized_placeholders
            for line in notes.oversized_lines[:2]:
                self._example(source.name, line, "oversized", "(line longer than --max-line-bytes)")
        reasons = {r: tally.reasons[r] for r in REASONS if tally.reasons.get(r)}
        self._files.append(
            FileReport(
                source.name,
                fmt.value,
                notes.compression,
                tally.lines,
                tally.records,
                reasons,
                notes.truncated,
                notes.consumed,
                notes.unfinished,
                notes.changed,
            )
        )

    def _emit(
        self,
        checked: Checked,
        lines: Callable[[], np.ndarray],
        source: str,
        tally: _Tally,
        text_of: Callable[[int], bytes] | None = None,
    ) -> Iterator[pa.Table]:
        yield from self._numbered(self._account(checked, lines, source, tally, text_of), tally)

    def _account(
        self,
        checked: Checked,
        lines: Callable[[], np.ndarray],
        source: str,
        tally: _Tally,
        text_of: Callable[[int], bytes] | None = None,
    ) -> pa.Table:
        """Count the rows a check rejected (with examples); the rows that passed."""
        rejected = checked.rejected
        if rejected.any():
            codes, counts = np.unique(rejected[rejected > 0], return_counts=True)
            for code, count in zip(codes.tolist(), counts.tolist(), strict=True):
                tally.reasons[reason_name(code)] += count
            if self._want_examples():
                where = np.flatnonzero(rejected)
                line_numbers = lines()
                for i in where[: self.options.max_examples]:
                    line = int(line_numbers[i])
                    text = (
                        text_of(line) if text_of is not None else b"(row with a field that failed the check)"
                    )
                    self._example(source, line, reason_name(int(rejected[i])), text)
        return checked.table

    def _numbered(self, table: pa.Table, tally: _Tally) -> Iterator[pa.Table]:
        """The rows that passed, numbered in reading order (SEQ), as one table."""
        tally.records += table.num_rows
        if table.num_rows:
            seq = np.arange(self._seq, self._seq + table.num_rows, dtype=np.int64)
            self._seq += table.num_rows
            yield table.append_column(SEQ, pa.array(seq))

    def _jsonl(self, source: Source, stream: object, notes: ReadNotes, tally: _Tally) -> Iterator[pa.Table]:
        blocks = iter_blocks(
            stream,  # type: ignore[arg-type]
            notes,
            max_line_bytes=self.options.max_line_bytes,
            # files report bytes on disk (see _tracked); a pipe reports the bytes it gave
            on_progress=self.on_bytes if source.path == STDIN else None,
        )
        if self._size(source) is not None:
            blocks = read_ahead(blocks, depth=1)  # a regular file: read and decompress on another thread
        parser: BlockParser | None = None
        pending: deque[tuple[Block, Future[tuple[BlockResult, list[Checked]]]]] = deque()
        # PARSE_WORKERS blocks are parsed and checked at once (pyarrow and numpy release the
        # GIL) while this thread reads ahead and feeds the accumulators, in block order.
        pool = ThreadPoolExecutor(max_workers=PARSE_WORKERS, thread_name_prefix="mlmon-parse")
        try:
            for block in blocks:
                if parser is None:
                    head = block.data[: 1 << 20].split(b"\n")[:SNIFF_LINES]
                    layout = sniff(head, self.plan)
                    self._see_json(head)
                    parser = block_parser(
                        self.plan,
                        layout,
                        examples_wanted=self._want_any_examples,
                        kind_wanted=self._want_kind,
                    )
                future = pool.submit(self._parse_and_check, parser, block)
                pending.append((block, future))
                if len(pending) > PARSE_WORKERS:
                    yield from self._parsed(*pending.popleft(), source, tally)
            while pending:
                yield from self._parsed(*pending.popleft(), source, tally)
        except BaseException:
            # Ctrl-C, an error, or the caller stopped reading: do not wait for the blocks still
            # being parsed (a busy worker would hold the interrupt back); drop the queued ones
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    def _parse_and_check(self, parser: BlockParser, block: Block) -> tuple[BlockResult, list[Checked]]:
        """A worker's share of a block: parse it and check its rows (both only read shared state)."""
        result = parser.parse(block.data, block.first_line, tail=block.tail, n_lines=block.n_lines)
        return result, [check_rows(p.raw, self.plan, require=self.require) for p in result.pieces]

    def _parsed(
        self,
        block: Block,
        future: Future[tuple[BlockResult, list[Checked]]],
        source: Source,
        tally: _Tally,
    ) -> Iterator[pa.Table]:
        result, checked = future.result()
        tally.lines += result.lines
        tally.reasons.update(result.reasons)
        for line, reason, text in result.examples:
            self._example(source.name, line, reason, text)
        text_of = _line_lookup(block.data, block.first_line)
        tables = [
            self._account(rows, piece.row_lines, source.name, tally, text_of)
            for piece, rows in zip(result.pieces, checked, strict=True)
        ]
        tables = [t for t in tables if t.num_rows]
        if len(tables) > 1:
            # One table per block, however the block was parsed (the pyarrow path splits a
            # block with a bad line into pieces, the native reader does not): accumulators that
            # sum per table (a mean's float sum) then add the same numbers in the same order
            # whichever reader ran, and give the same answer to the last digit.
            tables = [pa.concat_tables(tables).combine_chunks()]
        for table in tables:
            yield from self._numbered(table, tally)

    def _table_rows(self, source: Source, pieces: Iterator[TablePiece], tally: _Tally) -> Iterator[pa.Table]:
        """Rows of a CSV or Parquet source; lines that are no row are counted (bad_row, blank)
        and shown with their physical line numbers."""
        first = True
        for piece in pieces:
            batch = piece.table
            if first:
                self._fields_seen |= names_in_schema(batch.schema)
            if first and self.plan.summary and not has_serving_columns(batch, self.plan):
                raise DataError(
                    f"{source.name} has no serving fields ({self.plan.fields.latency}, "
                    f"{self.plan.fields.status}, {self.plan.fields.prediction}): it looks like "
                    "a feature log; `mlmon drift` reads feature logs"
                )
            first = False
            if piece.bad_rows:
                tally.lines += len(piece.bad_rows)
                tally.reasons["bad_row"] += len(piece.bad_rows)
                for number, text in piece.bad_rows[: self.options.max_examples]:
                    self._example(source.name, number, "bad_row", text)
            if piece.blank:
                tally.lines += piece.blank
                tally.reasons["blank"] += piece.blank
            if not batch.num_rows:
                continue
            raw, pre = from_table(batch, self.plan)
            tally.lines += batch.num_rows
            checked = check_rows(raw, self.plan, require=self.require, pre=pre)
            yield from self._emit(checked, _constant(piece.lines), source.name, tally, piece.text_of)

    def report(self) -> InputReport:
        total: Counter[str] = Counter()
        for f in self._files:
            total.update(f.reasons)
        reasons = {r: total[r] for r in REASONS if total.get(r)}
        return InputReport(
            files=tuple(self._files),
            lines=sum(f.lines for f in self._files),
            records=sum(f.records for f in self._files),
            reasons=reasons,
            bad_lines=sum(f.bad_lines for f in self._files),
            examples=tuple(self._examples),
            fields_seen=frozenset(self._fields_seen),
            containers_seen=frozenset(self._containers_seen),
        )

    def _see_json(self, head: list[bytes]) -> None:
        marker = self.plan.record_marker.encode() if self.plan.record_marker else None
        texts = (record_text(line, marker) for line in head[:FIELD_SNIFF_LINES])
        self._fields_seen |= names_in_json((t for t in texts if t is not None), self._containers_seen)


def check_budget(report: InputReport, *, max_bad: float | int, strict: bool) -> None:
    """Stop with a data error when bad lines pass the budget, or on any with `strict`.

    `max_bad` below 1 is a share of record lines (records + bad lines); 1 or more a count.
    """
    if report.records == 0:
        raise DataError(_no_records_message(report), report=report)
    if strict and report.bad_lines:
        raise DataError(
            f"--strict: {report.bad_lines} bad line(s) in the input ({_reason_text(report)})",
            report=report,
        )
    if strict and report.truncated:
        f = report.truncated[0]
        raise DataError(f"--strict: a truncated file in the input: {f.source} ({f.truncated})")
    candidates = report.records + report.bad_lines
    allowed = max_bad * candidates if max_bad < 1 else max_bad
    if report.bad_lines > allowed:
        share = report.bad_lines / candidates
        raise DataError(
            f"{report.bad_lines} bad lines of {candidates} record lines ({share:.1%}) pass the "
            f"budget of {_budget_text(max_bad)} ({_reason_text(report)}); "
            "raise --max-bad-lines to accept them",
            report=report,
        )


def _budget_text(max_bad: float | int) -> str:
    return f"{max_bad:.2%}" if max_bad < 1 else f"{int(max_bad)} lines"


def _reason_text(report: InputReport) -> str:
    bad = {k: v for k, v in report.reasons.items() if k not in NOT_BAD}
    return ", ".join(f"{k}: {v}" for k, v in bad.items()) or "no bad lines"


def _no_records_message(report: InputReport) -> str:
    if report.lines == 0:
        return "no valid record: the input is empty"
    parts = ", ".join(f"{k}: {v}" for k, v in report.reasons.items())
    message = f"no valid record in {report.lines} lines ({parts})"
    if report.reasons.get("non_record"):
        message += (
            "; no line is a JSON object or a known logging layout (asctime first, Flask's "
            "[asctime], or basicConfig's LEVEL:logger:): if the records follow other text, "
            "give the text just before their JSON with --record-marker (e.g. --record-marker "
            "'Prediction: ')"
        )
    return message


def _constant(lines: np.ndarray) -> Callable[[], np.ndarray]:
    return lambda: lines


def _line_lookup(data: bytes, first_line: int) -> Callable[[int], bytes]:
    """The text of a line of a block by its number; the block is split only when asked."""
    lines: list[bytes] = []

    def text_of(line_no: int) -> bytes:
        if not lines:
            lines.extend(data.split(b"\n"))
        i = line_no - first_line
        return lines[i] if 0 <= i < len(lines) else b""

    return text_of


def combine(reports: list[InputReport], *, max_examples: int = MAX_EXAMPLES) -> InputReport:
    """The report of reading several groups of files one after another, from each group's own
    report in reading order: the same as one Reader over them all (the examples are those the
    one Reader would have kept: the first `max_examples` of each kind, in reading order)."""
    files = tuple(f for r in reports for f in r.files)
    total: Counter[str] = Counter()
    for f in files:
        total.update(f.reasons)
    examples: list[Example] = []
    taken: Counter[bool] = Counter()
    for r in reports:
        for ex in r.examples:
            normal = ex.reason in NOT_BAD
            if taken[normal] < max_examples:
                taken[normal] += 1
                examples.append(ex)
    return InputReport(
        files=files,
        lines=sum(f.lines for f in files),
        records=sum(f.records for f in files),
        reasons={r: total[r] for r in REASONS if total.get(r)},
        bad_lines=sum(f.bad_lines for f in files),
        examples=tuple(examples),
        fields_seen=frozenset().union(*(r.fields_seen for r in reports)),
        containers_seen=frozenset().union(*(r.containers_seen for r in reports)),
        left_out=tuple(x for r in reports for x in r.left_out),
        lost=tuple(x for r in reports for x in r.lost),
    )
