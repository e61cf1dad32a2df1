"""Option values with bytes that are not UTF-8 (a shell's $'\\xff'): usage errors, never exit 70."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"


def _run(args: list[bytes]) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, LC_ALL="C.UTF-8")
    return subprocess.run([sys.executable.encode(), b"-m", b"mlmon", *args], capture_output=True, env=env,
                          timeout=120, check=False)


@pytest.mark.parametrize(
    "option", [b"--by", b"--record-marker", b"--success-value", b"--latency-field", b"--since", b"--until"]
)
def test_an_option_value_that_is_not_utf8_is_a_usage_error(option: bytes) -> None:
    log = str(SAMPLES / "predictions.jsonl").encode()
    got = _run([b"summary", log, option, b"a\xffb", b"--format", b"json"])
    assert got.returncode == 2, got.stderr
    assert got.stderr.decode().splitlines()[-1] == (
        f"mlmon: error: {option.decode()}: 'a\\xffb' is not valid UTF-8 text"
    )


def test_a_log_file_name_that_is_not_utf8_is_read(tmp_path: Path) -> None:
    name = os.fsencode(tmp_path) + b"/pred\xff.jsonl"
    with open(name, "wb") as f:
        f.write((SAMPLES / "predictions.jsonl").read_bytes())
    got = _run([b"summary", name, b"--format", b"json"])
    assert got.returncode == 0, got.stderr
    doc = json.loads(got.stdout)
    lines = (SAMPLES / "predictions.jsonl").read_bytes().count(b"\n")
    assert doc["input"]["lines"] == doc["records"] == lines  # read whole, not only opened
    assert [f["lines"] for f in doc["input"]["files"]] == [lines]
    assert got.stderr == b""


def test_a_missing_log_file_name_that_is_not_utf8_is_named_in_the_error(tmp_path: Path) -> None:
    name = os.fsencode(tmp_path) + b"/gone\xff.jsonl"
    got = _run([b"summary", name])
    assert got.returncode == 66, got.stderr
    (line,) = got.stderr.decode().splitlines()
    assert line.startswith("mlmon: error: no input: '") and line.endswith(".jsonl' does not exist")
    assert "/gone" in line and got.stdout == b""
