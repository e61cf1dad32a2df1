"""The README's CI gate (`--fail-on critical`) with the default rules stops each big change on
its own: a 30% mean shift, 10% of values in a category training never had, a feature that
became constant, a feature that vanished; and a log like training passes. Run as a user would:
`mlmon baseline`, `mlmon config init`, then `mlmon drift` and `mlmon check` as subprocesses."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

N = 2000
CATEGORIES = ["US", "DE", "FR", "GB"]


def _training(path: Path, rng: np.random.Generator) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["amount", "hour", "items", "country", "channel"])
        for _ in range(N):
            w.writerow([f"{rng.normal(100, 50):.3f}", int(rng.integers(0, 24)), int(rng.integers(0, 4)),
                        CATEGORIES[int(rng.integers(0, 4))], ["web", "app"][int(rng.integers(0, 2))]])


def _log(path: Path, rng: np.random.Generator, change: str) -> dict[str, np.ndarray]:
    amount = rng.normal(130 if change == "shift" else 100, 50, N)
    hour = np.full(N, 12) if change == "constant" else rng.integers(0, 24, N)
    country = [CATEGORIES[int(i)] for i in rng.integers(0, 4, N)]
    if change == "unseen":
        country = ["BR" if i % 10 == 0 else c for i, c in enumerate(country)]
    with open(path, "w") as fh:
        for i in range(N):
            feats: dict[str, object] = {"amount": float(amount[i]), "hour": int(hour[i]), "items": i % 4,
                                        "country": country[i]}
            if change != "vanished":
                feats["channel"] = ["web", "app"][i % 2]
            rec = {"timestamp": f"2026-12-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z", "model_version": "v1",
                   "input": {"features": feats}, "latency_ms": 10.0, "status": "success"}
            fh.write(json.dumps(rec) + "\n")
    return {"amount": amount}


def mlmon(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlmon", *args], cwd=cwd, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "COLUMNS": "80"}, stdin=subprocess.DEVNULL,
                          timeout=300, check=False)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("gate")
    rng = np.random.default_rng(20)
    _training(d / "training.csv", rng)
    assert mlmon("baseline", "training.csv", "-o", "baseline.json", cwd=d).returncode == 0
    _log(d / "healthy.jsonl", rng, "none")
    r = mlmon("config", "init", "healthy.jsonl", "--baseline", "baseline.json", "-o", "mlmon.toml", cwd=d)
    assert r.returncode == 0, r.stderr
    return d


WHAT = {"shift": "mean_deviation.amount", "unseen": "unseen.country", "constant": "drift.hour",
        "vanished": "channel"}


@pytest.mark.parametrize("change", ["shift", "unseen", "constant", "vanished"])
def test_the_ci_gate_stops_each_big_change(made: Path, change: str) -> None:
    rng = np.random.default_rng(["shift", "unseen", "constant", "vanished"].index(change))
    values = _log(made / f"{change}.jsonl", rng, change)
    if change == "shift":  # the change is what it says: +30% on the mean (scipy's own t test agrees)
        base = np.array([float(r["amount"]) for r in csv.DictReader(open(made / "training.csv"))])
        assert abs(values["amount"].mean() / base.mean() - 1.3) < 0.1
        assert stats.ttest_ind(values["amount"], base, equal_var=False).pvalue < 1e-10
    drift = mlmon("drift", f"{change}.jsonl", "--baseline", "baseline.json", "--fail-on", "critical", "-f",
                  "json", cwd=made)
    assert drift.returncode == 1, drift.stdout[-2000:]
    crit = [a["metric"] for a in json.loads(drift.stdout)["alerts"] if a["severity"] == "critical"]
    assert any(WHAT[change] in m for m in crit), crit
    check = mlmon("check", "--config", "mlmon.toml", f"{change}.jsonl", "--fail-on", "critical", "-f", "json",
                  cwd=made)
    assert check.returncode == 1, (check.stdout[-3000:], check.stderr)
    results = json.loads(check.stdout)["results"]
    crit = [r["metric"] for r in results if r["status"] == "critical"]
    assert any(WHAT[change] in m for m in crit), crit


def test_a_log_like_training_passes_the_gate(made: Path) -> None:
    for args in (["drift", "healthy.jsonl", "--baseline", "baseline.json"],
                 ["check", "--config", "mlmon.toml"]):
        r = mlmon(*args, "--fail-on", "critical", "-q", cwd=made)
        assert r.returncode == 0, r.stdout


def test_wildcards_cover_only_the_features_their_metric_applies_to(made: Path) -> None:
    """`mean_deviation.*` numbers only (a category has no mean: it must not be "no data" forever);
    `unseen.*` categories and few-valued numbers (items, 4 values), not continuous ones (amount,
    hour)."""
    rules = '[[rules]]\nmetric = "mean_deviation.*"\n[[rules]]\nmetric = "unseen.*"\n'
    (made / "wild.toml").write_text(f'logs = ["healthy.jsonl"]\nbaseline = "baseline.json"\n{rules}')
    r = mlmon("check", "--config", "wild.toml", "-f", "json", cwd=made)
    assert r.returncode == 0, r.stdout
    metrics = {x["metric"] for x in json.loads(r.stdout)["results"]}
    means = {m for m in metrics if m.startswith("mean_deviation.")}
    assert means == {"mean_deviation.amount", "mean_deviation.hour", "mean_deviation.items"}
    unseen = {m for m in metrics if m.startswith("unseen.")}
    assert {"unseen.country", "unseen.channel", "unseen.items"} <= unseen and "unseen.amount" not in unseen
