"""`check --state` with labels that arrive later: a cron-like sequence of runs, each reading the
predictions logged since the last run and the labels delivered since (a JSON-lines file that grows
and is rotated, CSV deliveries); each labelled prediction is measured once, in the run that first
has both, and every run's metrics equal scikit-learn's on exactly the pairs that run joined."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from corpus import cli
from labelled_metrics import assert_binary_metrics

START = datetime(2026, 11, 1, tzinfo=UTC)
PER_RUN = 300
RULES = '[[rules]]\nmetric = "quality.accuracy"\nwarning = 0.3\n'


class World:
    """The truth of every prediction, and what the test expects each run to join."""

    def __init__(self, d: Path, seed: int = 11) -> None:
        self.d = d
        self.rng = np.random.default_rng(seed)
        self.y: dict[str, int] = {}
        self.p: dict[str, int] = {}
        self.conf: dict[str, float] = {}
        self.logged: set[str] = set()  # predictions written to the log so far
        self.labelled: set[str] = set()  # labels delivered so far
        self.joined: set[str] = set()  # pairs some earlier run measured
        self.hour = 0
        (d / "mlmon.toml").write_text(
            'logs = ["predictions.jsonl"]\nlabel-files = ["labels.jsonl", "deliveries/*.csv"]\n' + RULES
        )
        (d / "deliveries").mkdir()
        (d / "deliveries" / "0-none.csv").write_text("request_id,label\nreq-none,1\n")  # a label never used
        (d / "predictions.jsonl").touch()
        (d / "labels.jsonl").touch()

    def log(self, n: int, acc: float) -> list[str]:
        keys = [f"req-{self.hour}-{i}" for i in range(n)]
        with (self.d / "predictions.jsonl").open("a") as fh:
            for i, k in enumerate(keys):
                y = int(self.rng.random() < 0.4)
                right = self.rng.random() < acc
                p = y if right else 1 - y
                c = float(np.clip(round(self.rng.normal(0.85 if right else 0.7, 0.1), 3), 0.5, 1.0))
                self.y[k], self.p[k], self.conf[k] = y, p, c
                ts = START + timedelta(hours=self.hour, seconds=i)
                fh.write(json.dumps({"timestamp": ts.isoformat(), "request_id": k, "model_version": "v1",
                                     "prediction": {"class": p, "confidence": c}, "latency_ms": 9,
                                     "status": "ok"}) + "\n")
        self.logged |= set(keys)
        self.hour += 1
        return keys

    def label_lines(self, keys: list[str]) -> None:
        with (self.d / "labels.jsonl").open("a") as fh:
            for k in keys:
                fh.write(json.dumps({"request_id": k, "label": self.y.get(k, 0)}) + "\n")
        self.labelled |= set(keys)

    def label_csv(self, name: str, keys: list[str]) -> None:
        rows = ["request_id,label"] + [f"{k},{self.y.get(k, 0)}" for k in keys]
        (self.d / "deliveries" / name).write_text("\n".join(rows) + "\n")
        self.labelled |= set(keys)

    def expected(self) -> list[str]:
        """The pairs the next run should join: both sides read, not measured before."""
        new = sorted((self.logged & self.labelled) - self.joined)
        self.joined |= set(new)
        return new

    def run(self, *extra: str) -> tuple[int, dict]:
        r = cli(["check", "--config", str(self.d / "mlmon.toml"), "--state", str(self.d / "state.json"),
                 "-f", "json", *extra])
        return r.exit_code, (json.loads(r.stdout) if r.stdout.strip() else {})


def _agrees(doc: dict, w: World, keys: list[str]) -> None:
    q = doc["quality"]
    assert q["labelled"] == len(keys)
    y = np.array([w.y[k] for k in keys])
    p = np.array([w.p[k] for k in keys])
    c = np.array([w.conf[k] for k in keys])
    assert_binary_metrics(q["metrics"], y, p, c)

def test_labels_arriving_in_later_runs_join_once_and_match_sklearn(tmp_path: Path) -> None:
    w = World(tmp_path)
    rng = np.random.default_rng(5)
    # run 1: an hour of predictions, labels for a fifth of them already
    h0 = w.log(PER_RUN, 0.9)
    w.label_lines([k for k in h0 if rng.random() < 0.2])
    code, doc = w.run()
    assert code == 0, doc
    first = w.expected()
    _agrees(doc, w, first)
    wait = doc["quality"]["waiting"]
    assert wait["from_earlier"] == 0 and wait["predictions"] == PER_RUN - len(first)
    join = doc["quality"]["join"]
    assert join["predictions"] == PER_RUN and join["without_label"] == PER_RUN - len(first)

    # run 2: a new hour; labels for most of the first hour arrive (some for the second), and a
    # label for a request not logged yet
    h1 = w.log(PER_RUN, 0.9)
    w.label_lines([k for k in h0 if k not in w.labelled and rng.random() < 0.7]
                  + [k for k in h1 if rng.random() < 0.1] + ["req-3-7"])
    code, doc = w.run()
    assert code == 0
    second = w.expected()
    _agrees(doc, w, second)
    wait = doc["quality"]["waiting"]
    assert wait["from_earlier"] == len([k for k in second if k in h0])
    assert wait["labels"] == 2  # req-3-7 waits for its prediction, and req-none
    j = doc["quality"]["join"]
    assert j["predictions"] + wait["from_earlier"] == j["labelled"] + j["without_label"]

    # run 3: no new prediction; a CSV delivery and the labels file rotated (the end of the old file
    # written before the rename), a new labels file after it
    w.label_lines([k for k in h1 if k not in w.labelled and rng.random() < 0.5])
    os.rename(tmp_path / "labels.jsonl", tmp_path / "labels.jsonl.1")
    w.label_lines([k for k in h1 if k not in w.labelled and rng.random() < 0.5])
    w.label_csv("2026-11-01.csv", [k for k in h0 if k not in w.labelled])
    code, doc = w.run()
    assert code == 0, doc
    third = w.expected()
    _agrees(doc, w, third)
    assert doc["quality"]["join"]["predictions"] == 0
    assert doc["quality"]["waiting"]["from_earlier"] == len(third)

    # run 4: nothing new at all: nothing joins, nothing is measured again (no data: exit 65), and
    # the state's waiting predictions and labels are unchanged
    before = json.loads((tmp_path / "state.json").read_text())["labels"]
    code, doc = w.run()
    assert code == 65 and doc["quality"]["labelled"] == 0
    assert w.expected() == []
    after = json.loads((tmp_path / "state.json").read_text())["labels"]
    assert after["predictions"] == before["predictions"] and after["labels"] == before["labels"]

    # run 5: the hour of req-3-7 is logged (its label was read two runs ago) with a worse model; the
    # rest of the labels come
    w.log(PER_RUN, 0.9)
    w.log(PER_RUN, 0.6)
    w.label_lines([k for k in w.logged if k not in w.labelled])
    code, doc = w.run()
    fifth = w.expected()
    assert "req-3-7" in fifth
    _agrees(doc, w, fifth)
    assert code == 0
    # every labelled prediction measured exactly once across the runs, none left waiting
    runs = [first, second, third, fifth]
    assert sum(len(r) for r in runs) == len(set().union(*runs)) == len(w.logged)
    assert doc["quality"]["waiting"]["predictions"] == 0 and doc["quality"]["waiting"]["labels"] == 1


def test_a_failed_run_changes_no_state_and_the_next_joins_the_same(tmp_path: Path) -> None:
    w = World(tmp_path)
    h0 = w.log(PER_RUN, 0.85)
    code, _ = w.run()
    assert code == 65  # no label yet: the quality rule checked nothing
    w.label_lines(h0[:150])
    state = (tmp_path / "state.json").read_bytes()
    failed = cli(["check", "--config", str(tmp_path / "mlmon.toml"), "--state", str(tmp_path / "state.json"),
                  "-o", f"json:{tmp_path}/no-such-folder/out.json"])
    assert failed.exit_code == 73
    assert (tmp_path / "state.json").read_bytes() == state
    code, doc = w.run()
    assert code == 0
    keys = w.expected()
    assert len(keys) == 150
    _agrees(doc, w, keys)


def test_waiting_past_the_retention_is_dropped_and_counted(tmp_path: Path) -> None:
    w = World(tmp_path)
    h0 = w.log(PER_RUN, 0.9)
    w.label_lines(h0[:100] + ["req-9-9"])
    code, doc = w.run()
    assert code == 0 and doc["quality"]["waiting"]["predictions"] == PER_RUN - 100
    # the state as a run 40 days ago would have left it: everything waiting is older than 30 days
    path = tmp_path / "state.json"
    st = json.loads(path.read_text())
    old = st["last_run"] - 40 * 86400
    for row in st["labels"]["predictions"]:
        row[6] = old
    for row in st["labels"]["labels"]:
        row[2] = old
    path.write_text(json.dumps(st))
    w.label_lines(h0[100:])
    code, doc = w.run()
    wait = doc["quality"]["waiting"]
    # labels read this run still join the predictions kept (the limit applies to what is kept after)
    assert doc["quality"]["labelled"] == PER_RUN - 100
    assert wait["expired_predictions"] == 0 and wait["expired_labels"] == 2 and wait["labels"] == 0
    # a prediction that waited past the retention with no label is dropped, and counted
    h1 = w.log(10, 0.9)
    code, doc = w.run()
    st = json.loads(path.read_text())
    for row in st["labels"]["predictions"]:
        row[6] = st["last_run"] - 40 * 86400
    path.write_text(json.dumps(st))
    w.label_lines(["req-8-8"])
    code, doc = w.run()
    wait = doc["quality"]["waiting"]
    assert wait["expired_predictions"] == len(h1) and wait["predictions"] == 0 and wait["labels"] == 1
    prom = tmp_path / "m.prom"
    w.label_lines(["req-8-9"])
    r = cli(["check", "--config", str(tmp_path / "mlmon.toml"), "--state", str(path),
             "-o", f"prometheus:{prom}"])
    assert r.exit_code == 65  # nothing joined this run
    text = prom.read_text()
    assert 'mlmon_quality_waiting{kind="labels"} 2.0' in text
    assert 'mlmon_quality_expired{kind="predictions"} 0.0' in text
    assert doc["quality"]["join"]["predictions"] == 0 and doc["quality"]["labelled"] == 0


def test_a_damaged_labels_section_of_the_state_is_an_error(tmp_path: Path) -> None:
    w = World(tmp_path)
    w.label_lines(w.log(20, 0.9)[:5])
    assert w.run()[0] == 0
    path = tmp_path / "state.json"
    st = json.loads(path.read_text())
    st["labels"]["predictions"][0] = ["only-a-key"]
    path.write_text(json.dumps(st))
    r = cli(["check", "--config", str(tmp_path / "mlmon.toml"), "--state", str(path)])
    assert r.exit_code == 65 and "damaged" in r.stderr
