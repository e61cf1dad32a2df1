"""Identity labels (`--label service=fraud`, `labels = {...}`) called directly
(mlmon/rules/identity.py): every reason a label is refused, at its boundary, and what is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlmon.rules.identity import MAX_VALUE, RESERVED, check_labels, label_problem, parse_label_flags


@pytest.mark.parametrize("name", ["service", "_x", "Env2", "a_b_9", "A"])
def test_a_good_label_has_no_problem(name: str) -> None:
    assert label_problem(name, "fraud-model v2 | ä") is None


@pytest.mark.parametrize("name", ["2x", "a-b", "a.b", "", "é", "a b", "a\n"])
def test_a_name_outside_prometheus_is_refused(name: str) -> None:
    assert label_problem(name, "v") == (
        f"{name!r} is not a label name (letters, digits and _, not starting with a digit)"
    )


def test_double_underscore_names_belong_to_prometheus() -> None:
    assert label_problem("__name__", "v") == "'__name__': names starting with __ are reserved by Prometheus"
    assert label_problem("_x_", "v") is None  # one underscore is fine


@pytest.mark.parametrize("name", sorted(RESERVED))
def test_every_label_mlmon_sets_is_refused(name: str) -> None:
    assert (
        label_problem(name, "v") == f"{name!r} is a label mlmon sets itself ({', '.join(sorted(RESERVED))})"
    )


def test_the_reserved_labels_are_those_mlmon_writes() -> None:
    assert RESERVED == {
        "alertname",
        "severity",
        "metric",
        "model_version",
        "model_version_missing",
        "feature",
        "status",
        "le",
        "quantile",
        "rule",
        "measure",
        "job",
    }


def test_values_empty_too_long_or_with_controls_are_refused() -> None:
    assert label_problem("env", "") == "env: the value is empty (Prometheus reads an empty label as no label)"
    assert label_problem("env", "x" * MAX_VALUE) is None
    assert MAX_VALUE == 1024
    assert label_problem("env", "x" * (MAX_VALUE + 1)) == "env: the value is longer than 1024 characters"
    for c in ("\x00", "\x1f", "\n", "\x7f"):
        assert label_problem("env", f"a{c}b") == "env: the value holds a control character", repr(c)
    for c in (" ", "~", "\x80", "\u202e"):
        assert label_problem("env", f"a{c}b") is None, repr(c)


def test_flags_split_at_the_first_equals_and_keep_the_value_as_given() -> None:
    assert parse_label_flags(["service=fraud", " env =a=b ", "x= y"]) == [
        ("service", "fraud"),
        ("env", "a=b "),
        ("x", " y"),
    ]
    assert parse_label_flags([]) == []


def test_a_flag_without_equals_or_with_a_bad_part_names_it() -> None:
    with pytest.raises(ValueError, match=r"^'service': give KEY=VALUE, e.g. service=fraud-model$"):
        parse_label_flags(["env=prod", "service"])
    with pytest.raises(ValueError, match=r"^env: the value is empty"):
        parse_label_flags(["env="])
    with pytest.raises(ValueError, match=r"^'job' is a label mlmon sets itself"):
        parse_label_flags(["env=prod", " job =x"])


def test_a_labels_table_is_checked_entry_by_entry() -> None:
    assert check_labels({"service": "fraud", "env": "prod"}) == {"service": "fraud", "env": "prod"}
    assert check_labels({}) == {}
    with pytest.raises(ValueError, match=r"^env: the value must be text \(in quotes\)$"):
        check_labels({"service": "fraud", "env": 3})
    with pytest.raises(ValueError, match=r"^'severity' is a label mlmon sets itself"):
        check_labels({"service": "fraud", "severity": "high"})


def test_a_newline_after_a_label_name_is_refused_in_the_config(tmp_path: Path) -> None:
    # a trailing newline in a quoted TOML key once passed and split the Prometheus file's lines
    from mlmon.errors import ConfigError
    from mlmon.rules.config import load_config

    cfg = tmp_path / "mlmon.toml"
    cfg.write_text('labels = { "svc\\n" = "x" }\n')
    with pytest.raises(ConfigError) as exc:
        load_config(str(cfg), None)
    assert (
        str(exc.value) == f"{cfg}: labels: 'svc\\n' is not a label name (letters, digits and _, "
        "not starting with a digit)"
    )
