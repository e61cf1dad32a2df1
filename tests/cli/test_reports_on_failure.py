"""A check that fails before it can check anything still writes every report file it was asked
for, each saying what failed: the README's CI steps read them (JUnit with junitparser, the
Markdown into the step summary, the JSON), and node_exporter reads `mlmon_run_success 0`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from junitparser import Error, JUnitXml
from prometheus_client.parser import text_string_to_metric_families

SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlmon", "check", *args], cwd=cwd, capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "COLUMNS": "80"}, timeout=300, check=False)


@pytest.mark.parametrize(("case", "code", "cause"), [
    ("missing log", 66, "gone.jsonl"),
    ("bad config", 78, "unknown key"),
])
def test_every_report_file_says_what_failed(tmp_path: Path, case: str, code: int, cause: str) -> None:
    if case == "missing log":
        (tmp_path / "mlmon.toml").write_text(
            'logs = ["gone.jsonl"]\n[[rules]]\nmetric = "records"\ncritical = 1\n')
    else:
        (tmp_path / "mlmon.toml").write_text(f'logs = ["{SAMPLES}/predictions.jsonl"]\nrecrods = 1\n')
    r = _run(tmp_path, "--config", "mlmon.toml", "--fail-on", "critical", "-o", "junit:mlmon-junit.xml",
             "-o", "markdown:mlmon-summary.md", "-o", "json:mlmon.json", "-o", "prometheus:mlmon.prom")
    assert r.returncode == code, r.stderr
    assert cause in r.stderr
    suite = next(iter(JUnitXml.fromfile(str(tmp_path / "mlmon-junit.xml"))))
    cases = list(suite)
    assert len(cases) == 1 and suite.errors == 1 and suite.failures == 0
    (err,) = cases[0].result
    assert isinstance(err, Error) and cause in (err.message or "") and f"exit {code}" in (err.type or "")
    md = (tmp_path / "mlmon-summary.md").read_text()
    assert md.startswith("## ") and f"failed (exit {code})" in md and cause in md
    doc = json.loads((tmp_path / "mlmon.json").read_text())
    assert doc["status"] == "error" and doc["exit_code"] == code and cause in doc["error"]["message"]
    samples = {s.name: s.value for f in text_string_to_metric_families((tmp_path / "mlmon.prom").read_text())
               for s in f.samples}
    assert samples["mlmon_run_success"] == 0
