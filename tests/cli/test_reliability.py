"""Hostile command lines and streams: each ends with its documented exit code and one line, never 70."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import cli, error_line

from mlmon.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_logs"


@pytest.mark.parametrize(("header", "named"), [("a,a,b", "'a'"), ("x,y,x,y", "'x', 'y'")])
def test_training_csv_with_a_duplicate_header_is_bad_data(tmp_path: Path, header: str, named: str) -> None:
    width = len(header.split(","))
    (tmp_path / "t.csv").write_text(header + "\n" + ",".join(["1"] * width) + "\n")
    result = cli(["baseline", str(tmp_path / "t.csv"), "-o", str(tmp_path / "b.json")])
    assert result.exit_code == ExitCode.DATA_ERROR
    assert f"more than one column named {named}" in error_line(result)
    assert not (tmp_path / "b.json").exists()


@pytest.mark.parametrize("grid", ["10", "100002", "-5"])
def test_grid_out_of_range_is_usage(tmp_path: Path, grid: str) -> None:
    result = cli(["baseline", str(SAMPLES / "training.csv"), "-o", str(tmp_path / "b.json"), "--grid", grid])
    assert result.exit_code == ExitCode.USAGE
    assert "--grid must be from 11 to 100001" in error_line(result)
