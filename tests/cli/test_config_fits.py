"""One concept, one name: trend's and compare's "no verdict below N" have names of their own
(--min-records alerts on too few records in summary, drift and check), the old spelling still
works with a note; and a config value a command cannot take is exit 78 naming the file, the key
and the command, in mlmon's words (not the option parser's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus import cli

SAMPLE = str(Path(__file__).resolve().parents[2] / "sample_logs" / "predictions.jsonl")


def test_min_records_means_one_thing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # a summary/drift gate (warning below 1000, critical below 100) in the shared config file
    (tmp_path / "mlmon.toml").write_text('min-records = "1000:100"\n')
    assert cli(["config", "validate"]).exit_code == 0
    assert cli(["summary", SAMPLE, "-q"]).exit_code == 0
    few = cli(["summary", SAMPLE, "--min-records", "5000:100", "-f", "json"])
    assert few.exit_code == 1 and json.loads(few.stdout)["alerts"][0]["metric"] == "records"
    # trend and compare no longer read it as their per-window / per-version count
    trend = cli(["trend", SAMPLE, "--every", "10m", "-f", "json"])
    assert trend.exit_code == 0, trend.stderr
    assert json.loads(trend.stdout)["min_records"] == 30
    wide = cli(["trend", SAMPLE, "--every", "10m", "--min-window-records", "600", "-f", "json"])
    assert json.loads(wide.stdout)["min_records"] == 600
    old = cli(["trend", SAMPLE, "--every", "10m", "--min-records", "600", "-f", "json"])
    assert json.loads(old.stdout)["min_records"] == 600
    assert "--min-window-records" in old.stderr  # the old name works and says the new one
    thin = cli(["compare", SAMPLE, "--control", "v1.0", "--min-group-records", "5000"])
    assert thin.exit_code == 65 and "--min-group-records 5000" in thin.stderr


def test_a_value_one_command_takes_and_another_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mlmon.toml").write_text(f'logs = ["{SAMPLE}"]\nformat = "junit"\n'
                                         '[[rules]]\nmetric = "records"\ncritical = 1\n')
    assert cli(["config", "validate"]).exit_code == 0  # check takes it
    assert cli(["check"]).stdout.startswith("<?xml")
    r = cli(["summary", SAMPLE])
    assert r.exit_code == 78, r.output
    err = r.stderr.strip()
    assert err.startswith("mlmon: error: ") and "mlmon.toml" in err and 'format = "junit"' in err
    assert "`mlmon summary`" in err and "one of table, json" in err
    assert "Invalid value" not in err and "Input should be" not in err
