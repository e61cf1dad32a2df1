"""Hostile command lines and streams: each ends with its documented exit code and one line, never 70."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import cli, error_line

from mlmon.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_logs"


@pytest.mark.parametrize(("header", "named"), [("a,a,b", "'a'"), ("x,y,x,y", "'x', 'y'")])
def test_training_csv_with_a_duplicate_header_is_bad_data(tmp_path: Path, header: str, named: str) -> None:
    width = len(header.split(","))
    (tmp_path / "t.csv").write_text(header + "\n" + ",".join(["1"] * width) + "\n")
    result = cli(["baseline", str(tmp_path / "t.csv"), "-o", str(tmp_path / "b.json")])
    assert result.exit_code == ExitCode.DATA_ERROR
    assert f"more than one column named {named}" in error_line(result)
    assert not (tmp_path / "b.json").exists()


@pytest.mark.parametrize("grid", ["10", "100002", "-5"])
def test_grid_out_of_range_is_usage(tmp_path: Path, grid: str) -> None:
    result = cli(["baseline", str(SAMPLES / "training.csv"), "-o", str(tmp_path / "b.json"), "--grid", grid])
    assert result.exit_code == ExitCode.USAGE
    assert "--grid must be from 11 to 100001" in error_line(result)


# --- streams: closed, full, a reader that leaves, stderr that cannot be written ----------------


def _sh(cmd: str, tmp_path: Path, timeout: float = 120) -> tuple[int, bytes, bytes]:
    """Run a bash line with `MLMON` standing for the console script; the exit code of mlmon
    itself (not of the pipe's last command) comes back through fd 3 as `rc=N`."""
    import subprocess
    import sys

    mlmon = f"{sys.executable} -m mlmon"
    script = cmd.replace("MLMON", mlmon) + '; echo "rc=${PIPESTATUS[0]}" >&3'
    proc = subprocess.run(
        ["bash", "-c", f"exec 3>{tmp_path}/rc; {script}"], capture_output=True, cwd=tmp_path, timeout=timeout
    )
    rc = int((tmp_path / "rc").read_text().strip().removeprefix("rc="))
    return rc, proc.stdout, proc.stderr


LOG = str(SAMPLES / "predictions.jsonl")


@pytest.mark.parametrize("fmt", ["table", "json"])
@pytest.mark.parametrize(("extra", "want"), [("", 0), ("--max-p99-ms 1", 1)])
def test_a_reader_that_leaves_early_keeps_the_exit_code(
    tmp_path: Path, fmt: str, extra: str, want: int
) -> None:
    rc, _, err = _sh(f"MLMON summary {LOG} -f {fmt} {extra} | true", tmp_path)
    assert rc == want, err
    assert b"Traceback" not in err and b"Exception ignored" not in err


@pytest.mark.parametrize("fmt", ["table", "json"])
@pytest.mark.parametrize(("redirect", "reason"), [(">&-", b"it is closed"), (">/dev/full", b"No space left")])
def test_closed_or_full_stdout_is_73_with_one_line(
    tmp_path: Path, fmt: str, redirect: str, reason: bytes
) -> None:
    if redirect == ">/dev/full" and not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    rc, _, err = _sh(f"MLMON summary {LOG} -f {fmt} {redirect}", tmp_path)
    assert rc == ExitCode.CANT_CREATE
    assert err.count(b"\n") == 1 and err.startswith(b"mlmon: error: cannot write to standard output: ")
    assert reason in err


def test_help_to_a_full_stdout_is_73(tmp_path: Path) -> None:
    rc, _, err = _sh("MLMON --help >/dev/full", tmp_path)
    assert rc == ExitCode.CANT_CREATE and b"Traceback" not in err


def test_closed_stdin_is_66_with_one_line(tmp_path: Path) -> None:
    rc, _, err = _sh("MLMON summary - <&-", tmp_path)
    assert rc == ExitCode.NO_INPUT
    assert err == b"mlmon: error: cannot read standard input (-): it is closed\n"


def test_a_closed_stdout_does_not_capture_a_file_mlmon_opens(tmp_path: Path) -> None:
    # fd 1 is free: the training file must not become "stdout" (the baseline goes to -o)
    before = (SAMPLES / "training.csv").read_bytes()
    (tmp_path / "t.csv").write_bytes(before)
    rc, _, err = _sh("MLMON baseline t.csv -o b.json >&-", tmp_path)
    assert rc == 0, err
    assert (tmp_path / "b.json").read_text().startswith("{")
    assert (tmp_path / "t.csv").read_bytes() == before


@pytest.mark.parametrize("stderr", ["2>/dev/full", "2>&-"])
@pytest.mark.parametrize(
    ("args", "want"),
    [("summary missing.jsonl", ExitCode.NO_INPUT), (f"summary {LOG} --max-p99-ms 1", ExitCode.ALERT),
     (f"summary {LOG}", ExitCode.OK), ("summary --no-such-option", ExitCode.USAGE),
     (f"summary {LOG} --max-bad-lines nan", ExitCode.USAGE)],
)
def test_unwritable_stderr_never_changes_the_exit_code(
    tmp_path: Path, stderr: str, args: str, want: int
) -> None:
    if stderr == "2>/dev/full" and not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    rc, _, _ = _sh(f"MLMON {args} >/dev/null {stderr}", tmp_path)
    assert rc == want


# --- numeric options: NaN, infinity and out-of-range values are usage errors ----------------


@pytest.mark.parametrize(
    "option",
    ["--max-bad-lines nan", "--max-bad-lines inf", "--max-bad-lines 1e400", "--max-bad-lines -1",
     "--max-bad-lines 101%", "--max-decompressed-bytes -1", "--max-decompressed-bytes 0",
     "--low-confidence nan", "--low-confidence inf", "--low-confidence 1.5", "--max-p99-ms nan",
     "--max-p95-ms inf", "--min-success-rate nan", "--prediction-range nan,1",
     "--max-line-bytes 99999999999999999999999", "--width 0", "--last 200000d", "--last 1e400s",
     "--since 1600-01-01", "--until 9999-12-31"],
)
def test_summary_numeric_option_rejected(option: str) -> None:
    result = cli(["summary", LOG, *option.split()])
    assert result.exit_code == ExitCode.USAGE, result.stderr
    assert error_line(result).startswith(option.split()[0])


@pytest.mark.parametrize(
    "option",
    ["--min-effect nan", "--mean-tolerance nan", "--mean-tolerance -0.1", "--p-threshold inf",
     "--p-threshold 0", "--critical-effect nan", "--min-effect 1e400"],
)
def test_drift_numeric_option_rejected(option: str) -> None:
    result = cli(["drift", str(SAMPLES / "features.csv"), "--reference", str(SAMPLES / "training.csv"),
                  *option.split()])
    assert result.exit_code == ExitCode.USAGE, result.stderr
    assert option.split()[0] in error_line(result)


def test_every_float_option_of_every_command_refuses_nan() -> None:
    """The class, not the examples: any float option, present or future, refuses NaN."""
    import importlib
    import inspect
    import typing

    from mlmon.cli.commands import COMMANDS

    tried = 0
    modules = [importlib.import_module(f"mlmon.cli.{name}") for name in COMMANDS]
    for info in (i for m in modules for i in m.cli.registered_commands):
        fn = info.callback
        assert fn is not None
        hints = typing.get_type_hints(fn)
        for name, hint in hints.items():
            if hint not in (float, float | None):
                continue
            default = inspect.signature(fn).parameters[name].default
            flag = "--" + name.replace("_", "-")
            args = [fn.__name__.replace("_", "-"), LOG, flag, "nan"]
            if fn.__name__ == "drift":
                args += ["--reference", str(SAMPLES / "training.csv")]
            if fn.__name__ == "trend":
                args += ["--every", "1h"]
            result = cli(args)
            assert result.exit_code == ExitCode.USAGE, (args, default, result.stderr)
            tried += 1
    assert tried >= 6


def test_max_bad_lines_100_percent_accepts_every_bad_line(tmp_path: Path) -> None:
    log = tmp_path / "half.jsonl"
    good = Path(LOG).read_text().splitlines()[:10]
    log.write_text("".join(line + "\n{bad json\n" for line in good))
    assert cli(["summary", str(log)]).exit_code == ExitCode.DATA_ERROR
    result = cli(["summary", str(log), "--max-bad-lines", "100%", "-f", "json"])
    assert result.exit_code == 0, result.stderr


# --- time arithmetic at the ends of the clock ----------------------------------------------


def _old_log(tmp_path: Path) -> Path:
    import json

    log = tmp_path / "old.jsonl"
    log.write_text("".join(
        json.dumps({"timestamp": f"1678-01-01T00:00:{i:02d}Z", "latency_ms": 10, "status": "ok"}) + "\n"
        for i in range(40)))
    return log


@pytest.mark.parametrize(
    ("window", "records"),
    [(["--last", "200d"], 40), (["--until", "1700-01-01", "--last", "100000d"], 40),
     (["--until", "1678-01-01T00:00:09Z", "--last", "105000d"], 10), (["--last", "106000d"], 40),
     (["--last", "5s"], 6)],
)
def test_windows_reaching_past_the_clock_are_clamped(tmp_path: Path, window: list[str], records: int) -> None:
    import json

    result = cli(["summary", str(_old_log(tmp_path)), "-f", "json", *window])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["records"] == records


@pytest.mark.parametrize("command", [["summary"], ["compare", "--control", "v1.0"]])
@pytest.mark.parametrize("field", ["input.features", "prediction"])
def test_by_on_an_object_or_a_list_is_a_usage_error_naming_the_field(command: list[str], field: str) -> None:
    """Every record failed as wrong_type (exit 65) when --by named an object or a list."""
    sample = str(Path(__file__).resolve().parents[2] / "sample_logs" / "predictions.jsonl")
    r = cli([command[0], sample, *command[1:], "--by", field])
    assert r.exit_code == 2, r.stderr
    assert f"--by: {field!r} is an object or a list" in r.stderr
    scalar = "prediction.class" if command[0] == "summary" else "model_version"
    ok = cli([command[0], sample, *command[1:], "--by", scalar, "-f", "json"])
    assert ok.exit_code in (0, 1), ok.stderr
