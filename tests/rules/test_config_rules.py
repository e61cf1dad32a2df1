"""Config rules and settings called directly (mlmon/rules/config.py): every limit at its range's
ends, critical beside warning at equality, each metric's bad direction, paths made relative to the
config file, and the messages that name the key."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytest

from mlmon.errors import ConfigError, ExitCode
from mlmon.rules.config import (
    FEATURE_METRICS,
    SUMMARY_METRICS,
    Rule,
    check_url,
    find_config,
    load_config,
    metric_direction,
    parse_rules,
    read_toml,
    validate,
)


def rules(*items: dict[str, Any], by: str | None = "model_version") -> tuple[Rule, ...]:
    return parse_rules(list(items), path="c.toml", by=by)


def refused(*items: dict[str, Any], by: str | None = "model_version") -> str:
    with pytest.raises(ConfigError) as exc:
        rules(*items, by=by)
    assert exc.value.exit_code == ExitCode.CONFIG
    return str(exc.value)


def test_a_rule_reads_back_every_field() -> None:
    (r,) = rules(
        {
            "metric": "error_rate",
            "name": "errors",
            "warning": 0.01,
            "critical": 0.05,
            "for": 3,
            "by": "model_version",
            "description": "d",
            "runbook_url": "https://run.book/e",
        }
    )
    assert r == Rule(
        "error_rate", "errors", 0.01, 0.05, "above", 3, "model_version", "d", "https://run.book/e"
    )
    (r,) = rules({"metric": "records", "critical": 10})
    assert r == Rule("records", "records", None, 10, "below", 1, None, None, None)
    (r,) = rules({"metric": "records", "critical": 10, "by": ""})
    assert r.by is None  # an empty `by` is none


@pytest.mark.parametrize("metric", sorted(SUMMARY_METRICS))
def test_each_summary_metric_has_its_bad_direction(metric: str) -> None:
    (r,) = rules({"metric": metric, "critical": 0.5})
    assert r.direction == SUMMARY_METRICS[metric] == metric_direction(metric)
    below = {"records", "success_rate", "confidence.mean", "requests_per_second"}
    assert r.direction == ("below" if metric in below else "above")


def test_feature_and_quality_metrics_have_their_direction() -> None:
    for kind in FEATURE_METRICS:
        assert metric_direction(f"{kind}.age") == "above"
        assert metric_direction(f"{kind}.a.b") == "above"
    assert metric_direction("quality.accuracy") == "below"
    assert metric_direction("quality.mae") == "above"
    assert metric_direction("quality_drop.accuracy") == "above"  # a drop is bad when high
    assert metric_direction("quality_drop.mae") == "above"
    assert metric_direction("quality.f1.cat") == "below"
    assert metric_direction("quality.nonsense") is None
    assert metric_direction("quality_drop.f1.") is None
    assert metric_direction("drift.") is None and metric_direction("drift") is None
    assert metric_direction("nonsense.age") is None


def test_a_direction_given_replaces_the_default() -> None:
    (r,) = rules({"metric": "records", "critical": 10, "direction": "above"})
    assert r.direction == "above"


def test_quoted_feature_names_are_taken_whole() -> None:
    a, b, c = rules({"metric": 'drift."score.v2"'}, {"metric": 'unseen."a b"'}, {"metric": "drift.x.y"})
    assert (a.metric, a.name, b.metric, c.metric) == (
        "drift.score.v2",
        "drift.score.v2",
        "unseen.a b",
        "drift.x.y",
    )
    (d,) = rules({"metric": 'mean_deviation."m"'})
    assert d.metric == "mean_deviation.m"


def test_an_unknown_metric_suggests_the_nearest_and_lists_the_known() -> None:
    text = refused({"metric": "error_rat", "critical": 1})
    assert text.startswith(
        "c.toml: rules[0].metric: unknown metric 'error_rat' (did you mean 'error_rate'?); "
        "known: records, success_rate, error_rate, "
    )
    assert text.endswith("precision.<class>, recall.<class>, f1.<class>)")
    assert "(did you mean" not in refused({"metric": "zzzzzzzz"})


def test_a_summary_or_quality_rule_without_a_limit_is_refused_a_feature_rule_is_not() -> None:
    assert refused({"metric": "records"}, by=None).startswith(
        "c.toml: rules[0]: give warning and/or critical for 'records'; without a limit the rule can "
        "never fail"
    )
    assert "give warning and/or critical for 'quality.accuracy'" in refused({"metric": "quality.accuracy"})
    (r,) = rules({"metric": "drift.*"})
    assert (r.warning, r.critical) == (None, None)
    (r,) = rules({"metric": "records", "warning": 5})
    assert (r.warning, r.critical) == (5, None)


@pytest.mark.parametrize(
    ("metric", "high"),
    [
        ("error_rate", 1.0),
        ("success_rate", 1.0),
        ("confidence.mean", 1.0),
        ("confidence.low_share", 1.0),
        ("unseen.x", 1.0),
        ("drift.x", 1.0),
        ("missing_share.x", 1.0),
        ("out_of_range.x", 1.0),
        ("type_errors.x", 1.0),
        ("quality.accuracy", 1.0),
        ("drift.multivariate", math.inf),
        ("latency_ms.p99", math.inf),
        ("records", math.inf),
        ("quality.mae", math.inf),
        ("mean_deviation.x", math.inf),
        ("quality_drop.accuracy", math.inf),
    ],
)
def test_a_limit_at_the_ends_of_its_range_passes_and_past_them_is_refused(metric: str, high: float) -> None:
    top = 1.0 if high == 1.0 else 1e300
    for key in ("warning", "critical"):
        assert getattr(rules({"metric": metric, key: 0.0})[0], key) == 0.0
        assert getattr(rules({"metric": metric, key: top})[0], key) == top
        low = refused({"metric": metric, key: -0.001})
        assert low.startswith(f"c.toml: rules[0].{key}: -0.001 is out of range for {metric!r}: ")
        if high == 1.0:
            assert low.endswith("a share from 0 to 1 (0.05, not 5 for 5%)")
            assert f"rules[0].{key}: 1.001 is out of range" in refused({"metric": metric, key: 1.001})
        elif metric == "drift.multivariate":
            assert low.endswith("a number at least 0 (the rise of the reconstruction error in reference sd)")
        else:
            assert low.endswith(": a number at least 0")


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_a_limit_that_is_not_finite_is_refused(value: float) -> None:
    assert refused({"metric": "latency_ms.p99", "critical": value}) == (
        "c.toml: rules[0].critical: must be a finite number"
    )


def test_critical_may_equal_warning_but_not_be_on_the_good_side_of_it() -> None:
    (r,) = rules({"metric": "latency_ms.p99", "warning": 400, "critical": 400})
    assert (r.warning, r.critical) == (400, 400)
    assert refused({"metric": "latency_ms.p99", "warning": 400, "critical": 399.5}) == (
        "c.toml: rules[0].critical: 399.5 is below warning 400; for a metric that is bad when high, critical "
        'must be at least warning (or set direction = "below")'
    )
    (r,) = rules({"metric": "success_rate", "warning": 0.99, "critical": 0.99})
    assert r.direction == "below"
    assert refused({"metric": "success_rate", "warning": 0.95, "critical": 0.96}) == (
        "c.toml: rules[0].critical: 0.96 is above warning 0.95; for a metric that is bad when low, critical "
        'must be at most warning (or set direction = "above")'
    )
    (r,) = rules({"metric": "success_rate", "warning": 0.95, "critical": 0.96, "direction": "above"})
    assert r.critical == 0.96


def test_by_must_be_the_runs_grouping_field() -> None:
    (r,) = rules({"metric": "records", "critical": 1, "by": "region"}, by="region")
    assert r.by == "region"
    assert refused({"metric": "records", "critical": 1, "by": "region"}) == (
        "c.toml: rules[0].by: 'region' is not the grouping field of this run ('model_version'); "
        "set `by = 'region'` at the top level to group the records by it"
    )
    assert "this run (None)" in refused({"metric": "records", "critical": 1, "by": "region"}, by=None)


def test_names_must_differ_and_default_to_the_metric() -> None:
    a, b = rules({"metric": "records", "critical": 1}, {"metric": "records", "critical": 2, "name": "few"})
    assert (a.name, b.name) == ("records", "few")
    assert refused(
        {"metric": "records", "critical": 1, "name": "x"},
        {"metric": "error_rate", "critical": 1},
        {"metric": "records", "critical": 1, "name": "x"},
    ) == ("c.toml: rules[2].name: 'x' is used by another rule; give each rule its own name")


@pytest.mark.parametrize("url", ["https://run.book/a", "http://h:8080/p?q=1#f"])
def test_a_runbook_url_is_kept(url: str) -> None:
    assert check_url(url, "w") == url


@pytest.mark.parametrize(
    "url", ["ftp://h/a", "https:///path", "/runbooks/a", "https://h/a b", "http://[::1", "https://h/\tx", ""]
)
def test_a_runbook_that_is_not_an_http_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigError) as exc:
        check_url(url, "c.toml: rules[0].runbook_url")
    assert (
        str(exc.value)
        == f"c.toml: rules[0].runbook_url: {url!r} is not an http(s) URL (give https://host/page)"
    )
    assert repr(url) in refused({"metric": "records", "critical": 1, "runbook_url": url})


def _schema_error(doc: dict[str, Any], settings: dict[str, Any] | None) -> str:
    with pytest.raises(ConfigError) as exc:
        validate(doc, settings, path="c.toml")
    return str(exc.value)


SETTINGS = {"logs": {"type": "array"}, "max-p99-ms": {"type": "number"}, "by": {"type": "string"}}


def test_validation_names_the_key_path() -> None:
    validate({"logs": [], "rules": [{"metric": "records"}], "labels": {"a": "b"}}, SETTINGS, path="c.toml")
    validate({"anything": 1}, None, path="c.toml")  # the library takes any setting
    assert _schema_error({"anything": 1}, SETTINGS) == "c.toml: anything: unknown key"
    assert _schema_error({"logz": 1}, SETTINGS) == "c.toml: logz: unknown key (did you mean 'logs'?)"
    assert _schema_error(
        {"rules": [{"metric": "records"}, {"metric": "records", "warnin": 1}]}, SETTINGS
    ) == ("c.toml: rules[1].warnin: unknown key (did you mean 'warning'?)")
    assert (
        _schema_error({"rules": [{"warning": 1}]}, SETTINGS)
        == "c.toml: rules[0]: 'metric' is a required property"
    )
    assert _schema_error({"labels": {"a": 1}}, SETTINGS) == "c.toml: labels.a: 1 is not of type 'string'"
    assert _schema_error({"rules": [{"metric": ""}]}, SETTINGS).startswith("c.toml: rules[0].metric: '' ")
    assert _schema_error({"rules": {}}, SETTINGS) == "c.toml: rules: {} is not of type 'array'"
    # of two problems, the first by key path is named
    assert _schema_error({"max-p99-ms": "x", "logs": 3}, SETTINGS) == "c.toml: logs: 3 is not of type 'array'"


def _cfg(tmp_path: Path, text: str, name: str = "mlmon.toml") -> str:
    p = tmp_path / name
    p.write_text(text)
    p.chmod(0o600)
    return str(p)


def test_paths_are_relative_to_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/u")
    p = _cfg(
        tmp_path,
        'logs = ["a.log", "/abs/b.log", "~/c.log", "-", ""]\nbaseline = "../b.json"\n'
        'state = "s/./st.json"\nrotated = "r"\nreference = "t.parquet"\nlabel-files = ["l.csv"]\n'
        'output = ["junit:out/r.xml", "summary.md", "json:-", "html:", "C:x", 3, "a-b:c"]\n'
        'since = "1h"\nby = ""\n',
    )
    cfg = load_config(p, None)
    s, base = cfg.settings, str(tmp_path)
    assert s["logs"] == [f"{base}/a.log", "/abs/b.log", "/home/u/c.log", "-", ""]
    assert s["baseline"] == os.path.normpath(f"{base}/../b.json")
    assert (s["state"], s["rotated"], s["reference"]) == (
        f"{base}/s/st.json",
        f"{base}/r",
        f"{base}/t.parquet",
    )
    assert s["label-files"] == [f"{base}/l.csv"]
    assert s["output"] == [
        f"junit:{base}/out/r.xml",
        f"{base}/summary.md",
        "json:-",
        "html:",
        f"{base}/C:x",
        3,
        f"{base}/a-b:c",
    ]
    assert s["since"] == "1h" and s["by"] == ""
    assert cfg.path == p and cfg.rules == ()


def test_a_single_output_string_is_resolved_too(tmp_path: Path) -> None:
    cfg = load_config(_cfg(tmp_path, 'output = "prometheus:m.prom"\n'), None)
    assert cfg.settings["output"] == f"prometheus:{tmp_path}/m.prom"


def test_rules_are_grouped_by_the_configs_by(tmp_path: Path) -> None:
    text = '[[rules]]\nmetric = "records"\ncritical = 1\nby = "region"\n'
    with pytest.raises(
        ConfigError, match="'region' is not the grouping field of this run \\('model_version'\\)"
    ):
        load_config(_cfg(tmp_path, text), None)
    cfg = load_config(_cfg(tmp_path, 'by = "region"\n' + text), None)
    assert cfg.rules[0].by == "region"
    with pytest.raises(ConfigError, match="of this run \\(None\\)"):
        load_config(_cfg(tmp_path, 'by = ""\n' + text), None)


def test_labels_and_label_settings_are_checked(tmp_path: Path) -> None:
    cfg = load_config(_cfg(tmp_path, 'labels = { service = "fraud" }\nlabel = "env=prod"\n'), None)
    assert cfg.settings["labels"] == {"service": "fraud"} and cfg.settings["label"] == "env=prod"
    with pytest.raises(ConfigError) as exc:
        load_config(_cfg(tmp_path, 'labels = { job = "x" }\n'), None)
    assert str(exc.value).startswith(f"{tmp_path}/mlmon.toml: labels: 'job' is a label mlmon sets itself")
    with pytest.raises(ConfigError) as exc:
        load_config(_cfg(tmp_path, 'label = ["env=prod", "bad"]\n'), None)
    assert str(exc.value) == f"{tmp_path}/mlmon.toml: label: 'bad': give KEY=VALUE, e.g. service=fraud-model"
    with pytest.raises(ConfigError, match="label: 'bad': give KEY=VALUE"):
        load_config(_cfg(tmp_path, 'label = "bad"\n'), None)


def test_reading_errors_name_the_file(tmp_path: Path) -> None:
    def err(path: str) -> str:
        with pytest.raises(ConfigError) as exc:
            read_toml(path)
        return str(exc.value)

    assert err(str(tmp_path / "none.toml")) == f"{tmp_path}/none.toml: config file not found"
    assert err(str(tmp_path)).startswith(f"{tmp_path}: cannot read config file: ")
    assert err(_cfg(tmp_path, "a = [\n")).startswith(f"{tmp_path}/mlmon.toml: not valid TOML: ")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'a = "\xff"\n')
    bad.chmod(0o600)
    assert err(str(bad)) == f"{bad}: not valid TOML: not UTF-8 text"
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * ((1 << 20) + 1))
    big.chmod(0o600)
    assert err(str(big)) == f"{big}: larger than 1,048,576 bytes; not a config file"
    exact = tmp_path / "exact.toml"
    exact.write_bytes(b"#" * (1 << 20))
    exact.chmod(0o600)
    assert read_toml(str(exact)) == {}
    bom = _cfg(tmp_path, "\ufeffa = 1\n", "bom.toml")
    assert read_toml(bom) == {"a": 1}


def test_a_pyproject_gives_its_tool_mlmon_table(tmp_path: Path) -> None:
    p = _cfg(tmp_path, "[project]\nname = 'x'\n[tool.mlmon]\nsince = '1h'\n", "pyproject.toml")
    assert read_toml(p) == {"since": "1h"}
    for text in ("[project]\nname = 'x'\n", "tool = 3\n", "[tool]\nmlmon = 3\n"):
        p = _cfg(tmp_path, text, "pyproject.toml")
        with pytest.raises(ConfigError) as exc:
            read_toml(p)
        assert str(exc.value) == f"{p}: no [tool.mlmon] table"


def test_discovery_stops_at_the_nearest_and_at_the_root(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    _cfg(tmp_path, "", "mlmon.toml")
    _cfg(tmp_path / "a", "[tool.other]\nx = 1\n", "pyproject.toml")
    assert find_config(str(tmp_path / "a" / "b")) == f"{tmp_path}/mlmon.toml"  # past a pyproject not ours
    os.mkdir(tmp_path / "a" / "b" / "mlmon.toml")  # a folder of that name is not a config
    assert find_config(str(tmp_path / "a" / "b")) == f"{tmp_path}/mlmon.toml"
    assert find_config("/") is None or os.path.isfile(find_config("/") or "")


def test_a_pyproject_that_is_ours_but_broken_is_an_error_never_skipped(tmp_path: Path) -> None:
    p = _cfg(tmp_path, "[tool.mlmon]\nsince = \n", "pyproject.toml")
    with pytest.raises(ConfigError, match="not valid TOML|cannot be read"):
        find_config(str(tmp_path))
    p2 = tmp_path / "pyproject.toml"
    p2.write_bytes(b"[ tool . mlmon ]\nx = '\xff'\n")
    with pytest.raises(ConfigError) as exc:
        find_config(str(tmp_path))
    assert str(exc.value).startswith(f"{p}: [tool.mlmon] cannot be read: ")
    p2.write_bytes(b"[tool.other]\nx = '\xff'\n")  # broken, not ours: skipped
    assert find_config(str(tmp_path)) is None or not find_config(str(tmp_path)).startswith(str(tmp_path))
    p2.write_bytes(b"[tool.mlmon.sub]\nx = '\xff'\n")
    with pytest.raises(ConfigError):
        find_config(str(tmp_path))
    p2.write_text("[tool.mlmon]\nx = 1\n")
    p2.chmod(0o666)  # ours, but others may write it
    with pytest.raises(ConfigError, match="may write it"):
        find_config(str(tmp_path))
    p2.write_text("[tool.other]\nx = 1\n")  # not ours: an untrusted one is passed by
    assert find_config(str(tmp_path)) is None or not find_config(str(tmp_path)).startswith(str(tmp_path))


def test_the_unknown_metric_message_whole() -> None:
    text = refused({"metric": "zzzzzzzz", "critical": 1})
    assert text == (
        "c.toml: rules[0].metric: unknown metric 'zzzzzzzz'; known: records, success_rate, error_rate, "
        "latency_ms.mean, latency_ms.p50, latency_ms.p95, latency_ms.p99, latency_ms.max, confidence.mean, "
        "confidence.low_share, predictions_out_of_range, requests_per_second, age_seconds, drift.<feature>, "
        "mean_deviation.<feature>, unseen.<feature>, missing_share.<feature>, out_of_range.<feature>, "
        "type_errors.<feature> (or .*), quality.<metric> and quality_drop.<metric> (accuracy, macro_f1, auc, "
        "brier, ece, mae, rmse, mape, precision.<class>, recall.<class>, f1.<class>)"
    )
    assert refused({"metric": "records"}) == (
        "c.toml: rules[0]: give warning and/or critical for 'records'; without a limit the rule can never "
        "fail (only the per-feature rules, drift.*, mean_deviation.*, unseen.*, missing_share.*, "
        "out_of_range.* and type_errors.*, have default limits)"
    )


@pytest.mark.parametrize(
    ("typo", "hint"),
    [
        ("drft.*", "drift.*"),
        ("mean_deviaton.*", "mean_deviation.*"),
        ("unsen.*", "unseen.*"),
        ("missing_shre.*", "missing_share.*"),
        ("out_of_rang.*", "out_of_range.*"),
        ("type_eror.*", "type_errors.*"),
        ("quality.acuracy", "quality.accuracy"),
        ("quality_drop.acuracy", "quality_drop.accuracy"),
    ],
)
def test_a_misspelt_metric_gets_the_nearest_name(typo: str, hint: str) -> None:
    assert f"unknown metric {typo!r} (did you mean {hint!r}?); known: " in refused(
        {"metric": typo, "critical": 1}
    )


def test_a_per_class_quality_limit_is_a_share() -> None:
    assert "rules[0].warning: 1.5 is out of range for 'quality.f1.cat': a share" in refused(
        {"metric": "quality.f1.cat", "warning": 1.5}
    )
    (r,) = rules({"metric": "quality.f1.cat", "warning": 0.8})
    assert r.direction == "below"


def test_a_bad_runbook_names_its_rule() -> None:
    assert refused({"metric": "records", "critical": 1, "runbook_url": "x"}) == (
        "c.toml: rules[0].runbook_url: 'x' is not an http(s) URL (give https://host/page)"
    )


def test_an_output_file_name_may_hold_a_colon(tmp_path: Path) -> None:
    cfg = load_config(_cfg(tmp_path, 'output = ["json:a:b.json", "x:y"]\n'), None)
    assert cfg.settings["output"] == [f"json:{tmp_path}/a:b.json", f"x:{tmp_path}/y"]


def test_labels_that_are_not_a_table_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(_cfg(tmp_path, 'labels = "service=fraud"\n'), SETTINGS)
    assert str(exc.value) == f"{tmp_path}/mlmon.toml: labels: 'service=fraud' is not of type 'object'"


def test_a_broken_pyproject_whose_tool_mlmon_is_further_down_is_an_error(tmp_path: Path) -> None:
    p = tmp_path / "pyproject.toml"
    p.write_bytes(b"[project]\nname = 'x'\n\n  [tool.mlmon]\nx = '\xff'\n")
    p.chmod(0o600)
    with pytest.raises(ConfigError) as exc:
        find_config(str(tmp_path))
    assert str(exc.value).startswith(f"{p}: [tool.mlmon] cannot be read: ")


def test_the_default_rules_of_a_check_with_a_baseline() -> None:
    from mlmon.rules.config import default_rules

    assert default_rules(()) == (
        Rule("missing_share.*", "missing_share.*"),
        Rule("type_errors.*", "type_errors.*"),
    )
    mine = (Rule("missing_share.age", "m", warning=0.1),)
    assert default_rules(mine) == (Rule("type_errors.*", "type_errors.*"),)
    assert default_rules((Rule("type_errors.*", "t"), Rule("missing_share.*", "s"))) == ()
    assert default_rules((Rule("missing_shares", "x"),)) == default_rules(())


def test_errors_before_parsing_name_the_file(tmp_path: Path) -> None:
    deep = _cfg(tmp_path, "x = " + "[" * 101 + "]" * 101 + "\n")
    with pytest.raises(ConfigError) as exc:
        load_config(deep, None)
    assert str(exc.value) == f"{deep}:1: arrays or tables nested more than 100 deep; not a config file"
    with pytest.raises(ConfigError) as exc:
        read_toml(str(tmp_path))
    assert str(exc.value) == f"{tmp_path}: cannot read config file: Is a directory"


def test_an_endless_device_as_config_is_read_only_to_the_limit() -> None:
    with pytest.raises(ConfigError) as exc:
        read_toml("/dev/zero")
    assert str(exc.value) == "/dev/zero: larger than 1,048,576 bytes; not a config file"
