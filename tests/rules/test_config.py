"""Config files: discovery, TOML and schema errors that name the key path, rule checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import cli, error_line

from mlmon.errors import ConfigError, ExitCode
from mlmon.rules.config import find_config, load_config, metric_direction

SETTINGS = {"logs": {"type": "array"}, "max-p99-ms": {"type": "number"}, "by": {"type": "string"}}


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_rules_load_with_defaults_and_paths_relative_to_the_file(tmp_path: Path) -> None:
    p = _write(
        tmp_path / "mlmon.toml",
        'logs = ["logs/*.jsonl"]\n[[rules]]\nmetric = "success_rate"\nwarning = 0.99\ncritical = 0.95\n'
        '[[rules]]\nmetric = "latency_ms.p99"\ncritical = 400\nname = "p99"\nfor = 3\n',
    )
    cfg = load_config(p, SETTINGS)
    assert cfg.settings["logs"] == [str(tmp_path / "logs" / "*.jsonl")]
    a, b = cfg.rules
    assert (a.metric, a.direction, a.warning, a.critical) == ("success_rate", "below", 0.99, 0.95)
    assert (b.name, b.direction, b.for_runs, b.warning) == ("p99", "above", 3, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("max-p99 = 3\n", "max-p99: unknown key (did you mean 'max-p99-ms'?)"),
        ('max-p99-ms = "fast"\n', "max-p99-ms: 'fast' is not of type 'number'"),
        (
            '[[rules]]\nmetric = "records"\ncritical = 1\n'
            '[[rules]]\nmetric = "success_rate"\nwarning = "high"\n',
            "rules[1].warning: 'high' is not of type 'number'",
        ),
        (
            '[[rules]]\nmetric = "records"\nwarnin = 3\n',
            "rules[0].warnin: unknown key (did you mean 'warning'?)",
        ),
        ("[[rules]]\nwarning = 3\n", "rules[0]: 'metric' is a required property"),
        (
            '[[rules]]\nmetric = "latency.p99"\n',
            "rules[0].metric: unknown metric 'latency.p99' (did you mean",
        ),
        (
            '[[rules]]\nmetric = "latency_ms.p99"\nwarning = 400\ncritical = 250\n',
            "rules[0].critical: 250 is below warning 400",
        ),
        (
            '[[rules]]\nmetric = "records"\ncritical = 1\n[[rules]]\nmetric = "records"\ncritical = 1\n',
            "rules[1].name: 'records' is used",
        ),
        ('[[rules]]\nmetric = "records"\nfor = 0\n', "rules[0].for: 0 is less than the minimum of 1"),
        (
            '[[rules]]\nmetric = "records"\ncritical = 1\nby = "region"\n',
            "rules[0].by: 'region' is not the grouping field",
        ),
        ("logs = [\n", "not valid TOML"),
        # a rule that can never fail passed as "ok" (exit 0 with nothing checked)
        ('[[rules]]\nmetric = "records"\n', "rules[0]: give warning and/or critical for 'records'"),
        # 5 meant 5%: an error-rate limit of 5 never fired, silently
        ('[[rules]]\nmetric = "error_rate"\ncritical = 5\n', "rules[0].critical: 5 is out of range"),
        ('[[rules]]\nmetric = "drift.age"\nwarning = 10\n', "rules[0].warning: 10 is out of range"),
        ('[[rules]]\nmetric = "latency_ms.p99"\nwarning = -1\n', "rules[0].warning: -1 is out of range"),
    ],
)
def test_bad_config_names_the_key_path(tmp_path: Path, text: str, expected: str) -> None:
    p = _write(tmp_path / "mlmon.toml", text)
    with pytest.raises(ConfigError) as exc:
        load_config(p, SETTINGS)
    assert str(exc.value).startswith(f"{p}: ")
    assert expected in str(exc.value)
    assert exc.value.exit_code == ExitCode.CONFIG == 78


def test_found_from_the_working_directory_up(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    _write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    assert find_config(str(tmp_path / "a" / "b")) is None
    _write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n[tool.mlmon]\nlast = '1h'\n")
    assert find_config(str(tmp_path / "a" / "b")) == str(tmp_path / "pyproject.toml")
    _write(tmp_path / "a" / "mlmon.toml", "")
    assert find_config(str(tmp_path / "a" / "b")) == str(tmp_path / "a" / "mlmon.toml")


def test_metric_names_are_the_json_names() -> None:
    assert metric_direction("success_rate") == "below"
    assert metric_direction("drift.age") == "above"
    assert metric_direction("drift.*") == "above"
    assert metric_direction("mean_deviation.income") == "above"
    assert metric_direction("latency.p99") is None


def test_config_validate_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(
        tmp_path / "mlmon.toml",
        'max-p99-ms = 250\nfail-on = "critical"\n[[rules]]\nmetric = "records"\ncritical = 1\n',
    )
    r = cli(["config", "validate"])
    assert r.exit_code == 0, r.stderr
    assert "valid (2 setting(s), 1 rule(s))" in r.stdout
    _write(tmp_path / "bad.toml", 'fail-on = "sometimes"\n')
    r = cli(["config", "validate", "bad.toml"])
    assert r.exit_code == 78
    assert error_line(r).startswith(
        "bad.toml: fail-on: 'sometimes' is not one of ['warning', 'critical', 'never']"
    )
    r = cli(["config", "validate", "missing.toml"])
    assert r.exit_code == 78 and "config file not found" in error_line(r)


def test_a_bad_discovered_config_stops_every_command_with_78(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "mlmon.toml", "low-confidence = [1]\n")
    r = cli(["summary", "x.jsonl"])
    assert r.exit_code == 78
    assert error_line(r) == f"{tmp_path / 'mlmon.toml'}: low-confidence: [1] is not of type 'number'"
    assert cli(["summary", "x.jsonl", "--no-config"]).exit_code == 66


def test_every_path_key_is_relative_to_the_config_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    from mlmon.rules.config import load_config

    (tmp_path / "cfg").mkdir()
    path = tmp_path / "cfg" / "mlmon.toml"
    path.write_text(
        'logs = ["logs/a.log", "/abs/b.log"]\nstate = "st.json"\nbaseline = "../b.json"\n'
        'output = ["junit:out/r.xml", "summary.md", "json:-", "-"]\nrotated = ["old/a.log*"]\n'
    )
    schema = {k: {} for k in ("logs", "state", "baseline", "output", "rotated")}
    s = load_config(str(path), schema).settings
    d = str(tmp_path / "cfg")
    assert s["logs"] == [os.path.join(d, "logs/a.log"), "/abs/b.log"]
    assert s["state"] == os.path.join(d, "st.json")
    assert s["baseline"] == str(tmp_path / "b.json")
    assert s["output"] == [f"junit:{d}/out/r.xml", f"{d}/summary.md", "json:-", "-"]
    assert s["rotated"] == [os.path.join(d, "old/a.log*")]


def test_labels_table_is_checked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from mlmon.errors import ConfigError
    from mlmon.rules.config import load_config

    path = tmp_path / "mlmon.toml"
    path.write_text('labels = {service = "fraud-model", env = "prod"}\n')
    assert load_config(str(path), {}).settings["labels"] == {"service": "fraud-model", "env": "prod"}
    for bad in ('{"9x" = "a"}', '{severity = "a"}', '{service = ""}', '{service = 3}', '{__x = "a"}'):
        path.write_text(f"labels = {bad}\n")
        with pytest.raises(ConfigError, match="labels"):
            load_config(str(path), {})
