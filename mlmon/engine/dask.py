"""The Dask engine: one task per part on a cluster's workers, the results merged as a tree in order."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from mlmon.errors import EnvironmentFailure, OptionError

T = TypeVar("T")
R = TypeVar("R")

CONNECT_SECONDS = float(os.environ.get("MLMON_DASK_CONNECT_TIMEOUT", "20"))
"""How long to wait for the scheduler to answer, and for a first worker to join it."""
FAN_IN = 2
"""Parts merged by one task of the tree."""


def _client_module() -> Any:
    try:
        import distributed
    except ImportError:
        raise EnvironmentFailure(
            "--engine dask needs dask and distributed: pip install 'mlmon[dask]'"
        ) from None
    return distributed


@contextmanager
def client(scheduler: str | None) -> Iterator[Any]:
    """A client of the scheduler at `scheduler`, or of a cluster started on this machine for the
    run (one single-threaded worker process per core, on 127.0.0.1, no dashboard)."""
    distributed = _client_module()
    cluster = None
    try:
        if scheduler is None:
            cluster = distributed.LocalCluster(
                n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR,
                # no dashboard; the scheduler's health and metrics pages on a free port of 127.0.0.1
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            )
            address = cluster.scheduler_address
        else:
            address = scheduler
        c = distributed.Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        where = scheduler if scheduler is not None else "a local cluster"
        raise EnvironmentFailure(
            f"--engine dask: cannot reach the Dask scheduler at {where} within {CONNECT_SECONDS:g} s: "
            f"{str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__}"
        ) from None
    except ValueError as exc:
        raise OptionError(f"--scheduler {scheduler!r}: not a Dask scheduler address ({exc})") from None
    try:
        try:
            c.wait_for_workers(1, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError):
            raise EnvironmentFailure(
                f"--engine dask: no worker joined the scheduler at {address} within {CONNECT_SECONDS:g} s"
            ) from None
        yield c
    finally:
        c.close()
        if cluster is not None:
            cluster.close()


def map_reduce(
    items: list[T],
    task: Callable[[T], R],
    merge: Callable[[R, R], R],
    *,
    scheduler: str | None,
) -> R:
    """`task` of each item on the cluster, the results merged pairwise as a tree, always the
    earlier with the later, so the result is that of merging them in order. A task whose worker
    is lost is run again by Dask (up to its `allowed-failures`); past that the run stops (71)."""
    if not items:
        raise ValueError("map_reduce needs at least one item")
    distributed = _client_module()
    with client(scheduler) as c:
        level = c.map(task, items, pure=False)
        while len(level) > 1:
            nxt = [
                c.submit(merge, level[i], level[i + 1], pure=False) if i + 1 < len(level) else level[i]
                for i in range(0, len(level), FAN_IN)
            ]
            level = nxt
        try:
            return level[0].result()  # type: ignore[no-any-return]
        except distributed.KilledWorker as exc:
            raise EnvironmentFailure(
                f"--engine dask: workers died again and again running one part ({exc}); "
                "see the workers' logs (out of memory?)"
            ) from None
        except (ImportError, AttributeError) as exc:
            if "mlmon" not in str(exc):
                raise
            raise EnvironmentFailure(
                f"--engine dask: the workers cannot run mlmon ({exc}); install the same mlmon on every worker"
            ) from None


def bound(fn: Callable[..., R], **kwargs: Any) -> Callable[..., R]:
    """`fn` with keyword arguments fixed, as a task Dask can send to its workers."""
    return functools.partial(fn, **kwargs)
