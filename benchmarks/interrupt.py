"""How fast Ctrl-C ends a run whose parse workers are busy: the CPU seconds and wall seconds the
process spends after SIGINT (it used to finish the blocks in hand: 2.1 s of CPU).

    python benchmarks/interrupt.py [--lines 1500000] [--repeat 3]

A log of lines whose latency is text (every block read by the exact Python path) is summarised
with MLMON_READER=python; after a second of CPU the process gets SIGINT. Expect 130 and well under
a second of CPU after the signal. Times live here, not in the tests (tests/cli/test_cli.py checks
the exit code and the message).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def once(path: Path) -> tuple[int, float, float]:
    env = dict(os.environ, MLMON_READER="python")
    cmd = [sys.executable, "-m", "mlmon", "summary", str(path), "--max-bad-lines", "100%", "-f", "json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    hz = os.sysconf("SC_CLK_TCK")
    while _ticks(proc.pid) < hz and proc.poll() is None:
        time.sleep(0.05)
    before = _ticks(proc.pid) / hz
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - sent
    return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime - before, wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=1_500_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bad.jsonl"
        with path.open("wb") as fh:
            fh.write(b"".join(b'{"latency_ms": "%d"}\n' % i for i in range(a.lines)))
        for _ in range(a.repeat):
            rc, cpu, wall = once(path)
            print(f"exit {rc}: {cpu:.2f} s CPU and {wall:.2f} s wall after SIGINT")
    return 0


if __name__ == "__main__":
    sys.exit(main())
