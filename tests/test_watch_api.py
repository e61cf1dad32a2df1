"""Watcher (the library side of `mlmon watch`): every line read once across appends and a rotation,
and the numbers of the newest `last` are the numbers `mlmon summary --last` gives."""

from __future__ import annotations

import os
from pathlib import Path

from corpus import cli, strict_json
from report_logs import log_lines

from mlmon.api.watch import Watcher
from mlmon.rules.alerts import SummaryThresholds, Threshold


def test_watcher_follows_and_agrees_with_summary(tmp_path: Path) -> None:
    lines = log_lines(hours=2, per_hour=900)
    log = tmp_path / "p.log"
    log.write_text("\n".join(lines[:1000]) + "\n")
    w = Watcher([str(log)], last_seconds=1800.0,
                thresholds=SummaryThresholds(max_p99_ms=Threshold(warning=40.0)))
    v = w.poll(now=1000.0)
    assert v.lines == 1000 and v.polls == 1
    first_alerts = {(a.alert.metric, a.alert.group): a.since for a in v.alerts}
    assert first_alerts and set(first_alerts.values()) == {1000.0}
    with open(log, "a") as fh:
        fh.write("\n".join(lines[1000:1300]) + "\n")
    os.rename(log, tmp_path / "p.log.1")  # rotated, then a new file
    log.write_text("\n".join(lines[1300:]) + "\n")
    v = w.poll(now=1010.0)
    assert v.lines == len(lines)  # each line once
    v = w.poll(now=1020.0)
    assert v.lines == len(lines)  # nothing new: nothing read again
    # an alert that still fires keeps the time it was first seen: its age grows
    for a in v.alerts:
        key = (a.alert.metric, a.alert.group)
        if key in first_alerts:
            assert a.since == 1000.0
    whole = tmp_path / "whole.log"
    whole.write_text("\n".join(lines) + "\n")
    r = cli(["summary", str(whole), "--last", "30m", "--by", "model_version", "-f", "json"])
    s = strict_json(r.stdout)
    assert v.overall is not None and v.records == s["records"]
    assert v.overall.latency_ms.p95 == s["latency_ms"]["p95"]
    assert v.overall.latency_ms.p99 == s["latency_ms"]["p99"]
    assert v.overall.success_rate == s["success_rate"]
    groups = {g.group: g for g in v.groups}
    for g in s["groups"]:
        assert groups[g["group"]].records == g["records"]
        assert groups[g["group"]].latency_ms.p99 == g["latency_ms"]["p99"]


def test_watcher_waits_for_a_log_that_is_not_there_yet(tmp_path: Path) -> None:
    log = tmp_path / "later.log"
    w = Watcher([str(log)])
    v = w.poll(now=0.0)
    assert v.waiting and v.records == 0 and v.overall is None
    log.write_text("\n".join(log_lines(hours=0.1, per_hour=600)) + "\n")
    v = w.poll(now=1.0)
    assert v.waiting is None and v.records == 60
