"""Sources: path expansion, compression by magic bytes, cut and concatenated streams, framing."""

from __future__ import annotations

import io
import itertools
import os
import tracemalloc
import zlib
from pathlib import Path

import pytest
from corpus import bz2_bytes, good_lines, gzip_bytes, join, zstd_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlmon.errors import DataError, NoInputError
from mlmon.read.sources import (
    Format,
    ReadNotes,
    Source,
    _Plain,
    _Stream,
    expand,
    format_for,
    iter_blocks,
    open_source,
)

BODY = join(good_lines(500))


def _read_all(path: Path | str, **kw: int) -> tuple[bytes, ReadNotes, Format]:
    notes = ReadNotes()
    stream, fmt = open_source(Source(str(path)), notes, **kw)  # type: ignore[arg-type]
    try:
        return stream.read(), notes, fmt
    finally:
        stream.close()


def _lines(path: Path | str, **kw: int) -> tuple[list[bytes], bool, ReadNotes]:
    notes = ReadNotes()
    stream, _ = open_source(Source(str(path)), notes)
    lines: list[bytes] = []
    tail = False
    for block in iter_blocks(stream, notes, **kw):
        if block.tail:
            lines.append(block.data)
            tail = True
        else:
            lines += block.data.split(b"\n")[:-1]
    stream.close()
    return lines, tail, notes


# --- expand -----------------------------------------------------------------------------------


def test_expand_sorts_dedupes_and_walks_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logs" / "sub").mkdir(parents=True)
    (tmp_path / "logs" / ".hidden").mkdir()
    for name in ("logs/b.jsonl", "logs/a.jsonl", "logs/sub/c.jsonl.gz", "logs/.dot.jsonl",
                 "logs/.hidden/x.jsonl"):
        (tmp_path / name).write_bytes(b"{}\n")
    os.symlink(tmp_path / "logs" / "a.jsonl", tmp_path / "link.jsonl")
    got = [s.path for s in expand(["logs/b.jsonl", "logs", "./logs/a.jsonl", "-", "link.jsonl"])]
    assert got == ["-", "logs/a.jsonl", "logs/b.jsonl", "logs/sub/c.jsonl.gz"]
    assert [s.path for s in expand(["logs/*.jsonl"])] == ["logs/a.jsonl", "logs/b.jsonl"]
    assert [s.path for s in expand(["logs/**/*.gz"])] == ["logs/sub/c.jsonl.gz"]
    assert expand(["-"])[0].name == "<stdin>"


def test_expand_same_file_twice_is_read_once(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(b"{}\n")
    assert len(expand([str(p), str(p), str(tmp_path / "." / "a.jsonl")])) == 1


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: [], "give at least one"),
        (lambda d: [str(d / "missing.jsonl")], "does not exist"),
        (lambda d: [str(d / "nothing-*.jsonl")], "matched no file"),
        (lambda d: [str(d / "empty")], "holds no files"),
        (lambda d: [str(d / "broken.jsonl")], "broken symbolic link"),
    ],
    ids=["none", "missing", "glob", "empty-dir", "broken-link"],
)
def test_expand_no_input(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "empty").mkdir()
    os.symlink(tmp_path / "nowhere", tmp_path / "broken.jsonl")
    with pytest.raises(NoInputError, match=message):
        expand(make(tmp_path))


