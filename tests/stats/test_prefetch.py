"""The background import of scipy.stats: started once, joined before use, silent on failure."""

from __future__ import annotations

import threading

import pytest

from mlmon.stats import prefetch


def test_started_once_and_joined_before_use(monkeypatch: pytest.MonkeyPatch) -> None:
    import scipy.stats

    monkeypatch.setattr(prefetch, "_thread", None)
    prefetch.start()
    first = prefetch._thread
    assert isinstance(first, threading.Thread) and first.name == "mlmon-import-scipy" and first.daemon
    prefetch.start()
    assert prefetch._thread is first
    assert prefetch.scipy_stats() is scipy.stats
    assert not first.is_alive()
