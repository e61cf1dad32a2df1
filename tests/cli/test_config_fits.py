"""A config value a command cannot take is exit 78 naming the file, the key and the command, in
mlmon's words (not the option parser's), while the commands that can take it still run."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import cli

SAMPLE = str(Path(__file__).resolve().parents[2] / "sample_logs" / "predictions.jsonl")


def test_a_value_one_command_takes_and_another_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mlmon.toml").write_text('min-records = "1000:100"\n')
    assert cli(["config", "validate"]).exit_code == 0  # summary and drift take it (WARN:CRIT)
    assert cli(["summary", SAMPLE, "-q"]).exit_code == 0
    r = cli(["trend", SAMPLE, "--every", "10m"])
    assert r.exit_code == 78, r.output
    err = r.stderr.strip()
    assert err.startswith("mlmon: error: ") and "mlmon.toml" in err and "min-records" in err
    assert "`mlmon trend`" in err and "whole number" in err
    assert "Input should be" not in err and "Invalid value" not in err
