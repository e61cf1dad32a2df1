"""The docs' examples that no other test ran, run as written (paths moved into a temporary folder):
the `summary` example of docs/commands.md, its config file, the crontab line of docs/cron.md, the
GitHub Actions steps of docs/ci.md and the `case $?` script of docs/output.md."""

from __future__ import annotations

import gzip
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import yaml
from corpus import cli, dumps, join, record
from readme_docs import PAGES
from services import Receiver, Service, alertmanager, receiver  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"
BIN = str(Path(sys.executable).parent)


def _blocks(page: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", PAGES[page], flags=re.S)


def _shell(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a docs script as a shell would, with this environment's mlmon first on the PATH."""
    full = dict(os.environ, PATH=f"{BIN}:{os.environ.get('PATH', '')}", **env)
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=full, capture_output=True, text=True,
                          timeout=300, check=False)


def _records(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_the_summary_example_of_the_commands_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (line,) = [b.strip() for b in _blocks("commands.md", "sh") if b.startswith("mlmon summary logs/")]
    assert line.startswith("mlmon summary logs/*.jsonl.gz --last 60m ")
    assert "--max-p99-ms 250 --min-success-rate 0.99" in line
    # the sample log's records, written in the last 33 minutes, in two compressed files as a
    # rotated log would be
    lines = _fresh(_records(SAMPLES / "predictions.jsonl"))
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.jsonl.gz").write_bytes(gzip.compress(join(lines[:1200])))
    (tmp_path / "logs" / "b.jsonl.gz").write_bytes(gzip.compress(join(lines[1200:])))
    monkeypatch.chdir(tmp_path)
    argv = shlex.split(line)
    files = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "logs").glob("*.jsonl.gz"))
    r = cli([*argv[1:2], *files, *argv[3:], "--format", "json"])
    doc = json.loads(r.stdout)
    # the last 60 minutes end at the newest record; the sample spans 33 minutes: all of it
    recs = _records(SAMPLES / "predictions.jsonl")
    assert doc["records"] == len(recs)
    lat = np.array([x["latency_ms"] for x in recs])
    rate = sum(x["status"] == "success" for x in recs) / len(recs)
    want = set()
    if rate < 0.99:
        want.add("success_rate")
    if len(lat) >= 1000 and np.percentile(lat, 99) > 250:
        want.add("latency_ms.p99")
    got = {a["metric"] for a in doc["alerts"] if a["group"] is None and not a.get("group_missing")}
    assert got == want
    assert r.exit_code == (1 if doc["alerts"] else 0), r.stderr
    # and as a shell runs it, the glob expanded by the shell
    done = _shell(line, tmp_path)
    assert done.returncode == r.exit_code, done.stderr
    assert f"{len(recs)} records" in done.stdout


def test_the_first_config_file_checks_what_it_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = next(b for b in _blocks("commands.md", "toml") if "[[rules]]" in b)
    assert toml.startswith('logs = ["/var/log/model/predictions.log*"]\nbaseline = "baseline.json"\n')
    logs = tmp_path / "var" / "log" / "model"
    logs.mkdir(parents=True)
    # a rotated prefixed log: the glob takes the current file and the rotated one
    text = (SAMPLES / "predictions.log").read_bytes().splitlines(keepends=True)
    (logs / "predictions.log.1").write_bytes(b"".join(text[:1000]))
    (logs / "predictions.log").write_bytes(b"".join(text[1000:]))
    (tmp_path / "mlmon.toml").write_text(toml.replace("/var/log/model/", f"{logs}/"))
    monkeypatch.chdir(tmp_path)
    # --no-config: the file's `last` would apply to the training data too (exit 2)
    made = cli(["baseline", str(SAMPLES / "training.csv"), "-o", "baseline.json", "--no-config"])
    assert made.exit_code == 0
    r = cli(["check", "--config", "mlmon.toml", "-f", "json"])
    doc = json.loads(r.stdout)
    assert doc["records"] == sum(b"Prediction: " in x for x in text)
    names = [x["metric"] for x in doc["results"]]
    base = json.loads((tmp_path / "baseline.json").read_text())
    features = sorted(base["features"])
    assert names[:2] == ["latency_ms.p99", "success_rate"]
    assert sorted(n for n in names if n.startswith("drift.")) == [f"drift.{f}" for f in features]
    # "drift.*: the verdict of mlmon drift" on the same records
    d = cli(["drift", *sorted(str(p) for p in logs.iterdir()), "--baseline", "baseline.json", "-f", "json"])
    drifted = set(json.loads(d.stdout)["drifted"])
    assert drifted  # the sample log's second half drifts
    status = {x["metric"]: x["status"] for x in doc["results"]}
    assert {f for f in features if status[f"drift.{f}"] in ("warning", "critical")} == drifted
    assert r.exit_code == 1, r.stderr  # a drift alert


PER_HOUR = 1200


def _hour(h: int, n: int = PER_HOUR) -> bytes:
    """The last hour of a healthy service's log: `n` records up to now, 20-70 ms, one error in 200."""
    start = time.time() - 3600
    return join(
        dumps(record(h * n + k, timestamp=_iso(start + k * 3600 / n),
                     latency_ms=20.0 + k % 50, status="error" if k % 200 == 0 else "success"))
        for k in range(n)
    )


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fresh(recs: list[dict]) -> list[bytes]:  # type: ignore[type-arg]
    """Records moved in time so that the newest is a minute old, spacing kept."""
    stamps = [datetime.fromisoformat(r["timestamp"]).timestamp() for r in recs]
    shift = time.time() - 60 - max(stamps)
    return [dumps({**r, "timestamp": _iso(t + shift)}) for r, t in zip(recs, stamps, strict=True)]


