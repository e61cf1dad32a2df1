"""`mlmon check` as users drive it: odd flags, config files, state files, outputs and notification
targets get a defined exit code and one clear line, never an internal error or a silent pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus import cli, error_line, good_lines, join

SAMPLE = Path(__file__).resolve().parents[2] / "sample_logs" / "predictions.jsonl"
RULES = '[[rules]]\nmetric = "records"\ncritical = 10\n'


def _setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str = RULES, n: int = 200) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.jsonl").write_bytes(join(good_lines(n)))
    (tmp_path / "mlmon.toml").write_text(f'logs = ["log.jsonl"]\n{toml}')


@pytest.mark.parametrize("where", ["flag", "file"])
def test_window_rows_below_one_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    # -1 used to drop the oldest record and check the rest (a Python slice), 0 to check everything
    _setup(tmp_path, monkeypatch, ("window-rows = -1\n" if where == "file" else "") + RULES)
    for rows in ("-1", "0"):
        r = cli(["check", *(["--window-rows", rows] if where == "flag" else [])])
        assert r.exit_code == 2, r.stdout
        assert "--window-rows must be at least 1" in error_line(r)


def test_help_states_the_min_effect_default_that_runs() -> None:
    from mlmon.stats.drift import DriftOptions

    help_text = " ".join(cli(["check", "--help"]).stdout.split())
    assert f"none (default {DriftOptions().min_effect:g})" in help_text


def test_nagios_perfdata_escapes_a_rule_name_from_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the name went raw into the perfdata label: a terminal colour code reached the plugin output
    name = 'name = "[red]n\\u001b[31m"\n'
    _setup(tmp_path, monkeypatch, f'[[rules]]\nmetric = "records"\ncritical = 10\n{name}')
    r = cli(["check", "--nagios"])
    assert r.exit_code == 0, r.stdout
    assert "\x1b" not in r.stdout and "'[red]n\\x1b[31m'=" in r.stdout


def test_a_config_file_with_a_utf8_byte_order_mark_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Notepad saves UTF-8 with a BOM; tomllib refused it as "Invalid statement (at line 1, column 1)"
    _setup(tmp_path, monkeypatch)
    (tmp_path / "mlmon.toml").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "mlmon.toml").read_bytes())
    r = cli(["check", "-f", "json"])
    assert r.exit_code == 0, r.stderr
    assert [x["status"] for x in json.loads(r.stdout)["results"]] == ["ok"]


def test_a_pyproject_that_is_not_utf8_is_not_taken_for_a_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # discovery walks up from the working directory; a Latin-1 pyproject.toml was a traceback
    _setup(tmp_path, monkeypatch)
    (tmp_path / "mlmon.toml").unlink()
    (tmp_path / "pyproject.toml").write_bytes(b'[project]\nname = "caf\xe9"\n')
    r = cli(["summary", "log.jsonl", "-f", "json"])
    assert r.exit_code == 0, r.stderr


@pytest.mark.parametrize("kind", ["dev_zero", "fifo", "directory"])
def test_a_state_path_that_is_not_a_regular_file_is_named_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    # /dev/zero (or /dev/full) was read forever into memory; a FIFO waited for a writer
    import os

    _setup(tmp_path, monkeypatch)
    state = tmp_path / "state"
    if kind == "dev_zero":
        os.symlink("/dev/zero", state)
    elif kind == "fifo":
        os.mkfifo(state)
    else:
        state.mkdir()
    r = cli(["check", "--state", str(state)])
    assert r.exit_code == 65, r.stdout
    assert "not a regular file" in error_line(r)


def test_a_state_file_larger_than_mlmon_writes_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlmon.rules import state

    _setup(tmp_path, monkeypatch)
    monkeypatch.setattr(state, "MAX_BYTES", 1000)
    (tmp_path / "state.json").write_text(" " * 1001)
    r = cli(["check", "--state", "state.json"])
    assert r.exit_code == 65 and "larger than" in error_line(r)


def test_a_state_file_in_a_missing_folder_is_an_output_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # it was 65, "bad data"; the state (and its lock) cannot be written: 73 as for -o
    _setup(tmp_path, monkeypatch)
    r = cli(["check", "--state", str(tmp_path / "missing" / "state.json")])
    assert r.exit_code == 73 and "cannot create its lock" in error_line(r)


@pytest.mark.parametrize(
    "args", [["-o", "json:log.jsonl"], ["-o", "mlmon.toml.csv"], ["--state", "log.jsonl"]]
)
def test_check_never_writes_over_a_file_it_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    # the log (or the config) was replaced by the report or the state
    _setup(tmp_path, monkeypatch)
    if args[1] == "mlmon.toml.csv":
        (tmp_path / "mlmon.toml.csv").symlink_to(tmp_path / "mlmon.toml")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if not p.is_symlink()}
    r = cli(["check", *args])
    assert r.exit_code == 2, r.stdout
    assert "which this run reads; write the output elsewhere" in error_line(r)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if not p.is_symlink()} == before


def test_a_config_path_that_never_ends_is_refused_not_read_forever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlmon.rules import config

    monkeypatch.setattr(config, "MAX_BYTES", 1 << 16)
    _setup(tmp_path, monkeypatch)
    for args in (["config", "validate", "/dev/zero"], ["summary", "log.jsonl", "--config", "/dev/zero"]):
        r = cli(args)
        assert r.exit_code == 78
        assert error_line(r) == "/dev/zero: larger than 65,536 bytes; not a config file"


def test_two_reports_to_one_file_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the JUnit report silently replaced the JSON one
    _setup(tmp_path, monkeypatch)
    r = cli(["check", "-o", "json:out", "-o", "junit:./out"])
    assert r.exit_code == 2
    assert error_line(r) == "-o junit:./out and -o json:out are the same file; give each format its own file"
    assert not (tmp_path / "out").exists()


def test_a_rule_by_a_field_no_record_has_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `by = "modelversion"` checked only all records and passed without a word
    _setup(tmp_path, monkeypatch, 'by = "modelversion"\n[[rules]]\nmetric = "records"\ncritical = 10\n'
           'by = "modelversion"\n')
    r = cli(["check"])
    assert r.exit_code == 0
    assert "no record has the field 'modelversion' (--by)" in r.stderr and "'model_version'" in r.stderr


def test_check_writes_numbers_for_people_and_shows_a_limit_of_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "records 2000 < 1e+05"; and an ok rule with warning = 0 said "no threshold"
    _setup(
        tmp_path,
        monkeypatch,
        '[[rules]]\nmetric = "records"\ncritical = 100000\n'
        '[[rules]]\nmetric = "records"\nwarning = 0\nname = "any"\n',
        n=2000,
    )
    r = cli(["check", "-f", "json"])
    res = {x["name"]: x for x in json.loads(r.stdout)["results"]}
    assert res["records"]["message"] == "records 2,000 < 100,000 (all records)"
    assert res["any"]["message"] == "records 2,000 (all records; warning 0)"


def test_nagios_perfdata_names_each_label_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a rule named `records` and the record count were two 'records' labels in one perfdata
    _setup(tmp_path, monkeypatch)
    r = cli(["check", "--nagios"])
    perf = r.stdout.split(" | ", 1)[1].split()
    labels = [p.split("=", 1)[0] for p in perf]
    assert labels == ["'records'"] and perf[0].startswith("'records'=200;")


def test_config_init_groups_by_version_only_where_records_have_one_and_never_replaces_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    monkeypatch.chdir(tmp_path)
    lines = [b'{"latency_ms": %d, "status": "ok", "prediction": {"class": 1, "confidence": 0.9}}' % (i % 7)
             for i in range(300)]
    (tmp_path / "log.jsonl").write_bytes(join(lines))
    r = cli(["config", "init", "log.jsonl", "-o", "-"])
    assert r.exit_code == 0
    # `by = "model_version"` on a log without that field: every check run then noted a missing --by field
    assert not re.search(r"^by = ", r.stdout, re.M)
    r = cli(["config", "init", str(SAMPLE), "-o", "-"])
    assert len(re.findall(r'^by = "model_version"$', r.stdout, re.M)) == 2
    before = (tmp_path / "log.jsonl").read_bytes()
    r = cli(["config", "init", "log.jsonl", "-o", "log.jsonl", "--force"])
    assert r.exit_code == 2 and (tmp_path / "log.jsonl").read_bytes() == before


def test_nagios_mode_says_which_options_it_does_not_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # -o and --state were dropped without a word: no report, and every run read the whole log again
    _setup(tmp_path, monkeypatch)
    r = cli(["check", "--nagios", "-o", "junit:r.xml", "--state", "st.json"])
    assert r.exit_code == 3
    assert r.stdout.startswith("MLMON UNKNOWN - --nagios does not use -o, --state; drop them, or use -f")
    assert not (tmp_path / "r.xml").exists() and not (tmp_path / "st.json").exists()
    r = cli(["check", "-f", "nagios", "-o", "junit:r.xml", "--state", "st.json"])
    assert r.exit_code == 0 and r.stdout.startswith("MLMON OK") and (tmp_path / "r.xml").exists()


def test_a_bad_config_with_format_json_still_prints_the_error_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # stdout was empty: `mlmon check -f json > result.json` kept an empty file
    _setup(tmp_path, monkeypatch, "lastt = 3\n" + RULES)
    for cmd in (["check"], ["summary", "log.jsonl"]):
        r = cli([*cmd, "-f", "json"])
        assert r.exit_code == 78
        doc = json.loads(r.stdout)
        assert doc["exit_code"] == 78 and doc["error"]["type"] == "config"
        assert "lastt: unknown key (did you mean 'last'?)" in doc["error"]["message"]


def test_check_help_names_what_each_notification_option_takes() -> None:
    # every one of them read `TEXT`, and "(4h)" read as a default that --repeat-interval does not have
    text = cli(["check", "--help"]).stdout
    for option in ("--state FILE", "--repeat-interval DURATION", "--alertmanager URL", "--notify TARGET",
                   "--push URL", "--push-job NAME", "--alert-ttl DURATION"):
        assert option in text
    assert "without it, webhooks and email hear only of changes" in " ".join(text.split())


def test_mlmon_config_in_the_environment_names_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # read by the code, said nowhere: now in the README, and held to it here
    _setup(tmp_path, monkeypatch)
    elsewhere = tmp_path / "etc"
    elsewhere.mkdir()
    (tmp_path / "mlmon.toml").rename(elsewhere / "cron.toml")
    (elsewhere / "cron.toml").write_text(f'logs = ["{tmp_path / "log.jsonl"}"]\n{RULES}')
    monkeypatch.setenv("MLMON_CONFIG", str(elsewhere / "cron.toml"))
    r = cli(["check", "-f", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["config"] == str(elsewhere / "cron.toml")
    assert cli(["check", "--no-config"]).exit_code == 2  # no logs, no rules: the variable is not read
