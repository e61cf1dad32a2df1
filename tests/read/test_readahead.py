"""read_ahead: items in order, errors where they happened, and a producer that stops with its consumer."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from mlmon.read.readahead import read_ahead


def test_items_come_in_order_and_all_of_them() -> None:
    assert list(read_ahead(iter(range(1000)), depth=3)) == list(range(1000))


def test_an_error_is_raised_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("corrupt gzip data")

    got: list[int] = []
    with pytest.raises(ValueError, match="corrupt gzip data"):
        for x in read_ahead(items()):
            got.append(x)
    assert got == [1, 2]


def test_a_consumer_that_stops_early_stops_the_producer() -> None:
    produced: list[int] = []
    closed = threading.Event()

    def items() -> Iterator[int]:
        try:
            for i in range(10_000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    gen = read_ahead(items(), depth=2)
    assert next(gen) == 0
    gen.close()  # joins the producer: nothing is read after this returns
    n = len(produced)
    assert n < 10
    assert not any(t.name == "mlmon-read" and t.is_alive() for t in threading.enumerate())
    assert len(produced) == n


def test_reader_results_are_the_same_with_and_without_read_ahead(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import gzip

    from mlmon.read import reader as rd
    from mlmon.read.reader import Reader
    from mlmon.read.records import SUMMARY_FIELDS, ReadPlan
    from mlmon.read.sources import Source

    lines = [
        b'{"timestamp": "2026-11-01T10:00:%02dZ", "latency_ms": %d, "status": "ok"}' % (i % 60, i)
        for i in range(20_000)
    ]
    lines[7] = b"not json"
    path = tmp_path / "log.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n")[:-20])  # cut: a truncated tail

    def read() -> tuple[list[float], object]:
        r = Reader([Source(str(path))], ReadPlan(), require=SUMMARY_FIELDS)
        lat: list[float] = []
        for t in r.tables():
            lat.extend(t.column("latency_ms").to_pylist())
        return lat, r.report()

    with_ra = read()
    monkeypatch.setattr(rd, "read_ahead", lambda items, depth=1: items)
    without = read()
    assert with_ra == without
    assert with_ra[1].files[0].truncated  # type: ignore[attr-defined]
