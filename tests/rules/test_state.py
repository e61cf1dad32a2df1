"""Alert state between runs: `for` counted across runs, notify on change and after the repeat
interval, no data leaves things as they were; the state file round-trips."""

from __future__ import annotations

from dataclasses import replace

from mlmon.read.follow import FileState
from mlmon.rules.check import RuleResult, Status
from mlmon.rules.state import AlertState, State, apply_for, dumps, transitions


def _r(status: Status, value: float | None = 1.0, for_runs: int = 1, name: str = "p99") -> RuleResult:
    return RuleResult(
        name, "latency_ms.p99", status, value, 1.0, 2.0, "above", f"{name} {status}", None, False, for_runs
    )


def test_for_counts_consecutive_runs_and_no_data_keeps_the_count() -> None:
    counts: dict[str, int] = {}
    seen = []
    for st in (Status.WARNING, Status.WARNING, Status.NO_DATA, Status.CRITICAL, Status.OK, Status.WARNING):
        (res,), counts = apply_for((_r(st, for_runs=3),), counts)
        seen.append((res.status, res.pending, counts["p99"] if "p99" in counts else None))
    assert seen == [
        (Status.OK, True, 1),
        (Status.OK, True, 2),
        (Status.NO_DATA, False, 2),
        (Status.CRITICAL, False, 3),  # the third crossing run fires
        (Status.OK, False, 0),
        (Status.OK, True, 1),
    ]


def test_notify_on_change_and_after_repeat_interval() -> None:
    alerts: dict[str, AlertState] = {}
    kinds = []
    timeline = [
        (0, Status.WARNING),
        (10, Status.WARNING),
        (100, Status.WARNING),  # repeat interval 60 s passed since t=0
        (110, Status.NO_DATA),  # unknown: nothing changes
        (120, Status.CRITICAL),  # escalation: a change
        (130, Status.OK),  # resolved
        (140, Status.OK),
    ]
    for now, st in timeline:
        lab = {"p99": {"alertname": "p99", "severity": st.value}}
        events, alerts = transitions((_r(st),), alerts, now=now, repeat_interval=60, labels=lab)
        kinds.append(sorted(e.kind for e in events))
    assert kinds == [["firing"], [], ["repeat"], [], ["firing", "superseded"], ["resolved"], []]
    assert alerts == {}


def test_since_survives_escalation_and_a_removed_rule_resolves() -> None:
    lab = {"p99": {"alertname": "p99"}}
    _, alerts = transitions((_r(Status.WARNING),), {}, now=5, repeat_interval=None, labels=lab)
    _, alerts = transitions((_r(Status.CRITICAL),), alerts, now=9, repeat_interval=None, labels=lab)
    assert alerts["p99"].since == 5 and alerts["p99"].severity == "critical"
    events, alerts = transitions((), alerts, now=20, repeat_interval=None, labels={})
    assert [e.kind for e in events] == ["resolved"] and alerts == {}


def test_state_round_trips(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from mlmon.rules.state import load

    f = FileState("a.log", 1, 2, 300, False, "0" * 64, 300, 300, 7)
    st = State(
        files=(f, replace(f, path="a.log.1.gz", compressed=True, done=True)),
        alerts={"p99": AlertState("warning", 1.5, 2.5, "m", {"alertname": "p99"})},
        breaches={"p99": 2},
        totals={"predictions|v1|success": 10.0},
        last_run=3.0,
    )
    p = tmp_path / "s.json"
    p.write_text(dumps(st))
    assert load(str(p)) == st
    assert load(str(tmp_path / "missing.json")) == State()


def test_undelivered_events_and_group_times_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from mlmon.rules.state import MAX_PENDING, Event, StateError, load

    ev = Event("firing", "p99", "critical", "p99 900 ms", 1.0, "v1", "latency_ms.p99", {"alertname": "p99"})
    st = State(pending={"notify:abc": (ev, replace(ev, kind="resolved"))}, seen={"group|v1": 5.0})
    p = tmp_path / "s.json"
    p.write_text(dumps(st))
    assert load(str(p)) == st
    import json

    doc = json.loads(dumps(st))
    doc["pending"]["notify:abc"] = [doc["pending"]["notify:abc"][0]] * (MAX_PENDING + 1)
    p.write_text(json.dumps(doc))
    try:
        load(str(p))
    except StateError as exc:
        assert "pending/notify:abc" in str(exc)
    else:
        raise AssertionError("a state with more undelivered events than mlmon keeps was accepted")


def test_the_lock_is_taken_on_the_real_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    from mlmon.rules.state import locked

    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real" / "s.json", tmp_path / "link.json")
    with locked(str(tmp_path / "link.json")):
        assert (tmp_path / "real" / "s.json.lock").exists()
        assert not (tmp_path / "link.json.lock").exists()
