"""A model service worker for tests/test_rotation_real.py: appends JSON-lines prediction records
through Python's logging, each with a unique id, at a steady pace, while its log is rotated.

    python rotation_writer.py HANDLER PATH WORKER COUNT

HANDLER: `watched` (WatchedFileHandler: reopens the file when logrotate moved it, appends with
O_APPEND as every FileHandler does), `size` (RotatingFileHandler, small maxBytes) or `time`
(TimedRotatingFileHandler, a new file every second). Prints the number of records written.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
import time
from datetime import UTC, datetime


def main() -> None:
    kind, path, worker, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    handler: logging.Handler
    if kind == "watched":
        handler = logging.handlers.WatchedFileHandler(path)
    elif kind == "size":
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=40_000, backupCount=100_000)
    elif kind == "time":
        handler = logging.handlers.TimedRotatingFileHandler(path, when="S", interval=1, backupCount=0)
    else:
        raise SystemExit(f"unknown handler {kind}")
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("predictions")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    for n in range(count):
        rec = {
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "id": f"{worker}-{n}",
            "model_version": "v1",
            "latency_ms": 10.0 + n % 40,
            "status": "success",
            "prediction": {"class": n % 3, "confidence": 0.9},
        }
        log.info(json.dumps(rec))
        if n % 10 == 9:
            time.sleep(0.02)
    handler.close()
    print(count)


if __name__ == "__main__":
    main()
