"""`mlmon check` with a `by` rule: the worst group's value beside the overall, and Nagios perfdata
with one stable label (and a unit) per series."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pytest
from corpus import cli, dumps, join, record, strict_json

N = 3000
RULES = '[[rules]]\nmetric = "latency_ms.p99"\nwarning = 400\ncritical = 800\nby = "model_version"\n' \
        '[[rules]]\nmetric = "success_rate"\nwarning = 0.5\nby = "model_version"\n'


def _write(tmp_path: Path, slow: str, seed: int) -> list[dict]:  # type: ignore[type-arg]
    """v1.0 and v2.0 records; the `slow` version's latencies are twice the other's (all under 400)."""
    rng = random.Random(seed)
    recs = []
    for i in range(N):
        version = "v2.0" if i % 2 else "v1.0"
        base = rng.uniform(10, 80)
        recs.append(record(i, rng=rng, model_version=version,
                           latency_ms=round(base * (2 if version == slow else 1), 2)))
    (tmp_path / "log.jsonl").write_bytes(join([dumps(r) for r in recs]))
    (tmp_path / "mlmon.toml").write_text(f'logs = ["log.jsonl"]\n{RULES}')
    return recs


def _p99(recs: list[dict], version: str | None = None) -> float:  # type: ignore[type-arg]
    return float(np.percentile([r["latency_ms"] for r in recs if version in (None, r["model_version"])], 99))


PERF = re.compile(r"('(?:[^']|'')+'|[^'= ]+)=(\S+)")


def _perfdata(line: str) -> dict[str, tuple[float | None, str, list[str]]]:
    """Perfdata per the monitoring-plugins guidelines: space-separated 'label'=value[UOM];warn;crit;min;max,
    labels quoted when they hold spaces or other specials, value a number or U."""
    _, sep, perf = line.rstrip("\n").partition(" | ")
    assert sep
    out: dict[str, tuple[float | None, str, list[str]]] = {}
    pos = 0
    for m in PERF.finditer(perf):
        assert perf[pos:m.start()].strip() == "", perf  # nothing between the items but spaces
        pos = m.end()
        label = m.group(1)
        label = label[1:-1].replace("''", "'") if label.startswith("'") else label
        value, *thresholds = m.group(2).split(";")
        num = re.fullmatch(r"(-?[0-9.]+(?:e[-+]?[0-9]+)?)([a-zA-Z%]*)|U", value)
        assert num is not None, value
        assert label not in out, f"label {label} twice"
        out[label] = (None if value == "U" else float(num.group(1)), "" if value == "U" else num.group(2),
                      thresholds)
    assert perf[pos:].strip() == ""
    return out


def test_an_ok_by_rule_shows_the_worst_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    recs = _write(tmp_path, "v2.0", 1)
    r = cli(["check", "-f", "json"])
    assert r.exit_code == 0, r.stderr
    res = {x["name"]: x for x in strict_json(r.stdout)["results"]}["latency_ms.p99"]
    assert res["status"] == "ok"
    assert res["value"] == pytest.approx(_p99(recs), rel=1e-12)
    assert res["overall"] == pytest.approx(_p99(recs), rel=1e-12)
    assert res["worst_group"] == "v2.0"
    assert res["worst_value"] == pytest.approx(_p99(recs, "v2.0"), rel=1e-12)
    assert res["worst_value"] > res["overall"]
    monkeypatch.setenv("COLUMNS", "250")
    table = cli(["check"]).stdout
    line = next(x for x in table.splitlines() if "latency_ms.p99 " in x and "worst" in x)
    assert f"worst model_version v2.0: {res['worst_value']:.4g}" in line


def test_perfdata_labels_are_stable_when_the_worst_group_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runs = []
    for slow, seed in (("v2.0", 1), ("v1.0", 2)):
        recs = _write(tmp_path, slow, seed)
        r = cli(["check", "--nagios"])
        assert r.exit_code == 0, r.stdout
        runs.append((recs, _perfdata(r.stdout)))
    (recs_a, a), (recs_b, b) = runs
    assert list(a) == list(b)  # the same labels, in the same order
    assert {"latency_ms.p99", "latency_ms.p99;v1.0", "latency_ms.p99 lower 95%", "latency_ms.p99;v2.0",
            "success_rate",
            "success_rate;v1.0", "success_rate;v2.0", "records"} <= set(a)
    for recs, perf in runs:
        assert perf["latency_ms.p99"][0] == pytest.approx(_p99(recs), rel=1e-5)
        for v in ("v1.0", "v2.0"):
            assert perf[f"latency_ms.p99;{v}"][0] == pytest.approx(_p99(recs, v), rel=1e-5)
            ok = np.mean([x["status"] == "success" for x in recs if x["model_version"] == v])
            assert perf[f"success_rate;{v}"][0] == pytest.approx(ok, rel=1e-5)
        assert all(perf[k][1] == "ms" for k in perf if k.startswith("latency_ms"))
        assert all(perf[k][1] == "" for k in perf if not k.startswith("latency_ms"))  # shares, counts
        # a percentile's limits are compared with its 95% lower bound: that series carries them
        assert perf["latency_ms.p99 lower 95%"][1] == "ms"
        assert perf["latency_ms.p99 lower 95%"][2][:2] == ["400", "800"]
        assert perf["latency_ms.p99;v2.0"][2][:2] == ["", ""]
        assert perf["success_rate;v1.0"][2][0] == "0.5:"
    # the worst group changed between the runs; each label kept its meaning
    assert a["latency_ms.p99;v2.0"][0] > a["latency_ms.p99;v1.0"][0]
    assert b["latency_ms.p99;v1.0"][0] > b["latency_ms.p99;v2.0"][0]
