"""Missing values from the command line: a JSON null, an absent key, an empty CSV cell and a
Parquet null are counted per feature, tested against training's share, and alerted on by
`drift` and by `check` (a default rule), with both JSON readers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from corpus import cli, strict_json


def _train(path: Path, rng: np.random.Generator, n: int = 5000) -> None:
    rows = []
    for _ in range(n):
        income = "" if rng.random() < 0.05 else f"{rng.normal(50, 10):.3f}"
        rows.append(f"{rng.normal(40, 5):.3f},{income},{rng.choice(['a', 'b', 'c'])}")
    path.write_text("age,income,city\n" + "\n".join(rows) + "\n")


def _records(rng: np.random.Generator, n: int, *, age_absent: float, income_null: float) -> list[dict]:
    out = []
    for i in range(n):
        feats: dict[str, object] = {
            "age": float(rng.normal(40, 5)),
            "income": None if rng.random() < income_null else float(rng.normal(50, 10)),
            "city": str(rng.choice(["a", "b", "c"])),
        }
        if rng.random() < age_absent:
            del feats["age"]
        out.append({"timestamp": f"2026-11-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z", "request_id": i,
                    "latency_ms": 10.0, "status": "ok", "input": {"features": feats}})
    return out


def _jsonl(path: Path, recs: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))


@pytest.fixture(params=["native", "python"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "python":
        monkeypatch.setenv("MLMON_READER", "python")
    return str(request.param)


def test_null_and_absent_values_are_counted_and_alerted(tmp_path: Path, rng: np.random.Generator,
                                                        reader: str) -> None:
    _train(tmp_path / "t.csv", rng)
    recs = _records(rng, 1000, age_absent=0.19, income_null=0.41)
    _jsonl(tmp_path / "log.jsonl", recs)
    assert cli(["baseline", str(tmp_path / "t.csv"), "-o", str(tmp_path / "b.json")]).exit_code == 0
    result = cli(["drift", str(tmp_path / "log.jsonl"), "-b", str(tmp_path / "b.json"), "-f", "json"])
    assert result.exit_code == 1, result.stderr
    doc = strict_json(result.stdout)
    rows = {f["name"]: f for f in doc["features"]}
    absent = sum("age" not in r["input"]["features"] for r in recs)
    nulls = sum(r["input"]["features"]["income"] is None for r in recs)
    assert rows["age"]["missing"] == absent and rows["income"]["missing"] == nulls
    assert rows["age"]["missing_share"] == absent / 1000 and rows["age"]["records"] == 1000
    assert rows["city"]["missing"] == 0 and rows["city"]["missing_increased"] is None
    assert rows["age"]["baseline_missing_share"] == 0.0
    assert 0.03 < rows["income"]["baseline_missing_share"] < 0.07
    alerts = {a["metric"]: a for a in doc["alerts"]}
    assert alerts["missing_share.age"]["severity"] == "critical"
    assert alerts["missing_share.income"]["severity"] == "critical"
    assert "of records have no value for feature income" in alerts["missing_share.income"]["message"]
    table = cli(["drift", str(tmp_path / "log.jsonl"), "-b", str(tmp_path / "b.json")])
    assert table.exit_code == 1 and "missing_share.age" in table.stdout
    assert "41.0% !" in table.stdout or f"{nulls / 10:.1f}% !" in table.stdout


def test_stationary_null_share_passes(tmp_path: Path, rng: np.random.Generator, reader: str) -> None:
    _train(tmp_path / "t.csv", rng)
    _jsonl(tmp_path / "log.jsonl", _records(rng, 1000, age_absent=0.0, income_null=0.05))
    result = cli(["drift", str(tmp_path / "log.jsonl"), "--reference", str(tmp_path / "t.csv"),
                  "-f", "json"])
    assert result.exit_code == 0, result.stdout
    rows = {f["name"]: f for f in strict_json(result.stdout)["features"]}
    assert rows["income"]["missing_p_value"] is not None and rows["income"]["missing_increased"] is None


def test_empty_csv_cells_and_parquet_nulls_count(tmp_path: Path, rng: np.random.Generator) -> None:
    _train(tmp_path / "t.csv", rng)
    n = 800
    income = [None if rng.random() < 0.2 else float(rng.normal(50, 10)) for _ in range(n)]
    ts = [f"2026-11-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z" for i in range(n)]
    lines = [f"{t},{rng.normal(40, 5):.3f},{'' if v is None else f'{v:.3f}'},a"
             for t, v in zip(ts, income, strict=True)]
    (tmp_path / "log.csv").write_text("timestamp,age,income,city\n" + "\n".join(lines) + "\n")
    pq.write_table(pa.table({"timestamp": ts, "age": rng.normal(40, 5, n), "income": income,
                             "city": ["a"] * n}), tmp_path / "log.parquet")
    for log in ("log.csv", "log.parquet"):
        result = cli(["drift", str(tmp_path / log), "--reference", str(tmp_path / "t.csv"), "-f", "json"])
        assert result.exit_code == 1, result.stdout
        rows = {f["name"]: f for f in strict_json(result.stdout)["features"]}
        assert rows["income"]["missing"] == sum(v is None for v in income), log
        assert any(a["metric"] == "missing_share.income" for a in strict_json(result.stdout)["alerts"])


def _config(path: Path, rules: str) -> None:
    path.write_text(f'baseline = "b.json"\n{rules}')


def test_check_runs_missing_share_by_default_and_a_rule_replaces_it(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    _train(tmp_path / "t.csv", rng)
    assert cli(["baseline", str(tmp_path / "t.csv"), "-o", str(tmp_path / "b.json")]).exit_code == 0
    _jsonl(tmp_path / "log.jsonl", _records(rng, 1000, age_absent=0.05, income_null=0.05))
    cfg = tmp_path / "mlmon.toml"
    _config(cfg, '[[rules]]\nmetric = "records"\ncritical = 10\ndirection = "below"\n')
    args = ["check", str(tmp_path / "log.jsonl"), "--config", str(cfg), "--baseline",
            str(tmp_path / "b.json"), "-f", "json"]
    result = cli(args)
    assert result.exit_code == 1, result.stdout + result.stderr
    doc = strict_json(result.stdout)
    by_metric = {r["metric"]: r for r in doc["results"]}
    assert by_metric["missing_share.age"]["status"] == "warning"
    prom = tmp_path / "m.prom"
    assert cli([*args, "-o", f"prometheus:{prom}"]).exit_code == 1
    want = f'mlmon_feature_missing_share{{feature="age"}} {by_metric["missing_share.age"]["value"]}'
    assert want in prom.read_text()
    assert by_metric["missing_share.income"]["status"] == "ok"
    assert by_metric["missing_share.city"]["status"] == "ok"
    # a rule of the user's own replaces the default: a critical limit the lower bound passes
    _config(cfg, '[[rules]]\nmetric = "missing_share.age"\ncritical = 0.02\n')
    doc = strict_json(cli(args).stdout)
    metrics = {r["metric"]: r for r in doc["results"]}
    assert {m for m in metrics if not m.startswith("type_errors.")} == {"missing_share.age"}
    assert metrics["missing_share.age"]["status"] == "critical"
    _config(cfg, '[[rules]]\nmetric = "missing_share.*"\nwarning = 0.2\n')
    assert cli(args).exit_code == 0


def test_missing_share_limit_out_of_range_is_a_config_error(tmp_path: Path) -> None:
    cfg = tmp_path / "mlmon.toml"
    cfg.write_text('[[rules]]\nmetric = "missing_share.*"\nwarning = 5\n')
    result = cli(["check", str(tmp_path / "x.jsonl"), "--config", str(cfg)])
    assert result.exit_code == 78 and "a share from 0 to 1" in result.stderr


def test_check_calls_an_entirely_absent_feature_critical(tmp_path: Path, rng: np.random.Generator) -> None:
    _train(tmp_path / "t.csv", rng)
    assert cli(["baseline", str(tmp_path / "t.csv"), "-o", str(tmp_path / "b.json")]).exit_code == 0
    _jsonl(tmp_path / "log.jsonl", _records(rng, 300, age_absent=1.0, income_null=0.05))
    cfg = tmp_path / "mlmon.toml"
    _config(cfg, '[[rules]]\nmetric = "records"\ncritical = 10\ndirection = "below"\n')
    result = cli(["check", str(tmp_path / "log.jsonl"), "--config", str(cfg), "--baseline",
                  str(tmp_path / "b.json"), "-f", "json"])
    assert result.exit_code == 1, result.stdout + result.stderr
    res = {r["metric"]: r for r in strict_json(result.stdout)["results"]}
    assert res["missing_share.age"]["status"] == "critical" and res["missing_share.age"]["value"] == 1.0
    assert "missing.age" in res["missing_share.age"]["message"]