def _cron_setup(tmp_path: Path) -> Path:
    (toml,) = _blocks("cron.md", "toml")
    model = tmp_path / "srv" / "model"
    (model / "logs").mkdir(parents=True)
    # the hours written here are dated in the past, not now: the config's staleness gate (max-age)
    # would fire on every run (tests/cli/test_recipes.py runs it on a log that stopped)
    assert re.search(r"^max-age = ", toml, re.M)
    (model / "mlmon.toml").write_text(re.sub(r"^max-age = .*\n", "", toml, flags=re.M))
    (model / "logs" / "predictions.log").write_bytes(_hour(10))
    return model


def test_the_crontab_line_runs_hourly_and_leaves_metrics(
    tmp_path: Path, alertmanager: tuple[Service, Receiver]  # noqa: F811
) -> None:
    am, _hook = alertmanager
    (entry,) = [b.strip() for b in _blocks("cron.md", "cron")]
    schedule, command = entry.split(None, 5)[:5], entry.split(None, 5)[5]
    assert schedule == ["0", "*", "*", "*", "*"]  # minute 0 of every hour
    assert command.startswith("cd /srv/model && mlmon check ")
    model = _cron_setup(tmp_path)
    prom = tmp_path / "node-exporter" / "mlmon.prom"
    prom.parent.mkdir()
    command = (command.replace("/srv/model", str(model))
               .replace("/var/lib/prometheus/node-exporter/mlmon.prom", str(prom))
               .replace("http://127.0.0.1:9093", am.url))
    # cron runs the line with /bin/sh from the user's home
    first = _shell(command, tmp_path)
    assert first.returncode == 0, first.stderr
    text = prom.read_text()
    assert re.search(r"^mlmon_run_success 1\.0$", text, re.M)
    assert re.search(rf"^mlmon_records {float(PER_HOUR)}$", text, re.M)
    # the next hour reads only what was written since
    with (model / "logs" / "predictions.log").open("ab") as fh:
        fh.write(_hour(11, 1000))
    second = _shell(command, tmp_path)
    assert second.returncode == 0, second.stderr
    assert re.search(r"^mlmon_records 1000\.0$", prom.read_text(), re.M)
    assert (model / "mlmon-state.json").exists()


def test_the_github_actions_steps(tmp_path: Path) -> None:
    (block,) = _blocks("ci.md", "yaml")
    steps = yaml.safe_load(block)
    assert [sorted(s) for s in steps] == [["run"], ["if", "run"], ["if", "uses", "with"]]
    model = _cron_setup(tmp_path)
    summary = tmp_path / "step-summary.md"
    gate = _shell(steps[0]["run"], model, GITHUB_STEP_SUMMARY=str(summary))
    assert gate.returncode == 0, gate.stderr  # a healthy hour: the gate passes
    assert steps[1]["if"] == "always()"
    done = _shell(steps[1]["run"], model, GITHUB_STEP_SUMMARY=str(summary))
    assert done.returncode == 0, done.stderr
    md = summary.read_text()
    assert md == (model / "mlmon-summary.md").read_text() and "| " in md
    # what the JUnit reporter step reads is there and is JUnit
    from junitparser import JUnitXml

    assert steps[2]["if"] == "always()"
    (suite,) = list(JUnitXml.fromfile(str(model / steps[2]["with"]["report_paths"])))
    toml = (model / "mlmon.toml").read_text()
    rules = len(re.findall(r"^\[\[rules\]\]", toml, flags=re.M))
    gates = len(re.findall(r"^(?:max-age|min-records) =", toml, flags=re.M))  # a gate is a rule too
    assert len(list(suite)) == rules + gates


@pytest.mark.parametrize(("log", "says"), [
    ("drifting", "drift or threshold crossed"),
    ("calm", "healthy"),
    ("missing", "could not trust or read the logs: page someone"),
])
def test_the_exit_code_script_of_the_output_page(tmp_path: Path, log: str, says: str) -> None:
    (script,) = [b for b in _blocks("output.md", "sh") if "case $?" in b]
    assert "/var/log/model/today.jsonl" in script and "notify-team" in script
    lines = (SAMPLES / "predictions.jsonl").read_bytes().splitlines(keepends=True)
    today = tmp_path / "today.jsonl"
    if log == "drifting":  # the sample drifts in its second half
        shutil.copy(SAMPLES / "predictions.jsonl", today)
    elif log == "calm":
        today.write_bytes(b"".join(lines[:1000]))
    made = cli(["baseline", str(SAMPLES / "training.csv"), "-o", str(tmp_path / "baseline.json")])
    assert made.exit_code == 0
    # notify-team stands for the team's own command: here it keeps what it was sent
    done = _shell("notify-team() { cat > notified.json; }\n" + script.replace("/var/log/model/today.jsonl",
                                                                           str(today)), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [says]
    if log == "drifting":
        assert json.loads((tmp_path / "notified.json").read_text())["drifted"]
    else:
        assert not (tmp_path / "notified.json").exists()
