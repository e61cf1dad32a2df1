"""The Prometheus text of a check called directly (mlmon/report/prometheus.py check_prometheus), on
reports made once per module: every family read back by name, type, labels and value against the
records (numpy), the --state totals in the order a scrape lists them, a failed run, the identity
labels on every series, and each rule's status number."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from corpus import cli, dumps, join, record
from prometheus_client.parser import text_string_to_metric_families

from mlmon.api import CheckReport, check
from mlmon.report.prometheus import check_prometheus
from mlmon.rules.check import Status
from mlmon.rules.config import Rule
from mlmon.stats.baseline import load as load_baseline

NOW = 1_790_000_000.5
N = 300


def _recs() -> list[dict[str, Any]]:
    recs = []
    for i in range(N):
        r = record(i, model_version=["v1", "v|2", "v1"][i % 3])
        if i % 10 == 0:
            del r["model_version"]
        if i % 17 == 0:
            del r["status"]
        if i % 11 == 0:
            del r["prediction"]["confidence"]
        if i % 13 == 0:
            del r["latency_ms"]
        if i >= N // 2 and i % 4 == 0:
            del r["input"]["features"]["age"]
        recs.append(r)
    return recs


_MADE: dict[str, Any] = {}
"""The reports, made once per process: benchmarks/mutation.py's runs fork a process per mutant
from one that ran these tests, and each fork then checks its mutant in a fraction of a second."""


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if _MADE:
        return _MADE
    d = tmp_path_factory.mktemp("prom")
    recs = _recs()
    (d / "log.jsonl").write_bytes(join(dumps(r) for r in recs))
    rows = ["age,income,country,mobile"] + [
        f"{30 + (i * 37 % 400) / 10},{1000 + 7 * i},{['US', 'DE'][i % 2]},{'true' if i % 3 else 'false'}"
        for i in range(200)
    ]
    (d / "base.csv").write_text("\n".join(rows) + "\n")
    assert cli(["baseline", str(d / "base.csv"), "-o", str(d / "base.json")]).exit_code == 0
    rules = (
        Rule("latency_ms.max", "fine", warning=1e9),
        Rule("latency_ms.mean", "slow", warning=1.0, critical=1e9),
        Rule("records", "few", warning=1e9, critical=1e8, direction="below"),
        Rule("confidence.mean", "conf", warning=0.0, direction="below"),
    )
    by = check([str(d / "log.jsonl")], rules, now=NOW)
    drift = check([str(d / "log.jsonl")], rules[:1], baseline=load_baseline(str(d / "base.json")), now=NOW)
    _MADE.update(recs=recs, by=by, drift=drift)
    return _MADE


def _families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(s.labels.items())): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == name
    }


def _group(r: dict[str, Any]) -> tuple[str, str]:
    """(model_version, model_version_missing) labels of a record's series."""
    return (r["model_version"], "") if "model_version" in r else ("", "true")


def _key(version: str, missing: str, **more: str) -> tuple[tuple[str, str], ...]:
    labels = {"model_version": version, **more}
    if missing:
        labels["model_version_missing"] = missing
    return tuple(sorted(labels.items()))


def test_a_failed_run_has_only_its_failure_and_time() -> None:
    text = check_prometheus(None, now=NOW, success=False)
    fams = _families(text)
    assert list(fams) == ["mlmon_run_success", "mlmon_last_run_timestamp_seconds"]
    assert _samples(text, "mlmon_run_success") == {(): 0.0}
    assert _samples(text, "mlmon_last_run_timestamp_seconds") == {(): NOW}
    ok = check_prometheus(None, now=NOW, success=True)
    assert _samples(ok, "mlmon_run_success") == {(): 1.0}


def test_predictions_by_group_and_status_match_the_records(made: dict[str, Any]) -> None:
    text = check_prometheus(made["by"], now=NOW, success=True)
    want: dict[tuple[tuple[str, str], ...], float] = {}
    for r in made["recs"]:
        status = {"success": "success", "error": "error"}.get(r.get("status", ""), "unknown")
        k = _key(*_group(r), status=status)
        want[k] = want.get(k, 0) + 1
    got = {k: v for k, v in _samples(text, "predictions_total").items() if v}
    assert got == want
    assert sum(_samples(text, "predictions_total").values()) == N
    fam = _families(text)["predictions"]
    assert (fam.type, fam.documentation) == (
        "counter",
        "Predictions in the logs read, by model version and status.",
    )


