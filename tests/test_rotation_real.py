"""`mlmon check --state` against real rotation: several worker processes log JSON-lines records
(each with a unique id) through Python's logging while the real logrotate rotates their log in
each of its set-ups, or the handlers rotate it themselves (RotatingFileHandler by size,
TimedRotatingFileHandler every second), and mlmon runs at random (seeded) moments: during a
rotation, and with two or more rotations between runs. Every record written is counted exactly
once over all runs, with both readers. With copytruncate, logrotate itself drops what the
workers write between its copy and its truncate: the runs count what is on disk."""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpus import cli
from services import binary

from mlmon.read import follow
from mlmon.read.native import available

HERE = Path(__file__).resolve().parent
WORKERS = 3
PER_WORKER = 1200

LOGROTATE = {
    "create": "create",
    "create+compress+delaycompress": "create\n  compress\n  delaycompress",
    "copytruncate": "copytruncate",
    "copytruncate+compress+delaycompress": "copytruncate\n  compress\n  delaycompress",
    "dateext": "create\n  dateext\n  dateformat -%Y%m%d-%H%M%S",
    "olddir": "create\n  olddir old\n  compress\n  delaycompress",
}
MODES = [*LOGROTATE, "RotatingFileHandler", "TimedRotatingFileHandler"]
READERS = ["python", "native"]


def _records_on_disk(folder: Path) -> list[str]:
    """The ids of the records in every file below `folder` (compressed ones decompressed)."""
    ids = []
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        data = gzip.decompress(p.read_bytes()) if p.name.endswith(".gz") else p.read_bytes()
        for line in data.splitlines():
            if line.strip():
                ids.append(json.loads(line)["id"])
    return ids


