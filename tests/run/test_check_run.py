"""The stateful check run as a library call (no CLI): the state is committed only after the
caller's outputs are written, and the counters and `for` counts carry over between runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from corpus import dumps, record

from mlmon.api import check
from mlmon.errors import OutputError
from mlmon.read.follow import plan
from mlmon.rules.config import Rule
from mlmon.run.check_run import CheckRun, check_run
from mlmon.run.deliver import Deliveries

RULES = (Rule("latency_ms.max", "slow", warning=500.0, for_runs=2),)


def _read(log: Path) -> Any:
    def read(prev: Any, now: float | None) -> tuple[Any, tuple[Any, ...]]:
        with plan([str(log)], prev.files if prev else ()) as planned:
            rep = check(planned.sources, RULES, now=now)
        return rep, planned.files(rep.input.files)

    return read


def _append(log: Path, start: int, n: int, latency: float) -> None:
    with open(log, "ab") as fh:
        fh.write(b"".join(dumps(record(i, latency_ms=latency)) + b"\n" for i in range(start, start + n)))


def test_a_library_run_commits_after_its_outputs_and_carries_counts(tmp_path: Path) -> None:
    log, state = tmp_path / "p.log", tmp_path / "st.json"
    seen: list[CheckRun] = []
    _append(log, 0, 50, 900.0)
    first = check_run(_read(log), state=str(state), deliveries=Deliveries(), write_outputs=seen.append)
    assert first.report.records == 50 and first.report.alerts == ()  # crossed once of `for = 2`
    assert first.totals is not None and sum(
        v for k, v in first.totals.items() if k.startswith("predictions")
    ) == 50
    committed = state.read_bytes()

    def fail(run: CheckRun) -> None:
        raise OutputError("the disk is full")

    _append(log, 50, 30, 900.0)
    with pytest.raises(OutputError):
        check_run(_read(log), state=str(state), deliveries=Deliveries(), write_outputs=fail)
    assert state.read_bytes() == committed  # nothing of the failed run was kept

    second = check_run(_read(log), state=str(state), deliveries=Deliveries(), write_outputs=seen.append)
    assert second.report.records == 30  # the same lines again, once
    assert [a.severity.value for a in second.report.alerts] == ["warning"]  # the second crossing run
    assert second.totals is not None
    assert sum(v for k, v in second.totals.items() if k.startswith("predictions")) == 80
    assert [r.report.records for r in seen] == [50, 30]
    assert json.loads(state.read_text())["breaches"] == {"slow": 2}
