"""The issue's scenario end to end: trend shows the bad hour and the onset, --for 3 ignores the
single bad hour and fires on the lasting drift, compare calls the canary worse on errors only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scenarios.canary import BAD_HOUR, DRIFT_FROM, HOURS, write
from scipy import stats
from typer.testing import CliRunner

from mlmon.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write(tmp_path_factory.mktemp("day"))


def _run(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


def test_trend_shows_the_bad_hour_and_the_onset(day: tuple[Path, Path]) -> None:
    log, train = day
    code, doc = _run("trend", str(log), "--every", "1h", "--reference", str(train), "--max-p99-ms", "150")
    windows = doc["windows"]
    assert len(windows) == HOURS
    p99 = [w["latency_ms"]["p99"] for w in windows]
    assert int(np.argmax(p99)) == BAD_HOUR and p99[BAD_HOUR] > 1.6 * np.median(p99)
    crossed = [[a["metric"] for a in w["alerts"]] for w in windows]
    assert [h for h, c in enumerate(crossed) if "latency_ms.p99" in c] == [BAD_HOUR]
    drifted = [h for h, w in enumerate(windows) if "age" in w["drifted"]]
    assert drifted == list(range(DRIFT_FROM, HOURS))
    assert all(w["drifted"] in ([], ["age"]) for w in windows)
    # the drift lasts to the last window: its evidence, accumulated since the onset, fires
    assert code == 1 and {a["metric"] for a in doc["alerts"]} == {"evidence.age"}
    assert {e["feature"] for e in doc["evidence"]} == {"age"}
    assert min(e["last"] for e in doc["evidence"]) >= f"2026-11-01T{DRIFT_FROM:02d}:00:00Z"
    # without evidence, each window's own drift alert decides (--for 1)
    code, doc = _run("trend", str(log), "--every", "1h", "--reference", str(train), "--max-p99-ms", "150",
                     "--no-evidence")
    assert code == 1 and {a["metric"] for a in doc["alerts"]} == {"drift.age"}


def test_for_3_ignores_the_bad_hour_and_fires_on_the_lasting_drift(day: tuple[Path, Path]) -> None:
    log, train = day
    code, doc = _run("trend", str(log), "--every", "1h", "--reference", str(train),
                     "--max-p99-ms", "150", "--for", "3", "--no-evidence")
    assert code == 1
    (alert,) = doc["alerts"]
    assert alert["metric"] == "drift.age"
    assert alert["since"] == f"2026-11-01T{DRIFT_FROM:02d}:00:00Z"
    # the last hour ends with the log, before its end: partial, shown but not judged
    assert alert["windows"] == HOURS - DRIFT_FROM - 1
    code, doc = _run("trend", str(log), "--every", "1h", "--reference", str(train),
                     "--max-p99-ms", "150", "--for", "3", "--no-evidence", "--include-partial")
    assert code == 1 and [a["windows"] for a in doc["alerts"]] == [HOURS - DRIFT_FROM]
    # only the bad hour, without the drift: nothing lasting, exit 0
    code, doc = _run("trend", str(log), "--every", "1h", "--max-p99-ms", "150", "--for", "3",
                     "--until", f"2026-11-01T{BAD_HOUR + 1:02d}:59:59Z")
    assert code == 0 and doc["alerts"] == []
    assert "latency_ms.p99" in [a["metric"] for a in doc["windows"][BAD_HOUR]["alerts"]]


def test_compare_calls_the_canary_worse_on_errors_and_same_on_latency(day: tuple[Path, Path]) -> None:
    log, train = day
    code, doc = _run("compare", str(log), "--control", "v1.0", "--reference", str(train))
    assert code == 1 and doc["verdict"] == "worse"
    (v,) = doc["versions"]
    verdicts = {m["metric"]: m["verdict"] for m in v["metrics"]}
    assert verdicts["success_rate"] == "worse"
    assert verdicts["latency_ms"] == "same"
    assert {verdicts[f"latency_ms.{p}"] for p in ("p50", "p95", "p99")} == {"same"}
    assert verdicts["classes"] == "same" and verdicts["confidence"] == "same"
    assert {m["verdict"] for m in v["traffic"]} == {"same"}
    assert [a["metric"] for a in doc["alerts"]] == ["success_rate"]
    # the numbers against scipy, computed here from the log itself
    recs = [json.loads(line) for line in log.read_text().splitlines()]
    lat = {k: np.array([r["latency_ms"] for r in recs if r["model_version"] == k]) for k in ("v1.0", "v1.1")}
    mw = stats.mannwhitneyu(lat["v1.1"], lat["v1.0"], alternative="two-sided", method="asymptotic")
    m = next(m for m in v["metrics"] if m["metric"] == "latency_ms")
    assert m["statistic"] == pytest.approx(mw.statistic) and m["p_value"] == pytest.approx(mw.pvalue)
    ok = {k: sum(r["status"] == "success" for r in recs if r["model_version"] == k) for k in lat}
    n = {k: len(lat[k]) for k in lat}
    table = np.array([[ok["v1.0"], n["v1.0"] - ok["v1.0"]], [ok["v1.1"], n["v1.1"] - ok["v1.1"]]])
    chi = stats.chi2_contingency(table, correction=False)
    s = next(m for m in v["metrics"] if m["metric"] == "success_rate")
    assert s["p_value"] == pytest.approx(chi.pvalue, rel=1e-9)
    assert s["difference"] == pytest.approx(ok["v1.1"] / n["v1.1"] - ok["v1.0"] / n["v1.0"])
