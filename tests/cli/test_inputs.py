"""Directory arguments: log files by name or --include, feature logs left out of summary with a note."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from corpus import cli, dumps, error_line, join, record

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_logs"


def _records(*names: str) -> int:
    total = 0
    for name in names:
        doc = json.loads(cli(["summary", str(SAMPLES / name), "-f", "json"]).stdout)
        total += doc["records"]
    return total


def test_summary_of_the_sample_folder_reads_its_logs_and_notes_the_rest() -> None:
    r = cli(["summary", str(SAMPLES), "-f", "json"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    read = {Path(f["source"]).name for f in doc["input"]["files"]}
    assert read == {"predictions.jsonl", "predictions.log", "predictions_named.jsonl",
                    "predictions_ids.jsonl"}
    assert doc["records"] == _records(*read)
    notes = [line for line in r.stderr.splitlines() if line.startswith("mlmon: note: ")]
    assert any("make_samples.py" in n and "--include" in n for n in notes), r.stderr
    assert any("features.csv" in n and "training.csv" in n and "feature log" in n for n in notes), r.stderr


def test_include_picks_files_of_a_directory(tmp_path: Path) -> None:
    for name in ("predictions.jsonl", "predictions.log", "training.csv", "features.csv"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    (tmp_path / "notes.txt").write_text("not a log\n")
    r = cli(["summary", str(tmp_path), "--include", "*.jsonl", "-f", "json"])
    assert r.exit_code == 0, r.stderr
    assert [Path(f["source"]).name for f in json.loads(r.stdout)["input"]["files"]] == ["predictions.jsonl"]
    ref = str(tmp_path / "training.csv")
    d = cli(["drift", str(tmp_path), "--include", "features.csv", "--reference", ref, "-f", "json"])
    assert d.exit_code in (0, 1), d.stderr
    assert [Path(f["source"]).name for f in json.loads(d.stdout)["input"]["files"]] == ["features.csv"]


def test_rotated_and_compressed_logs_are_log_files(tmp_path: Path) -> None:
    import gzip

    body = join(dumps(record(i)) for i in range(40))
    (tmp_path / "app.log.1").write_bytes(body)
    (tmp_path / "app.jsonl.gz").write_bytes(gzip.compress(body))
    (tmp_path / "README.md").write_text("# logs\n")
    r = cli(["summary", str(tmp_path), "-f", "json"])
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["records"] == 80
    assert "README.md" in r.stderr


def test_a_folder_without_logs_is_no_input(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x\n")
    r = cli(["summary", str(tmp_path)])
    assert r.exit_code == 66
    assert "--include GLOB" in error_line(r)


def test_a_named_feature_log_still_fails_summary() -> None:
    r = cli(["summary", str(SAMPLES / "features.csv")])
    assert r.exit_code == 65
    assert "feature log" in error_line(r)
