"""`mlmon drift` verdicts from the command line: no verdict on too little data, missing and unknown
features, unseen categories, numeric options that are not numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from corpus import cli, error_line, strict_json

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


NEGATIVE = {
    "--min-effect": "--min-effect must be at least 0 (got -1)",
    "--mean-tolerance": "--mean-tolerance must be at least 0 (got -1)",
    "--critical-effect": "--critical-effect must be at least 0 (got -1)",
    "--max-unseen-share": "--critical-effect, --max-unseen-share and --critical-unseen-share must be in "
    "[0, 1], --mean-tolerance a finite number >= 0",
    "--p-threshold": "--p-threshold must be in (0, 1] (got -1)",
}


@pytest.mark.parametrize("option", ["--min-effect", "--mean-tolerance", "--critical-effect",
                                    "--max-unseen-share", "--p-threshold"])
@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_numeric_drift_options_reject_non_numbers(base: Path, option: str, value: str) -> None:
    result = cli(["drift", str(SAMPLES / "predictions.jsonl"), "-b", str(base), option, value])
    assert result.exit_code == 2, (option, value, result.stdout)
    assert result.stdout == ""
    message = error_line(result)
    if value != "-1":
        assert message == f"{option}: {value} is not a finite number"
    else:  # the option named, and the range it must be in
        assert message == NEGATIVE[option], message


# --- baselines from prediction logs -------------------------------------------------------------


def test_baseline_from_a_log_profiles_its_features_as_training_data_would(tmp_path: Path,
                                                                          rng: np.random.Generator) -> None:
    _named_log(tmp_path / "log.jsonl", rng, {})
    text = (tmp_path / "log.jsonl").read_text()
    rows = [json.loads(line)["input"]["features"] for line in text.splitlines()]
    (tmp_path / "same.csv").write_text(
        "amount,country\n" + "".join(f"{r['amount']!r},{r['country']}\n" for r in rows))
    for src, out in (("log.jsonl", "a.json"), ("same.csv", "b.json")):
        result = cli(["baseline", str(tmp_path / src), "-o", str(tmp_path / out)])
        assert result.exit_code == 0, result.stderr
    a = json.loads((tmp_path / "a.json").read_text())
    b = json.loads((tmp_path / "b.json").read_text())
    assert a["columns"] == ["amount", "country"] == b["columns"]  # no latency, status, model_version
    assert a["rows"] == b["rows"] == 300
    for key in ("n", "edges", "cdf", "min", "max"):
        assert a["features"]["amount"][key] == b["features"]["amount"][key], key
    amounts = np.array([r["amount"] for r in rows])
    assert a["features"]["amount"]["mean"] == pytest.approx(amounts.mean(), rel=1e-12)
    assert a["features"]["amount"]["std"] == pytest.approx(amounts.std(ddof=1), rel=1e-12)
    assert a["features"]["country"]["counts"] == b["features"]["country"]["counts"]


def test_baseline_from_a_log_counts_categories_across_blocks(tmp_path: Path, rng: np.random.Generator,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Categories are counted block by block (not held): small blocks give the counts, the
    missing values and the numeric profile of the whole log."""
    import functools

    from mlmon.api import profile_log
    from mlmon.read import reader

    monkeypatch.setattr(reader, "iter_blocks", functools.partial(reader.iter_blocks, block_bytes=1 << 12))
    lines, amounts, countries = [], [], []
    for i in range(3000):
        country = None if i % 7 == 0 else str(rng.choice(["de", "fr", "it", "es"], p=[.4, .3, .2, .1]))
        amount = float(rng.normal(100, 10))
        amounts.append(amount)
        countries.append(country)
        lines.append(json.dumps({"timestamp": f"2026-11-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
                                 "input": {"features": {"amount": amount, "country": country}}}))
    (tmp_path / "log.jsonl").write_text("\n".join(lines) + "\n")
    b = profile_log([str(tmp_path / "log.jsonl")])
    amount, country = b.features[0].numeric, b.features[1].categorical
    assert b.rows == 3000 and amount is not None and country is not None
    values, freq = np.unique([c for c in countries if c is not None], return_counts=True)
    want = sorted(zip(values.tolist(), freq.tolist(), strict=True), key=lambda kv: (-kv[1], kv[0]))
    assert list(country.counts) == want
    assert country.dropped == sum(c is None for c in countries) and country.n == int(freq.sum())
    assert amount.n == 3000 and amount.mean == pytest.approx(np.mean(amounts), rel=1e-12)
    assert amount.max == max(amounts) and amount.min == min(amounts)


def test_baseline_from_logs_takes_the_drift_selection_options(tmp_path: Path) -> None:
    log = SAMPLES / "predictions.jsonl"
    out = tmp_path / "b.json"
    result = cli(["baseline", str(log), "--window-rows", "500", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(out.read_text())
    assert doc["rows"] == 500
    assert doc["columns"] == [f"feature_{i}" for i in range(8)]  # positional features, in order
    # the log against a baseline of itself: no drift
    again = cli(["baseline", str(log), "-o", str(out)])
    assert again.exit_code == 0
    same = cli(["drift", str(log), "-b", str(out), "-f", "json"])
    assert same.exit_code == 0 and strict_json(same.stdout)["drifted"] == []


def test_baseline_of_a_log_without_the_features_field_says_what_to_try(tmp_path: Path) -> None:
    log = tmp_path / "l.jsonl"
    log.write_text('{"timestamp": "2026-11-01T10:00:00Z", "inputs": {"x": 1}}\n' * 40)
    result = cli(["baseline", str(log), str(log.with_suffix(".other.jsonl")), "-o", str(tmp_path / "b.json")])
    assert result.exit_code in (65, 66), result.stdout
    log.with_suffix(".other.jsonl").write_text(log.read_text())
    result = cli(["baseline", str(log), str(log.with_suffix(".other.jsonl")), "-o", str(tmp_path / "b.json")])
    assert result.exit_code == 65 and "--features-field" in result.stderr
    ok = cli(["baseline", str(log), "--features-field", "inputs", "-o", str(tmp_path / "b.json")])
    assert ok.exit_code == 0, ok.stderr
