"""Shown = compared: every output puts next to a limit the quantity the verdict compared with it
(a drift rule's effect upper 95% bound), labelled, with the point estimate beside it."""

from __future__ import annotations

import csv
import io
import json
import shlex
from pathlib import Path

import numpy as np
import pytest
from corpus import cli, strict_json
from services import Receiver, Service, alertmanager, receiver  # noqa: F401


def _bound_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, float]:  # type: ignore[type-arg]
    """A log whose x drifted a little, and a `drift.x` rule whose warning limit lies between the
    effect's point estimate and its upper 95% bound: the verdict is a warning (the data do not
    show the change is smaller than the limit) while the estimate is below the limit."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(20)
    with open("train.csv", "w") as fh:
        fh.write("x\n")
        for x in rng.normal(10, 2, 3000):
            fh.write(f"{x:.4f}\n")
    with open("log.jsonl", "w") as fh:
        for i, x in enumerate(rng.normal(10.5, 2, 800)):
            fh.write(json.dumps({"timestamp": f"2026-11-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z",
                                 "input": {"features": {"x": round(float(x), 4)}}}) + "\n")
    assert cli(["baseline", "train.csv", "-o", "base.json"]).exit_code == 0
    d = cli(["drift", "log.jsonl", "--baseline", "base.json", "-f", "json"])
    (f,) = [f for f in strict_json(d.stdout)["features"] if f["name"] == "x"]
    assert f["p_value_adjusted"] < 0.05 and f["effect_low"] < f["effect_size"] < f["effect_high"]
    warning = round((f["effect_size"] + f["effect_high"]) / 2, 6)
    assert f["effect_size"] < warning < f["effect_high"]
    (tmp_path / "mlmon.toml").write_text(
        'logs = ["log.jsonl"]\nbaseline = "base.json"\n'
        f'[[rules]]\nmetric = "drift.x"\nwarning = {warning}\ncritical = 0.99\n'
    )
    return f, warning


def test_json_gives_the_compared_bound_and_the_estimate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlmon.numfmt import number

    f, warning = _bound_decides(tmp_path, monkeypatch)
    r = cli(["check", "-f", "json"])
    assert r.exit_code == 1, r.stderr
    (res,) = [x for x in strict_json(r.stdout)["results"] if x["name"] == "drift.x"]
    assert res["status"] == "warning" and res["threshold"] == warning
    assert res["compared"] == f["effect_high"] and res["compared_kind"] == "upper 95%"
    assert res["estimate"] == res["value"] == f["effect_size"] < warning <= res["compared"]
    assert (res["warning_compared"], res["warning_kind"]) == (f["effect_high"], "upper 95%")
    assert (res["critical_compared"], res["critical_kind"]) == (f["effect_low"], "lower 95%")
    # the alert's text (Alertmanager summary, mail, Nagios) leads with what fired it
    (alert,) = [a for a in strict_json(r.stdout)["alerts"] if a["metric"] == "drift.x"]
    lead = f"drift.x: upper 95% {number(f['effect_high'])} reaches the warning limit"
    assert alert["message"].startswith(lead)


def test_every_format_shows_the_bound_next_to_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from junitparser import Failure, JUnitXml

    from mlmon.numfmt import number

    f, warning = _bound_decides(tmp_path, monkeypatch)
    r = cli(["check", "-o", "junit:r.xml", "-o", "markdown:r.md", "-o", "csv:r.csv", "--fail-on", "warning"])
    assert r.exit_code == 1, r.stderr
    high, est = number(f["effect_high"]), number(f["effect_size"])

    # table: the compared column holds the labelled bound, the estimate beside it
    row = next(line for line in r.stdout.splitlines() if "drift.x" in line)
    cells = [c.strip() for c in row.replace("│", "|").split("|") if c.strip()]
    assert cells[1:5] == ["warning", f"{high} (upper 95%)", est, number(warning)], cells

    # CSV
    rows = csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text()))
    (crow,) = [x for x in rows if x["rule"] == "drift.x"]
    assert float(crow["compared"]) == f["effect_high"] and crow["compared_kind"] == "upper 95%"
    assert float(crow["value"]) == f["effect_size"] and float(crow["warning"]) == warning

    # JUnit, read by a JUnit consumer
    (suite,) = list(JUnitXml.fromfile(str(tmp_path / "r.xml")))
    (case,) = [c for c in suite if c.name == "drift.x"]
    (fail,) = case.result
    assert isinstance(fail, Failure)
    assert f"compared {high} (upper 95%) with limit {number(warning)}" in (fail.text or "")
    assert f"estimate {est}" in (fail.text or "")

    # Markdown: compared, estimate, warning in that order
    md = next(line for line in (tmp_path / "r.md").read_text().splitlines() if "drift.x" in line)
    mcells = [c.strip() for c in md.split("|")]
    assert mcells[3:7] == ["warning", f"{high} (upper 95%)", est, number(warning)], mcells


def test_nagios_perfdata_puts_the_thresholds_on_the_bounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f, warning = _bound_decides(tmp_path, monkeypatch)
    r = cli(["check", "--nagios"])
    assert r.exit_code == 1
    (line,) = r.stdout.splitlines()
    assert line.startswith("MLMON WARNING - drift.x: upper 95% ")
    perf = {}
    for item in shlex.split(line.split(" | ", 1)[1]):  # labels are quoted as a shell quotes
        label, _, data = item.partition("=")
        perf[label] = data.split(";")
    value, warn, crit = perf["drift.x upper 95%"][:3]
    assert float(value) == pytest.approx(f["effect_high"], rel=1e-5) and float(warn) == warning
    assert float(value) >= float(warn) and crit == ""
    value, warn, crit = perf["drift.x lower 95%"][:3]
    assert float(value) == pytest.approx(f["effect_low"], rel=1e-5) and warn == "" and float(crit) == 0.99
    # the point estimate keeps the rule's label, without thresholds it was not compared with
    value, warn, crit = perf["drift.x"][:3]
    assert float(value) == pytest.approx(f["effect_size"], rel=1e-5) and warn == crit == ""


def test_alertmanager_gets_the_bound_as_value(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    alertmanager: tuple[Service, Receiver],  # noqa: F811
) -> None:
    from mlmon.numfmt import number

    am, hook = alertmanager
    f, warning = _bound_decides(tmp_path, monkeypatch)
    r = cli(["check", "--alertmanager", am.url, "-f", "json"])
    assert r.exit_code == 1, r.stderr
    (body,) = hook.wait_for(1)
    (alert,) = [a for a in body["alerts"] if a["labels"]["alertname"] == "drift.x"]
    ann = alert["annotations"]
    assert ann["value"] == f"{number(f['effect_high'])} (upper 95%)"
    assert ann["threshold"] == number(warning) and ann["estimate"] == number(f["effect_size"])
    assert f["effect_size"] < warning <= f["effect_high"]
