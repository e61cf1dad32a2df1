"""Gates from the command line: WARN[:CRIT] thresholds, nothing passes that was not checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from corpus import cli, error_line, strict_json

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = str(ROOT / "sample_logs" / "predictions.jsonl")


def _p99(doc: dict) -> float:  # type: ignore[type-arg]
    return float(doc["latency_ms"]["p99"])


def test_threshold_pairs_on_the_command_line() -> None:
    doc = strict_json(cli(["summary", SAMPLE, "-f", "json", "--by", ""]).stdout)
    p99 = _p99(doc)
    rate = doc["success_rate"]
    cases = [
        (["--max-p99-ms", f"{p99 - 1}:{p99 + 1}"], "warning", p99 - 1, 1),
        (["--max-p99-ms", f":{p99 - 1}"], "critical", p99 - 1, 1),
        (["--max-p99-ms", f"{p99 + 1}"], None, None, 0),
        (["--min-success-rate", f"{rate + 0.001}:{rate - 0.001}"], "warning", rate + 0.001, 1),
        (["--min-success-rate", f"{rate + 0.001}"], "critical", rate + 0.001, 1),
        (["--max-error-rate", f"{1 - rate - 0.002}:{1 - rate - 0.001}"], "critical", 1 - rate - 0.001, 1),
    ]
    for args, severity, limit, code in cases:
        r = cli(["summary", SAMPLE, "-f", "json", "--by", "", *args])
        assert r.exit_code == code, (args, r.stderr)
        alerts = strict_json(r.stdout)["alerts"]
        assert [(a["severity"], a["threshold"]) for a in alerts] == (
            [(severity, pytest.approx(limit))] if severity else []), args
    fail_on_critical = cli(["summary", SAMPLE, "--by", "", "--fail-on", "critical",
                            "--max-p99-ms", f"{p99 - 1}:{p99 + 100}"])
    assert fail_on_critical.exit_code == 0


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--max-p99-ms", "400:250", "critical limit 250 must be above the warning limit 400"),
        ("--min-success-rate", "0.95:0.99", "must be below the warning limit"),
        ("--min-success-rate", "1.5", "from 0 to 1"),
        ("--max-p95-ms", "nan", "at least 0"),
        ("--max-p95-ms", "inf", "at least 0"),
        ("--max-p95-ms", "1:2:3", "WARN[:CRIT]"),
        ("--max-p95-ms", ":", "WARN[:CRIT]"),
        ("--max-error-rate", "x", "not a number"),
        ("--max-out-of-range", "2.5", "whole number"),
        ("--max-low-confidence-share", "-0.1", "from 0 to 1"),
    ],
)
def test_bad_thresholds_are_usage_errors(option: str, value: str, words: str) -> None:
    r = cli(["summary", SAMPLE, option, value])
    assert r.exit_code == 2
    assert option in error_line(r) and words in error_line(r)


def test_help_shows_the_threshold_form() -> None:
    out = cli(["summary", "--help"]).stdout
    assert out.count("WARN[:CRIT]") >= 6


def test_single_group_alerts_once_on_the_command_line(tmp_path: Path) -> None:
    log = tmp_path / "one.jsonl"
    lines = [f'{{"timestamp": {1.7e9 + i}, "model_version": "v9", "latency_ms": {900 + i % 7}, '
             f'"status": "ok"}}' for i in range(2000)]
    log.write_text("\n".join(lines) + "\n")
    r = cli(["summary", str(log), "-f", "json", "--max-p99-ms", "250"])
    assert r.exit_code == 1
    alerts = strict_json(r.stdout)["alerts"]
    expected = float(np.percentile([900 + i % 7 for i in range(2000)], 99))
    assert [(a["metric"], a["group"], a["value"]) for a in alerts] == [
        ("latency_ms.p99", "v9", pytest.approx(expected))]
