"""Prediction drift and joint drift from the command line: `mlmon baseline` profiles the
predictions (from a training-predictions file or a reference window of logs) and fits the joint
model; `drift`, `check` (rules, JSON, Prometheus) and `trend` test the log against them; a
baseline saved before these existed still works and says what it cannot test."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from corpus import cli, strict_json
from scipy import stats

OLD_BASELINE = Path(__file__).resolve().parent.parent / "data" / "baseline_before_predictions.json"
SHARES = (0.5, 0.3, 0.2)


def _features(rng: np.random.Generator, n: int, rho: float) -> np.ndarray:
    z = rng.standard_normal((n, 3))
    z[:, 1] = rho * z[:, 0] + np.sqrt(1 - rho * rho) * z[:, 1]
    return 50 + 10 * z


def _train(tmp: Path, rng: np.random.Generator, n: int = 6000) -> tuple[np.ndarray, np.ndarray]:
    x = _features(rng, n, 0.8)
    (tmp / "t.csv").write_text("a,b,c\n" + "".join(f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f}\n" for r in x))
    cls = rng.choice(3, size=n, p=SHARES)
    conf = np.round(rng.beta(8, 3, n), 4)
    (tmp / "p.csv").write_text("id,class,confidence\n" + "".join(
        f"{i},{c},{v}\n" for i, (c, v) in enumerate(zip(cls, conf, strict=True))))
    return cls, conf


def _log(path: Path, rng: np.random.Generator, n: int, *, rho: float = 0.8,
         shares: tuple[float, ...] = SHARES, conf_shift: float = 0.0, start: int = 0) -> None:
    x = _features(rng, n, rho)
    cls = rng.choice(3, size=n, p=shares)
    conf = np.clip(rng.beta(8, 3, n) + conf_shift, 0, 1)
    with path.open("a") as fh:
        for i in range(n):
            t = start + i
            day, clock = 1 + t // 86400, f"{t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d}"
            fh.write(json.dumps({
                "timestamp": f"2026-11-{day:02d}T{clock}Z",
                "latency_ms": 12.0, "status": "ok",
                "input": {"features": {"a": x[i, 0], "b": x[i, 1], "c": x[i, 2]}},
                "prediction": {"class": int(cls[i]), "confidence": round(float(conf[i]), 4)},
            }) + "\n")


def _baseline(tmp: Path) -> Path:
    out = tmp / "b.json"
    r = cli(["baseline", str(tmp / "t.csv"), "--predictions", str(tmp / "p.csv"), "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    assert "not predictions, not used: id" in r.stderr and "predictions: class, confidence" in r.stderr
    return out


def test_baseline_profiles_the_predictions_file(tmp_path: Path, rng: np.random.Generator) -> None:
    cls, conf = _train(tmp_path, rng)
    body = json.loads(_baseline(tmp_path).read_text())
    assert body["predictions"]["class"]["counts"] == {str(k): v for k, v in Counter(cls.tolist()).items()}
    c = body["predictions"]["confidence"]
    assert c["n"] == len(conf) and c["mean"] == pytest.approx(float(np.mean(conf)), rel=1e-12)
    assert c["std"] == pytest.approx(float(np.std(conf, ddof=1)), rel=1e-9)
    assert (c["min"], c["max"]) == (float(conf.min()), float(conf.max()))
    m = body["multivariate"]
    assert m["features"] == ["a", "b", "c"] and len(m["components"]) < 3


def test_drift_tests_predictions_in_one_budget_and_apart(tmp_path: Path, rng: np.random.Generator) -> None:
    _train(tmp_path, rng)
    b = _baseline(tmp_path)
    _log(tmp_path / "log.jsonl", rng, 3000, shares=(0.65, 0.2, 0.15))
    r = cli(["drift", str(tmp_path / "log.jsonl"), "-b", str(b), "-f", "json"])
    assert r.exit_code == 1, r.stderr
    doc = strict_json(r.stdout)
    assert [f["name"] for f in doc["features"]] == ["a", "b", "c"]
    preds = {f["name"]: f for f in doc["predictions"]}
    assert set(preds) == {"prediction.class", "prediction.confidence"}
    assert preds["prediction.class"]["drift"] is True and "prediction.class" in doc["drifted"]
    assert preds["prediction.confidence"]["drift"] is False
    assert "drift.prediction.class" in {a["metric"] for a in doc["alerts"]}
    assert doc["multivariate"]["drift"] is False and doc["not_tested"] == []
    # the class test is scipy's chi-square on the two count rows
    base = json.loads(b.read_text())["predictions"]["class"]["counts"]
    log_counts = Counter(json.loads(line)["prediction"]["class"]
                         for line in (tmp_path / "log.jsonl").read_text().splitlines())
    table = np.array([[base[k] for k in sorted(base)], [log_counts[int(k)] for k in sorted(base)]])
    want = stats.chi2_contingency(table, correction=False)
    assert preds["prediction.class"]["statistic"] == pytest.approx(want.statistic, rel=1e-9)
    # one Benjamini-Hochberg adjustment over every test of the run, predictions and joint included
    rows = [*doc["features"], *doc["predictions"], doc["multivariate"]]
    family = [(r["name"], "p_value") for r in rows if r["p_value"] is not None]
    keys = ("mean_p_value", "missing_p_value", "out_of_range_p_value")
    family += [(r["name"], k) for r in rows for k in keys if r.get(k) is not None]
    by_name = {r["name"]: r for r in rows}
    adj = stats.false_discovery_control([by_name[n][k] for n, k in family], method="bh")
    for (n, k), a in zip(family, adj, strict=True):
        assert by_name[n][k + "_adjusted"] == pytest.approx(min(1.0, a), rel=1e-9)
    table_out = cli(["drift", str(tmp_path / "log.jsonl"), "-b", str(b), "--width", "200"]).stdout
    assert "Predictions (drift against" in table_out and "joint drift (PCA reconstruction error" in table_out


def test_joint_drift_from_a_broken_correlation(tmp_path: Path, rng: np.random.Generator) -> None:
    _train(tmp_path, rng)
    b = _baseline(tmp_path)
    _log(tmp_path / "log.jsonl", rng, 1000, rho=0.0)
    doc = strict_json(cli(["drift", str(tmp_path / "log.jsonl"), "-b", str(b), "-f", "json"]).stdout)
    assert doc["multivariate"]["drift"] is True and doc["multivariate"]["effect_measure"] == "error_rise_sd"
    assert not any(f["drift"] for f in doc["features"])
    assert "drift.multivariate" in {a["metric"] for a in doc["alerts"]}


def test_check_rules_json_and_prometheus(tmp_path: Path, rng: np.random.Generator) -> None:
    _train(tmp_path, rng)
    _baseline(tmp_path)
    _log(tmp_path / "log.jsonl", rng, 2000, rho=0.0, conf_shift=-0.1)
    cfg = tmp_path / "mlmon.toml"
    cfg.write_text('baseline = "b.json"\n[[rules]]\nmetric = "drift.multivariate"\n'
                   '[[rules]]\nmetric = "drift.prediction.*"\n')  # every prediction
    prom = tmp_path / "m.prom"
    r = cli(["check", str(tmp_path / "log.jsonl"), "--config", str(cfg), "-f", "json",
             "-o", f"prometheus:{prom}"])
    assert r.exit_code == 1, r.stdout + r.stderr
    res = {x["metric"]: x for x in strict_json(r.stdout)["results"]}
    assert res["drift.multivariate"]["status"] in ("warning", "critical")
    assert res["drift.prediction.confidence"]["status"] in ("warning", "critical")
    assert res["drift.prediction.class"]["status"] == "ok"
    assert not any(m.startswith("type_errors.prediction") for m in res)  # the reader counts features' only
    assert res["missing_share.prediction.class"]["status"] == "ok"  # a default rule covers predictions
    text = prom.read_text()
    assert 'mlmon_prediction_drift{prediction="prediction.confidence"} 1.0' in text
    assert 'mlmon_prediction_drift{prediction="prediction.class"} 0.0' in text
    assert "mlmon_multivariate_drift 1.0" in text
    assert 'feature="multivariate"' not in text and 'feature="prediction.class"' not in text
    # the rule's own limits: a critical limit above the effect's lower bound is not critical
    low = res["drift.multivariate"]["critical_compared"] if "critical_compared" in res["drift.multivariate"] \
        else None
    cfg.write_text('baseline = "b.json"\n[[rules]]\nmetric = "drift.multivariate"\nwarning = 100\n'
                   'critical = 200\n')
    r = cli(["check", str(tmp_path / "log.jsonl"), "--config", str(cfg), "-f", "json"])
    res = {x["metric"]: x for x in strict_json(r.stdout)["results"]}
    assert res["drift.multivariate"]["status"] == "ok", low


def test_baseline_from_a_log_window_profiles_predictions(tmp_path: Path, rng: np.random.Generator) -> None:
    log = tmp_path / "log.jsonl"
    _log(log, rng, 3000)  # 2026-11-01, the reference window
    _log(log, rng, 3000, conf_shift=-0.1, start=86400)  # 2026-11-02: lower confidence
    b = tmp_path / "week.json"
    r = cli(["baseline", str(log), "--until", "2026-11-01T23:59:59", "-o", str(b)])
    assert r.exit_code == 0, r.stderr
    body = json.loads(b.read_text())
    assert set(body["predictions"]) == {"class", "confidence"}
    assert body["predictions"]["confidence"]["n"] == 3000
    r = cli(["drift", str(log), "-b", str(b), "--since", "2026-11-02", "-f", "json"])
    doc = strict_json(r.stdout)
    assert {f["name"]: f["drift"] for f in doc["predictions"]} == {"prediction.class": False,
                                                                  "prediction.confidence": True}
    # trend: each window tests the predictions too, shown apart in its JSON
    r = cli(["trend", str(log), "-b", str(b), "--every", "1d", "-f", "json"])
    windows = strict_json(r.stdout)["windows"]
    drifted = [[p["name"] for p in w.get("predictions", []) if p["drift"]] for w in windows]
    assert drifted == [[], ["prediction.confidence"]]


def test_a_baseline_saved_before_still_works_and_says_so(tmp_path: Path, rng: np.random.Generator) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps({
        "timestamp": f"2026-11-01T10:{i // 60:02d}:{i % 60:02d}Z", "latency_ms": 10.0, "status": "ok",
        "input": {"features": {"age": float(rng.normal(40, 10)), "clicks": int(rng.integers(0, 7))}},
        "prediction": {"class": 1, "confidence": 0.8}}) + "\n" for i in range(600)))
    r = cli(["drift", str(log), "-b", str(OLD_BASELINE), "-f", "json"])
    assert r.exit_code in (0, 1), r.stderr
    doc = strict_json(r.stdout)
    assert doc["predictions"] == [] and doc["multivariate"] is None
    assert [line.split(":")[0] for line in doc["not_tested"]] == ["predictions", "multivariate"]
    table = cli(["drift", str(log), "-b", str(OLD_BASELINE), "--width", "200"]).stdout
    assert "not tested: multivariate: the baseline has no joint model" in table
