"""An output (-o, --state) inside a folder or glob the run reads logs from is a usage error (2)
before anything is read: run 1 would pass and every later run would read the output as a log."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from corpus import cli, error_line

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("logs", "output"),
    [
        ("logs", ["--state", "logs/state.json"]),
        ("logs", ["--state", "logs/deeper/state.json"]),
        ("logs", ["-o", "json:logs/report.json"]),
        ("logs/", ["-o", "junit:./logs/../logs/report.xml"]),
        ("logs/*.jsonl", ["-o", "json:logs/report.jsonl"]),
    ],
)
def test_an_output_inside_a_log_folder_is_a_usage_error_before_any_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logs: str, output: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logs" / "deeper").mkdir(parents=True)
    shutil.copy(ROOT / "sample_logs" / "predictions.jsonl", tmp_path / "logs" / "a.jsonl")
    (tmp_path / "mlmon.toml").write_text('[[rules]]\nmetric = "latency_ms.p99"\nwarning = 1000\n')
    r = cli(["check", logs, *output])
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "which this run reads logs from: a later run would read it as a log" in error_line(r)
    assert sorted(p.name for p in (tmp_path / "logs").rglob("*")) == ["a.jsonl", "deeper"]
    # outside the folder it runs
    assert cli(["check", logs, "--state", "state.json", "-o", "json:report.json"]).exit_code == 0
