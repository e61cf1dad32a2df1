"""`compare --labels`: a version whose realized accuracy (or MAE) is worse than the control's beyond
the tolerance is an alert (exit 1), judged on the 95% interval of the difference; numbers
cross-checked with scikit-learn."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from corpus import cli
from sklearn import metrics as skm

N = 1500


def _write(d: Path, acc: dict[str, float], seed: int = 3, regression: bool = False) -> dict[str, dict]:
    rng = np.random.default_rng(seed)
    truth: dict[str, dict] = {}
    with (d / "log.jsonl").open("w") as log, (d / "labels.jsonl").open("w") as lab:
        for v, a in acc.items():
            for i in range(N):
                key = f"{v}-{i}"
                conf = float(np.clip(round(rng.normal(0.8, 0.1), 3), 0.5, 1.0))
                if regression:
                    y = float(rng.gamma(3.0, 10.0) + 1)
                    p: float | int = y + float(rng.normal(0, a))
                    pred: object = round(p, 4)
                else:
                    y = int(rng.random() < 0.4)
                    p = y if rng.random() < a else 1 - y
                    pred = {"class": p, "confidence": conf}
                truth[key] = {"v": v, "y": y, "p": pred if regression else p}
                log.write(json.dumps({"timestamp": f"2026-11-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z",
                                      "request_id": key, "model_version": v, "prediction": pred,
                                      "latency_ms": float(rng.gamma(4, 5)), "status": "ok"}) + "\n")
                lab.write(json.dumps({"request_id": key, "label": y}) + "\n")
    return truth


def _compare(d: Path, *extra: str) -> tuple[int, dict]:
    r = cli(["compare", str(d / "log.jsonl"), "--control", "v1", "--labels", str(d / "labels.jsonl"),
             "-f", "json", *extra])
    assert r.stdout.strip(), r.stderr
    return r.exit_code, json.loads(r.stdout)


def test_a_version_with_worse_accuracy_is_an_alert(tmp_path: Path) -> None:
    truth = _write(tmp_path, {"v1": 0.93, "v2": 0.80})
    code, doc = _compare(tmp_path)
    assert code == 1
    (vs,) = doc["quality"]["versus_control"]
    acc = {v: skm.accuracy_score([t["y"] for t in truth.values() if t["v"] == v],
                                 [t["p"] for t in truth.values() if t["v"] == v]) for v in ("v1", "v2")}
    assert vs["version"] == "v2" and vs["verdict"] == "worse" and vs["tolerance"] == 0.01
    assert vs["difference"] == pytest.approx(acc["v2"] - acc["v1"], abs=1e-12)
    assert vs["effect"] == pytest.approx(acc["v1"] - acc["v2"], abs=1e-12)
    assert vs["effect_low"] > 0.01 and vs["effect_low"] < vs["effect"] < vs["effect_high"]
    alerts = [a for a in doc["alerts"] if a["metric"] == "quality.accuracy"]
    assert len(alerts) == 1 and alerts[0]["group"] == "v2" and alerts[0]["severity"] == "critical"
    assert doc["verdict"] == "worse"
    # only the labels make it worse: no serving metric of v2 is
    assert all(m["verdict"] != "worse" for v in doc["versions"] for m in v["metrics"])
    table = cli(["compare", str(tmp_path / "log.jsonl"), "--control", "v1", "--labels",
                 str(tmp_path / "labels.jsonl")])
    assert table.exit_code == 1 and "worse (tolerance 0.01)" in table.stdout


def test_a_fall_proven_within_the_tolerance_and_equal_versions_pass(tmp_path: Path) -> None:
    _write(tmp_path, {"v1": 0.93, "v2": 0.80})
    code, doc = _compare(tmp_path, "--tolerance", "quality.accuracy=0.25")
    assert code == 0 and doc["quality"]["versus_control"][0]["verdict"] == "same"
    assert not [a for a in doc["alerts"] if a["metric"] == "quality.accuracy"]
    same = tmp_path / "same"
    same.mkdir()
    _write(same, {"v1": 0.9, "v2": 0.9}, seed=8)
    code, doc = _compare(same)
    assert code == 0, doc["alerts"]
    assert doc["quality"]["versus_control"][0]["verdict"] in ("same", "better")


def test_a_regression_version_with_a_larger_mae_is_an_alert(tmp_path: Path) -> None:
    truth = _write(tmp_path, {"v1": 3.0, "v2": 5.0}, regression=True)
    code, doc = _compare(tmp_path)
    assert code == 1
    (vs,) = doc["quality"]["versus_control"]
    mae = {v: skm.mean_absolute_error([t["y"] for t in truth.values() if t["v"] == v],
                                      [t["p"] for t in truth.values() if t["v"] == v]) for v in ("v1", "v2")}
    assert vs["metric"] == "mae" and vs["verdict"] == "worse" and vs["tolerance"] == 0.1
    assert vs["effect"] == pytest.approx((mae["v2"] - mae["v1"]) / mae["v1"], abs=1e-12)
    assert [a["group"] for a in doc["alerts"] if a["metric"] == "quality.mae"] == ["v2"]