def test_latency_quantiles_sum_and_count_match_numpy(made: dict[str, Any]) -> None:
    text = check_prometheus(made["by"], now=NOW, success=True)
    fam = _families(text)["prediction_latency_seconds"]
    assert (fam.type, fam.documentation) == ("summary", "Prediction latency in seconds.")
    groups: dict[tuple[str, str], list[float]] = {}
    for r in made["recs"]:
        if "latency_ms" in r:
            groups.setdefault(_group(r), []).append(r["latency_ms"])
    count = _samples(text, "prediction_latency_seconds_count")
    total = _samples(text, "prediction_latency_seconds_sum")
    quant = _samples(text, "prediction_latency_seconds")
    assert set(count) == {_key(*g) for g in groups}
    for g, values in groups.items():
        v = np.array(values)
        assert count[_key(*g)] == len(v)
        assert total[_key(*g)] == pytest.approx(v.sum() / 1000, rel=1e-9)
        for q in ("0.5", "0.95", "0.99"):
            assert quant[_key(*g, quantile=q)] == pytest.approx(
                np.percentile(v, float(q) * 100) / 1000, rel=1e-9
            )


def test_confidence_buckets_are_cumulative_in_order_with_sum_and_count(made: dict[str, Any]) -> None:
    text = check_prometheus(made["by"], now=NOW, success=True)
    fam = _families(text)["model_confidence"]
    assert (fam.type, fam.documentation) == ("histogram", "Confidence of the predictions.")
    edges = ["0.5", "0.6", "0.7", "0.8", "0.9", "0.95", "0.99", "1.0", "+Inf"]
    groups: dict[tuple[str, str], list[float]] = {}
    for r in made["recs"]:
        if "confidence" in r["prediction"]:
            groups.setdefault(_group(r), []).append(r["prediction"]["confidence"])
    for g, values in groups.items():
        v = np.array(values)
        series = [
            s
            for s in fam.samples
            if s.name == "model_confidence_bucket"
            and _key(*g) == tuple(sorted((k, x) for k, x in s.labels.items() if k != "le"))
        ]
        assert [s.labels["le"] for s in series] == edges
        want = [float(np.sum(v <= float(e))) for e in edges[:-1]] + [float(len(v))]
        assert [s.value for s in series] == want
        assert _samples(text, "model_confidence_count")[_key(*g)] == len(v)
        assert _samples(text, "model_confidence_sum")[_key(*g)] == pytest.approx(v.sum(), rel=1e-9)


def test_rules_alerts_and_records(made: dict[str, Any]) -> None:
    rep: CheckReport = made["by"]
    text = check_prometheus(rep, now=NOW, success=True)
    status = {dict(k)["rule"]: (dict(k)["metric"], v) for k, v in _samples(text, "mlmon_rule_status").items()}
    assert status == {
        "fine": ("latency_ms.max", 0),
        "slow": ("latency_ms.mean", 1),
        "few": ("records", 2),
        "conf": ("confidence.mean", 0),
    }
    assert _samples(text, "mlmon_alerts") == {(("severity", "warning"),): 1, (("severity", "critical"),): 1}
    assert _samples(text, "mlmon_records") == {(): N}
    nodata = replace(rep, results=tuple(replace(r, status=Status.NO_DATA) for r in rep.results), alerts=())
    text = check_prometheus(nodata, now=NOW, success=True)
    assert set(_samples(text, "mlmon_rule_status").values()) == {3}
    assert set(_samples(text, "mlmon_alerts").values()) == {0}
    crit = replace(rep, results=tuple(replace(r, status=Status.CRITICAL) for r in rep.results))
    assert set(_samples(check_prometheus(crit, now=NOW, success=True), "mlmon_rule_status").values()) == {2}
    fams = _families(text)
    assert (fams["mlmon_alerts"].type, fams["mlmon_alerts"].documentation) == (
        "gauge",
        "Rules firing, by severity.",
    )
    assert fams["mlmon_rule_status"].documentation == "Each rule: 0 ok, 1 warning, 2 critical, 3 no data."
    assert fams["mlmon_records"].documentation == "Valid records the last run checked."


def test_without_groups_the_overall_has_an_empty_version(made: dict[str, Any]) -> None:
    rep: CheckReport = made["by"]
    whole = replace(rep, summary=replace(rep.summary, groups=()))
    text = check_prometheus(whole, now=NOW, success=True)
    assert {k for k, v in _samples(text, "predictions_total").items()} == {
        _key("", "", status=s) for s in ("success", "error", "unknown")
    }
    assert set(_samples(text, "prediction_latency_seconds_count")) == {_key("", "")}


