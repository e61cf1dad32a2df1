"""Framing a plain file with the compiled one-copy read against the read-and-join framing."""

from __future__ import annotations

import io
import types
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlmon.read import sources
from mlmon.read.sources import ReadNotes, _Plain, iter_blocks

native = pytest.importorskip("mlmon._native")
if not hasattr(native, "read_block"):
    pytest.skip("the compiled module predates the one-copy read", allow_module_level=True)


class _ReadOnly:
    """A raw stream with `read` only (no `readinto`), as some file-like objects are."""

    def __init__(self, data: bytes) -> None:
        self._io = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self._io.read(n)

    def close(self) -> None:
        pass


def frame(data: bytes, head: int, block: int, cap: int, *, compiled: bool, raw_into: bool = True) -> Any:
    notes = ReadNotes()
    raw: Any = io.BytesIO(data[head:]) if raw_into else _ReadOnly(data[head:])
    stream = _Plain(raw, data[:head], notes)
    with pytest.MonkeyPatch.context() as m:
        if not compiled:  # the module without its one-copy read: the read-and-join framing
            m.setattr(sources, "_native", types.SimpleNamespace(count_newlines=native.count_newlines))
        progress: list[int] = []
        blocks = [(b.data, type(b.data), b.first_line, b.tail, b.n_lines)
                  for b in iter_blocks(stream, notes, block_bytes=block, max_line_bytes=cap,
                                       on_progress=progress.append)]
    return (blocks, notes.oversized_lines, notes.oversized_placeholders, notes.decompressed_bytes,
            sum(progress))


lines = st.lists(st.one_of(st.binary(max_size=30), st.sampled_from([b"", b"{}", b"x" * 70, b"\r"])),
                 max_size=40)


@settings(max_examples=400, deadline=None)
@given(lines=lines, end=st.booleans(), head=st.integers(0, 50), block=st.integers(1, 64),
       cap=st.integers(1, 100), raw_into=st.booleans())
def test_same_blocks_and_notes(lines: list[bytes], end: bool, head: int, block: int, cap: int,
                               raw_into: bool) -> None:
    data = b"\n".join(line.replace(b"\n", b"") for line in lines) + (b"\n" if end else b"")
    head = min(head, len(data))
    one = frame(data, head, block, cap, compiled=True, raw_into=raw_into)
    two = frame(data, head, block, cap, compiled=False, raw_into=raw_into)
    assert one == two
    assert b"".join(b[0] for b in one[0]) == b"".join(b[0] for b in two[0])


def test_blocks_are_bytes_cut_after_a_newline() -> None:
    data = b"".join(b'{"i": %d}\n' % i for i in range(10_000)) + b'{"i": "tail"}'
    blocks, oversized, _, read, progress = frame(data, 100, 4096, 1 << 20, compiled=True)
    assert all(t is bytes for _, t, *_ in blocks)
    assert all(d.endswith(b"\n") for d, _, _, tail, _ in blocks if not tail)
    assert b"".join(d for d, *_ in blocks) == data
    assert blocks[-1][3] is True and blocks[-1][0] == b'{"i": "tail"}'
    assert sum(n or 0 for *_, n in blocks) == 10_000
    assert oversized == [] and read == len(data) == progress


def test_readinto_that_claims_too_much_is_an_error() -> None:
    with pytest.raises(ValueError):
        native.read_block(b"", lambda view: len(view) + 1, 16)
