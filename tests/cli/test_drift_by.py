"""`mlmon drift --by model_version`: each version's table equals drift run on that version's lines alone."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mlmon.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _drift(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["drift", *args, "--reference", str(ROOT / "sample_logs/training.csv"),
                                 "-f", "json"])
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


def test_each_version_matches_drift_on_its_own_records(tmp_path: Path) -> None:
    log = ROOT / "sample_logs/predictions.jsonl"
    code, doc = _drift(str(log), "--by", "model_version")
    assert doc["by"] == "model_version" and code == 1
    _, whole = _drift(str(log))
    assert doc["features"] == whole["features"]  # the overall table is unchanged by --by
    lines = log.read_text().splitlines()
    versions = sorted({json.loads(line)["model_version"] for line in lines})
    assert [g["group"] for g in doc["groups"]] == versions
    for g in doc["groups"]:
        part = tmp_path / f"{g['group']}.jsonl"
        mine = [line for line in lines if json.loads(line)["model_version"] == g["group"]]
        part.write_text("\n".join(mine) + "\n")
        _, alone = _drift(str(part))
        assert g["records"] == len(mine)
        assert g["features"] == alone["features"] and g["drifted"] == alone["drifted"]
        grouped = {a["metric"] for a in doc["alerts"] if a["group"] == g["group"]}
        assert grouped == {a["metric"] for a in alone["alerts"]}


def test_without_by_the_json_has_no_groups() -> None:
    _, doc = _drift(str(ROOT / "sample_logs/predictions.jsonl"))
    assert "groups" not in doc and "by" not in doc
