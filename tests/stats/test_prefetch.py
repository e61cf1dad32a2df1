"""The background import of scipy.stats: started once, joined before use, silent on failure."""

from __future__ import annotations

import importlib
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


def test_the_thread_imports_scipy_stats(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    monkeypatch.setattr(prefetch, "_thread", None)
    monkeypatch.setattr(prefetch, "_load", lambda: ran.append(threading.current_thread().name))
    prefetch.start()
    assert prefetch._thread is not None
    prefetch._thread.join()
    assert ran == ["mlmon-import-scipy"]


def test_the_import_asked_for_is_scipy_stats_and_a_failure_is_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(importlib, "import_module", lambda name: asked.append(name))
    prefetch._load()
    assert asked == ["scipy.stats"]

    def broken(name: str) -> None:
        raise ImportError(name)

    monkeypatch.setattr(importlib, "import_module", broken)
    assert prefetch._load() is None  # the caller's own import reports any failure


def test_scipy_stats_waits_for_the_background_import(monkeypatch: pytest.MonkeyPatch) -> None:
    joined: list[bool] = []

    class Started:
        def join(self) -> None:
            joined.append(True)

    monkeypatch.setattr(prefetch, "_thread", Started())
    prefetch.scipy_stats()
    assert joined == [True]
    monkeypatch.setattr(prefetch, "_thread", None)  # never started: nothing to wait for
    assert prefetch.scipy_stats().__name__ == "scipy.stats"
