"""Values outside training's range and constant features, from the command line: drift's JSON,
its alerts, a check rule `out_of_range.<feature>` and the Prometheus gauge."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from corpus import cli, strict_json


def _files(tmp_path: Path, rng: np.random.Generator, *, far: float) -> list[float]:
    train = [f"{rng.normal(40, 5):.4f},{rng.choice(['a', 'b'])}" for _ in range(3000)]
    (tmp_path / "t.csv").write_text("age,city\n" + "\n".join(train) + "\n")
    ages = [float(rng.normal(90, 5)) if rng.random() < far else float(rng.normal(40, 5)) for _ in range(800)]
    recs = [{"timestamp": f"2026-11-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z", "latency_ms": 5.0,
             "input": {"features": {"age": a, "city": "b"}}} for i, a in enumerate(ages)]
    (tmp_path / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    assert cli(["baseline", str(tmp_path / "t.csv"), "-o", str(tmp_path / "b.json")]).exit_code == 0
    return ages


def test_drift_counts_values_outside_the_training_range(tmp_path: Path, rng: np.random.Generator) -> None:
    ages = _files(tmp_path, rng, far=0.05)
    result = cli(["drift", str(tmp_path / "log.jsonl"), "-b", str(tmp_path / "b.json"), "-f", "json"])
    doc = strict_json(result.stdout)
    base = json.loads((tmp_path / "b.json").read_text())["features"]["age"]
    rows = {f["name"]: f for f in doc["features"]}
    want = sum(a < base["min"] or a > base["max"] for a in ages)
    assert rows["age"]["out_of_range"] == want and rows["age"]["out_of_range_share"] == want / 800
    assert rows["city"]["constant"] is True and rows["age"]["constant"] is False
    metrics = {a["metric"]: a["severity"] for a in doc["alerts"]}
    assert metrics["out_of_range.age"] == "warning" and metrics["constant.city"] == "warning"


def test_check_rule_and_prometheus(tmp_path: Path, rng: np.random.Generator) -> None:
    _files(tmp_path, rng, far=0.2)
    cfg = tmp_path / "mlmon.toml"
    cfg.write_text('[[rules]]\nmetric = "out_of_range.*"\nwarning = 0.01\ncritical = 0.1\n')
    prom = tmp_path / "m.prom"
    args = ["check", str(tmp_path / "log.jsonl"), "--config", str(cfg), "--baseline",
            str(tmp_path / "b.json"), "-f", "json", "-o", f"prometheus:{prom}"]
    result = cli(args)
    assert result.exit_code == 1, result.stdout + result.stderr
    res = {r["metric"]: r for r in strict_json(result.stdout)["results"]}
    assert res["out_of_range.age"]["status"] == "critical"
    assert "out_of_range.city" not in res  # a category has no range
    assert f'mlmon_feature_out_of_range_share{{feature="age"}} {res["out_of_range.age"]["value"]}' in \
        prom.read_text()
    cfg.write_text('[[rules]]\nmetric = "out_of_range.age"\nwarning = 0.5\n')
    assert cli(args).exit_code == 0


@pytest.fixture(params=["native", "python"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "python":
        monkeypatch.setenv("MLMON_READER", "python")
    return str(request.param)


def test_wrong_types_are_counted_per_feature_and_the_record_kept(
    tmp_path: Path, rng: np.random.Generator, reader: str
) -> None:
    _files(tmp_path, rng, far=0.0)
    recs = []
    for i in range(600):
        age: object = "forty" if i % 20 == 0 else (True if i % 50 == 1 else float(rng.normal(40, 5)))
        city: object = {"name": "b"} if i % 30 == 0 else str(rng.choice(["a", "b"]))
        recs.append({"timestamp": f"2026-11-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z",
                     "input": {"features": {"age": age, "city": city}}})
    (tmp_path / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    result = cli(["drift", str(tmp_path / "log.jsonl"), "-b", str(tmp_path / "b.json"), "-f", "json"])
    doc = strict_json(result.stdout)
    rows = {f["name"]: f for f in doc["features"]}
    bad_age = sum(not isinstance(r["input"]["features"]["age"], float) for r in recs)
    bad_city = sum(isinstance(r["input"]["features"]["city"], dict) for r in recs)
    assert rows["age"]["type_errors"] == bad_age and rows["city"]["type_errors"] == bad_city
    assert rows["age"]["n"] == 600 - bad_age and rows["age"]["missing"] == 0  # not missing: wrong
    assert doc["input"]["reasons"] == {} and doc["records"] == 600  # every record kept
    alerts = {a["metric"]: a for a in doc["alerts"]}
    assert alerts["type_errors.age"]["value"] == bad_age / 600
    assert result.exit_code == 1
    cfg = tmp_path / "mlmon.toml"
    cfg.write_text('[[rules]]\nmetric = "records"\ncritical = 10\ndirection = "below"\n')
    check = cli(["check", str(tmp_path / "log.jsonl"), "--config", str(cfg), "--baseline",
                 str(tmp_path / "b.json"), "-f", "json"])
    res = {r["metric"]: r for r in strict_json(check.stdout)["results"]}
    assert res["type_errors.age"]["status"] == "warning" and check.exit_code == 1
    cfg.write_text('[[rules]]\nmetric = "type_errors.*"\nwarning = 0.1\n')
    res = {r["metric"]: r for r in strict_json(cli(["check", str(tmp_path / "log.jsonl"), "--config",
                                                    str(cfg), "--baseline", str(tmp_path / "b.json"),
                                                    "-f", "json"]).stdout)["results"]}
    assert res["type_errors.age"]["status"] == "ok"
