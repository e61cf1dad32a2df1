"""Regenerate the pictures in docs/img/ (report, report-top, report-phone, watch) as the tests make them.

    python docs/make_screenshots.py

Needs mlmon installed with the test extra, and chromium and tmux (as .ci/run installs them). The
report is of the generated 8-hour log the tests render (tests/report_logs.py), drifting after 4
hours; the watch screen is a real `mlmon watch` in an 80x24 tmux pane, captured with its colours.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"
sys.path.insert(0, str(ROOT / "tests"))

from report_logs import write_log, write_training  # noqa: E402


def chromium(tmp: Path, *args: str) -> None:
    exe = shutil.which("chromium") or "/usr/bin/chromium"
    subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--disable-background-networking", "--no-first-run",
                    f"--user-data-dir={tmp / 'profile'}", *args],
                   check=True, capture_output=True, timeout=180)


def mlmon(tmp: Path, *args: str) -> None:
    """Run in the temporary folder with relative paths: the pictures show `predictions.jsonl`."""
    subprocess.run([sys.executable, "-m", "mlmon", *args], check=False, capture_output=True, timeout=600,
                   cwd=tmp)


def report(tmp: Path) -> None:
    train, log, page = tmp / "training.csv", tmp / "predictions.jsonl", tmp / "report.html"
    write_training(train)
    write_log(log, hours=8)
    mlmon(tmp, "baseline", train.name, "-o", "baseline.json")
    mlmon(tmp, "report", log.name, "--baseline", "baseline.json", "--every", "1h",
          "--max-p99-ms", "150", "--min-success-rate", "0.98:0.95", "-o", page.name)
    chromium(tmp, f"--screenshot={IMG / 'report.png'}", "--window-size=1280,3600", page.as_uri())
    chromium(tmp, f"--screenshot={IMG / 'report-top.png'}", "--window-size=1280,1000", page.as_uri())
    chromium(tmp, f"--screenshot={IMG / 'report-phone.png'}", "--window-size=390,1600", page.as_uri())


def watch(tmp: Path) -> None:
    from rich.console import Console
    from rich.text import Text

    log = tmp / "watch.log"
    write_log(log, hours=2, per_hour=900, drift_after=1.0)
    sock = str(tmp / "tmux.sock")
    tmux = [shutil.which("tmux") or "tmux", "-S", sock, "-f", "/dev/null"]
    cmd = (f"cd {tmp} && {sys.executable} -m mlmon watch {log.name} --baseline baseline.json --every 2s "
           "--last 60m --max-p99-ms 120; sleep 60")
    subprocess.run([*tmux, "new-session", "-d", "-x", "80", "-y", "24", "-s", "w", cmd], check=True)
    try:
        for _ in range(300):
            shown = subprocess.run([*tmux, "capture-pane", "-p", "-t", "w"], capture_output=True, text=True)
            if "lines read" in shown.stdout:
                break
            time.sleep(0.2)
        time.sleep(5)  # let the alerts age a little
        ansi = subprocess.run([*tmux, "capture-pane", "-p", "-e", "-t", "w"], capture_output=True,
                              text=True, check=True).stdout
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    console = Console(record=True, width=80, height=24, force_terminal=True, color_system="truecolor",
                      file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(Text.from_ansi(ansi.rstrip("\n")), soft_wrap=True)
    svg = tmp / "watch.svg"
    svg.write_text(console.export_svg(title="mlmon watch (80x24)"))
    html = tmp / "watch.html"
    html.write_text(f'<html><body style="margin:0;background:#fff">{svg.read_text()}</body></html>')
    chromium(tmp, f"--screenshot={IMG / 'watch.png'}", "--window-size=1000,520", html.as_uri())


def main() -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        report(tmp)
        watch(tmp)
    for name in ("report.png", "report-top.png", "report-phone.png", "watch.png"):
        print(IMG / name, (IMG / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
