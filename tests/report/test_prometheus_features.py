"""The Prometheus file of a `check` with a baseline read back by name, type, HELP and labels: every
feature family (drift statistic and its measure, the drift flag, the missing and out-of-range
shares) against values derived from the records with numpy/scipy, and every latency series
(each quantile, _sum and _count with exactly the model_version label)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np
import pytest
from corpus import cli, dumps, join, record
from prometheus_client.parser import text_string_to_metric_families
from scipy import stats

N = 600
FEATURES = {
    "mlmon_feature_drift_statistic": (
        "gauge",
        "Drift effect size per feature (label measure): KS D for numbers, total variation for categories.",
    ),
    "mlmon_feature_drift": ("gauge", "1 when the feature drifted (significant and large enough)."),
    "mlmon_feature_missing_share": (
        "gauge",
        "Share of records without a value for the feature (null, absent key, empty cell).",
    ),
    "mlmon_feature_out_of_range_share": (
        "gauge",
        "Share of the feature's numeric values outside the training [min, max].",
    ),
}


@pytest.fixture
def run(tmp_path: Path) -> tuple[str, list[dict], list[dict]]:  # type: ignore[type-arg]
    """Training: the first 300 records. Log: all 600; in the second half every fifth has no age,
    every seventh other an age of 150 (past training's maximum) and incomes are tripled. Made
    anew for each test (not once per module), so that each test runs the code it checks."""
    d = tmp_path
    recs = []
    for i in range(N):
        r = record(i)
        f = r["input"]["features"]
        if i >= N // 2:
            if i % 5 == 0:
                del f["age"]
            elif i % 7 == 0:
                f["age"] = 150.0
            f["income"] = f["income"] * 3
        recs.append(r)
    train = recs[: N // 2]
    (d / "log.jsonl").write_bytes(join(dumps(r) for r in recs))
    rows = ["age,income,country,mobile"] + [
        ",".join(str(x["input"]["features"][k]).lower() if k == "mobile" else str(x["input"]["features"][k])
                 for k in ("age", "income", "country", "mobile"))
        for x in train
    ]
    (d / "base.csv").write_text("\n".join(rows) + "\n")
    (d / "mlmon.toml").write_text(
        'logs = ["log.jsonl"]\nbaseline = "base.json"\n[[rules]]\nmetric = "drift.*"\n'
        '[[rules]]\nmetric = "latency_ms.p99"\nwarning = 100000\n'
    )
    with contextlib.chdir(d):
        assert cli(["baseline", "base.csv", "-o", "base.json"]).exit_code == 0
        r = cli(["check", "-o", "prometheus:m.prom", "-f", "json"])
        assert r.exit_code == 1, r.stdout + r.stderr  # income drifted, age lost values
        text = (d / "m.prom").read_text()
    return text, recs, train


def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(s.labels.items())): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if s.name == name
    }


def _by_feature(text: str, name: str) -> dict[str, float]:
    got = _samples(text, name)
    assert all(len(k) == 1 and k[0][0] == "feature" for k in got), got
    return {k[0][1]: v for k, v in got.items()}


def _values(recs: list[dict], name: str) -> list:  # type: ignore[type-arg]
    return [r["input"]["features"][name] for r in recs if name in r["input"]["features"]]


def test_every_feature_family_has_its_type_and_help(run: tuple) -> None:  # type: ignore[type-arg]
    text, _, _ = run
    got = {f.name: (f.type, f.documentation) for f in text_string_to_metric_families(text)
           if f.name.startswith("mlmon_feature")}
    assert got == FEATURES


def test_the_missing_share_of_each_feature_reads_back(run: tuple) -> None:  # type: ignore[type-arg]
    text, recs, _ = run
    want = {k: 1 - len(_values(recs, k)) / N for k in ("age", "income", "country", "mobile")}
    assert want["age"] == pytest.approx(0.1)
    assert _by_feature(text, "mlmon_feature_missing_share") == pytest.approx(want, abs=1e-12)


def test_the_out_of_range_share_of_each_numeric_feature_reads_back(run: tuple) -> None:  # type: ignore[type-arg]
    text, recs, train = run
    want = {}
    for k in ("age", "income"):
        lo, hi = min(_values(train, k)), max(_values(train, k))
        v = np.array(_values(recs, k))
        want[k] = float(np.mean((v < lo) | (v > hi)))
    assert want["age"] > 0 and want["income"] > 0
    assert _by_feature(text, "mlmon_feature_out_of_range_share") == pytest.approx(want, abs=1e-12)


def test_the_drift_statistic_is_ks_d_for_numbers_and_total_variation_for_categories(
    run: tuple,  # type: ignore[type-arg]
) -> None:
    text, recs, train = run
    got = _samples(text, "mlmon_feature_drift_statistic")
    assert {dict(k)["feature"]: dict(k)["measure"] for k in got} == {
        "age": "ks_d", "income": "ks_d", "country": "tv", "mobile": "tv"}
    assert all(sorted(dict(k)) == ["feature", "measure"] for k in got)
    value = {dict(k)["feature"]: v for k, v in got.items()}
    for k in ("age", "income"):
        d = stats.ks_2samp(_values(recs, k), _values(train, k)).statistic
        assert value[k] == pytest.approx(d, abs=1e-12), k
    for k in ("country", "mobile"):
        log, base = _values(recs, k), _values(train, k)
        cats = set(log) | set(base)
        tv = 0.5 * sum(abs(log.count(c) / len(log) - base.count(c) / len(base)) for c in cats)
        assert value[k] == pytest.approx(tv, abs=1e-12), k


def test_the_drift_flag_is_1_for_the_feature_whose_rule_fired(run: tuple) -> None:  # type: ignore[type-arg]
    text, _, _ = run
    want = {"age": 0.0, "income": 1.0, "country": 0.0, "mobile": 0.0}
    assert _by_feature(text, "mlmon_feature_drift") == want
    status = {dict(k)["rule"]: v for k, v in _samples(text, "mlmon_rule_status").items()}
    assert {k: v for k, v in status.items() if k.startswith("drift.")} == {
        "drift.age": 0, "drift.income": 1, "drift.country": 0, "drift.mobile": 0}


def test_every_latency_series_has_exactly_its_labels_and_value(run: tuple) -> None:  # type: ignore[type-arg]
    text, recs, _ = run
    for v in ("v1", "v2"):
        lat = np.array([x["latency_ms"] for x in recs if x["model_version"] == v]) / 1000
        series = _samples(text, "prediction_latency_seconds").items()
        quantiles = {dict(k)["quantile"]: val for k, val in series if dict(k)["model_version"] == v}
        assert quantiles == pytest.approx(
            {q: float(np.percentile(lat, float(q) * 100)) for q in ("0.5", "0.95", "0.99")}, rel=1e-12)
        only = (("model_version", v),)
        assert _samples(text, "prediction_latency_seconds_count")[only] == len(lat)
        assert _samples(text, "prediction_latency_seconds_sum")[only] == pytest.approx(lat.sum(), rel=1e-12)
    versions = {(("model_version", "v1"),), (("model_version", "v2"),)}
    for name in ("prediction_latency_seconds_count", "prediction_latency_seconds_sum",
                 "model_confidence_count", "model_confidence_sum"):
        assert set(_samples(text, name)) == versions, name
    assert set(_samples(text, "predictions_total")) == {
        (("model_version", v), ("status", s)) for v in ("v1", "v2") for s in ("success", "error", "unknown")}


def test_the_json_and_the_file_agree_on_the_rules(run: tuple) -> None:  # type: ignore[type-arg]
    text, _, _ = run
    alerts = {dict(k)["severity"]: v for k, v in _samples(text, "mlmon_alerts").items()}
    status = _samples(text, "mlmon_rule_status").values()
    assert alerts == {"warning": sum(s == 1 for s in status), "critical": sum(s == 2 for s in status)}


def test_a_state_bucket_with_a_bound_that_is_no_number_is_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A state file edited by hand: a confidence bucket whose `le` is no number is neither exported
    (node_exporter would refuse the whole file) nor a crash; the good buckets stay in order."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.jsonl").write_bytes(join(dumps(record(i)) for i in range(200)))
    (tmp_path / "mlmon.toml").write_text('logs = ["log.jsonl"]\n[[rules]]\nmetric = "records"\ncritical = 0')
    assert cli(["check", "--state", "st.json"]).exit_code == 0
    doc = json.loads((tmp_path / "st.json").read_text())
    good = {k: v for k, v in doc["totals"].items() if k.startswith("confidence_bucket|v1|")}
    for bad in ("abc", "nan", ""):
        doc["totals"][f"confidence_bucket|v1|{bad}"] = 3
    (tmp_path / "st.json").write_text(json.dumps(doc))
    r = cli(["check", "--state", "st.json", "-o", "prometheus:m.prom"])
    assert r.exit_code == 0, r.stdout + r.stderr
    text = (tmp_path / "m.prom").read_text()
    buckets = _samples(text, "model_confidence_bucket")
    les = [dict(k)["le"] for k in buckets if dict(k)["model_version"] == "v1"]
    assert les == [k.rsplit("|", 1)[1] for k in good]  # in the order of their bounds
    assert [float(x) for x in les] == sorted(float(x) for x in les)
    # left alone in the state, not dropped
    assert "confidence_bucket|v1|abc" in json.loads((tmp_path / "st.json").read_text())["totals"]


PREDICTION_FAMILIES = {
    "mlmon_prediction_drift_statistic": (
        "gauge",
        "Drift effect size of the model's predictions against the baseline's (label measure): KS D for "
        "confidence and value, total variation for the class.",
    ),
    "mlmon_prediction_drift": ("gauge", "1 when the prediction drifted (significant and large enough)."),
    "mlmon_multivariate_drift_statistic": (
        "gauge",
        "Joint drift of the numeric features: the rise of the mean PCA reconstruction error, in reference "
        "standard deviations.",
    ),
    "mlmon_multivariate_drift": ("gauge", "1 when the joint distribution of the numeric features drifted."),
}


def test_prediction_and_joint_drift_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Training features a, b correlated (0.8) with predictions (class, confidence); the log breaks
    the correlation and lowers the confidence; the class shares stay."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(11)

    def features(n: int, rho: float) -> np.ndarray:
        z = rng.standard_normal((n, 3))
        z[:, 1] = rho * z[:, 0] + np.sqrt(1 - rho * rho) * z[:, 1]
        return 50 + 10 * z

    x = features(3000, 0.8)
    (tmp_path / "t.csv").write_text("a,b,c\n" + "".join(f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f}\n" for r in x))
    train_cls = rng.choice(3, size=3000, p=(0.5, 0.3, 0.2))
    train_conf = np.round(rng.beta(8, 3, 3000), 4)
    (tmp_path / "p.csv").write_text("class,confidence\n" + "".join(
        f"{c},{v}\n" for c, v in zip(train_cls, train_conf, strict=True)))
    assert cli(["baseline", "t.csv", "--predictions", "p.csv", "-o", "b.json"]).exit_code == 0
    y = features(1500, 0.0)
    cls = rng.choice(3, size=1500, p=(0.5, 0.3, 0.2))
    conf = np.round(np.clip(rng.beta(8, 3, 1500) - 0.1, 0, 1), 4)
    (tmp_path / "log.jsonl").write_text("".join(json.dumps({
        "timestamp": f"2026-11-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z", "latency_ms": 12.0, "status": "ok",
        "input": {"features": {"a": y[i, 0], "b": y[i, 1], "c": y[i, 2]}},
        "prediction": {"class": int(cls[i]), "confidence": float(conf[i])},
    }) + "\n" for i in range(1500)))
    (tmp_path / "mlmon.toml").write_text(
        'logs = ["log.jsonl"]\nbaseline = "b.json"\n[[rules]]\nmetric = "drift.multivariate"\n'
        '[[rules]]\nmetric = "drift.prediction.confidence"\n[[rules]]\nmetric = "drift.prediction.class"\n')
    r = cli(["check", "-f", "json", "-o", "prometheus:m.prom"])
    assert r.exit_code == 1, r.stdout + r.stderr
    text = (tmp_path / "m.prom").read_text()
    got = {f.name: (f.type, f.documentation) for f in text_string_to_metric_families(text)
           if f.name in PREDICTION_FAMILIES}
    assert got == PREDICTION_FAMILIES
    stat = {dict(k)["prediction"]: (dict(k)["measure"], v)
            for k, v in _samples(text, "mlmon_prediction_drift_statistic").items()}
    assert set(stat) == {"prediction.class", "prediction.confidence"}
    assert stat["prediction.confidence"][0] == "ks_d"
    d = stats.ks_2samp(conf, train_conf).statistic
    assert stat["prediction.confidence"][1] == pytest.approx(d, abs=1e-9)
    tv = 0.5 * sum(abs(np.mean(cls == c) - np.mean(train_cls == c)) for c in range(3))
    assert stat["prediction.class"] == ("tv", pytest.approx(tv, abs=1e-9))
    flags = {dict(k)["prediction"]: v for k, v in _samples(text, "mlmon_prediction_drift").items()}
    assert flags == {"prediction.class": 0.0, "prediction.confidence": 1.0}
    results = {x["metric"]: x for x in json.loads(r.stdout)["results"]}
    assert results["drift.multivariate"]["status"] in ("warning", "critical")
    assert _samples(text, "mlmon_multivariate_drift") == {(): 1.0}
    (joint,) = _samples(text, "mlmon_multivariate_drift_statistic").items()
    assert joint[0] == () and joint[1] == pytest.approx(results["drift.multivariate"]["value"], rel=1e-9)
    # neither is a feature
    for name in ("mlmon_feature_drift", "mlmon_feature_drift_statistic", "mlmon_feature_missing_share"):
        assert not any(dict(k)["feature"] in ("multivariate", "prediction.class", "prediction.confidence")
                       for k in _samples(text, name)), name