def test_the_identity_labels_are_on_every_series_and_escaped(made: dict[str, Any]) -> None:
    labels = {"service": 'fraud "a"\\b ä', "env": "prod"}
    text = check_prometheus(made["drift"], now=NOW, success=True, labels=labels)
    n = 0
    for f in text_string_to_metric_families(text):
        for s in f.samples:
            assert s.labels["service"] == labels["service"] and s.labels["env"] == "prod", s
            n += 1
    assert n > 20
    # a label of the run's own never replaces one mlmon sets on the series
    text = check_prometheus(made["by"], now=NOW, success=True, labels={"status": "x"})
    assert {dict(k)["status"] for k in _samples(text, "predictions_total")} == {"success", "error", "unknown"}


def test_the_state_totals_replace_this_runs_counts_in_scrape_order(made: dict[str, Any]) -> None:
    totals = {
        "confidence_bucket|v|2|1.0": 7,
        "confidence_bucket|v|2|0.5": 2,
        "confidence_bucket|v|2|+Inf": 9,
        "confidence_bucket|v|2|0.95": 5,
        "predictions|v|2|success": 40,
        "predictions-missing||error": 3,
        "latency_sum|a||b|": 1.5,
        "latency_count|a||b|": 4,
        "confidence_count|v|2|": 9,
        "confidence_sum|v|2|": 6.5,
        "unknown|v1|x": 5,
        "predictions|v0|success": 1,
    }
    text = check_prometheus(made["by"], now=NOW, success=True, totals=totals)
    assert _samples(text, "predictions_total") == {
        _key("v|2", "", status="success"): 40,
        _key("", "true", status="error"): 3,
        _key("v0", "", status="success"): 1,
    }
    assert _samples(text, "prediction_latency_seconds_count") == {_key("a||b", ""): 4}
    assert _samples(text, "prediction_latency_seconds_sum") == {_key("a||b", ""): 1.5}
    assert _samples(text, "model_confidence_count") == {_key("v|2", ""): 9}
    assert _samples(text, "model_confidence_sum") == {_key("v|2", ""): 6.5}
    buckets = [
        (s.labels["le"], s.value)
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "model_confidence_bucket"
    ]
    assert buckets == [("0.5", 2), ("0.95", 5), ("1.0", 7), ("+Inf", 9)]
    order = [
        (s.labels["model_version"], s.labels.get("status"))
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "predictions_total"
    ]
    assert order == [("", "error"), ("v0", "success"), ("v|2", "success")]
    # the quantiles stay this run's
    assert _samples(text, "prediction_latency_seconds")


def test_the_series_of_one_group_stay_together_by_kind(made: dict[str, Any]) -> None:
    totals = {
        "latency_count|b|": 1,
        "predictions|b|success": 2,
        "predictions|a|success": 3,
        "predictions-missing|a|success": 4,
        "latency_count|a|": 5,
        "predictions|a|error": 6,
    }
    text = check_prometheus(made["by"], now=NOW, success=True, totals=totals)
    order = [
        (s.name, s.labels["model_version"], s.labels.get("model_version_missing", ""), s.labels.get("status"))
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name in ("predictions_total", "prediction_latency_seconds_count")
    ]
    assert order == [
        ("predictions_total", "a", "", "error"),
        ("predictions_total", "a", "", "success"),
        ("predictions_total", "a", "true", "success"),
        ("predictions_total", "b", "", "success"),
        ("prediction_latency_seconds_count", "a", "", None),
        ("prediction_latency_seconds_count", "b", "", None),
    ]


def test_feature_families_read_back_against_the_report(made: dict[str, Any]) -> None:
    rep: CheckReport = made["drift"]
    assert rep.features is not None
    feats = [f for f in rep.features if f.role == "feature"]
    rep = replace(rep, features=tuple(feats))
    text = check_prometheus(rep, now=NOW, success=True)
    stat = {
        (dict(k)["feature"], dict(k)["measure"]): v
        for k, v in _samples(text, "mlmon_feature_drift_statistic").items()
    }
    assert stat == {(f.name, f.effect_measure): f.effect_size for f in feats if f.effect_size is not None}
    assert set(stat) == {("age", "ks_d"), ("income", "ks_d"), ("country", "tv"), ("mobile", "tv")}
    flags = {dict(k)["feature"]: v for k, v in _samples(text, "mlmon_feature_drift").items()}
    assert flags == {f.name: (1.0 if f.drift else 0.0) for f in feats}
    missing = {dict(k)["feature"]: v for k, v in _samples(text, "mlmon_feature_missing_share").items()}
    recs = made["recs"]
    assert missing["age"] == pytest.approx(sum("age" not in r["input"]["features"] for r in recs) / N)
    assert missing["income"] == 0.0
    outside = {dict(k)["feature"]: v for k, v in _samples(text, "mlmon_feature_out_of_range_share").items()}
    assert set(outside) == {"age", "income"}
    ages = np.array([r["input"]["features"]["age"] for r in recs if "age" in r["input"]["features"]])
    assert outside["age"] == pytest.approx(np.mean((ages < 30) | (ages > 69.9)))
    fams = _families(text)
    assert "mlmon_prediction_drift" not in fams and "mlmon_multivariate_drift" not in fams
    assert "mlmon_quality" not in fams
    assert (
        _families(check_prometheus(made["by"], now=NOW, success=True))
        .keys()
        .isdisjoint({"mlmon_feature_drift", "mlmon_feature_drift_statistic"})
    )