def test_unreadable_file_is_no_input(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    p = tmp_path / "a.jsonl"
    p.write_bytes(b"{}\n")
    p.chmod(0)
    try:
        with pytest.raises(NoInputError, match="cannot read"):
            open_source(Source(str(p)), ReadNotes())
    finally:
        p.chmod(0o600)


def test_a_directory_given_to_open_is_no_input(tmp_path: Path) -> None:
    with pytest.raises(NoInputError, match="is a directory"):
        open_source(Source(str(tmp_path)), ReadNotes())


# --- layout and compression by magic bytes ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "pack", "compression"),
    [
        ("a.jsonl", lambda b: b, "none"),
        ("a.jsonl.gz", gzip_bytes, "gzip"),
        ("a.jsonl.gz", lambda b: b, "none"),  # a .gz name on plain text
        ("a.jsonl", gzip_bytes, "gzip"),  # gzip content with a plain name
        ("a.log", zstd_bytes, "zstd"),
        ("a.jsonl.zst", lambda b: zstd_bytes(b, streamed=True), "zstd"),
        ("a.bz2", bz2_bytes, "bz2"),
        ("a.jsonl.gz", lambda b: gzip_bytes(b[:3000]) + gzip_bytes(b[3000:]), "gzip"),  # logrotate
        ("a.jsonl.zst", lambda b: zstd_bytes(b[:3000]) + zstd_bytes(b[3000:]), "zstd"),
        ("a.jsonl.bz2", lambda b: bz2_bytes(b[:3000]) + bz2_bytes(b[3000:]), "bz2"),
        ("a.jsonl.gz", lambda b: gzip_bytes(b) + b"\x00" * 5000, "gzip"),  # zero padding
        ("a.jsonl.gz", lambda b: gzip_bytes(b"") + gzip_bytes(b), "gzip"),  # an empty member
    ],
    ids=["plain", "gz", "gz-name-plain", "plain-name-gz", "zst", "zst-streamed", "bz2",
         "gz-members", "zst-frames", "bz2-streams", "gz-padding", "gz-empty-member"],
)
def test_decompression_by_magic_bytes(tmp_path: Path, name: str, pack, compression: str) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / name
    p.write_bytes(pack(BODY))
    data, notes, fmt = _read_all(p)
    assert data == BODY and fmt is Format.JSONL
    assert notes.compression == compression and notes.truncated is None
    assert notes.decompressed_bytes == len(BODY)


@pytest.mark.parametrize(
    ("pack", "cut", "why"),
    [
        (gzip_bytes, lambda n: n // 2, "gzip stream ends before its end marker"),
        (gzip_bytes, lambda n: n - 4, "gzip stream ends before its end marker"),  # in the trailer
        (gzip_bytes, lambda n: n - 1, "gzip stream ends before its end marker"),
        (gzip_bytes, lambda n: 12, "gzip stream ends before its end marker"),  # in the header
        (zstd_bytes, lambda n: n // 2, "zstd stream ends before its end marker"),
        (lambda b: zstd_bytes(b, streamed=True), lambda n: n - 3, "zstd stream ends before its end marker"),
        (lambda b: bz2_bytes(b * 20), lambda n: n - 10, "bz2 stream ends before its end marker"),
    ],
    ids=["gz-half", "gz-trailer", "gz-last-byte", "gz-header", "zst-half", "zst-end", "bz2-end"],
)
def test_cut_stream_keeps_complete_lines_and_is_marked(tmp_path: Path, pack, cut, why: str) -> None:  # type: ignore[no-untyped-def]
    packed = pack(BODY)
    p = tmp_path / "a.jsonl.gz"
    p.write_bytes(packed[: cut(len(packed))])
    data, notes, _ = _read_all(p)
    assert notes.truncated == why
    assert (BODY * 20).startswith(data)  # every byte it gives is right


def test_garbage_after_a_member_is_marked_corrupt(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl.gz"
    p.write_bytes(gzip_bytes(BODY) + b"this is not gzip")
    data, notes, _ = _read_all(p)
    assert data == BODY
    assert notes.truncated is not None and notes.truncated.startswith("corrupt gzip data")


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b'{"a": 1}\n', Format.JSONL),
        (b"\xef\xbb\xbf{\"a\": 1}\n", Format.JSONL),
        (b"2026-11-01 10:00:00,123 - x - INFO - Prediction: {\"a\": 1}\n", Format.JSONL),
        (b"timestamp,age,country\n1,2,US\n", Format.CSV),
        (b"PAR1\x00\x00", Format.PARQUET),
    ],
)
def test_layout_of_stdin_is_sniffed(head: bytes, fmt: Format) -> None:
    assert format_for(Source("-"), head) is fmt


