"""`mlmon watch` in a real terminal (tmux, 80x24) while a writer appends and logrotate rotates:
the view follows every line once, fits the terminal, and q / Ctrl-C end it with 0 / 130."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from corpus import cli
from report_logs import log_lines
from services import binary

LINES = log_lines(hours=2, per_hour=900, drift_after=1.0)


class Tmux:
    """A tmux server of its own (its socket in the test's folder), killed at the end."""

    def __init__(self, tmp: Path) -> None:
        self.exe = binary("tmux")
        self.socket = str(tmp / "tmux.sock")

    def __call__(self, *args: str) -> str:
        done = subprocess.run([self.exe, "-S", self.socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def screen(self) -> list[str]:
        return self("capture-pane", "-p", "-t", "w").split("\n")

    def wait(self, what: Callable[[str], bool], why: str, timeout: float = 90.0) -> list[str]:
        """The screen once `what` holds of its text (the test fails after `timeout` seconds)."""
        end = time.monotonic() + timeout
        while True:
            lines = self.screen()
            if what("\n".join(lines)):
                return lines
            if time.monotonic() > end:
                pytest.fail(f"{why}; the screen:\n" + "\n".join(lines))
            time.sleep(0.2)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    t = Tmux(tmp_path)
    try:
        yield t
    finally:
        subprocess.run([t.exe, "-S", t.socket, "kill-server"], capture_output=True)


def _start(tmux: Tmux, log: Path, *extra: str) -> None:
    argv = [sys.executable, "-m", "mlmon", "watch", str(log), "--every", "1s", "--last", "60m",
            "--max-p99-ms", "40", *extra]
    shell = f"{shlex.join(argv)}; echo EXIT=$?; sleep 120"
    tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", "w", shell)


def _fits(lines: list[str], width: int, height: int) -> None:
    assert len([ln for ln in lines if ln.strip()]) <= height
    assert all(len(ln) <= width for ln in lines)
    assert lines[0].startswith("mlmon watch ")  # nothing scrolled off the top
    shown = [ln for ln in lines if ln.strip()]
    assert shown[-1].startswith("q quits")  # nor off the bottom


def _append(log: Path, lines: list[str]) -> None:
    with open(log, "a") as fh:
        fh.write("\n".join(lines) + "\n")


def test_watch_follows_appends_and_rotations_and_quits_with_q(tmp_path: Path, tmux: Tmux) -> None:
    logrotate = binary("logrotate")
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "predictions.log"
    conf = tmp_path / "logrotate.conf"
    conf.write_text(f"{log} {{\n  rotate 5\n  compress\n  delaycompress\n  missingok\n  create\n}}\n")

    def rotate() -> None:
        done = subprocess.run([logrotate, "-f", "-s", str(tmp_path / "state"), str(conf)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    _append(log, LINES[:1000])
    _start(tmux, log)
    screen = tmux.wait(lambda s: "1,000 lines read" in s, "the first 1,000 lines are shown")
    _fits(screen, 80, 24)
    text = "\n".join(screen)
    assert re.search(r"^v1\.0 +\d", text, re.M) and re.search(r"^all +\d", text, re.M)
    assert re.search(r"alerts: [1-9]\d* active", text)
    assert re.search(r"^(WARN|CRIT) +\d+s ", text, re.M)  # each alert with its age
    _append(log, LINES[1000:1200])
    tmux.wait(lambda s: "1,200 lines read" in s, "appended lines are read")
    rotate()  # predictions.log -> predictions.log.1, a new predictions.log
    _append(log, LINES[1200:1500])
    screen = tmux.wait(lambda s: "1,500 lines read" in s, "the new file after a rotation is read")
    _append(log, LINES[1500:1600])
    rotate()  # .1 -> .2.gz, predictions.log -> .1, a new one again
    _append(log, LINES[1600:1800])
    screen = tmux.wait(lambda s: "1,800 lines read" in s, "every line once across two rotations")
    assert (logs / "predictions.log.2.gz").exists()
    _fits(screen, 80, 24)
    # the canary (v2.0, from half way) appears, and drift-era records are within the last 60m
    assert re.search(r"^v2\.0 +\d", "\n".join(screen), re.M)
    tmux("resize-window", "-t", "w", "-x", "60", "-y", "16")
    screen = tmux.wait(lambda s: s.startswith("mlmon watch") and "q quits" in s
                       and all(len(ln) <= 60 for ln in s.split("\n")), "the view redraws to the new size")
    _fits(screen, 60, 16)
    time.sleep(0.5)
    tmux("send-keys", "-t", "w", "q")
    screen = tmux.wait(lambda s: "EXIT=" in s, "q ends the watch")
    assert "EXIT=0" in "\n".join(screen)
    assert "Traceback" not in "\n".join(screen)


def test_watch_ctrl_c_exits_130_and_shows_drift(tmp_path: Path, tmux: Tmux) -> None:
    from report_logs import write_training

    train = tmp_path / "train.csv"
    write_training(train)
    base = tmp_path / "baseline.json"
    assert cli(["baseline", str(train), "-o", str(base)]).exit_code == 0
    log = tmp_path / "p.log"
    _append(log, LINES)
    _start(tmux, log, "--baseline", str(base))
    screen = tmux.wait(lambda s: "lines read" in s, "the view is drawn")
    text = "\n".join(screen)
    m = re.search(r"drift: (\d+) of (\d+) features", text)
    assert m and int(m.group(1)) >= 3 and int(m.group(2)) == 4, text  # age, income, ... and country
    _fits(screen, 80, 24)
    tmux("send-keys", "-t", "w", "C-c")
    screen = tmux.wait(lambda s: "EXIT=" in s, "Ctrl-C ends the watch")
    assert "EXIT=130" in "\n".join(screen)
    assert "Traceback" not in "\n".join(screen)


def test_watch_refuses_a_non_terminal(tmp_path: Path) -> None:
    log = tmp_path / "p.log"
    _append(log, LINES[:10])
    r = cli(["watch", str(log)])
    assert r.exit_code == 2
    assert "needs a terminal" in r.stderr and "mlmon check" in r.stderr
    done = subprocess.run([sys.executable, "-m", "mlmon", "watch", str(log)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60, env={**os.environ, "COLUMNS": "80"})
    assert done.returncode == 2 and "needs a terminal" in done.stderr and not done.stdout