def test_prediction_and_joint_families_read_back_against_the_report(made: dict[str, Any]) -> None:
    rep: CheckReport = made["drift"]
    assert rep.features is not None
    rep = replace(rep, features=tuple(f for f in rep.features if f.role == "feature"))
    age = next(f for f in rep.features if f.name == "age")
    pred = replace(age, name="prediction.confidence", role="prediction", effect_size=0.25, drift=True)
    pred2 = replace(age, name="prediction.class", role="prediction", effect_size=None, drift=False)
    joint = replace(age, name="multivariate", role="multivariate", effect_size=1.75, drift=True)
    joint_none = replace(joint, effect_size=None, drift=False)
    text = check_prometheus(replace(rep, features=(*rep.features, pred, pred2, joint)), now=NOW, success=True)
    assert _samples(text, "mlmon_prediction_drift_statistic") == {
        (("measure", "ks_d"), ("prediction", "prediction.confidence")): 0.25
    }
    assert _samples(text, "mlmon_prediction_drift") == {
        (("prediction", "prediction.confidence"),): 1.0,
        (("prediction", "prediction.class"),): 0.0,
    }
    assert _samples(text, "mlmon_multivariate_drift_statistic") == {(): 1.75}
    assert _samples(text, "mlmon_multivariate_drift") == {(): 1.0}
    # neither is exported as a feature
    assert "prediction.confidence" not in {dict(k)["feature"] for k in _samples(text, "mlmon_feature_drift")}
    assert "multivariate" not in {dict(k)["feature"] for k in _samples(text, "mlmon_feature_drift")}
    text = check_prometheus(replace(rep, features=(*rep.features, joint_none)), now=NOW, success=True)
    assert _samples(text, "mlmon_multivariate_drift_statistic") == {}
    assert _samples(text, "mlmon_multivariate_drift") == {(): 0.0}
    assert "mlmon_prediction_drift" not in _families(text)
    no_measure = replace(age, effect_measure=None)
    text = check_prometheus(replace(rep, features=(no_measure,)), now=NOW, success=True)
    assert _samples(text, "mlmon_feature_drift_statistic") == {
        (("feature", "age"), ("measure", "")): age.effect_size
    }
    unmeasured = replace(age, effect_size=None, missing_share=None, out_of_range_share=None, drift=False)
    text = check_prometheus(replace(rep, features=(unmeasured,)), now=NOW, success=True)
    assert _samples(text, "mlmon_feature_drift_statistic") == {}
    assert _samples(text, "mlmon_feature_missing_share") == {}
    assert _samples(text, "mlmon_feature_out_of_range_share") == {}
    assert _samples(text, "mlmon_feature_drift") == {(("feature", "age"),): 0.0}


def test_the_json_and_the_text_agree(made: dict[str, Any]) -> None:
    rep: CheckReport = made["by"]
    doc = json.loads(json.dumps(rep.to_dict()))
    text = check_prometheus(rep, now=NOW, success=True)
    assert {x["name"]: x["status"] for x in doc["results"]} == {
        dict(k)["rule"]: ["ok", "warning", "critical", "no_data"][int(v)]
        for k, v in _samples(text, "mlmon_rule_status").items()
    }
    assert Path  # the module's tmp files are made by the fixture