def test_layout_of_files_comes_from_the_name() -> None:
    assert format_for(Source("x.csv.gz"), b"{}") is Format.CSV
    assert format_for(Source("x.tsv"), b"") is Format.CSV
    assert format_for(Source("x.parquet"), b"") is Format.PARQUET
    assert format_for(Source("x.log.zst"), b"a,b\n") is Format.JSONL


# --- bounded decompression --------------------------------------------------------------------


def _bomb(kind: str, size: int) -> bytes:
    if kind == "gzip":
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        return c.compress(b"\x00" * size) + c.flush()
    if kind == "zstd":
        return zstd_bytes(b"\x00" * size)
    return bz2_bytes(b"\x00" * size)


@pytest.mark.parametrize("kind", ["gzip", "zstd", "bz2"])
def test_decompression_bomb_is_stopped_early_with_little_memory(tmp_path: Path, kind: str) -> None:
    p = tmp_path / "bomb.gz"
    p.write_bytes(_bomb(kind, 64 << 20))
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="--max-decompressed-bytes"):
            notes = ReadNotes()
            stream, _ = open_source(Source(str(p)), notes, max_decompressed_bytes=4 << 20)
            for _block in iter_blocks(stream, notes):
                pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20, f"peak {peak >> 20} MiB"


def test_huge_line_from_a_small_file_is_skipped_in_bounded_memory(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl.gz"
    p.write_bytes(gzip_bytes(join(good_lines(2))) + _bomb("gzip", 64 << 20) + gzip_bytes(b"\n" + BODY))
    lines, tail, notes = _lines(p, max_line_bytes=1 << 20)
    assert notes.oversized_lines == [3]
    assert lines[:2] == good_lines(2) and lines[2:] == BODY.split(b"\n")[:-1]
    assert not tail and notes.truncated is None


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=5000), kind=st.sampled_from(["gzip", "zstd", "bz2"]),
       cuts=st.lists(st.integers(min_value=0, max_value=5000), max_size=2),
       step=st.integers(min_value=1, max_value=4096),
       sizes=st.lists(st.integers(min_value=1, max_value=3000), min_size=1, max_size=20))
def test_stream_reads_members_in_any_sizes(data: bytes, kind: str, cuts: list[int], step: int,
                                           sizes: list[int]) -> None:
    pack = {"gzip": gzip_bytes, "zstd": zstd_bytes, "bz2": bz2_bytes}[kind]
    bounds = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    packed = b"".join(pack(data[a:b]) for a, b in zip(bounds, bounds[1:], strict=False))
    notes = ReadNotes()
    stream = _Stream(io.BytesIO(packed[5:]), kind, notes, None)
    stream.STEP_BYTES = stream.ZSTD_SLICE = step  # tiny steps: every member edge case
    stream._feed(packed[:5])
    assert stream.peek(7) == data[:7]
    out = b""
    for n in sizes:
        out += stream.read(n)
    out += stream.read()
    assert out == data and notes.truncated is None
    assert notes.decompressed_bytes == len(data)


# --- framing ----------------------------------------------------------------------------------


def _naive(data: bytes, cap: int) -> list[tuple[int, bytes | None]]:
    """(line number, line or None when over the cap), by splitting the whole input."""
    parts = data.split(b"\n")
    last = parts.pop()
    if last:
        parts.append(last)
    return [(i, None if len(line) > cap else line) for i, line in enumerate(parts, 1)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")), max_size=12),
    final=st.booleans(),
    cap=st.integers(min_value=1, max_value=10),
    block=st.integers(min_value=1, max_value=16),
    head=st.integers(min_value=0, max_value=8),
)
def test_iter_blocks_frames_like_split(lines: list[bytes], final: bool, cap: int, block: int,
                                       head: int) -> None:
    data = b"\n".join(lines) + (b"\n" if final and lines else b"")
    notes = ReadNotes()
    stream = _Plain(io.BytesIO(data[head:]), data[:head], notes)
    got: dict[int, bytes] = {}
    tails = 0
    for b in iter_blocks(stream, notes, block_bytes=block, max_line_bytes=cap):
        if b.tail:
            got[b.first_line] = b.data
            tails += 1
        else:
            for j, line in enumerate(b.data.split(b"\n")[:-1]):
                got[b.first_line + j] = line
    over = notes.oversized_lines
    assert len(over) == len(set(over))
    for n in over:  # an oversized line inside a block is left as an empty placeholder
        assert got.pop(n, b"") == b""
    expect = _naive(data, cap)
    assert sorted(got.items()) == [(n, line) for n, line in expect if line is not None]
    assert sorted(over) == [n for n, line in expect if line is None]
    assert tails == (1 if data and not data.endswith(b"\n") and len(data.rsplit(b"\n", 1)[-1]) <= cap else 0)
    assert notes.decompressed_bytes == len(data)


