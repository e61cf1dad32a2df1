"""`mlmon drift` verdicts from the command line: no verdict on too little data, missing and unknown
features, unseen categories, numeric options that are not numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from corpus import cli, strict_json

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_logs"


@pytest.fixture()
def base(tmp_path: Path) -> Path:
    out = tmp_path / "b.json"
    assert cli(["baseline", str(SAMPLES / "training.csv"), "-o", str(out)]).exit_code == 0
    return out


def test_window_of_one_record_is_no_verdict_and_no_pass(base: Path) -> None:
    result = cli(["drift", str(SAMPLES / "predictions.jsonl"), "-b", str(base), "--window-rows", "1"])
    assert result.exit_code == 65, result.stdout
    assert "too few values" in result.stderr and "--min-samples" in result.stderr
    assert "mean_deviation" not in result.stdout


def _named_log(path: Path, rng: np.random.Generator, rename: dict[str, str]) -> None:
    lines = []
    for i in range(300):
        feats = {"amount": float(rng.normal(100, 10)), "country": str(rng.choice(["de", "fr", "it"]))}
        feats = {rename.get(k, k): v for k, v in feats.items()}
        lines.append(json.dumps({"timestamp": f"2026-11-01T10:{i // 60:02d}:{i % 60:02d}Z",
                                 "input": {"features": feats}}))
    path.write_text("\n".join(lines) + "\n")


def _train(path: Path, rng: np.random.Generator) -> None:
    rows = [f"{rng.normal(100, 10):.4f},{rng.choice(['de', 'fr', 'it'])}" for _ in range(3000)]
    path.write_text("amount,country\n" + "\n".join(rows) + "\n")


def test_renamed_feature_is_a_missing_alert_naming_the_new_name(tmp_path: Path,
                                                                rng: np.random.Generator) -> None:
    _train(tmp_path / "t.csv", rng)
    _named_log(tmp_path / "log.jsonl", rng, {"amount": "amount_usd"})
    result = cli(["drift", str(tmp_path / "log.jsonl"), "--reference", str(tmp_path / "t.csv"), "-f", "json"])
    assert result.exit_code == 1, result.stderr
    doc = strict_json(result.stdout)
    assert doc["unknown_features"] == ["amount_usd"]
    missing = [a for a in doc["alerts"] if a["metric"] == "missing.amount"]
    assert missing and missing[0]["severity"] == "critical" and "amount_usd" in missing[0]["message"]
    table = cli(["drift", str(tmp_path / "log.jsonl"), "--reference", str(tmp_path / "t.csv")])
    assert "amount_usd" in table.stdout and table.exit_code == 1


def test_same_features_pass(tmp_path: Path, rng: np.random.Generator) -> None:
    _train(tmp_path / "t.csv", rng)
    _named_log(tmp_path / "log.jsonl", rng, {})
    result = cli(["drift", str(tmp_path / "log.jsonl"), "--reference", str(tmp_path / "t.csv"), "-f", "json"])
    assert result.exit_code == 0, result.stdout
    doc = strict_json(result.stdout)
    assert doc["unknown_features"] == [] and doc["alerts"] == []
    amount = next(f for f in doc["features"] if f["name"] == "amount")
    assert amount["test"] == "ks" and amount["effect_measure"] == "ks_d"
    for key in ("effect_low", "effect_high", "psi", "wasserstein_sd", "mean_p_value_adjusted"):
        assert isinstance(amount[key], float), key


@pytest.mark.parametrize("option", ["--min-effect", "--mean-tolerance", "--critical-effect",
                                    "--max-unseen-share", "--p-threshold"])
@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_numeric_drift_options_reject_non_numbers(base: Path, option: str, value: str) -> None:
    result = cli(["drift", str(SAMPLES / "predictions.jsonl"), "-b", str(base), option, value])
    assert result.exit_code == 2, (option, value, result.stdout)