class Service:
    """The workers, their logs, logrotate, and the mlmon runs with their counts."""

    def __init__(self, tmp: Path, mode: str, seed: int) -> None:
        self.mode = mode
        self.rng = random.Random(seed)
        self.logs = tmp / "logs"
        self.logs.mkdir()
        self.state = tmp / "state.json"
        self.config = tmp / "mlmon.toml"
        if mode in LOGROTATE:
            self.handler = "watched"
            self.paths = [self.logs / "predictions.log"] * WORKERS
            logs = '["logs/predictions.log"]'
        else:
            self.handler = "size" if mode == "RotatingFileHandler" else "time"
            # each worker process rotates its own file (a rotating handler is not safe across processes)
            self.paths = [self.logs / f"worker-{w}.log" for w in range(WORKERS)]
            logs = '["logs/worker-*.log"]'
        rotated = 'rotated = ["logs/old/predictions.log*"]\n' if mode == "olddir" else ""
        self.config.write_text(f'logs = {logs}\n{rotated}[[rules]]\nmetric = "records"\ncritical = 0\n')
        if mode == "olddir":
            (self.logs / "old").mkdir()
        self.rotate_conf = tmp / "logrotate.conf"
        self.rotate_state = tmp / "logrotate.state"
        if mode in LOGROTATE:
            self.rotate_conf.write_text(
                f"{self.logs}/predictions.log {{\n  rotate 1000\n  missingok\n  {LOGROTATE[mode]}\n}}\n"
            )
        self.counted = 0
        self.lines = 0
        self.runs = 0
        self.during = 0
        self.logrotate = binary("logrotate") if mode in LOGROTATE else ""
        self.last_rotation = 0.0

    def start(self) -> list[subprocess.Popen[str]]:
        # the first file exists before the first run
        for p in set(self.paths):
            p.touch()
        return [
            subprocess.Popen(
                [sys.executable, str(HERE / "rotation_writer.py"), self.handler, str(p), f"w{w}",
                 str(PER_WORKER)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for w, p in enumerate(self.paths)
        ]

    def rotate(self) -> subprocess.Popen[str] | None:
        if not self.logrotate:
            return None
        if self.mode == "dateext":
            # dateext names a copy by the second: one rotation a second
            time.sleep(max(0.0, self.last_rotation + 1.05 - time.time()))
        self.last_rotation = time.time()
        return subprocess.Popen(
            [self.logrotate, "-f", "-s", str(self.rotate_state), str(self.rotate_conf)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait(self, p: subprocess.Popen[str] | None) -> None:
        if p is not None:
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0, err

    def check(self) -> None:
        r = cli(["check", "--config", str(self.config), "--state", str(self.state), "-f", "json"])
        assert r.exit_code == 0, r.stderr  # the records rule passes on no new line too
        doc = json.loads(r.stdout)
        assert doc["input"]["lost"] == [], doc["input"]
        assert doc["input"]["bad_lines"] == 0, doc["input"]
        assert doc["input"]["lines"] == doc["records"], doc["input"]
        self.counted += doc["records"]
        self.lines += doc["input"]["lines"]
        self.runs += 1


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("mode", MODES)
def test_every_record_is_counted_once_across_real_rotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, reader: str
) -> None:
    if reader == "native" and not available():
        pytest.skip("the native reader was not built")
    monkeypatch.setenv("MLMON_READER", reader)
    monkeypatch.chdir(tmp_path)
    s = Service(tmp_path, mode, seed=MODES.index(mode))
    trace: list[str] = []  # what each run planned: shown when the counts differ
    real_plan = follow._plan

    def traced(*args: object, **kwargs: object) -> follow.FollowPlan:
        p = real_plan(*args, **kwargs)  # type: ignore[arg-type]
        reads = [(r.source.path, r.source.start, r.source.stop, r.how) for r in p.reads]
        kept = [(k.path, k.offset, k.size, k.done) for k in p.kept]
        trace.append(f"{time.time():.3f} reads {reads} kept {kept}")
        return p

    monkeypatch.setattr(follow, "_plan", traced)
    real_rotate = s.rotate

    def rotate() -> subprocess.Popen[str] | None:
        trace.append(f"{time.time():.3f} rotate")
        return real_rotate()

    monkeypatch.setattr(s, "rotate", rotate)
    # the first run takes rotated copies already there as read (docs/cron.md): it runs before the
    # service writes, so every rotated copy is made after it, however slow the machine
    for p in set(s.paths):
        p.touch()
    s.check()
    workers = s.start()
    s.check()
    while any(w.poll() is None for w in workers):
        time.sleep(s.rng.uniform(0.02, 0.15))
        roll = s.rng.random()
        if roll < 0.25:  # a run while logrotate is at work
            p = s.rotate()
            s.check()
            s.during += p is not None
            s.wait(p)
        elif roll < 0.5:  # two or three rotations between two runs
            for _ in range(s.rng.choice((2, 3))):
                s.wait(s.rotate())
            s.check()
        elif roll < 0.7:
            s.wait(s.rotate())
        else:
            s.check()
    written = 0
    for w in workers:
        out, _ = w.communicate(timeout=60)
        assert w.returncode == 0
        written += int(out)
    s.wait(s.rotate())  # the last lines rotated away before the last runs
    s.check()
    s.check()
    on_disk = _records_on_disk(s.logs)
    assert len(set(on_disk)) == len(on_disk)  # rotation never wrote a record twice
    if mode.startswith("copytruncate"):
        # logrotate loses what is written between its copy and its truncate: count what is on disk
        assert len(on_disk) <= written
    else:
        assert len(on_disk) == written
    print(f"{mode} {reader}: written {written}, on disk {len(on_disk)}, counted {s.counted} "
          f"in {s.runs} runs ({s.during} during a rotation)")
    listing = [(str(p.relative_to(s.logs)), p.stat().st_size) for p in sorted(s.logs.rglob("*"))]
    assert s.counted == len(on_disk), "\n".join([*trace, str(listing)])
    assert s.lines == s.counted
