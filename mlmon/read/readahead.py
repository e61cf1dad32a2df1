"""Framing on its own thread: the next blocks of a file are read (and decompressed) while the
blocks before them are parsed and counted, instead of in turn on the thread that counts them."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_POLL_SECONDS = 0.05


def read_ahead(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """The items of `items`, produced on a background thread up to `depth` ahead, in order.

    An exception raised while producing is raised here, at the point the item would have come.
    When the consumer stops early (an error, Ctrl-C, a closed generator) the producer stops
    after its current item and is waited for, so the stream under `items` is never closed while
    it reads. Use it only on sources whose reads end (regular files), not on pipes."""
    q: queue.Queue[tuple[int, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[int, object]) -> bool:
        while not stop.is_set():
            try:
                q.put(entry, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((0, item)):
                    return
            put((1, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put((2, exc))

    thread = threading.Thread(target=produce, name="mlmon-read", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == 0:
                yield value  # type: ignore[misc]
            elif kind == 1:
                return
            else:
                assert isinstance(value, BaseException)
                raise value
    finally:
        stop.set()
        thread.join()
