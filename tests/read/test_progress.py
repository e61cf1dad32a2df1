"""Progress is reported in bytes of the files on disk: each file's bytes add up to its size."""

from __future__ import annotations

import csv
import io
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from corpus import good_lines, gzip_bytes, join, record

from mlmon.cli.app import _Tracker
from mlmon.read.reader import Reader
from mlmon.read.records import SUMMARY_FIELDS, ReadPlan
from mlmon.read.sources import expand

ROOT = Path(__file__).resolve().parents[2]


def _files(tmp_path: Path) -> list[Path]:
    body = join(good_lines(3000))
    (tmp_path / "a.jsonl").write_bytes(body)
    (tmp_path / "b.jsonl.gz").write_bytes(gzip_bytes(body))
    rows = [record(i) for i in range(500)]
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["timestamp", "model_version", "latency_ms", "status"])
    for r in rows:
        w.writerow([r["timestamp"], r["model_version"], r["latency_ms"], r["status"]])
    (tmp_path / "c.csv").write_text(out.getvalue())
    pq.write_table(
        pa.table({k: [r[k] for r in rows] for k in ("timestamp", "model_version", "latency_ms", "status")}),
        tmp_path / "d.parquet",
    )
    return [tmp_path / n for n in ("a.jsonl", "b.jsonl.gz", "c.csv", "d.parquet")]


def test_bytes_reported_add_up_to_each_file_size_in_order(tmp_path: Path) -> None:
    paths = _files(tmp_path)
    reports: list[int] = []
    sources = expand([str(p) for p in paths])
    reader = Reader(sources, ReadPlan(), require=SUMMARY_FIELDS, on_bytes=reports.append)
    rows = sum(t.num_rows for t in reader.tables())
    assert rows == 3000 * 2 + 500 * 2
    sizes = [os.path.getsize(p) for p in paths]
    assert all(n > 0 for n in reports)
    assert sum(reports) == sum(sizes)
    tracker = _Tracker([(str(p), s) for p, s in zip(paths, sizes, strict=True)])
    assert tracker.total == sum(sizes)
    names = [tracker.advance(n) for n in reports]
    # the running total walks through the files in order, each file named while it is read
    assert [n for i, n in enumerate(names) if i == 0 or n != names[i - 1]] == [str(p) for p in paths]


def test_tracker_without_sizes_has_no_total() -> None:
    t = _Tracker([("-", None)])
    assert t.total is None
    assert t.advance(100) == "-"


def test_progress_line_on_a_terminal_shows_file_size_and_percent(tmp_path: Path) -> None:
    name = "pred \x1b]0;pwned\x07[bold]x.jsonl"
    (tmp_path / name).write_bytes(join(good_lines(20000)))
    main, child = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["COLUMNS"] = "160"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlmon", "summary", name, "-q"],
        cwd=tmp_path, stdin=child, stdout=subprocess.PIPE, stderr=child, env=env,
    )
    os.close(child)
    err = b""
    while select.select([main], [], [], 30)[0]:
        try:
            chunk = os.read(main, 1 << 16)
        except OSError:
            break
        if not chunk:
            break
        err += chunk
    out, _ = proc.communicate(timeout=60)
    os.close(main)
    assert proc.returncode == 0, err
    assert out.decode().startswith("OK: 20000 records")
    text = err.decode("utf-8", "replace")
    size_mb = os.path.getsize(tmp_path / name) / 1e6
    assert "reading pred \\x1b]0;pwned\\x07[bold]x.jsonl" in text  # escaped, never markup
    assert "\x1b]0;pwned" not in text
    assert f"/{size_mb:.1f} MB" in text  # the total size
    assert "100%" in text and "0:00:00" in text  # percent and time left