def test_wide_lines_make_blocks_larger_up_to_the_cap() -> None:
    """Lines of 60 KB (a few thousand features each): after the first 4 MiB block, blocks grow to
    hold about WIDE_BLOCK_LINES lines (capped at MAX_BLOCK_BYTES), and framing is unchanged."""
    from mlmon.read.sources import BLOCK_BYTES, MAX_BLOCK_BYTES, WIDE_BLOCK_LINES

    lines = [bytes([97 + i % 26]) * 60_000 for i in range(600)]
    data = b"\n".join(lines) + b"\n"
    notes = ReadNotes()
    blocks = list(iter_blocks(_Plain(io.BytesIO(data), b"", notes), notes))
    assert b"".join(b.data for b in blocks) == data
    starts = itertools.accumulate([1] + [b.n_lines or 0 for b in blocks[:-1]])
    assert [b.first_line for b in blocks] == list(starts)
    assert len(blocks[0].data) <= BLOCK_BYTES
    assert all(len(b.data) <= MAX_BLOCK_BYTES for b in blocks)
    assert all(b.n_lines >= WIDE_BLOCK_LINES - 1 for b in blocks[1:-1])
    assert len(blocks) < len(data) / BLOCK_BYTES / 2


@pytest.mark.parametrize(
    "packed",
    [
        gzip_bytes(BODY) + gzip_bytes(BODY),  # two members
        gzip_bytes(BODY) + b"\x00" * 64,  # zero padding after the last member
        gzip_bytes(BODY)[:-9],  # cut inside the trailer
        gzip_bytes(BODY)[: len(gzip_bytes(BODY)) // 2],  # cut mid-stream
        gzip_bytes(BODY) + b"this is not gzip",
    ],
    ids=["members", "padding", "no-trailer", "half", "garbage"],
)
def test_isal_and_zlib_inflate_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packed: bytes) -> None:
    # where python-isal has no wheel mlmon inflates with zlib: both give the same bytes and notes
    import sys

    pytest.importorskip("isal")
    p = tmp_path / "a.jsonl.gz"
    p.write_bytes(packed)
    from mlmon.read.sources import _inflate

    _inflate.cache_clear()
    with_isal = _read_all(p)
    monkeypatch.setitem(sys.modules, "isal", None)  # `import isal` fails
    _inflate.cache_clear()
    with_zlib = _read_all(p)
    _inflate.cache_clear()
    a, b = with_isal[1].truncated, with_zlib[1].truncated
    assert (a is None) == (b is None)
    if a is None or packed.endswith(b"not gzip"):
        assert with_isal[0] == with_zlib[0]
    else:  # cut short: each gives what it could inflate (ISA-L may hold back a few bytes more)
        assert (BODY * 2).startswith(with_isal[0]) and (BODY * 2).startswith(with_zlib[0])
        assert 0 <= len(with_zlib[0]) - len(with_isal[0]) < 1 << 16
    assert with_zlib[0] == (BODY * 2 if packed.startswith(gzip_bytes(BODY) * 2) else
                            zlib.decompressobj(31).decompress(packed))
    if a is not None and b is not None:  # the libraries word a corrupt stream each their own way
        assert a == b or (a.startswith("corrupt gzip data") and b.startswith("corrupt gzip data"))
