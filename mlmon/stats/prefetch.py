"""scipy.stats imported on a background thread while a log is read: the import alone takes
0.6-0.7 CPU-seconds (most of it building its distributions' docstrings), which then overlaps
with reading instead of following it."""

from __future__ import annotations

import importlib
import threading
from typing import Any

_thread: threading.Thread | None = None
_lock = threading.Lock()


def start() -> None:
    """Begin importing scipy.stats in the background, once per process (cheap when started)."""
    global _thread
    if _thread is not None:
        return
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_load, name="mlmon-import-scipy", daemon=True)
            _thread.start()


def _load() -> None:
    try:
        importlib.import_module("scipy.stats")
    except BaseException:  # noqa: BLE001 - the caller's own import below reports any failure
        pass


def scipy_stats() -> Any:
    """scipy.stats, after the background import (if one was started) has finished, so the two
    threads never import at the same time."""
    thread = _thread
    if thread is not None:
        thread.join()
    from scipy import stats

    return stats
