"""What users type: odd option values, config files, state files and outputs get a defined exit code and
one clear line, never an internal error (70) or a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus import cli, error_line

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_logs"
LOG = str(SAMPLES / "predictions.jsonl")


def test_since_with_nanoseconds_selects_like_the_same_time_in_microseconds() -> None:
    # pyarrow cannot turn a nanosecond timestamp into a datetime; that was exit 70
    nano = cli(["summary", LOG, "--since", "2026-11-01T10:10:00.123456789Z", "-f", "json"])
    micro = cli(["summary", LOG, "--since", "2026-11-01T10:10:00.123456Z", "-f", "json"])
    assert nano.exit_code == micro.exit_code == 0, nano.stderr
    assert json.loads(nano.stdout)["records"] == json.loads(micro.stdout)["records"] > 0


def test_when_no_record_is_valid_the_first_bad_lines_are_shown(tmp_path: Path) -> None:
    # the bad-line examples were shown when the budget stopped a run, but not when every line was bad,
    # where they are most needed (here: --by names a field that holds a fraction in every record)
    r = cli(["summary", LOG, "--by", "latency_ms"])
    assert r.exit_code == 65
    assert error_line(r).startswith("no valid record in 2000 lines (wrong_type: 2000)")
    assert "mlmon: warning: 2000 bad line(s) not used; the first:" in r.stderr
    assert "predictions.jsonl:1: wrong_type: {" in r.stderr


def test_baseline_output_that_is_the_training_data_is_refused(tmp_path: Path) -> None:
    # -o train.csv replaced the training data with the baseline
    train = tmp_path / "train.csv"
    train.write_bytes((SAMPLES / "training.csv").read_bytes())
    before = train.read_bytes()
    (tmp_path / "link.csv").symlink_to(train)
    for out in (str(train), str(tmp_path / "link.csv"), str(tmp_path / "gone" / ".." / "train.csv")):
        r = cli(["baseline", str(train), "-o", out])
        assert r.exit_code == 2, r.stderr
        assert "which this run reads; write the output elsewhere" in error_line(r)
    assert train.read_bytes() == before


def test_a_baseline_given_as_training_data_and_the_reverse_say_which_option(tmp_path: Path) -> None:
    # --reference base.json profiled the baseline's own JSON keys as 70 "features"
    base = tmp_path / "base.json"
    assert cli(["baseline", str(SAMPLES / "training.csv"), "-o", str(base)]).exit_code == 0
    r = cli(["drift", LOG, "--reference", str(base)])
    assert r.exit_code == 65
    assert error_line(r) == f"{base} is an mlmon baseline, not training data (drift, trend, compare and " \
        "check take it with --baseline)"
    r = cli(["drift", LOG, "--baseline", str(SAMPLES / "training.csv")])
    assert r.exit_code == 65 and error_line(r).endswith("or give training data with --reference")


@pytest.mark.parametrize("value", ["1e400", "inf", "nan", "-1"])
def test_compare_tolerance_refuses_infinity_like_every_numeric_option(value: str) -> None:
    # latency_ms=1e400 was taken as an infinite tolerance: nothing could be worse
    r = cli(["compare", LOG, "--control", "v1.0", "--tolerance", f"latency_ms={value}"])
    assert r.exit_code == 2
    assert error_line(r).startswith(f"--tolerance: 'latency_ms={value}' is not METRIC=VALUE")


def test_a_by_field_no_record_has_is_named_with_the_closest_field() -> None:
    # --by modelversion (a typo) reported all records as if grouping had been asked for nothing
    r = cli(["summary", LOG, "--by", "modelversion"])
    assert r.exit_code == 0
    assert "mlmon: note: no record has the field 'modelversion' (--by), which grouping needs; did you mean " \
        "'model_version'?; all records are one group" in r.stderr
    assert "(--by)" not in cli(["summary", LOG, "--by", "model_version"]).stderr
    base = str(SAMPLES / "training.csv")
    for cmd in (["drift", LOG, "--reference", base], ["trend", LOG, "--every", "10m"]):
        r = cli([*cmd, "--by", "modelversion"])
        assert "no record has the field 'modelversion' (--by)" in r.stderr, cmd


@pytest.mark.parametrize(("option", "example"), [("--since", "now-1h"), ("--until", "now"), ("--last", "1h")])
def test_an_empty_time_selection_is_a_usage_error_not_the_whole_log(option: str, example: str) -> None:
    # `--last "$WINDOW"` with WINDOW unset summarised every record, as if no window had been asked for
    for cmd in (["summary", LOG], ["trend", LOG, "--every", "5m"]):
        r = cli([*cmd, option, ""])
        assert r.exit_code == 2
        assert error_line(r) == f"{option}: the value is empty; give one ({option} {example}) or leave it out"


def test_exclude_names_a_column_of_the_training_table(tmp_path: Path) -> None:
    # a typo profiled the column meant (an ID, a label) as a feature; on logs --exclude did nothing
    out = str(tmp_path / "b.json")
    r = cli(["baseline", str(SAMPLES / "training.csv"), "-o", out, "--exclude", "agee"])
    assert r.exit_code == 2
    assert error_line(r).startswith("--exclude 'agee': ")
    assert error_line(r).endswith("training.csv has no such column; did you mean 'age'?")
    r = cli(["baseline", LOG, "-o", out, "--exclude", "feature_0"])
    assert r.exit_code == 2 and "where it does not apply" in error_line(r)
    r = cli(["baseline", str(SAMPLES / "training.csv"), "-o", out, "--exclude", "age"])
    assert r.exit_code == 0 and "7 features" in r.stderr


def test_a_fifo_in_a_log_directory_is_skipped_not_waited_on(tmp_path: Path) -> None:
    # `mlmon summary logs/` waited forever for a writer of logs/pipe.jsonl
    import os
    import subprocess
    import sys

    (tmp_path / "a.jsonl").write_bytes((SAMPLES / "predictions.jsonl").read_bytes())
    os.mkfifo(tmp_path / "pipe.jsonl")
    (tmp_path / "zero.jsonl").symlink_to("/dev/zero")
    for cmd in (["summary"], ["trend", "--every", "10m"]):
        proc = subprocess.run([sys.executable, "-m", "mlmon", *cmd, str(tmp_path), "-f", "json"],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert [f["source"] for f in json.loads(proc.stdout)["input"]["files"]] == [str(tmp_path / "a.jsonl")]


def test_trend_for_longer_than_the_windows_is_not_a_pass() -> None:
    # every window crossed 1 ms, yet "OK: no alerts": --for 10 cannot be met by 7 windows
    # nothing was checked, so it is never a pass: exit 65, as a last window too small to check
    r = cli(["trend", LOG, "--every", "5m", "--for", "10", "--max-p99-ms", "1"])
    error = ("mlmon: error: --for 10 needs 10 windows in a row; the selection has 6 complete, "
             "so no rule can fire")
    assert error in r.stderr
    assert r.exit_code == 65
    assert "--for" not in cli(["trend", LOG, "--every", "5m", "--for", "3", "--max-p99-ms", "1"]).stderr


def test_max_bad_lines_count_must_be_whole() -> None:
    # 1.5 was taken as a count of 1 bad line; 1.5% may have been meant
    r = cli(["summary", LOG, "--max-bad-lines", "1.5"])
    assert r.exit_code == 2
    assert error_line(r) == "--max-bad-lines: '1.5' is not a whole count; for a share write 1.5%"
    assert cli(["summary", LOG, "--max-bad-lines", "2.0"]).exit_code == 0


@pytest.mark.parametrize("value", ["pyhton", "rust", "0"])
def test_a_misspelt_reader_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    # MLMON_READER=pyhton quietly ran the native reader
    monkeypatch.setenv("MLMON_READER", value)
    r = cli(["summary", LOG])
    assert r.exit_code == 2
    assert f"MLMON_READER is '{value}': set it to python" in r.stderr
    for good in ("python", " Native ", ""):
        monkeypatch.setenv("MLMON_READER", good)
        assert cli(["summary", LOG]).exit_code == 0


def test_a_device_named_as_a_log_is_refused_not_read_forever(tmp_path: Path) -> None:
    # `mlmon summary /dev/zero` read NUL bytes until killed; a link to a device is the device
    (tmp_path / "zero.jsonl").symlink_to("/dev/zero")
    drift = ["drift", "--reference", str(SAMPLES / "training.csv")]
    for path in ("/dev/zero", "/dev/urandom", str(tmp_path / "zero.jsonl")):
        for cmd in (["summary"], ["trend", "--every", "10m"], drift):
            r = cli([*cmd, path])
            assert r.exit_code == 65, (cmd, path, r.stderr)
            assert error_line(r) == f"{path}: a device, not a log file"
    # standard input stays readable whatever it is (a pipe here)
    r = cli(["summary", "-", "-f", "json"], input=(SAMPLES / "predictions.jsonl").read_bytes())
    assert r.exit_code == 0 and json.loads(r.stdout)["records"] == 2000