def test_realized_performance_reads_back_overall_and_per_group(made: dict[str, Any]) -> None:
    from mlmon.stats.performance import GroupPerformance, Metric, Performance, QualityReport, Task

    def perf(n: int, *ms: Metric) -> Performance:
        return Performance(Task.CLASSIFICATION, n, ms)

    from types import SimpleNamespace

    q = QualityReport(
        None,
        SimpleNamespace(waiting=None),
        Task.CLASSIFICATION,  # type: ignore[arg-type]
        perf(
            90,
            Metric("accuracy", 0.9, 0.85, 0.94, 90),
            Metric("f1.cat", 0.8, None, 0.9, 90),
            Metric("auc", None, None, None, 0, "one class"),
        ),
        (
            GroupPerformance("v|1", perf(50, Metric("accuracy", 0.7, 0.6, 0.8, 50))),
            GroupPerformance(None, perf(40, Metric("accuracy", 0.95, 0.9, 0.99, 40))),
        ),
    )
    text = check_prometheus(replace(made["by"], quality=q), now=NOW, success=True)
    fams = _families(text)
    assert (fams["mlmon_quality"].type, fams["mlmon_quality"].documentation) == (
        "gauge",
        "Realized performance against the labels: accuracy, macro_f1, auc, brier, ece, f1.<class>, "
        "mae, rmse, mape...; bound: value, low or high (95% interval).",
    )
    assert (fams["mlmon_quality_labelled"].type, fams["mlmon_quality_labelled"].documentation) == (
        "gauge",
        "Predictions joined to a label (the metrics' n).",
    )
    got = {
        (
            dict(k)["metric"],
            dict(k)["model_version"],
            dict(k).get("model_version_missing", ""),
            dict(k)["bound"],
        ): v
        for k, v in _samples(text, "mlmon_quality").items()
    }
    assert got == {
        ("accuracy", "", "", "value"): 0.9,
        ("accuracy", "", "", "low"): 0.85,
        ("accuracy", "", "", "high"): 0.94,
        ("f1.cat", "", "", "value"): 0.8,
        ("f1.cat", "", "", "high"): 0.9,
        ("accuracy", "v|1", "", "value"): 0.7,
        ("accuracy", "v|1", "", "low"): 0.6,
        ("accuracy", "v|1", "", "high"): 0.8,
        ("accuracy", "", "true", "value"): 0.95,
        ("accuracy", "", "true", "low"): 0.9,
        ("accuracy", "", "true", "high"): 0.99,
    }
    labelled = {
        (dict(k)["model_version"], dict(k).get("model_version_missing", "")): v
        for k, v in _samples(text, "mlmon_quality_labelled").items()
    }
    assert labelled == {("", ""): 90, ("v|1", ""): 50, ("", "true"): 40}
    # every series once: node_exporter refuses a file with two series of one name and labels
    series = [
        (s.name, tuple(sorted(s.labels.items())))
        for f in text_string_to_metric_families(text)
        for s in f.samples
    ]
    assert len(series) == len(set(series))
    assert "mlmon_quality_waiting" not in _families(text)
    w = SimpleNamespace(predictions=7, labels=3, expired_predictions=2, expired_labels=1)
    text = check_prometheus(
        replace(made["by"], quality=replace(q, accounting=SimpleNamespace(waiting=w))), now=NOW, success=True
    )
    assert _samples(text, "mlmon_quality_waiting") == {
        (("kind", "predictions"),): 7,
        (("kind", "labels"),): 3,
    }
    assert _samples(text, "mlmon_quality_expired") == {
        (("kind", "predictions"),): 2,
        (("kind", "labels"),): 1,
    }
    fams = _families(text)
    assert fams["mlmon_quality_waiting"].documentation == (
        "Predictions awaiting a label, labels awaiting a prediction (--state)."
    )
    assert fams["mlmon_quality_expired"].documentation == (
        "Predictions and labels dropped this run past the wait limits (--state)."
    )
    assert "mlmon_quality" not in _families(check_prometheus(made["by"], now=NOW, success=True))


def test_a_run_that_failed_after_checking_keeps_its_results_beside_its_failure(made: dict[str, Any]) -> None:
    text = check_prometheus(made["by"], now=NOW + 1, success=False)
    assert _samples(text, "mlmon_run_success") == {(): 0.0}
    assert _samples(text, "mlmon_last_run_timestamp_seconds") == {(): NOW + 1}
    assert _samples(text, "mlmon_records") == {(): N}


def test_the_joint_test_first_does_not_end_the_features_after_it(made: dict[str, Any]) -> None:
    rep: CheckReport = made["drift"]
    assert rep.features is not None
    age = next(f for f in rep.features if f.name == "age")
    joint = replace(age, name="multivariate", role="multivariate", effect_size=1.0, drift=False)
    pred = replace(age, name="prediction.value", role="prediction", effect_measure=None, effect_size=0.5)
    text = check_prometheus(replace(rep, features=(joint, pred, age)), now=NOW, success=True)
    assert set(_samples(text, "mlmon_feature_drift")) == {(("feature", "age"),)}
    assert _samples(text, "mlmon_prediction_drift_statistic") == {
        (("measure", ""), ("prediction", "prediction.value")): 0.5
    }
