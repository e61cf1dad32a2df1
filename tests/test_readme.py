"""The README's commands run against sample_logs/ and do what it says."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
from readme_docs import DOCS as README
from readme_docs import README as README_ONLY
from typer.testing import CliRunner

from mlmon.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def run(args: list[str]) -> tuple[int, str]:
    result = runner.invoke(app, args)
    return result.exit_code, result.stdout


def test_readme_starts_with_exactly_two_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README_ONLY, flags=re.S)
    assert blocks[0].strip() == (
        "python3 -m venv .venv && . .venv/bin/activate && pip install . && "
        "mlmon summary sample_logs/predictions.jsonl"
    )
    assert blocks[1].strip() == "bash .ci/run"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "apt-get install" in ci and "cargo test" in ci
    # its own venv from python3 alone, so a user's install is not replaced by an editable one
    assert "python3 -m venv .ci/venv" in ci and "python -m pip install" not in ci.split("venv/bin")[0]
    assert "pip install -q -e '.[test]'" in ci and ci.rstrip().endswith("python -m pytest")


def test_quickstart_runs_as_written(tmp_path, monkeypatch) -> None:
    """The README's quickstart, line by line, in a fresh folder beside a copy of sample_logs/."""
    block = re.findall(r"```sh\n(.*?)```", README_ONLY, flags=re.S)[2]
    lines = block.strip().splitlines()
    assert lines[0] == "mkdir -p demo && cd demo"
    (tmp_path / "sample_logs").symlink_to(ROOT / "sample_logs")
    (tmp_path / "demo").mkdir()
    monkeypatch.chdir(tmp_path / "demo")
    codes = {}
    for line in lines[1:]:
        argv = shlex.split(line)
        assert argv[0] == "mlmon"
        code, _ = run(argv[1:])
        codes[" ".join(argv[1:3]) if argv[1] != "check" else " ".join(argv[1:])] = code
    # the sample log is healthy in serving terms, and its second half drifts
    assert codes["summary ../sample_logs/predictions.jsonl"] == 0
    assert codes["baseline ../sample_logs/training.csv"] == 0
    assert codes["drift ../sample_logs/predictions.jsonl"] == 1
    assert codes["trend ../sample_logs/predictions.jsonl"] == 0
    assert codes["config init"] == 0
    assert (tmp_path / "demo" / "mlmon.toml").exists() and (tmp_path / "demo" / "mlmon-state.json").exists()
    # the cron run alerts on the drift (a warning: exit 1); the CI gate stops only on a critical
    assert codes["check --config mlmon.toml --state mlmon-state.json"] == 1
    gate = ("check --config mlmon.toml --fail-on critical -o junit:mlmon-junit.xml "
            "-o markdown:mlmon-summary.md")
    assert codes[gate] == 0
    demo = tmp_path / "demo"
    assert (demo / "mlmon-junit.xml").exists() and (demo / "mlmon-summary.md").exists()


def test_main_job_summary_matches_numpy(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out = run(["summary", "sample_logs/predictions.jsonl", "--format", "json"])
    assert code == 0
    doc = json.loads(out)
    recs = [json.loads(line) for line in (ROOT / "sample_logs/predictions.jsonl").read_text().splitlines()]
    lat = np.array([r["latency_ms"] for r in recs])
    assert doc["records"] == len(recs)
    for key, q in (("p50", 50), ("p95", 95), ("p99", 99)):
        assert doc["latency_ms"][key] == np.percentile(lat, q)
    assert doc["latency_ms"]["max"] == lat.max()
    ok = sum(r["status"] == "success" for r in recs)
    assert doc["success_rate"] == ok / len(recs)
    by_version = {g["group"]: g["records"] for g in doc["groups"]}
    assert by_version == {
        v: sum(r["model_version"] == v for r in recs) for v in {r["model_version"] for r in recs}
    }


def test_readme_drift_examples(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    block = next(b for b in re.findall(r"```sh\n(.*?)```", README, flags=re.S) if "mlmon baseline" in b)
    cmds = [shlex.split(line) for line in block.strip().splitlines()]
    out_file = tmp_path / "baseline.json"
    codes = []
    outputs = []
    for argv in cmds:
        assert argv[0] == "mlmon"
        args = [str(out_file) if a == "baseline.json" else a for a in argv[1:]]
        code, out = run(args)
        codes.append(code)
        outputs.append(out)
    assert codes[0] == 0 and out_file.exists()
    # the sample log drifts in its second half: the drift commands alert (exit 1)
    assert codes[1] == 1 and codes[2] == 1
    named = json.loads(outputs[2])
    assert named["drifted"] == ["country"]
    unseen = next(f for f in named["features"] if f["name"] == "country")["unseen_categories"]
    assert unseen[0][0] == "XX"


def test_sample_drift_flags_moved_features_only(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out = run(
        ["drift", "sample_logs/predictions.jsonl", "--reference", "sample_logs/training.csv", "-f", "json"]
    )
    assert code == 1
    assert set(json.loads(out)["drifted"]) == {"age", "income", "session_length"}
    code, out = run(
        ["drift", "sample_logs/features.csv", "--reference", "sample_logs/training.csv", "-f", "json"]
    )
    assert code == 0
    assert json.loads(out)["drifted"] == []


def test_prefixed_log_gives_same_numbers_as_plain(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    _, plain = run(["summary", "sample_logs/predictions.jsonl", "-f", "json"])
    _, prefixed = run(["summary", "sample_logs/predictions.log", "-f", "json"])
    a, b = json.loads(plain), json.loads(prefixed)
    assert b["input"]["reasons"] == {"non_record": 7}
    for doc in (a, b):
        doc.pop("input")
    assert a == b


def test_parquet_prediction_log_gives_the_same_answers_as_json_lines(tmp_path, monkeypatch) -> None:
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    monkeypatch.chdir(ROOT)
    # the sample log as Parquet, nested as it is in JSON (input.features is a list column)
    pq.write_table(pj.read_json("sample_logs/predictions.jsonl"), tmp_path / "pred.parquet")
    for args in (
        ["summary"],
        ["drift", "--reference", "sample_logs/training.csv"],
    ):
        a = runner.invoke(app, [*args, str(tmp_path / "pred.parquet"), "-f", "json"])
        b = runner.invoke(app, [*args, "sample_logs/predictions.jsonl", "-f", "json"])
        assert a.exit_code == b.exit_code
        da, db = json.loads(a.stdout), json.loads(b.stdout)
        da.pop("input"), db.pop("input")
        assert da == db


def test_positional_features_of_another_length_are_a_clear_error(tmp_path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"input": [{"features": [1.0, 2.0]}] * 50}), tmp_path / "two.parquet")
    result = runner.invoke(
        app, ["drift", str(tmp_path / "two.parquet"), "--reference", str(ROOT / "sample_logs/training.csv")]
    )
    assert result.exit_code == 65
    assert "lists of 2 values but the baseline has 8 features" in result.stderr
