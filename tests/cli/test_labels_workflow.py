"""A labels workflow end to end: a prediction log with request ids, labels arriving later for part of
it, `summary --labels`, `check` with quality rules and a reference from the baseline, and `trend
--labels` showing the drop window by window; every number cross-checked with scikit-learn."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from corpus import cli, error_line
from labelled_metrics import assert_binary_metrics
from sklearn import metrics as skm

START = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
N = 3000
HOURS = 6


def _world(seed: int = 7) -> dict[str, np.ndarray]:
    """A binary model over six hours (500 predictions an hour): right 93% of the time for three
    hours, then 72%."""
    rng = np.random.default_rng(seed)
    y = (rng.random(N) < 0.4).astype(int)
    hour = np.arange(N) // (N // HOURS)
    right = rng.random(N) < np.where(hour < 3, 0.93, 0.72)
    p = np.where(right, y, 1 - y)
    conf = np.clip(np.round(rng.normal(np.where(right, 0.88, 0.7), 0.08), 3), 0.5, 0.999)
    x = rng.normal(50, 10, N)
    return {"y": y, "p": p, "conf": conf, "hour": hour, "x": x}


def _write_log(path: Path, w: dict[str, np.ndarray]) -> None:
    with path.open("w") as fh:
        for i in range(N):
            ts = START + timedelta(seconds=int(i * HOURS * 3600 / N))
            rec = {"timestamp": ts.isoformat(), "request_id": f"req-{i}", "model_version": "v2",
                   "input": {"features": {"x": round(float(w["x"][i]), 4)}},
                   "prediction": {"class": int(w["p"][i]), "confidence": float(w["conf"][i])},
                   "latency_ms": 12.0, "status": "success"}
            fh.write(json.dumps(rec) + "\n")
        fh.write(json.dumps({"timestamp": START.isoformat(), "model_version": "v2",  # no request id
                             "prediction": {"class": 1, "confidence": 0.9}, "latency_ms": 3.0,
                             "status": "success"}) + "\n")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    d = tmp_path_factory.mktemp("labels")
    w = _world()
    _write_log(d / "predictions.jsonl", w)
    # the first delivery (CSV): labels for the first three hours, 80% of them, one repeated, one
    # for a request the log does not have
    rng = np.random.default_rng(1)
    early = [i for i in range(N) if w["hour"][i] < 3 and rng.random() < 0.8]
    rows = ["request_id,label"] + [f"req-{i},{w['y'][i]}" for i in early]
    rows += [rows[1], "req-999999,0"]
    (d / "labels-1.csv").write_text("\n".join(rows) + "\n")
    # the later delivery (JSON lines): 60% of the last three hours
    late = [i for i in range(N) if w["hour"][i] >= 3 and rng.random() < 0.6]
    (d / "labels-2.jsonl").write_text("".join(json.dumps({"request_id": f"req-{i}", "label": int(w["y"][i])})
                                              + "\n" for i in late))
    (d / "training.csv").write_text("x\n" + "\n".join(f"{v:.4f}" for v in np.random.default_rng(3)
                                                      .normal(50, 10, 2000)) + "\n")
    return {"dir": d, "w": w, "early": early, "late": late}


def _json(args: list[str], code: int = 0) -> dict[str, object]:
    r = cli([*args, "-f", "json"])
    assert r.exit_code == code, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


def test_summary_joins_the_labels_that_arrived_and_accounts_for_every_row(setup: dict) -> None:
    d, w, early = setup["dir"], setup["w"], setup["early"]
    doc = _json(["summary", str(d / "predictions.jsonl"), "--labels", str(d / "labels-1.csv")])
    q = doc["quality"]
    assert q["task"] == "classification" and q["positive_class"] == "1" and q["classes"] == ["0", "1"]
    assert q["join"] == {
        "predictions": N + 1, "labelled": len(early), "without_label": N - len(early), "without_key": 1,
        "duplicate_predictions": 0, "ambiguous": 0, "unusable": 0, "labels_without_prediction": 1,
    }
    assert q["labels"]["rows"] == len(early) + 2 and q["labels"]["duplicates"] == 1
    assert q["coverage"] == pytest.approx(len(early) / N)
    y, p, conf = w["y"][early], w["p"][early], w["conf"][early]
    assert_binary_metrics(q["metrics"], y, p, conf)
    m = q["metrics"]
    assert m["accuracy"]["low"] < m["accuracy"]["value"] < m["accuracy"]["high"]
    assert q["groups"][0]["group"] == "v2" and q["groups"][0]["labelled"] == len(early)
    table = cli(["summary", str(d / "predictions.jsonl"), "--labels", str(d / "labels-1.csv")])
    assert "Realized performance" in table.stdout and "without a label yet" in table.stdout


def _config(d: Path, files: list[str], rules: str, extra: str = "") -> Path:
    path = d / f"mlmon-{len(files)}-{abs(hash(rules)) % 10**6}.toml"
    path.write_text(f'logs = ["predictions.jsonl"]\nlabel-files = {json.dumps(files)}\n{extra}\n{rules}')
    return path


ACCURACY_RULE = """
[[rules]]
metric = "quality.accuracy"
warning = 0.88
critical = 0.7
"""


def test_check_passes_on_early_labels_and_alerts_once_the_late_ones_show_the_drop(setup: dict) -> None:
    d = setup["dir"]
    early_only = _config(d, ["labels-1.csv"], ACCURACY_RULE)
    ok = cli(["check", "--config", str(early_only)])
    assert ok.exit_code == 0, ok.stdout + ok.stderr
    both = _config(d, ["labels-1.csv", "labels-2.jsonl"], ACCURACY_RULE)
    r = cli(["check", "--config", str(both), "-f", "json"])
    assert r.exit_code == 1, r.stderr
    doc = json.loads(r.stdout)
    (res,) = doc["results"]
    w, idx = setup["w"], sorted(setup["early"] + setup["late"])
    acc = skm.accuracy_score(w["y"][idx], w["p"][idx])
    assert res["metric"] == "quality.accuracy" and res["status"] == "warning"
    assert res["value"] == pytest.approx(acc, abs=1e-12)
    assert doc["quality"]["metrics"]["accuracy"]["high"] < 0.88  # the upper 95% bound decided it
    prom = cli(["check", "--config", str(both), "-f", "prometheus"]).stdout
    assert f'mlmon_quality{{bound="value",metric="accuracy",model_version=""}} {acc!r}' in prom


def test_a_drop_from_the_baselines_reference_accuracy_is_an_alert(setup: dict) -> None:
    d = setup["dir"]
    base = d / "base.json"
    made = cli(["baseline", str(d / "training.csv"), "-o", str(base), "--reference-metric", "accuracy=0.93",
                "--reference-metric", "auc=0.97"])
    assert made.exit_code == 0, made.stderr
    assert json.loads(base.read_text())["reference_performance"] == {"accuracy": 0.93, "auc": 0.97}
    rules = '[[rules]]\nmetric = "quality_drop.accuracy"\nwarning = 0.03\ncritical = 0.3\n'
    cfg = _config(d, ["labels-1.csv", "labels-2.jsonl"], rules, 'baseline = "base.json"')
    doc = _json(["check", "--config", str(cfg)], code=1)
    drop = next(r for r in doc["results"] if r["metric"] == "quality_drop.accuracy")
    acc = doc["quality"]["metrics"]["accuracy"]
    assert drop["status"] == "warning" and drop["value"] == pytest.approx(0.93 - acc["value"])
    assert drop["compared"] == pytest.approx(0.93 - acc["high"]) and drop["compared_kind"] == "lower 95%"
    # the early labels alone: no drop the data prove beyond 0.03
    early = _config(d, ["labels-1.csv"], rules, 'baseline = "base.json"')
    doc = _json(["check", "--config", str(early)])
    assert next(r for r in doc["results"] if r["metric"] == "quality_drop.accuracy")["status"] == "ok"
    # a rule on a metric the baseline has no reference for checks nothing: no data, exit 65
    none = _config(d, ["labels-1.csv"], rules.replace("accuracy", "brier"), 'baseline = "base.json"')
    r = cli(["check", "--config", str(none)])
    assert r.exit_code == 65 and "quality_drop.brier" in r.stderr


def test_trend_shows_the_drop_window_by_window(setup: dict) -> None:
    d, w = setup["dir"], setup["w"]
    doc = _json(["trend", str(d / "predictions.jsonl"), "--every", "1h", "--labels", str(d / "labels-*"),
                 "--include-partial"])  # a glob: both deliveries
    windows = doc["quality"]["windows"]
    assert len(windows) == HOURS
    labelled = set(setup["early"]) | set(setup["late"])
    for h, win in enumerate(windows):
        idx = [i for i in range(N) if w["hour"][i] == h and i in labelled]
        assert win["labelled"] == len(idx)
        assert win["metrics"]["accuracy"]["value"] == pytest.approx(
            skm.accuracy_score(w["y"][idx], w["p"][idx]), abs=1e-12)
    acc = [win["metrics"]["accuracy"]["value"] for win in windows]
    assert min(acc[:3]) > 0.88 > max(acc[3:])
    table = cli(["trend", str(d / "predictions.jsonl"), "--every", "1h", "--labels", str(d / "labels-1.csv")])
    assert "Realized performance by window" in table.stdout


def test_parquet_labels_and_a_regression_model(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    y = rng.gamma(3.0, 10.0, 400) + 1
    pred = y + rng.normal(0, 3, 400)
    with (tmp_path / "reg.jsonl").open("w") as fh:
        for i in range(400):
            fh.write(json.dumps({"timestamp": "2026-11-01T10:00:00Z", "meta": {"id": i},
                                "prediction": float(pred[i]), "latency_ms": 5, "status": "ok"}) + "\n")
    pq.write_table(pa.table({"meta": pa.array([{"id": i} for i in range(0, 400, 2)]),
                             "truth": pa.array(y[::2])}), tmp_path / "labels.parquet")
    doc = _json(["summary", str(tmp_path / "reg.jsonl"), "--labels", str(tmp_path / "labels.parquet"),
                 "--label-field", "truth", "--join-field", "meta.id"])
    q = doc["quality"]
    assert q["task"] == "regression" and q["labelled"] == 200
    m = q["metrics"]
    assert m["mae"]["value"] == pytest.approx(skm.mean_absolute_error(y[::2], pred[::2]), abs=1e-12)
    assert m["rmse"]["value"] == pytest.approx(np.sqrt(skm.mean_squared_error(y[::2], pred[::2])), abs=1e-12)
    assert m["mape"]["value"] == pytest.approx(skm.mean_absolute_percentage_error(y[::2], pred[::2]),
                                               abs=1e-12)


def test_labels_that_cannot_be_used_are_clear_errors(setup: dict, tmp_path: Path) -> None:
    d = setup["dir"]
    log = str(d / "predictions.jsonl")
    r = cli(["summary", log, "--labels", str(d / "labels-1.csv"), "--label-field", "truth"])
    assert r.exit_code == 65 and "'truth'" in error_line(r) and "--label-field" in error_line(r)
    r = cli(["summary", log, "--labels", str(d / "labels-2.jsonl"), "--label-field", "truth"])
    assert r.exit_code == 65 and "'truth'" in error_line(r) and "--label-field" in error_line(r)
    r = cli(["summary", log, "--labels", str(d / "labels-1.csv"), "--join-field", "rid"])
    assert r.exit_code == 65 and "--join-field" in error_line(r)
    r = cli(["summary", log, "--labels", str(tmp_path / "nope.csv")])
    assert r.exit_code == 66
    r = cli(["summary", log, "--positive-class", "1"])
    assert r.exit_code == 2 and "--labels" in error_line(r)
    bad = _config(d, ["labels-1.csv"], '[[rules]]\nmetric = "quality.acuracy"\nwarning = 0.9\n')
    r = cli(["check", "--config", str(bad)])
    assert r.exit_code == 78 and "quality.accuracy" in error_line(r)
    nolimit = _config(d, ["labels-1.csv"], '[[rules]]\nmetric = "quality.auc"\n')
    assert cli(["check", "--config", str(nolimit)]).exit_code == 78
    # a quality rule without labels checked nothing: never a pass
    nolabels = d / "nolabels.toml"
    nolabels.write_text('logs = ["predictions.jsonl"]\n' + ACCURACY_RULE)
    r = cli(["check", "--config", str(nolabels)])
    assert r.exit_code == 65 and "quality.accuracy" in r.stderr


def test_the_quality_pages_labels_examples_run_as_written(tmp_path: Path) -> None:
    """docs/quality.md: its sh block (from the repository's root) and its config file, with the
    sample labels in place of labels/*.csv and a baseline holding a reference accuracy."""
    import re
    import shutil
    import subprocess
    import sys
    import tomllib

    from readme_docs import PAGES, ROOT

    page = PAGES["quality.md"]
    (script,) = [b for b in re.findall(r"```sh\n(.*?)```", page, flags=re.S) if "--labels" in b]
    bin_dir = str(Path(sys.executable).parent)
    for line in script.strip().splitlines():
        done = subprocess.run(["bash", "-c", line], cwd=ROOT, capture_output=True, text=True, timeout=300,
                              env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}, check=False)
        assert done.returncode == 0, line + done.stderr
        assert "Realized performance" in done.stdout and "Labels: 1,416 of 2,000" in done.stdout
    (toml,) = [b for b in re.findall(r"```toml\n(.*?)```", page, flags=re.S) if "label-files" in b]
    assert tomllib.loads(toml)["label-files"] == ["labels/*.csv"]
    (tmp_path / "labels").mkdir()
    shutil.copy(ROOT / "sample_logs" / "labels.csv", tmp_path / "labels" / "labels.csv")
    shutil.copy(ROOT / "sample_logs" / "predictions_ids.jsonl", tmp_path / "predictions_ids.jsonl")
    (tmp_path / "training.csv").write_text("latency_ms\n" + "\n".join(str(10 + i % 30) for i in range(500)))
    made = cli(["baseline", str(tmp_path / "training.csv"), "-o", str(tmp_path / "baseline.json"),
                "--reference-metric", "accuracy=0.91"])
    assert made.exit_code == 0, made.stderr
    off = '\n[[rules]]\nmetric = "missing_share.*"\nwarning = 1\ncritical = 1\n'
    (tmp_path / "mlmon.toml").write_text('logs = ["predictions_ids.jsonl"]\n' + toml + off)
    r = cli(["check", "--config", str(tmp_path / "mlmon.toml"), "-f", "json"])
    doc = json.loads(r.stdout)
    status = {x["metric"]: x["status"] for x in doc["results"]}
    # the sample's accuracy falls from 0.90 to 0.78 after two hours: 0.84 overall
    assert status["quality.accuracy"] == "warning" and status["quality_drop.accuracy"] == "warning"
    assert r.exit_code == 1, r.stderr


def test_compare_gives_each_versions_performance_and_its_difference_from_the_control(tmp_path: Path) -> None:
    rng = np.random.default_rng(12)
    n = 3000
    version = np.where(np.arange(n) % 2 == 0, "v1", "v2")
    y = (rng.random(n) < 0.4).astype(int)
    right = rng.random(n) < np.where(version == "v1", 0.92, 0.84)
    p = np.where(right, y, 1 - y)
    with (tmp_path / "canary.jsonl").open("w") as fh:
        for i in range(n):
            pred = {"class": int(p[i]), "confidence": 0.8}
            fh.write(json.dumps({"timestamp": "2026-11-01T10:00:00Z", "request_id": i,
                                "model_version": version[i], "prediction": pred,
                                "latency_ms": float(10 + rng.random()), "status": "ok"}) + "\n")
    (tmp_path / "labels.csv").write_text("request_id,label\n" + "".join(f"{i},{y[i]}\n" for i in range(n)))
    doc = _json(["compare", str(tmp_path / "canary.jsonl"), "--control", "v1", "--labels",
                 str(tmp_path / "labels.csv")], code=1)  # v2's accuracy is worse: an alert
    q = doc["quality"]
    per = {g["group"]: g["metrics"]["accuracy"]["value"] for g in q["groups"]}
    for v in ("v1", "v2"):
        sel = version == v
        assert per[v] == pytest.approx(skm.accuracy_score(y[sel], p[sel]), abs=1e-12)
    (vs,) = q["versus_control"]
    assert vs["version"] == "v2" and vs["metric"] == "accuracy"
    assert vs["difference"] == pytest.approx(per["v2"] - per["v1"], abs=1e-12)
    assert vs["low"] < vs["difference"] < vs["high"] < 0  # v2 is worse, and the interval shows it
    assert vs["verdict"] == "worse" and [a["group"] for a in doc["alerts"]] == ["v2"]


def test_the_html_report_has_a_labels_section_window_by_window(setup: dict, tmp_path: Path) -> None:
    d = setup["dir"]
    log = tmp_path / "hostile.jsonl"
    # the version name is log text: it reaches the page escaped
    log.write_text((d / "predictions.jsonl").read_text().replace('"v2"', '"<b>v2</b>"'))
    page = tmp_path / "r.html"
    r = cli(["report", str(log), "--labels", str(d / "labels-*"), "--every", "1h", "-o", str(page)])
    assert r.exit_code in (0, 1), r.stderr
    html = page.read_text()
    assert 'id="quality"' in html and 'id="quality-windows"' in html
    assert "<b>v2</b>" not in html and "&lt;b&gt;v2&lt;/b&gt;" in html
    doc = _json(["summary", str(log), "--labels", str(d / "labels-*")])
    from mlmon.numfmt import number

    acc = doc["quality"]["metrics"]["accuracy"]
    assert f"{number(acc['value'])} [{number(acc['low'])}, {number(acc['high'])}]" in html
    section = html[html.index('id="quality-windows"'):]
    section = section[:section.index("</table>")]
    assert section.count("<tr>") == HOURS + 1  # the head row and one per window


def test_the_native_and_the_pyarrow_reader_join_the_same(
    setup: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlmon.read import native

    if not native.available():
        pytest.skip("the compiled reader is not built")
    d = setup["dir"]
    args = ["summary", str(d / "predictions.jsonl"), "--labels", str(d / "labels-*")]
    monkeypatch.setenv("MLMON_READER", "native")
    fast = _json(args)["quality"]
    monkeypatch.setenv("MLMON_READER", "python")
    slow = _json(args)["quality"]
    assert fast == slow and fast["labelled"] == len(setup["early"]) + len(setup["late"])
