"""Feature names are keys, never paths (`score.v2` in logs, training data, baselines, rules and
outputs); training data has the limits logs have; a baseline is never written that drift refuses."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest
from corpus import cli, error_line

from mlmon.errors import ExitCode

DOTTED = ("score.v2", "plan.tier", "a.b.c")


def _log(path: Path, n: int = 400, seed: int = 1) -> None:
    rng = random.Random(seed)
    with open(path, "w") as fh:
        for i in range(n):
            feats = {"score.v2": rng.random(), "plan.tier": rng.choice(["a", "b"]), "a.b.c": rng.gauss(0, 1),
                     "age": rng.randint(20, 60)}
            rec = {"timestamp": f"2026-11-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z", "latency_ms": 10.0,
                   "status": "ok", "model_version": "v1", "input": {"features": feats}, "prediction": 0.5}
            fh.write(json.dumps(rec) + "\n")


def _training_csv(path: Path, n: int = 400, seed: int = 2) -> None:
    rng = random.Random(seed)
    lines = ["score.v2,plan.tier,a.b.c,age"]
    lines += [f"{rng.random()},{rng.choice('ab')},{rng.gauss(0, 1)},{rng.randint(20, 60)}" for _ in range(n)]
    path.write_text("\n".join(lines) + "\n")


def _training_jsonl(path: Path, n: int = 400, seed: int = 3) -> None:
    rng = random.Random(seed)
    with open(path, "w") as fh:
        for _ in range(n):
            feats = {"score.v2": rng.random(), "plan.tier": rng.choice("ab"), "a.b.c": rng.gauss(0, 1),
                     "age": rng.randint(20, 60)}
            fh.write(json.dumps({"input": {"features": feats}}) + "\n")


@pytest.mark.parametrize("reader", ["native", "python"])
@pytest.mark.parametrize("training", ["csv", "jsonl", "log"])
def test_dotted_feature_names_are_keys_in_every_reader_and_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str, training: str
) -> None:
    monkeypatch.setenv("MLMON_READER", reader)
    _log(tmp_path / "log.jsonl")
    train = tmp_path / f"train.{training if training != 'log' else 'jsonl'}"
    if training == "csv":
        _training_csv(train)
    elif training == "jsonl":
        _training_jsonl(train)
    else:
        _log(train, seed=9)
    r = cli(["baseline", str(train), "-o", str(tmp_path / "b.json")])
    assert r.exit_code == 0, r.stderr
    names = set(json.loads((tmp_path / "b.json").read_text())["features"])
    assert set(DOTTED) <= names, names
    r = cli(["drift", str(tmp_path / "log.jsonl"), "--baseline", str(tmp_path / "b.json"), "-f", "json"])
    doc = json.loads(r.stdout)
    by_name = {f["name"]: f for f in doc["features"]}
    for name in DOTTED:
        assert by_name[name]["n"] == 400, by_name[name]  # found as a key, not looked up as a path
    assert not [a for a in doc["alerts"] if a["metric"].startswith("missing.")], doc["alerts"]


def test_a_rule_names_a_dotted_feature_quoted_or_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _log(tmp_path / "log.jsonl")
    _training_csv(tmp_path / "train.csv")
    (tmp_path / "mlmon.toml").write_text(
        'logs = ["log.jsonl"]\nreference = "train.csv"\n'
        '[[rules]]\nmetric = \'drift."score.v2"\'\nwarning = 0.99\n'
        '[[rules]]\nmetric = "mean_deviation.a.b.c"\nwarning = 1000\n'
    )
    r = cli(["check", "-f", "json"])
    assert r.exit_code == 0, r.stdout + r.stderr
    results = {x["metric"]: x for x in json.loads(r.stdout)["results"]}
    assert results["drift.score.v2"]["status"] == "ok" and results["drift.score.v2"]["value"] is not None
    assert results["mean_deviation.a.b.c"]["status"] == "ok"


def test_baseline_never_writes_what_drift_refuses(tmp_path: Path) -> None:
    # 1,000,001 distinct categories: the reader's limit is 1,000,000 a feature
    with open(tmp_path / "train.csv", "w") as fh:
        fh.write("cat,x\n")
        fh.writelines(f"c{i},{i % 7}\n" for i in range(1_000_001))
    out = tmp_path / "b.json"
    r = cli(["baseline", str(tmp_path / "train.csv"), "-o", str(out)])
    assert r.exit_code == ExitCode.DATA_ERROR, r.stderr
    assert error_line(r).startswith("cannot write this baseline, drift would refuse it: features")
    assert "1000000" in error_line(r) or "1,000,000" in error_line(r) or "too many" in error_line(r)
    assert not out.exists()


def test_training_data_from_a_device_is_refused(tmp_path: Path) -> None:
    for args in (["baseline", "/dev/zero", "-o", str(tmp_path / "b.json")],
                 ["drift", str(tmp_path / "log.jsonl"), "--reference", "/dev/zero"]):
        _log(tmp_path / "log.jsonl")
        r = cli(args)
        assert r.exit_code == ExitCode.DATA_ERROR
        assert error_line(r) == "/dev/zero: a device, not a training data file"


def test_a_training_decompression_bomb_stops_at_the_ratio(tmp_path: Path) -> None:
    with gzip.open(tmp_path / "bomb.csv.gz", "wb", compresslevel=9) as fh:
        fh.write(b"a,b\n")
        for _ in range(40):
            fh.write(b"1,2\n" * (1 << 20))  # 160 MiB from about 160 KB
    r = cli(["baseline", str(tmp_path / "bomb.csv.gz"), "-o", str(tmp_path / "b.json")])
    assert r.exit_code == ExitCode.DATA_ERROR
    assert error_line(r).startswith(f"{tmp_path / 'bomb.csv.gz'}: expands more than 1000 times")


def test_never_ending_training_data_is_cut_at_the_limit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from mlmon.api import training

    monkeypatch.setattr(training, "MAX_TRAINING_BYTES", 1 << 16)
    r = cli(["baseline", "-", "-o", str(tmp_path / "b.json")], input=b"a,b\n" + b"1,2\n" * (1 << 16))
    assert r.exit_code == ExitCode.DATA_ERROR
    assert error_line(r).startswith("<stdin>: training data larger than 65,536 bytes")


def test_a_parquet_training_file_that_decodes_past_the_limit_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mlmon.api import training

    # 300,000 equal values: a few kilobytes on disk (dictionary and run-length encoded), 2.4 MB decoded
    path = tmp_path / "train.parquet"
    pq.write_table(pa.table({"age": pa.array([41.0] * 300_000)}), path)
    assert path.stat().st_size < 1 << 16
    monkeypatch.setattr(training, "MAX_TRAINING_BYTES", 1 << 20)
    r = cli(["baseline", str(path), "-o", str(tmp_path / "b.json")])
    assert r.exit_code == ExitCode.DATA_ERROR
    assert error_line(r).startswith(f"{path}: training data decodes to more than 1,048,576 bytes")
    assert not (tmp_path / "b.json").exists()
    # under the limit the same file is profiled, every row counted
    monkeypatch.setattr(training, "MAX_TRAINING_BYTES", 1 << 22)
    r = cli(["baseline", str(path), "-o", str(tmp_path / "b.json")])
    assert r.exit_code == 0, r.stderr
    doc = json.loads((tmp_path / "b.json").read_text())
    assert doc["rows"] == 300_000
