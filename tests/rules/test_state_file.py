"""The --state file called directly (mlmon/rules/state.py): every field read back, every way a file
can be unusable named in its one-line error, the lock, `for` and the repeat interval at equality,
and the fields each event carries to the notifiers."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

import pytest

from mlmon.errors import ExitCode
from mlmon.read.follow import FileState
from mlmon.rules import state as st
from mlmon.rules.check import RuleResult, Status
from mlmon.rules.state import (
    AlertState,
    Event,
    State,
    StateBusy,
    StateError,
    apply_for,
    dumps,
    load,
    locked,
    transitions,
)

FILE = FileState("a|b.log", 1, 2, 300, False, "ab" * 32, 300, 250, 7)


def _r(status: Status, *, name: str = "p99", for_runs: int = 1, group: str | None = "v|1") -> RuleResult:
    return RuleResult(
        name,
        "latency_ms.p99",
        status,
        2.0,
        1.0,
        3.0,
        "above",
        f"{name} is {status.value}",
        group,
        False,
        for_runs,
    )


def _full() -> State:
    ev = Event("repeat", "p99", "warning", "p99 1,200 ms", 1.5, "v|1", "latency_ms.p99", {"alertname": "p99"})
    return State(
        files=(FILE, FileState("c.log.1.gz", 3, 4, 10, True, "cd" * 32, 10, 10, 1, True)),
        alerts={
            "p99": AlertState("critical", 1.25, 2.5, "p99 over", {"alertname": "p99", "model": "a|b"}),
            "err": AlertState("warning", 0.5, 0.75, "errors"),
        },
        breaches={"p99": 3, "err": 0},
        totals={"predictions_total|v|1|success": 10.0, "latency_ms_sum|v1|": 0.5},
        last_run=9.5,
        pending={"notify:abc": (ev, Event("resolved", "err", "critical", "resolved: e", 0.25))},
        seen={"group|v|1": 5.0, "missing|": 6.0},
    )


def test_every_field_reads_back_and_the_file_is_strict_json(tmp_path: Path) -> None:
    p = tmp_path / "s.json"
    text = dumps(_full())
    assert text.endswith("}\n")
    p.write_text(text)
    back = load(str(p))
    assert back == _full()
    assert back.files[1].done and back.files[0].path == "a|b.log"
    assert back.pending["notify:abc"][0].labels == {"alertname": "p99"}
    doc = json.loads(text)
    assert doc["version"] == st.VERSION == 1
    assert set(doc) == {"version", "last_run", "files", "alerts", "breaches", "totals", "pending", "seen"}
    assert doc["totals"] == {"predictions_total|v|1|success": 10.0, "latency_ms_sum|v1|": 0.5}
    with pytest.raises(ValueError):
        dumps(State(totals={"x": float("nan")}))  # never a NaN a JSON reader refuses


def test_an_empty_list_of_undelivered_events_is_not_written(tmp_path: Path) -> None:
    doc = json.loads(
        dumps(State(pending={"notify:a": (), "notify:b": (Event("firing", "n", "warning", "m", 1),)}))
    )
    assert list(doc["pending"]) == ["notify:b"]


def test_a_state_written_by_an_older_mlmon_without_the_later_fields_loads(tmp_path: Path) -> None:
    p = tmp_path / "s.json"
    p.write_text(json.dumps({"version": 1, "files": [], "alerts": {}, "breaches": {"p99": 2}}))
    assert load(str(p)) == State(breaches={"p99": 2})


def _error(p: Path) -> str:
    with pytest.raises(StateError) as exc:
        load(str(p))
    assert exc.value.exit_code == ExitCode.DATA_ERROR
    text = str(exc.value)
    assert "\n" not in text and text.startswith(f"state file {p}")
    return text


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({"version": 2, "files": [], "alerts": {}, "breaches": {}}, "(version: 1 was expected"),
        ({"files": [], "alerts": {}, "breaches": {}}, "((top level): 'version' is a required property"),
        ({"version": 1, "files": [], "alerts": {}, "breaches": {"p99": -1}}, "(breaches/p99: -1 is less"),
        ({"version": 1, "files": [], "alerts": {}, "breaches": {}, "totals": {"k": -1}}, "(totals/k: -1"),
        (
            {
                "version": 1,
                "files": [],
                "alerts": {"a": {"severity": "info", "since": 1, "last_notified": 1, "message": "m"}},
                "breaches": {},
            },
            "(alerts/a/severity:",
        ),
        ({"version": 1, "files": [], "alerts": {}, "breaches": {}, "extra": 1}, "((top level): Additional"),
    ],
)
def test_a_damaged_state_names_the_place(tmp_path: Path, doc: dict[str, object], where: str) -> None:
    p = tmp_path / "s.json"
    p.write_text(json.dumps(doc))
    text = _error(p)
    assert "is damaged or not an mlmon state file " + where in text, text
    assert text.endswith("; move it away to start afresh")


def test_the_first_schema_error_in_path_order_is_the_one_named(tmp_path: Path) -> None:
    p = tmp_path / "s.json"
    p.write_text(json.dumps({"version": 1, "files": [], "alerts": {}, "breaches": {"b": -1, "a": -2}}))
    assert "(breaches/a: -2 is less" in _error(p)


def test_not_json_and_not_utf8_are_damaged(tmp_path: Path) -> None:
    p = tmp_path / "s.json"
    p.write_text("{")
    assert "is damaged (not JSON: " in _error(p)
    p.write_bytes(b'{"version": "\xff"}')
    assert "is damaged (not JSON: " in _error(p)


def test_a_directory_a_fifo_and_an_unreadable_path_are_errors(tmp_path: Path) -> None:
    d = tmp_path / "dir"
    d.mkdir()
    assert _error(d).endswith("not a regular file; give a file path for --state")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "not a regular file" in _error(fifo)
    (tmp_path / "f").write_text("x")
    assert "cannot read it: Not a directory" in _error(tmp_path / "f" / "s.json")


def test_a_state_larger_than_mlmon_writes_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "s.json"
    p.write_text(dumps(State()))
    size = p.stat().st_size
    monkeypatch.setattr(st, "MAX_BYTES", size)
    assert load(str(p)) == State()  # exactly the limit is read
    monkeypatch.setattr(st, "MAX_BYTES", size - 1)
    assert "is larger than 0 MiB" in _error(p)
    monkeypatch.setattr(st, "MAX_BYTES", 3 << 20)
    p.write_bytes(b" " * ((3 << 20) + 1))
    assert _error(p).endswith("is larger than 3 MiB, more than mlmon writes; move it away to start afresh")


def test_the_lock_excludes_another_holder_until_the_wait_runs_out(tmp_path: Path) -> None:
    p = tmp_path / "s.json"
    fd = os.open(str(p) + ".lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(StateBusy) as exc:
            with locked(str(p), wait=0.2):
                raise AssertionError("the lock was taken while another run held it")
        assert exc.value.exit_code == ExitCode.TEMPFAIL
        assert str(exc.value) == f"state file {p} is in use by another run (waited 0.2 s for {p}.lock)"
        fcntl.flock(fd, fcntl.LOCK_UN)
        with locked(str(p), wait=0.2):
            with pytest.raises(BlockingIOError):  # held for the run
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # and let go after it
    finally:
        os.close(fd)


def test_a_lock_that_cannot_be_created_is_an_output_error(tmp_path: Path) -> None:
    from mlmon.errors import OutputError

    with pytest.raises(OutputError) as exc:
        with locked(str(tmp_path / "none" / "s.json")):
            pass
    assert str(exc.value).startswith(f"state file {tmp_path}/none/s.json: cannot create its lock ")


def test_for_fires_in_exactly_the_nth_crossing_run() -> None:
    counts: dict[str, int] = {"other": 4}
    (r,), counts = apply_for((_r(Status.WARNING, for_runs=2),), counts)
    assert r.status is Status.OK and r.pending and counts == {"other": 4, "p99": 1}
    assert r.message == "p99 is warning; pending: crossed 1 of 2 runs"
    (r,), counts = apply_for((_r(Status.CRITICAL, for_runs=2),), counts)
    assert r.status is Status.CRITICAL and not r.pending and counts["p99"] == 2
    (r,), counts = apply_for((_r(Status.OK, for_runs=2),), counts)
    assert r.status is Status.OK and not r.pending and counts["p99"] == 0
    (r,), after = apply_for((_r(Status.WARNING),), {})
    assert r.status is Status.WARNING and after == {"p99": 1}  # for = 1 fires at once


def test_two_rules_count_apart() -> None:
    (a, b), counts = apply_for(
        (_r(Status.WARNING, name="a", for_runs=2), _r(Status.OK, name="b")), {"a": 1, "b": 3}
    )
    assert a.status is Status.WARNING and b.status is Status.OK and counts == {"a": 2, "b": 0}


def test_a_first_firing_carries_every_field_and_is_remembered() -> None:
    lab = {"p99": {"alertname": "p99", "severity": "warning"}}
    events, after = transitions((_r(Status.WARNING),), {}, now=7.0, repeat_interval=None, labels=lab)
    assert events == [
        Event("firing", "p99", "warning", "p99 is warning", 7.0, "v|1", "latency_ms.p99", lab["p99"])
    ]
    assert after == {"p99": AlertState("warning", 7.0, 7.0, "p99 is warning", lab["p99"])}


def test_a_repeat_is_sent_at_exactly_the_interval_and_not_before() -> None:
    prev = {"p99": AlertState("warning", 1.0, 10.0, "old", {"alertname": "p99"})}
    events, after = transitions((_r(Status.WARNING),), prev, now=69.9, repeat_interval=60, labels={})
    assert events == [] and after == {
        "p99": AlertState("warning", 1.0, 10.0, "p99 is warning", {"alertname": "p99"})
    }
    events, after = transitions((_r(Status.WARNING),), prev, now=70.0, repeat_interval=60, labels={})
    assert events == [
        Event(
            "repeat", "p99", "warning", "p99 is warning", 1.0, "v|1", "latency_ms.p99", {"alertname": "p99"}
        )
    ]
    assert after == {"p99": AlertState("warning", 1.0, 70.0, "p99 is warning", {"alertname": "p99"})}


def test_an_escalation_with_the_same_labels_is_one_firing_event() -> None:
    lab = {"alertname": "p99"}
    prev = {"p99": AlertState("warning", 1.0, 2.0, "old", lab)}
    events, after = transitions(
        (_r(Status.CRITICAL),), prev, now=5.0, repeat_interval=None, labels={"p99": lab}
    )
    assert [(e.kind, e.severity, e.since) for e in events] == [("firing", "critical", 1.0)]
    assert after["p99"] == AlertState("critical", 1.0, 5.0, "p99 is critical", lab)


def test_an_escalation_with_new_labels_ends_the_old_alert_first() -> None:
    old, new = {"alertname": "p99", "severity": "warning"}, {"alertname": "p99", "severity": "critical"}
    prev = {"p99": AlertState("warning", 1.0, 2.0, "old message", old)}
    events, _ = transitions((_r(Status.CRITICAL),), prev, now=5.0, repeat_interval=None, labels={"p99": new})
    assert events[0] == Event("superseded", "p99", "warning", "old message", 1.0, labels=old)
    assert events[1].kind == "firing" and events[1].labels == new


def test_a_resolution_carries_the_old_severity_and_labels() -> None:
    prev = {"p99": AlertState("critical", 1.0, 2.0, "old", {"alertname": "p99"})}
    events, after = transitions((_r(Status.OK),), prev, now=5.0, repeat_interval=None, labels={})
    assert events == [
        Event(
            "resolved",
            "p99",
            "critical",
            "resolved: p99 is ok",
            1.0,
            "v|1",
            "latency_ms.p99",
            {"alertname": "p99"},
        )
    ]
    assert after == {}


def test_no_data_keeps_a_firing_alert_and_a_removed_rule_resolves_with_its_labels() -> None:
    prev = {
        "p99": AlertState("critical", 1.0, 2.0, "old", {"alertname": "p99"}),
        "gone": AlertState("warning", 0.5, 0.5, "g", {"alertname": "gone"}),
    }
    events, after = transitions(
        (_r(Status.NO_DATA), _r(Status.NO_DATA, name="new")), prev, now=5.0, repeat_interval=1, labels={}
    )
    assert after == {"p99": prev["p99"]}
    assert events == [
        Event("resolved", "gone", "warning", "resolved: rule gone removed", 0.5, labels={"alertname": "gone"})
    ]


def _carry() -> Any:
    from mlmon.stats.labels import Carry, PendingLabel, PendingPrediction

    return Carry(
        (
            PendingPrediction("k|1", 1_700_000_000_000_000_000, "v|1", "cat", 0.75, None, 5.5),
            PendingPrediction("k2", None, None, None, None, 2.5, 6.0),
        ),
        (PendingLabel("k3", "dog", 7.0), PendingLabel("k4", 1.5, 8.0)),
        (FILE,),
        ("ab" * 32,),
    )


def test_the_labels_awaiting_a_join_read_back(tmp_path: Path) -> None:
    p = tmp_path / "s.json"
    st_ = State(waiting=_carry())
    text = dumps(st_)
    p.write_text(text)
    assert load(str(p)) == st_
    doc = json.loads(text)["labels"]
    assert doc["predictions"][0] == ["k|1", 1_700_000_000_000_000_000, "v|1", "cat", 0.75, None, 5.5]
    assert doc["labels"] == [["k3", "dog", 7.0], ["k4", 1.5, 8.0]]
    assert doc["tables"] == ["ab" * 32] and doc["files"][0]["path"] == "a|b.log"
    assert "labels" not in json.loads(dumps(State()))  # nothing waiting: no section
    from mlmon.stats.labels import Carry

    for part in ("predictions", "labels", "files", "tables"):
        one = Carry(**{part: getattr(_carry(), part)})
        assert "labels" in json.loads(dumps(State(waiting=one))), part


def test_an_integer_label_reads_back_as_a_number(tmp_path: Path) -> None:
    p = tmp_path / "s.json"
    p.write_text(
        json.dumps(
            {
                "version": 1,
                "files": [],
                "alerts": {},
                "breaches": {},
                "labels": {"labels": [["k", 1, 3]], "predictions": [["p", 5, "g", "c", 1, 2, 0]]},
            }
        )
    )
    w = load(str(p)).waiting
    assert w.labels[0].label == 1.0 and isinstance(w.labels[0].label, float)
    assert (w.predictions[0].time_ns, w.predictions[0].confidence, w.predictions[0].value) == (5, 1, 2)


@pytest.mark.parametrize(
    "labels",
    [
        {"predictions": [["k", None, None, None, None, None]]},  # one short
        {"predictions": [[1, None, None, None, None, None, 0]]},  # key not text
        {"predictions": [["k", 1.5, None, None, None, None, 0]]},  # time not an integer
        {"predictions": [["k", True, None, None, None, None, 0]]},  # a bool is no time
        {"predictions": [["k", None, 3, None, None, None, 0]]},  # group not text
        {"predictions": [["k", None, None, 3, None, None, 0]]},  # class not text
        {"predictions": [["k", None, None, None, "x", None, 0]]},
        {"predictions": [["k", None, None, None, True, None, 0]]},
        {"predictions": [["k", None, None, None, None, "x", 0]]},
        {"predictions": [["k", None, None, None, None, None, None]]},  # when read: required
        {"predictions": [["k", None, None, None, None, None, "now"]]},
        {"labels": [["k", "dog"]]},
        {"labels": [[1, "dog", 0]]},
        {"labels": [["k", None, 0]]},
        {"labels": [["k", True, 0]]},
        {"labels": [["k", "dog", None]]},
        {"labels": [["k", "dog", "x"]]},
        {"labels": [3]},
        {"labels": ["k|dog|0"]},
    ],
)
def test_a_damaged_waiting_row_is_named(tmp_path: Path, labels: dict[str, Any]) -> None:
    p = tmp_path / "s.json"
    p.write_text(json.dumps({"version": 1, "files": [], "alerts": {}, "breaches": {}, "labels": labels}))
    text = _error(p)
    assert text.startswith(f"state file {p} is damaged or not an mlmon state file (labels: ")
    assert text.endswith(" is not a waiting prediction or label); move it away to start afresh")


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
def test_a_number_json_cannot_hold_is_refused_in_a_waiting_row(tmp_path: Path, bad: str) -> None:
    p = tmp_path / "s.json"
    p.write_text(
        '{"version": 1, "files": [], "alerts": {}, "breaches": {}, "labels": {"predictions": '
        f'[["k", null, null, null, {bad}, null, 0]], "labels": [["j", {bad}, 0]]}}}}'
    )
    assert "is not a waiting prediction or label" in _error(p)


def test_a_row_is_named_by_its_start(tmp_path: Path) -> None:
    p = tmp_path / "s.json"
    row = ["k" * 200, "dog"]
    p.write_text(
        json.dumps({"version": 1, "files": [], "alerts": {}, "breaches": {}, "labels": {"labels": [row]}})
    )
    text = _error(p)
    # the row itself, cut to 80 characters (a short row was once named by Python's unpacking error)
    assert f"(labels: {str(row)[:80]} is not a waiting prediction or label)" in text


@pytest.mark.parametrize(
    "labels",
    [
        {"predictions": [["k", None, None, None, None, None]]},
        {"predictions": [3]},
        {"predictions": [["k", 1.5, None, None, None, None, 0]]},
        {"labels": [["k", "dog"]]},
        {"labels": ["k"]},
        {"labels": [["k", None, 0]]},
    ],
)
def test_each_damaged_row_is_named_by_itself(tmp_path: Path, labels: dict[str, Any]) -> None:
    p = tmp_path / "s.json"
    p.write_text(json.dumps({"version": 1, "files": [], "alerts": {}, "breaches": {}, "labels": labels}))
    (row,) = next(iter(labels.values()))
    assert f"(labels: {str(row)[:80]} is not a waiting prediction or label)" in _error(p)


def test_the_state_file_is_one_field_a_line() -> None:
    lines = dumps(State(breaches={"p99": 2})).splitlines()
    assert lines[:3] == ["{", ' "version": 1,', ' "last_run": null,']
    assert ' "breaches": {' in lines and '  "p99": 2' in lines


def test_rules_after_one_without_data_are_counted_and_told() -> None:
    (a, b), counts = apply_for((_r(Status.NO_DATA, name="a"), _r(Status.WARNING, name="b")), {})
    assert (a.status, b.status, counts) == (Status.NO_DATA, Status.WARNING, {"b": 1})
    events, after = transitions(
        (_r(Status.NO_DATA, name="a"), _r(Status.WARNING, name="b")),
        {},
        now=1.0,
        repeat_interval=None,
        labels={},
    )
    assert [(e.kind, e.name, e.labels) for e in events] == [("firing", "b", {})]
    assert after["b"].labels == {}
