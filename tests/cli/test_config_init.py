"""`mlmon config init` writes a config that can be committed: paths relative to the file, the
records threshold for the hour a cron run checks, every threshold with a comment saying what
it came from, and numbers without float noise."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np

SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"


def mlmon(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlmon", *args], cwd=cwd, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "COLUMNS": "80"}, timeout=300, check=False)


def test_config_init_writes_a_config_to_commit(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "logs").mkdir(parents=True)
    (project / "conf").mkdir()
    shutil.copy(SAMPLES / "predictions.jsonl", project / "logs" / "predictions.jsonl")
    made = mlmon("baseline", str(SAMPLES / "training.csv"), "-o", "baseline.json", cwd=project)
    assert made.returncode == 0
    r = mlmon("config", "init", "logs/predictions.jsonl", "--baseline", "baseline.json",
              "-o", "conf/mlmon.toml", cwd=project)
    assert r.returncode == 0, r.stderr
    text = (project / "conf" / "mlmon.toml").read_text()
    doc = tomllib.loads(text)
    # relative to the file: the folder can move (a clone elsewhere) and still check its own logs
    assert doc["logs"] == ["../logs/predictions.jsonl"] and doc["baseline"] == "../baseline.json"
    moved = tmp_path / "elsewhere"
    shutil.move(project, moved)
    check = mlmon("check", "--config", "conf/mlmon.toml", "-f", "json", cwd=moved)
    assert check.returncode in (0, 1), check.stderr
    # no float noise anywhere: every number has at most 4 significant digits
    for m in re.finditer(r"^(warning|critical) = (\S+)", text, re.M):
        digits = m.group(2).replace(".", "").lstrip("0")
        assert len(digits) <= 4, m.group(0)
    # each rule says what its thresholds came from
    for block in text.split("[[rules]]")[1:5]:
        assert re.search(r"^# .*(log|records)", block, re.M), block
    # the records threshold is for an hour of this log's traffic, not the whole log
    ts = [json.loads(x)["timestamp"] for x in (SAMPLES / "predictions.jsonl").read_text().splitlines()]
    span = (np.datetime64(ts[-1][:19]) - np.datetime64(ts[0][:19])).astype(int)
    per_hour = len(ts) * 3600 / span
    rec = next(r for r in doc["rules"] if r["metric"] == "records")
    assert rec["warning"] == int(per_hour // 10)
