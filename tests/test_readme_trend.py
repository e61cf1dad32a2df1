"""The README's `trend` and `compare` examples run against sample_logs/ and do what it says."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from readme_docs import DOCS as README
from typer.testing import CliRunner

from mlmon.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _block(command: str) -> list[list[str]]:
    block = next(b for b in re.findall(r"```sh\n(.*?)```", README, flags=re.S) if f"mlmon {command}" in b)
    return [shlex.split(line) for line in block.strip().splitlines()]


def test_readme_trend_examples(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    first, second, third = _block("trend")
    result = runner.invoke(app, first[1:])
    assert result.exit_code == 0, result.stderr
    assert "Windows of 5m" in result.stdout and "2026-11-01 10:30" in result.stdout
    result = runner.invoke(app, second[1:])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["windows"][-1]["drifted"] == ["age", "income", "session_length"]
    # features fire on evidence accumulated over windows (the age and income means pooled over
    # the drifted windows; session_length's shape by its own window's test), named in `evidence`
    firing = {a["metric"]: a for a in doc["alerts"]}
    assert {"evidence.age", "evidence.income", "evidence.session_length"} <= set(firing)
    # the sample log ends inside its last window: that one is partial and shown, not judged
    assert doc["windows"][-1]["partial"] and not any(w["partial"] for w in doc["windows"][:-1])
    last = doc["windows"][-2]["window_start"]
    assert {e["feature"] for e in doc["evidence"] if e["last"] == last} >= {"age", "income", "session_length"}
    # without it, each window's own drift alerts fire once crossed in --for 3 windows
    old = json.loads(runner.invoke(app, [*second[1:], "--no-evidence"]).stdout)
    firing = {a["metric"]: a for a in old["alerts"]}
    assert {"drift.age", "drift.income", "drift.session_length"} <= set(firing)
    assert all(a["windows"] >= 3 for a in firing.values())
    # --by: a table per version on the same windows; v2.0 starts later, so its first row is empty
    result = runner.invoke(app, third[1:])
    assert result.exit_code == 0, result.stderr
    assert "model_version v1.0" in result.stdout and "model_version v2.0" in result.stdout
    assert "no traffic" in result.stdout


def test_readme_compare_examples(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    first, second, third = _block("compare")
    result = runner.invoke(app, first[1:])
    assert result.exit_code == 1, result.stderr
    assert "v2.0 against v1.0" in result.stdout
    result = runner.invoke(app, second[1:])
    assert result.exit_code == 1
    (v,) = json.loads(result.stdout)["versions"]
    verdicts = {m["metric"]: m["verdict"] for m in v["metrics"]}
    assert verdicts["latency_ms"] == "worse" and verdicts["confidence"] == "worse"
    assert verdicts["success_rate"] == "same"
    assert {m["metric"] for m in v["traffic"] if m["verdict"] == "different"} == {
        "features.age", "features.income", "features.session_length"}
    # --approx: the same verdicts from values rounded to within 1%
    exact = runner.invoke(app, [*first[1:], "--format", "json"])
    approx = runner.invoke(app, [*third[1:], "--format", "json"])
    assert approx.exit_code == 1 and "--approx" in third
    (e,) = json.loads(exact.stdout)["versions"]
    (a,) = json.loads(approx.stdout)["versions"]
    assert json.loads(approx.stdout)["approx"] is True
    assert [m["verdict"] for m in a["metrics"]] == [m["verdict"] for m in e["metrics"]]
