"""Differential hunt: the native and the Python readers, end to end through the CLI, on generated logs.

Generates many varied prediction logs (logging prefixes, record markers, nested field paths,
odd numbers and strings, duplicate and escaped keys, line-end and encoding oddities, compressed
and multi-file inputs, big files with odd lines at block boundaries) and runs `mlmon summary`,
`drift`, `trend`, `check`, `compare` and `baseline` (`--format json`) on each under three readers:

- `native`: the compiled reader (the default when it is built);
- `python`: MLMON_READER=python (pyarrow's fast path, the exact path for blocks it refuses);
- `exact`: the Python exact path alone (every block line by line: the specification).

For every run it compares the exit code, the whole JSON output and stderr's first line, and
checks that no run exits 70 or prints a traceback. Runs are forked from one process that has
imported mlmon already (the CLI's own `main()`, stdin/stdout/stderr on files), so a run costs its
work and not Python's start-up; `--subprocess` runs the real console script instead.

    python benchmarks/diffhunt.py                 # every family, default sizes
    python benchmarks/diffhunt.py --family numbers --seed 3 --keep /tmp/dh
    python benchmarks/diffhunt.py --big           # adds the 200k-line block-boundary logs
    python benchmarks/diffhunt.py --blocks        # in process: one odd value per clean block

Exit status: 0 when every run agreed, 1 when some differed (each difference is printed).
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODES = ("native", "python", "exact")
TIMEOUT = 120


@dataclass
class Case:
    """Files to write and the commands to run on them (argv after `mlmon`)."""

    name: str
    files: dict[str, bytes]
    commands: list[list[str]]
    stdin: bytes = b""
    config: str | None = None
    """mlmon.toml text for `check` (written as mlmon.toml)."""


@dataclass
class Outcome:
    rc: int
    out: Any
    err1: str
    traceback: bool
    raw_out: str = field(repr=False, default="")


# --- records ----------------------------------------------------------------------------------

COUNTRIES = ["DE", "US", "FR", "JP", "BR"]


def ts(i: int, *, base_h: int = 10) -> str:
    s = i % 60
    m = (i // 60) % 60
    h = base_h + (i // 3600) % 10
    return f"2026-11-01T{h:02d}:{m:02d}:{s:02d}Z"


def record(i: int, rng: random.Random, *, features: str = "named", shift: float = 0.0) -> dict[str, Any]:
    age = round(rng.gauss(40 + shift, 10), 3)
    income = round(rng.lognormvariate(10, 0.5), 2)
    country = rng.choice(COUNTRIES)
    rec: dict[str, Any] = {
        "timestamp": ts(i),
        "model_version": rng.choice(["v1", "v2"]),
        "latency_ms": round(rng.lognormvariate(3, 0.6), 2),
        "status": "success" if rng.random() > 0.03 else "error",
        "prediction": {"class": rng.choice(["cat", "dog", "bird"]), "confidence": round(rng.random(), 3)},
    }
    if features == "named":
        rec["input"] = {"features": {"age": age, "income": income, "country": country}}
    elif features == "list":
        rec["input"] = {"features": [age, income, country]}
    return rec


def dumps(rec: Any) -> bytes:
    return json.dumps(rec).encode()


def good(
    n: int, rng: random.Random, *, features: str = "named", start: int = 0, shift: float = 0.0
) -> list[bytes]:
    return [dumps(record(start + i, rng, features=features, shift=shift)) for i in range(n)]


def training_csv(rng: random.Random, n: int = 600) -> bytes:
    rows = ["age,income,country"]
    for _ in range(n):
        rows.append(f"{rng.gauss(40, 10):.3f},{rng.lognormvariate(10, 0.5):.2f},{rng.choice(COUNTRIES)}")
    return ("\n".join(rows) + "\n").encode()


def join(lines: list[bytes], end: bytes = b"\n") -> bytes:
    return b"".join(line + end for line in lines)


def sprinkle(lines: list[bytes], odd: list[bytes], rng: random.Random) -> list[bytes]:
    out = list(lines)
    for o in odd:
        out.insert(rng.randrange(len(out) + 1), o)
    return out


SUMMARY = ["summary", "--format", "json"]
DRIFT = ["drift", "--baseline", "base.json", "--format", "json"]
TREND = ["trend", "--every", "15m", "--format", "json"]


def std_commands(
    log: str | list[str],
    extra: list[str] | None = None,
    *,
    drift: bool = True,
    trend: bool = True,
    check: bool = False,
    compare: bool = True,
    fields: list[str] | None = None,
) -> list[list[str]]:
    logs = [log] if isinstance(log, str) else log
    extra = extra or []
    fields = fields or []
    cmds = [["summary", *logs, "--format", "json", *extra, *fields]]
    if drift:
        cmds.append(
            [
                "drift",
                *logs,
                "--baseline",
                "base.json",
                "--format",
                "json",
                *extra,
                *[f for f in fields if f.startswith("--features") or f.startswith("--timestamp")],
            ]
        )
    if trend:
        cmds.append(["trend", *logs, "--every", "15m", "--format", "json", *extra, *fields])
    if check:
        cmds.append(["check", *logs, "--config", "mlmon.toml", "--format", "json", *extra, *fields])
    if compare:
        with_base = ["--baseline", "base.json"] if drift else []
        cmds.append(["compare", *logs, "--control", "v1", "--format", "json", *with_base, *extra, *fields])
    return cmds


CHECK_TOML = """
baseline = "base.json"
[[rules]]
metric = "latency_ms.p99"
warning = 250
critical = 400
by = "model_version"
[[rules]]
metric = "success_rate"
warning = 0.99
critical = 0.5
[[rules]]
metric = "drift.*"
[[rules]]
metric = "records"
warning = 10
"""


def with_baseline(files: dict[str, bytes], rng: random.Random) -> dict[str, bytes]:
    files = dict(files)
    files["train.csv"] = training_csv(rng)
    return files


# --- families ---------------------------------------------------------------------------------

Family = Callable[[random.Random], Iterator[Case]]
FAMILIES: dict[str, Family] = {}


def family(fn: Family) -> Family:
    FAMILIES[fn.__name__] = fn
    return fn


def _mix(
    rng: random.Random,
    n: int,
    odd: list[bytes],
    prefix: Callable[[int], bytes] | None = None,
    features: str = "named",
) -> bytes:
    lines = good(n, rng, features=features)
    lines = sprinkle(lines, odd, rng)
    if prefix is not None:
        lines = [prefix(i) + line if line.startswith(b"{") else line for i, line in enumerate(lines)]
    return join(lines)


@family
def prefixes(rng: random.Random) -> Iterator[Case]:
    """Real-world logging layouts, with and without --record-marker."""
    stamp = "2026-11-01 10:00:{:02d},{:03d}"
    layouts: dict[str, tuple[Callable[[int], bytes], list[str]]] = {
        "asctime_comma": (
            lambda i: (stamp.format(i % 60, i % 1000) + " - app - INFO - Prediction: ").encode(),
            [],
        ),
        "asctime_T_dot": (lambda i: f"2026-11-01T10:00:{i % 60:02d}.{i % 1000:03d}Z INFO ".encode(), []),
        "asctime_nomillis": (lambda i: f"2026-11-01 10:00:{i % 60:02d} INFO app: ".encode(), []),
        "flask": (lambda i: f"[2026-11-01 10:00:{i % 60:02d},{i:03d}] INFO in app: ".encode(), []),
        "basic": (lambda i: b"INFO:__main__:", []),
        "basic_dotted": (lambda i: b"WARNING:svc.model.v2:pred ", []),
        "uvicorn": (lambda i: b"INFO:     127.0.0.1:53214 - prediction ", ["--record-marker", "prediction "]),
        "journald": (
            lambda i: f"Nov 01 10:00:{i % 60:02d} host model[412]: ".encode(),
            ["--record-marker", "]: "],
        ),
        "syslog": (
            lambda i: f"<134>1 2026-11-01T10:00:{i % 60:02d}Z host app - - - ".encode(),
            ["--record-marker", "- - - "],
        ),
        "marker_unicode": (lambda i: "é→ Prédiction: ".encode(), ["--record-marker", "Prédiction: "]),
        "ansi": (lambda i: b"\x1b[32mINFO\x1b[0m Prediction: ", ["--record-marker", "Prediction: "]),
        "ansi_nomarker": (lambda i: b"\x1b[32mINFO\x1b[0m ", []),
        "tab_prefix": (lambda i: b"\t", []),
        "nbsp_prefix": (lambda i: b"\xc2\xa0", []),
    }
    for name, (prefix, extra) in layouts.items():
        odd = [
            b"2026-11-01 10:00:00,000 - app - ERROR - Prediction failed",
            b"Traceback (most recent call last):",
            b'  File "x.py", line 1, in <module> {"latency_ms": 5}',
            b"INFO:app:retry {id=5}",
            b"[2026-11-01 10:00:00] INFO in app: {not json}",
            prefix(3) + b'{"latency_ms": "12"}',
            prefix(4) + b"[1, 2, 3]",
            prefix(5) + b"null",
            prefix(6) + b'{"latency_ms": 5, "status": "ok"',
        ]
        data = _mix(rng, 300, odd, prefix)
        files = with_baseline({"app.log": data}, rng)
        yield Case(
            f"prefix-{name}",
            files,
            [["baseline", "train.csv", "-o", "base.json"], *std_commands("app.log", extra, check=True)],
            config=CHECK_TOML,
        )
    # docker json-file: the record is an escaped string inside `log`
    lines = []
    for i, line in enumerate(good(200, rng)):
        lines.append(dumps({"log": line.decode() + "\n", "stream": "stdout", "time": ts(i)}))
    lines.insert(50, dumps({"log": "plain text\n", "stream": "stderr", "time": ts(50)}))
    yield Case(
        "docker-json-file",
        {"d.log": join(lines)},
        [
            ["summary", "d.log", "--format", "json"],
            ["summary", "d.log", "--format", "json", "--record-marker", '"log":"'],
            ["summary", "d.log", "--format", "json", "--latency-field", "log", "--timestamp-field", "time"],
            ["summary", "d.log", "--format", "json", "--timestamp-field", "time", "--by", "stream"],
        ],
    )
    # markers inside strings, twice on a line, at the end of the line
    m = b"Prediction: "
    recs = good(150, rng)
    odd = [
        m + b'{"status": "Prediction: ok", "latency_ms": 3}',
        b"x " + m + m + b'{"latency_ms": 3}',
        b'{"note": "Prediction: "} ' + m + b'{"latency_ms": 4}',
        b"tail " + m,
        m + b" " * 3,
        m + b"\t{}",
        m + b'{"latency_ms": 1}' + m + b"{}",
    ]
    lines = sprinkle([m + r for r in recs], odd, rng)
    yield Case(
        "marker-strings",
        {"m.log": join(lines)},
        std_commands("m.log", ["--record-marker", "Prediction: "], drift=False),
    )
    yield Case(
        "marker-brace",
        {"m.log": join([b"x {" + r for r in recs[:50]] + [b"{" + r for r in recs[50:60]])},
        std_commands("m.log", ["--record-marker", "{"], drift=False),
    )
    yield Case(
        "marker-quote",
        {"m.log": join(recs[:80])},
        std_commands("m.log", ["--record-marker", '"'], drift=False),
    )
    yield Case(
        "marker-space",
        {"m.log": join([b" " + r for r in recs[:80]] + [b"  ", b" ", b"\t"])},
        std_commands("m.log", ["--record-marker", " "], drift=False),
    )


def _set(rec: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = rec
    for p in parts[:-1]:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[parts[-1]] = value


@family
def nested(rng: random.Random) -> Iterator[Case]:
    """Field paths given by options, through null, lists, numbers, strings, duplicates, escapes."""
    fields = [
        "--latency-field",
        "timing.ms",
        "--status-field",
        "meta.status",
        "--timestamp-field",
        "meta.ts",
        "--prediction-field",
        "out",
        "--class-field",
        "out.label",
        "--confidence-field",
        "out.p",
        "--by",
        "meta.model.name",
    ]
    lines = []
    for i in range(400):
        rec = {
            "meta": {
                "ts": ts(i),
                "status": rng.choice(["ok", "OK", "fail"]),
                "model": {"name": rng.choice(["a", "b"])},
            },
            "timing": {"ms": round(rng.lognormvariate(3, 0.5), 2)},
            "out": {"label": rng.choice(["x", "y"]), "p": round(rng.random(), 3)},
            "input": {
                "features": {
                    "age": round(rng.gauss(40, 10), 2),
                    "income": 1000.0,
                    "country": rng.choice(COUNTRIES),
                }
            },
        }
        lines.append(dumps(rec))
    odd_raw = [
        '{"meta": null, "timing": {"ms": 5}}',
        '{"meta": {"ts": "2026-11-01T10:00:00Z", "model": null}, "timing": {"ms": 5}}',
        '{"meta": [1, 2], "timing": {"ms": 5}}',
        '{"meta": 5, "timing": {"ms": 5}}',
        '{"meta": "s", "timing": {"ms": 5}}',
        '{"meta": {"model": {"name": {"x": 1}}}, "timing": {"ms": 5}}',
        '{"meta": {"model": {"name": [1]}}, "timing": {"ms": 5}}',
        '{"meta": {"model": {"name": 1.5}}, "timing": {"ms": 5}}',
        '{"meta": {"model": {"name": -0}}, "timing": {"ms": 5}}',
        '{"meta": {"model": {"name": 12345678901234567890123}}, "timing": {"ms": 5}}',
        '{"meta": {"model": {"name": true}}, "timing": {"ms": 5}}',
        '{"meta": {"model": {"name": "a", "name": "b"}}, "timing": {"ms": 5}}',
        '{"meta": {"model": {"name": "a"}, "model": {"name": "b"}}, "timing": {"ms": 5}}',
        '{"meta": {"model": {"name": "a"}}, "meta": {"model": {"name": "b"}}, "timing": {"ms": 5}}',
        '{"meta": {"model": {"x": 1, "x": 2, "name": "a"}}, "timing": {"ms": 5}}',
        '{"timing": {"ms": 5, "ms": 6}}',
        '{"timing": {"ms": 5}, "timing": null}',
        '{"timing": {"m\\u0073": 77}}',
        '{"tim\\u0069ng": {"ms": 78}}',
        '{"timing": {"ms": 5, "m\\u0073": 6}}',
        '{"timing": {"\\u006ds": 5}, "timing": {"ms": 6}}',
        '{"timing": {"ms": 5}, "meta": {"m\\u006fdel": {"name": "esc"}}}',
        '{"timing": {"ms": 5}, "meta": {"model": {"nam\\u0065": "esc2", "name": "dup"}}}',
        # keys differing only by Unicode normalisation: not the same key
        '{"timing": {"ms": 5}, "meta": {"model": {"name": "n"}}, "caf\\u00e9": 1, "cafe\\u0301": 2}',
        '{"timing": {"ms": 5}, "out": {"label": "caf\\u00e9"}}',
        '{"timing": {"ms": 5}, "out": {"label": "cafe\\u0301"}}',
        '{"timing": {"ms": 5}, "out": [1]}',
        '{"timing": {"ms": 5}, "out": "str-pred"}',
        '{"timing": {"ms": 5}, "out": 3.5}',
        '{"timing": {"ms": 5}, "out": -0}',
        '{"timing": {"ms": 5}, "out": false}',
        '{"timing": {"ms": 5}, "out": null, "out": null}',
        '{"timing": {"ms": 5}, "out": {"label": null, "p": null}}',
        '{"timing": {"ms": 5}, "out": {"label": 1.0}}',
        '{"timing": {"ms": 5}, "out": {"label": 10}}',
        '{"timing": {"ms": 5}, "out": {"label": -10}}',
        '{"timing": {"ms": 5}, "out": {"label": 18446744073709551615}}',
        '{"timing": {"ms": 5}, "out": {"label": 18446744073709551616}}',
        '{"timing": {"ms": 5}, "out": {"label": -9223372036854775809}}',
        '{"timing": {"ms": 5}, "out": {"label": 1e2}}',
        '{"timing": {"ms": 5}, "meta": {"ts": 1793527200}}',
        '{"timing": {"ms": 5}, "meta": {"ts": 1793527200.5}}',
        '{"timing": {"ms": 5}, "meta": {"ts": -0}}',
        '{"timing": {"ms": 5}, "meta": {"ts": true}}',
        '{"timing": {"ms": 5}, "meta": {"ts": ["2026"]}}',
        '{"timing": {"ms": 5}, "meta": {"ts": "2026-11-01T10:00:00\\u0000Z"}}',
        '{"timing": {"ms": 5}, "meta": {"ts": "\\ud83d\\ude00"}}',
        '{"timing": {"ms": 5}, "meta": {"ts": "\\ud83d"}}',
        '{"timing": {"ms": 5}, "meta": {"status": 200}}',
        '{"timing": {"ms": 5}, "meta": {"status": 200.0}}',
        '{"timing": {"ms": 5}, "meta": {"status": true}}',
        '{"timing": {"ms": 5}, "meta": {"status": "\\u017fuccess"}}',
        '{"timing": {"ms": 5}, "meta": {"status": "\\u212a"}}',
        '{"timing": {"ms": 5}, "meta": {"status": "O\\u212a"}}',
        '{"timing": {"ms": 5}, "meta": {"status": "\\u0130"}}',
        '{"timing": {"ms": 5}, "meta": {"status": "\\u00d6K"}}',
    ]
    odd = [s.encode() for s in odd_raw]
    data = join(sprinkle(lines, odd * 2, rng))
    files = with_baseline({"n.jsonl": data}, rng)
    cmds = [["baseline", "train.csv", "-o", "base.json"]]
    cmds.append(["summary", "n.jsonl", "--format", "json", *fields])
    cmds.append(
        [
            "summary",
            "n.jsonl",
            "--format",
            "json",
            *fields,
            "--success-value",
            "ok",
            "--success-value",
            "\u00f6k",
            "--success-value",
            "k",
            "--success-value",
            "i\u0307",
        ]
    )
    cmds.append(["trend", "n.jsonl", "--every", "15m", "--format", "json", *fields])
    cmds.append(
        [
            "drift",
            "n.jsonl",
            "--baseline",
            "base.json",
            "--format",
            "json",
            "--timestamp-field",
            "meta.ts",
            "--by",
            "meta.model.name",
        ]
    )
    cmds.append(["summary", "n.jsonl", "--format", "json", "--latency-field", "timing", "--by", "meta"])
    cmds.append(
        [
            "summary",
            "n.jsonl",
            "--format",
            "json",
            "--latency-field",
            "timing.ms.x",
            "--by",
            "meta.model.name.x",
        ]
    )
    cmds.append(["summary", "n.jsonl", "--format", "json", "--latency-field", "timing..ms", "--by", ""])
    cmds.append(
        ["summary", "n.jsonl", "--format", "json", "--latency-field", "timing.ms", "--by", "caf\u00e9"]
    )
    cmds.append(
        ["summary", "n.jsonl", "--format", "json", "--latency-field", "timing.ms", "--by", "cafe\u0301"]
    )
    cmds.append(
        [
            "summary",
            "n.jsonl",
            "--format",
            "json",
            "--latency-field",
            "timing.ms",
            "--prediction-field",
            "out.label",
            "--class-field",
            "out.label.x",
        ]
    )
    cmds.append(
        [
            "summary",
            "n.jsonl",
            "--format",
            "json",
            "--latency-field",
            "timing.ms",
            "--prediction-field",
            "meta",
            "--class-field",
            "meta.status",
            "--confidence-field",
            "timing.ms",
        ]
    )
    cmds.append(
        [
            "summary",
            "n.jsonl",
            "--format",
            "json",
            "--latency-field",
            "timing.ms",
            "--status-field",
            "out",
            "--success-field",
            "meta.model",
        ]
    )
    yield Case("nested-paths", files, cmds)


NUMBERS = [
    "-0",
    "-0.0",
    "0",
    "0.0",
    "0e0",
    "0E-0",
    "-0e0",
    "1e308",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    "1e309",
    "-1e309",
    "1e-320",
    "4.9e-324",
    "2e-324",
    "1e-400",
    "1E5",
    "1e+5",
    "1.5E-3",
    "123456789012345678",
    "9007199254740993",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "1" * 20,
    "1" * 400,
    "1" * 4300,
    "1" * 4301,
    "1" * 5000,
    "1" * 400 + ".0",
    "0." + "0" * 400 + "1",
    "1" + "0" * 300 + "e-300",
    "1.0",
    "1",
    "true",
    "false",
    "null",
    '"12"',
    '"1e3"',
    "NaN",
    "-Infinity",
    "Infinity",
    "[1]",
    "{}",
    "01",
    "1.",
    ".5",
    "+1",
    "1e",
    "0x10",
    "- 1",
    "1_000",
    "2.5e-308",
    "2.2250738585072011e-308",
    "1.00000000000000011102230246251565404236316680908203125",
    "0.1e1",
    "100e-2",
    "123.456e-789",
    "-1e-400",
]


@family
def numbers(rng: random.Random) -> Iterator[Case]:
    """Number literals in every field mlmon reads as a number, as text or as a class."""
    for fld in [
        "latency_ms",
        "prediction.confidence",
        "timestamp",
        "prediction.class",
        "model_version",
        "prediction",
        "input.features.age",
        "input.features.country",
        "status",
        "success",
    ]:
        lines = good(300, rng)
        odd = []
        for lit in NUMBERS:
            rec = record(rng.randrange(300), rng)
            text = dumps(rec).decode()
            key = fld.split(".")[-1]
            # replace the value of that field by the literal, textually
            rec2 = dict(rec)
            marker = "__NUM__"
            _set(rec2, fld, marker)
            text = json.dumps(rec2).replace(f'"{marker}"', lit)
            del key
            odd.append(text.encode())
        data = join(sprinkle(lines, odd, rng))
        files = with_baseline({"n.jsonl": data}, rng)
        cmds = [
            ["baseline", "train.csv", "-o", "base.json"],
            *std_commands("n.jsonl", ["--max-bad-lines", "0.5"]),
        ]
        cmds.append(["summary", "n.jsonl", "--format", "json", "--by", fld, "--max-bad-lines", "0.5"])
        yield Case(f"numbers-{fld}", files, cmds)
    # a whole file of odd numbers in latency (the fast path may take all of it)
    for lit in ["-0", "1e-320", "1E5", "0e0", "18446744073709551615", "1" * 20, "1e308"]:
        lines = [
            dumps(record(i, rng)).replace(b'"latency_ms": ', b'"latency_ms": ' + lit.encode() + b', "l0": ')
            for i in range(2500)
        ]
        yield Case(f"numbers-all-{lit[:12]}", {"a.jsonl": join(lines)}, std_commands("a.jsonl", drift=False))
        lines = [
            dumps(record(i, rng))
            .replace(b'"model_version": "v1"', b'"model_version": ' + lit.encode())
            .replace(b'"model_version": "v2"', b'"model_version": 2')
            for i in range(2500)
        ]
        yield Case(f"numbers-by-{lit[:12]}", {"a.jsonl": join(lines)}, std_commands("a.jsonl", drift=False))


STATUSES = [
    "OK",
    "Ok",
    "ok",
    "Success",
    "SUCCESS",
    "\u017fuccess",
    "\u017f",
    "\u212a",
    "O\u212a",
    "\u0130",
    "I\u0307",
    "\u00d6K",
    "\u00f6k",
    "SUCCE\u00df",
    "succe\u1e9e",
    "\u03a3\u03a3",
    "\u03c3\u03c2",
    "\ua7da",
    "\ua7db",
    "\U00010d50",
    "\U00010d70",
    "\u1c89",
    "\u1c8a",
    "\ua7cb",
    "\u0194",
    "\u0263",
    "\u2c2f",
    "\u2c5f",
    "\U0001e900",
    "\U00016e40",
    "\u10a0",
    "\u2d00",
    "\u13a0",
    "\uab70",
    "\u1e9e",
    "\u00df",
    "\u0149",
    "\ufb00",
    "200",
    "500",
    "0",
    "-1",
    "",
    " ok",
    "ok ",
    "o\u0000k",
]


@family
def statuses(rng: random.Random) -> Iterator[Case]:
    """Status values as text (Unicode case rules), integers, booleans; several --success-value."""
    lines = []
    for i in range(600):
        rec = record(i, rng)
        st = STATUSES[i % len(STATUSES)]
        rec["status"] = st
        lines.append(dumps(rec) if i % 2 else json.dumps(rec, ensure_ascii=False).encode())
    for i, v in enumerate([200, 500, 0, -5, True, False, None, 2.0, [1], {"a": 1}, 10**20]):
        rec = record(i, rng)
        rec["status"] = v
        lines.append(dumps(rec))
    data = join(lines)
    base = ["summary", "s.jsonl", "--format", "json", "--max-bad-lines", "0.5"]
    cmds = [base]
    for extra in (
        ["--success-value", "ok"],
        ["--success-value", "200"],
        ["--success-value", "\u017fuccess"],
        ["--success-value", "SUCCESS", "--success-value", "\u212a"],
        ["--success-value", "\ua7da"],
        ["--success-value", "\ua7db"],
        ["--success-value", "\U00010d70"],
        ["--success-value", "\u1c8a"],
        ["--success-value", "\U00010d50"],
        ["--success-value", "\u03c3\u03c2"],
        ["--success-value", "i\u0307"],
        ["--success-value", "ss"],
        ["--success-value", "\u00df"],
        ["--success-value", "true"],
        ["--success-value", ""],
        ["--success-value", "\u2c5f"],
        ["--success-value", "\uab70"],
        ["--success-value", "\u13a0"],
    ):
        cmds.append([*base, *extra])
    yield Case("statuses", {"s.jsonl": data}, cmds)
    # all statuses of one kind: the fast path reads the whole file
    for st in ["\ua7da", "\U00010d50", "\u1c89", "\u0130", "\u03a3"]:
        lines = []
        for i in range(2500):
            rec = record(i, rng)
            rec["status"] = st if i % 3 else "ok"
            lines.append(json.dumps(rec, ensure_ascii=bool(i % 2)).encode())
        low = st.lower()
        yield Case(
            f"statuses-all-{ord(st[0]):x}",
            {"s.jsonl": join(lines)},
            [
                ["summary", "s.jsonl", "--format", "json"],
                ["summary", "s.jsonl", "--format", "json", "--success-value", st],
                ["summary", "s.jsonl", "--format", "json", "--success-value", low],
                ["trend", "s.jsonl", "--format", "json", "--every", "15m", "--success-value", st],
            ],
        )


STRINGS = [
    '"\\u0000"',
    '"a\\u0000b"',
    '"\\ud83d\\ude00"',
    '"\\ud83d"',
    '"\\ude00"',
    '"\\ud83d\\u0041"',
    '"\\udbff\\udfff"',
    '"\\/"',
    '"\\b\\f\\n\\r\\t"',
    '"\\u00e9"',
    '"\\u00E9"',
    '"e\\u0301"',
    '"\\u2028\\u2029"',
    '"\\uFEFF"',
    '"\\x41"',
    '"\\u12"',
    '"\\U0001F600"',
    '"\\\'"',
    '"a\tb"',
    '"a\x7fb"',
    '"\u00e9"',
    '"\U0001f600"',
]
RAW_BYTES = [
    b'"\xc3\xa9"',
    b'"\xe9"',
    b'"\xc0\xaf"',
    b'"\xe0\x80\xaf"',
    b'"\xed\xa0\x80"',
    b'"\xf4\x90\x80\x80"',
    b'"\xef\xbf\xbf"',
    b'"\xf0\x9f\x98"',
    b'"\xff"',
    b'"a\x00b"',
    b'"\xc2\x85"',
    b'"\xe2\x80\xa8"',
]


@family
def strings(rng: random.Random) -> Iterator[Case]:
    """Escapes, surrogates, NUL, raw invalid or overlong UTF-8: in read and unread fields."""
    for fld in [
        "prediction.class",
        "model_version",
        "timestamp",
        "status",
        "input.features.country",
        "unread_field",
        "input.features.unread",
    ]:
        lines = good(300, rng)
        odd = []
        for lit in [s.encode() for s in STRINGS] + RAW_BYTES:
            rec = record(rng.randrange(300), rng)
            _set(rec, fld, "__S__")
            odd.append(dumps(rec).replace(b'"__S__"', lit))
            # the same literal as a key
            odd.append(dumps(record(1, rng))[:-1] + b", " + lit + b": 1}")
        data = join(sprinkle(lines, odd, rng))
        files = with_baseline({"s.jsonl": data}, rng)
        cmds = [
            ["baseline", "train.csv", "-o", "base.json"],
            *std_commands("s.jsonl", ["--max-bad-lines", "0.5"]),
            ["summary", "s.jsonl", "--format", "json", "--by", fld, "--max-bad-lines", "0.5"],
        ]
        yield Case(f"strings-{fld}", files, cmds)


@family
def lines_and_encodings(rng: random.Random) -> Iterator[Case]:
    """CRLF, CR only, BOMs, UTF-16, blank lines, no final newline, oversize lines, deep nesting."""
    recs = good(400, rng)
    body = join(recs)
    variants: dict[str, bytes] = {
        "crlf": join(recs, b"\r\n"),
        "cr-only": join(recs, b"\r"),
        "mixed-ends": b"".join(r + rng.choice([b"\n", b"\r\n", b"\r\r\n", b" \n", b"\t\r\n"]) for r in recs),
        "bom": b"\xef\xbb\xbf" + body,
        "bom-crlf": b"\xef\xbb\xbf" + join(recs, b"\r\n"),
        "bom-mid": join(recs[:100]) + b"\xef\xbb\xbf" + join(recs[100:]),
        "bom-twice": b"\xef\xbb\xbf\xef\xbb\xbf" + body,
        "bom-blank-first": b"\xef\xbb\xbf\n" + body,
        "utf16le": b"\xff\xfe" + body.decode().encode("utf-16-le"),
        "utf16be": b"\xfe\xff" + body.decode().encode("utf-16-be"),
        "utf16le-nobom": body.decode().encode("utf-16-le"),
        "utf16-crlf": join(recs, b"\r\n").decode().encode("utf-16"),
        "utf32": body.decode().encode("utf-32"),
        "utf8-sig-utf16": b"\xef\xbb\xbf" + body.decode().encode("utf-16-le"),
        "blank-lines": join(
            sprinkle(
                recs,
                [
                    b"",
                    b" ",
                    b"\t",
                    b"\x0b",
                    b"\x0c",
                    b"\r",
                    b"\x00",
                    b"\x00\x00",
                    b" \x00",
                    b"\x1c",
                    b"\x85",
                    b"\xc2\x85",
                    b"\xe3\x80\x80",
                    b"\xc2\xa0",
                ]
                * 3,
                rng,
            )
        ),
        "no-final-newline": body[:-1],
        "no-final-newline-cut": body + recs[0][:30],
        "no-final-newline-bad": body + b'{"latency_ms": 5,}',
        "no-final-newline-blank": body + b"   ",
        "no-final-newline-deep": body + b'{"x": ' + b"[" * 600 + b"]" * 600 + b', "latency_ms": 3}',
        "no-final-newline-deepcut": body + b'{"x": ' + b"[" * 600,
        "final-nul": body + b"\x00\x00\x00",
        "final-cr": body[:-1] + b"\r",
        "only-newlines": b"\n" * 50,
        "only-spaces": b"   \n  \n",
        "empty": b"",
        "one-record-no-nl": recs[0],
        "trailing-unicode-ws": join(
            [
                r
                + rng.choice(
                    [b"", b"\xe3\x80\x80", b"\xc2\xa0", b"\xe2\x80\xa8", b"\x1f", b"\xc2\x85", b"\x1c"]
                )
                for r in recs
            ]
        ),
        "leading-unicode-ws": join(
            [rng.choice([b"", b"\xe3\x80\x80", b"\xc2\xa0", b"\x1f", b"\x0b"]) + r for r in recs]
        ),
        "two-per-line": join([recs[i] + b" " + recs[i + 1] for i in range(0, 200, 2)]),
        "two-per-line-some": join(sprinkle(recs, [recs[0] + recs[1], recs[2] + b"{}", b"{}{}", b"{} "], rng)),
    }
    deep_read = b'{"latency_ms": ' + b"[" * 520 + b"]" * 520 + b"}"
    deep_unread = recs[0][:-1] + b', "junk": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    deep_unread_obj = recs[0][:-1] + b', "junk": ' + b'{"a":' * 700 + b"1" + b"}" * 700 + b"}"
    deep_399 = recs[0][:-1] + b', "junk": ' + b"[" * 399 + b"]" * 399 + b"}"
    deep_401 = recs[0][:-1] + b', "junk": ' + b"[" * 401 + b"]" * 401 + b"}"
    deep_499 = recs[0][:-1] + b', "junk": ' + b"[" * 498 + b"]" * 498 + b"}"
    deep_501 = recs[0][:-1] + b', "junk": ' + b"[" * 501 + b"]" * 501 + b"}"
    deep_in_str = recs[0][:-1] + b', "junk": "' + b"[" * 3000 + b'"}'
    deep_feat = dumps(record(3, rng))[:-2] + b', "deep": ' + b"[" * 900 + b"]" * 900 + b"}}"
    variants["deep"] = join(
        sprinkle(
            recs,
            [
                deep_read,
                deep_unread,
                deep_unread_obj,
                deep_399,
                deep_401,
                deep_499,
                deep_501,
                deep_in_str,
                deep_feat,
                b"[" * 5000,
                b"{" * 5000,
                b'{"a":' * 450 + b"1" + b"}" * 450,
            ],
            rng,
        )
    )
    variants["deep-only-unread"] = join(
        [r[:-1] + b', "junk": ' + b"[" * 700 + b"]" * 700 + b"}" for r in recs]
    )
    variants["oversize"] = join(
        sprinkle(recs, [b'{"latency_ms": 1, "pad": "' + b"x" * 3000 + b'"}', b"x" * 5000, b" " * 4000], rng)
    )
    for name, data in variants.items():
        fname = "l.jsonl"
        files = with_baseline({fname: data}, rng)
        extra = ["--max-line-bytes", "2048"] if name == "oversize" else []
        yield Case(
            f"lines-{name}",
            files,
            [
                ["baseline", "train.csv", "-o", "base.json"],
                *std_commands(fname, extra, check=name in ("crlf", "bom", "deep")),
            ],
            config=CHECK_TOML,
        )


@family
def by_values(rng: random.Random) -> Iterator[Case]:
    """--by field values that are numbers, booleans, null, missing, objects, lists, odd text."""
    vals: list[Any] = [
        1,
        2,
        -0.0,
        1.5,
        True,
        False,
        None,
        "v1",
        "",
        " ",
        "\u0000",
        "V1",
        "v1 ",
        10**19,
        10**30,
        {"a": 1},
        [1],
        "\u00e9",
        "e\u0301",
        "null",
        "true",
        "1",
    ]
    lines = []
    for i in range(700):
        rec = record(i, rng)
        v = vals[i % len(vals)]
        if v is not None or i % 2:
            rec["model_version"] = v
        else:
            del rec["model_version"]
        lines.append(dumps(rec))
    lines += [
        b'{"latency_ms": 1, "model_version": -0}',
        b'{"latency_ms": 1, "model_version": 1.0}',
        b'{"latency_ms": 1, "model_version": 1e2}',
        b'{"latency_ms": 1, "model_version": 100}',
    ]
    files = with_baseline({"b.jsonl": join(lines)}, rng)
    yield Case(
        "by-values",
        files,
        [
            ["baseline", "train.csv", "-o", "base.json"],
            *std_commands("b.jsonl", ["--max-bad-lines", "0.5"], check=True),
            ["summary", "b.jsonl", "--format", "json", "--by", "prediction.class"],
            ["summary", "b.jsonl", "--format", "json", "--by", "prediction"],
            ["summary", "b.jsonl", "--format", "json", "--by", "nope"],
            ["summary", "b.jsonl", "--format", "json", "--by", "latency_ms"],
        ],
        config=CHECK_TOML,
    )


@family
def conflicts(rng: random.Random) -> Iterator[Case]:
    """One path given to two roles (text and number, flag and number...), on clean files (the
    pyarrow reader then reads the whole block on its fast path) and on files with a bad line."""
    roles = [
        ["--by", "latency_ms"],
        ["--by", "prediction.confidence"],
        ["--by", "timestamp"],
        ["--by", "status"],
        ["--by", "prediction"],
        ["--by", "input.features.age"],
        ["--class-field", "latency_ms"],
        ["--class-field", "status"],
        ["--confidence-field", "status"],
        ["--confidence-field", "latency_ms"],
        ["--success-field", "prediction.confidence"],
        ["--success-field", "status"],
        ["--status-field", "latency_ms"],
        ["--status-field", "prediction.class"],
        ["--status-field", "model_version"],
        ["--timestamp-field", "latency_ms"],
        ["--timestamp-field", "status"],
        ["--prediction-field", "latency_ms"],
        ["--prediction-field", "status"],
        ["--prediction-field", "prediction.class"],
        ["--latency-field", "prediction.confidence"],
        ["--latency-field", "timestamp"],
        ["--latency-field", "prediction"],
        ["--class-field", "prediction"],
        ["--confidence-field", "prediction"],
        ["--status-field", "success", "--success-field", "success"],
        ["--by", "success"],
        ["--class-field", "success"],
        ["--confidence-field", "success"],
    ]
    clean = []
    for i in range(2500):
        rec = record(i, rng)
        rec["success"] = bool(i % 5)
        clean.append(dumps(rec))
    bad = list(clean)
    bad[1234] = b'{"latency_ms": "12"}'
    ints = [dumps({**record(i, rng), "status": 200 if i % 7 else 500}) for i in range(2500)]
    for name, lines in (("clean", clean), ("bad", bad), ("int-status", ints)):
        cmds = [["summary", "c.jsonl", "--format", "json", "--max-bad-lines", "1.0", *r] for r in roles]
        cmds += [
            ["trend", "c.jsonl", "--format", "json", "--every", "15m", "--max-bad-lines", "1.0", *r]
            for r in roles[:6]
        ]
        yield Case(f"conflicts-{name}", {"c.jsonl": join(lines)}, cmds)
    files = with_baseline({"c.jsonl": join(clean)}, rng)
    yield Case(
        "conflicts-drift",
        files,
        [
            ["baseline", "train.csv", "-o", "base.json"],
            [
                "drift",
                "c.jsonl",
                "--baseline",
                "base.json",
                "--format",
                "json",
                "--by",
                "input.features.country",
            ],
            ["drift", "c.jsonl", "--baseline", "base.json", "--format", "json", "--by", "input.features.age"],
            [
                "drift",
                "c.jsonl",
                "--baseline",
                "base.json",
                "--format",
                "json",
                "--timestamp-field",
                "input.features.age",
            ],
            [
                "drift",
                "c.jsonl",
                "--baseline",
                "base.json",
                "--format",
                "json",
                "--features-field",
                "prediction",
            ],
            ["drift", "c.jsonl", "--baseline", "base.json", "--format", "json", "--features-field", "input"],
        ],
    )


@family
def selection(rng: random.Random) -> Iterator[Case]:
    """Several files of different layouts in one run, prefix times without a record time,
    --log-timezone, --since/--until/--last, --window-rows, wide records with dotted names."""
    plain = good(1500, rng)
    prefixed = [
        f"2026-11-01 10:{i // 60 % 60:02d}:{i % 60:02d},{i % 1000:03d} - app - INFO - ".encode()
        + line.replace(b'"timestamp": ', b'"ts_unused": ')
        for i, line in enumerate(good(1500, rng))
    ]
    flask = [
        f"[2026-11-01T10:{i // 60 % 60:02d}:{i % 60:02d}.{i % 10}] INFO in app: ".encode()
        + line.replace(b'"timestamp": ', b'"t0": ')
        for i, line in enumerate(good(800, rng))
    ]
    odd_ts = []
    for i, v in enumerate(
        [
            "2026-11-01T10:00:00",
            "2026-11-01 10:00:00+02:00",
            "2026-11-01T10:00:00.123456789Z",
            1793527200,
            1793527200123,
            1793527200.5,
            -1,
            "2026-11-01",
            "10:00",
            "",
            "now",
            "2026-02-30T00:00:00Z",
            "2026-11-01T24:00:00Z",
            "+002026-11-01T10:00:00Z",
            "2026-11-01T10:00:00,5Z",
            "2026-11-01T10:00:00z",
            "2026-11-01t10:00:00Z",
        ]
    ):
        rec = record(i, rng)
        rec["timestamp"] = v
        odd_ts.append(dumps(rec))
    wide = []
    for i in range(400):
        rec = record(i, rng)
        rec["input"]["features"] = {f"f_{k}": round(rng.gauss(0, 1), 4) for k in range(300)}
        wide.append(dumps(rec))
    files = with_baseline(
        {
            "a.jsonl": join(plain),
            "b.log": join(sprinkle(prefixed, [b"2026-11-01 10:00:00,000 - app - ERROR - boom"] * 3, rng)),
            "c.log": join(flask),
            "d.jsonl": join(sprinkle(good(300, rng), odd_ts, rng)),
            "w.jsonl": join(wide),
        },
        rng,
    )
    logs = ["a.jsonl", "b.log", "c.log", "d.jsonl"]
    cmds = [["baseline", "train.csv", "-o", "base.json"], ["baseline", "w.jsonl", "-o", "wide.json"]]
    for extra in (
        [],
        ["--log-timezone", "Europe/Berlin"],
        ["--log-timezone", "America/St_Johns", "--since", "2026-11-01T10:10:00Z"],
        ["--since", "2026-11-01T10:05:00", "--until", "2026-11-01T10:20:00"],
        ["--last", "30m"],
        ["--max-bad-lines", "0"],
        ["--strict"],
    ):
        cmds.append(["summary", *logs, "--format", "json", *extra])
        cmds.append(["trend", *logs, "--format", "json", "--every", "5m", *extra])
    cmds.append(["summary", "*.log", "--format", "json", "--by", "prediction.class"])
    cmds.append(["drift", *logs, "--baseline", "base.json", "--format", "json", "--window-rows", "700"])
    cmds.append(["drift", "w.jsonl", "--baseline", "wide.json", "--format", "json"])
    cmds.append(["drift", "w.jsonl", "a.jsonl", "--baseline", "wide.json", "--format", "json"])
    cmds.append(["check", *logs, "--config", "mlmon.toml", "--format", "json"])
    cmds.append(["summary", ".", "--format", "json", "--include", "*.log"])
    yield Case("selection", files, cmds, config=CHECK_TOML)


@family
def resumed(rng: random.Random) -> Iterator[Case]:
    """check --state: a second run reads only the appended lines (from an offset, line numbers
    past 1), with a BOM, odd lines and a last line without a newline around the offset."""
    first = join(good(1500, rng))
    files = with_baseline({"log.jsonl": b"\xef\xbb\xbf" + first}, rng)
    more = join(
        sprinkle(good(800, rng, start=1500), [b'{"latency_ms": "12"}', b"\xef\xbb\xbf{}", b"oops"], rng)
    )
    tail = dumps(record(2400, rng))
    check = [
        "check",
        "log-{mode}.jsonl",
        "--config",
        "mlmon.toml",
        "--state",
        "state-{mode}.json",
        "--format",
        "json",
        "--max-bad-lines",
        "0.5",
    ]
    yield Case(
        "resumed",
        files,
        [
            ["baseline", "train.csv", "-o", "base.json"],
            [":copy", "log.jsonl"],
            check,
            [":append", "log-{mode}.jsonl", more.decode("utf-8", "surrogateescape")],
            check,
            [":append", "log-{mode}.jsonl", tail[:40].decode()],
            check,
            [":append", "log-{mode}.jsonl", tail[40:].decode() + "\n"],
            check,
            check,
        ],
        config=CHECK_TOML,
    )


def _gz_members(parts: list[bytes]) -> bytes:
    return b"".join(gzip.compress(p) for p in parts)


def _zst(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


@family
def compressed(rng: random.Random) -> Iterator[Case]:
    """gz (one and several members, truncated, junk after), bz2, zst, stdin, several files, globs, 0 bytes."""
    a = join(good(900, rng))
    b = join(sprinkle(good(600, rng, start=900), [b"oops", b'{"latency_ms": "1"}', b"[1]"], rng))
    files = {
        "a.jsonl.gz": gzip.compress(a),
        "multi.jsonl.gz": _gz_members([a[: len(a) // 3], a[len(a) // 3 :]]),
        "multi-midline.jsonl.gz": _gz_members([a[:1001], a[1001:]]),
        "trunc.jsonl.gz": gzip.compress(a)[: len(gzip.compress(a)) * 2 // 3],
        "junk-after.jsonl.gz": gzip.compress(a) + b"garbage\n",
        "zeros-after.jsonl.gz": gzip.compress(a) + b"\x00" * 100,
        "b.jsonl.bz2": bz2.compress(b),
        "trunc.jsonl.bz2": bz2.compress(b)[:-50],
        "b.jsonl.zst": _zst(b),
        "trunc.jsonl.zst": _zst(b)[:-20],
        "empty.jsonl": b"",
        "empty.jsonl.gz": gzip.compress(b""),
        "zero.jsonl.gz": b"",
        "nonl.jsonl.gz": gzip.compress(a[:-1]),
        "plain.jsonl": b,
        "bom.jsonl.gz": gzip.compress(b"\xef\xbb\xbf" + a),
        "utf16.jsonl.gz": gzip.compress(a.decode().encode("utf-16")),
    }
    files = with_baseline(files, rng)
    cmds = [["baseline", "train.csv", "-o", "base.json"]]
    for name in files:
        if name in ("train.csv", "base.json"):
            continue
        cmds.append(["summary", name, "--format", "json"])
    cmds += [
        ["summary", "a.jsonl.gz", "b.jsonl.bz2", "b.jsonl.zst", "--format", "json"],
        ["summary", "a.jsonl.gz", "trunc.jsonl.gz", "empty.jsonl", "--format", "json"],
        ["summary", "plain.jsonl", "plain.jsonl", "--format", "json"],
        ["summary", "*.jsonl*", "--format", "json"],
        ["summary", "-", "--format", "json"],
        ["drift", "-", "--baseline", "base.json", "--format", "json"],
        ["drift", "a.jsonl.gz", "multi.jsonl.gz", "--baseline", "base.json", "--format", "json"],
        ["trend", "b.jsonl.zst", "nonl.jsonl.gz", "--every", "15m", "--format", "json"],
        ["summary", "a.jsonl.gz", "--format", "json", "--strict"],
        ["summary", "trunc.jsonl.gz", "--format", "json", "--strict"],
        ["summary", ".", "--format", "json", "--include", "*.gz"],
        ["summary", "zero.jsonl.gz", "empty.jsonl", "--format", "json"],
    ]
    yield Case("compressed", files, cmds, stdin=b)
    yield Case("stdin-gz", {"x": b""}, [["summary", "-", "--format", "json"]], stdin=gzip.compress(b))
    yield Case(
        "stdin-bom-nonl", {"x": b""}, [["summary", "-", "--format", "json"]], stdin=b"\xef\xbb\xbf" + a[:-1]
    )
    yield Case("stdin-empty", {"x": b""}, [["summary", "-", "--format", "json"]], stdin=b"")


MUTATIONS = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b'"\\ud800"',
    b"1e400",
    b'"a":1,',
    b",",
    b"-0",
    b"true",
    b"null",
    b"\\u00e9",
    b'\\"',
    b"\x00",
    b"\xff",
    b"\xed\xa0\x80",
    b"\t",
    b"\r",
    b"\x0b",
    b"\xef\xbb\xbf",
    b"}",
    b"{",
    b"[",
    b"]",
    b":",
    b'"',
    b"\\",
    b"01",
    b"1.",
    b".5",
    b"\\u0000",
    b"\xc2\xa0",
    b"\xe3\x80\x80",
    b'"latency_ms": 5, ',
    b'"status": "ok", ',
    b'"prediction": 3, ',
    b'"timestamp": 1, ',
]


def mutate(line: bytes, rng: random.Random) -> bytes:
    data = bytearray(line)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(data) + 1)
        op = rng.randrange(4)
        if op == 0 and data:
            del data[min(at, len(data) - 1)]
        elif op == 1:
            data[at:at] = rng.choice(MUTATIONS)
        elif op == 2 and data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
        else:
            data[at:at] = rng.choice(MUTATIONS)
    return bytes(data).replace(b"\n", b" ")


@family
def mutated(rng: random.Random) -> Iterator[Case]:
    """Good logs with randomly mutated lines, several layouts and plans."""
    prefixes = [
        b"",
        b"2026-11-01 10:00:00,123 - app - INFO - Prediction: ",
        b"INFO:app:",
        b"[2026-11-01 10:00:00] x: ",
    ]
    for k in range(12):
        features = "list" if k % 3 == 2 else "named"
        lines = good(3000, rng, features=features)
        prefix = prefixes[k % len(prefixes)]
        for _ in range(rng.randint(1, 40)):
            i = rng.randrange(len(lines))
            lines[i] = mutate(lines[i], rng)
        lines = [prefix + ln for ln in lines]
        files = with_baseline({"m.jsonl": join(lines)}, rng)
        extra = ["--max-bad-lines", "0.5"]
        if k % 4 == 3:
            extra += ["--record-marker", "x: "]
        yield Case(
            f"mutated-{k}",
            files,
            [["baseline", "train.csv", "-o", "base.json"], *std_commands("m.jsonl", extra, check=k % 2 == 0)],
            config=CHECK_TOML,
        )


@family
def baselines_from_logs(rng: random.Random) -> Iterator[Case]:
    """Baselines made from a log (odd lines in it), then drift of another log against it."""
    train = join(
        good(300, rng)
        + sprinkle(
            good(1200, rng, start=300),
            [
                b'{"input": {"features": {"age": null}}}',
                b"{}",
                b"oops",
                b'{"input": {"features": {"age": -0, "country": 1}}}',
                b'{"input": {"features": {"age": 1e-320, "country": "\\u00e9"}}}',
                b'{"input": {"features": {"age": 1, "age": 2}}}',
            ],
            rng,
        )
    )
    today = join(
        sprinkle(
            good(1200, rng, shift=3.0),
            [
                b'{"input": {"features": [1, 2]}}',
                b'{"input": {"features": null}}',
                b'{"input": {"features": {"age": true}}}',
            ],
            rng,
        )
    )
    listed = join(
        [
            line.replace(b', "DE"]', b"]")
            .replace(b', "US"]', b"]")
            .replace(b', "FR"]', b"]")
            .replace(b', "JP"]', b"]")
            .replace(b', "BR"]', b"]")
            for line in good(1000, rng, features="list")
        ]
    )
    yield Case(
        "baseline-from-log",
        {"train.jsonl": train, "today.jsonl": today, "list.jsonl": listed},
        [
            ["baseline", "train.jsonl", "-o", "base.json"],
            ["drift", "today.jsonl", "--baseline", "base.json", "--format", "json"],
            ["drift", "today.jsonl", "--baseline", "base.json", "--format", "json", "--by", "model_version"],
            ["drift", "list.jsonl", "--baseline", "base.json", "--format", "json"],
            ["trend", "today.jsonl", "--baseline", "base.json", "--every", "15m", "--format", "json"],
            ["baseline", "list.jsonl", "-o", "base2.json"],
            ["drift", "today.jsonl", "--baseline", "base2.json", "--format", "json"],
            ["drift", "today.jsonl", "--reference", "train.jsonl", "--format", "json"],
        ],
    )


def _boundary_log(rng: random.Random, n: int, odd: list[bytes], *, block: int = 4 << 20) -> bytes:
    """n good lines, with odd lines placed so they start, end or straddle multiples of `block`."""
    lines = good(n, rng)
    out = bytearray()
    k = 1
    odd_iter = iter(odd * 100)
    for line in lines:
        nxt = k * block
        if len(out) + len(line) + 1 >= nxt - 200 and len(out) < nxt:
            # fill up to a few bytes before the boundary, then an odd line across/at it
            try:
                o = next(odd_iter)
            except StopIteration:
                o = b"oops"
            gap = nxt - len(out) - rng.choice([0, 1, 2, 5, len(o) // 2, len(o)])
            if gap > 2:
                out += b" " * (gap - 1) + b"\n"
            out += o + b"\n"
            k += 1
        out += line + b"\n"
    return bytes(out)


@family
def big(rng: random.Random) -> Iterator[Case]:
    """200k-line logs with odd lines at 4 MiB block boundaries (and at 1 MiB read sizes)."""
    odd = [
        b'{"latency_ms": "12"}',
        b"NaN",
        b'{"latency_ms": 1, "latency_ms": 2}',
        b'{"x": NaN, "latency_ms": 3}',
        b"\xef\xbb\xbf" + dumps(record(1, rng)),
        b"\x00\x00\x00",
        b"Traceback (most recent call last):",
        b'{"status": "\\ud800", "latency_ms": 4}',
        b'{"latency_ms": -0}',
        b"{" * 600,
        b"\r",
        b"",
        dumps(record(2, rng))[:-1] + b', "pad": "' + b"y" * 9000 + b'"}',
    ]
    data = _boundary_log(rng, 200_000, odd)
    files = with_baseline({"big.jsonl": data}, rng)
    yield Case(
        "big-4mib",
        files,
        [["baseline", "train.csv", "-o", "base.json"], *std_commands("big.jsonl", check=True)],
        config=CHECK_TOML,
    )
    data = _boundary_log(rng, 60_000, odd, block=1 << 20)
    files = {"mid.jsonl.gz": gzip.compress(data, compresslevel=1)}
    yield Case("big-1mib-gz", files, std_commands("mid.jsonl.gz", drift=False))


# --- running ----------------------------------------------------------------------------------


def _preload() -> None:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import pyarrow.compute  # noqa: F401
    import pyarrow.json  # noqa: F401
    import scipy.stats  # noqa: F401

    import mlmon.cli  # noqa: F401
    import mlmon.cli.app  # noqa: F401
    import mlmon.read.jsonlines  # noqa: F401
    import mlmon.read.reader  # noqa: F401

    for mod in ("baseline", "check", "drift", "summary", "trend"):
        __import__(f"mlmon.cli.{mod}")


def _child(argv: list[str], mode: str, cwd: Path, stdin: Path, out: Path, err: Path) -> None:
    try:
        os.chdir(cwd)
        fd = os.open(stdin, os.O_RDONLY)
        os.dup2(fd, 0)
        os.close(fd)
        for target, path in ((1, out), (2, err)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, target)
            os.close(fd)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        os.environ["COLUMNS"] = "100"
        os.environ["MLMON_READER"] = "python" if mode in ("python", "exact") else "native"
        if mode == "exact":
            from mlmon.read import jsonlines

            def refuse(self: Any, data: bytes, first_line: int, n_lines: int) -> Any:
                raise jsonlines._FastFailed("exact path only")

            jsonlines.BlockParser._fast = refuse  # type: ignore[method-assign]
        from mlmon.cli import main

        sys.argv = ["mlmon", *argv]
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    except BaseException:
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        os._exit(99)


def run_forked(argv: list[str], mode: str, cwd: Path, stdin: Path) -> tuple[int, bytes, bytes]:
    out = cwd / f".out.{mode}"
    err = cwd / f".err.{mode}"
    pid = os.fork()
    if pid == 0:
        _child(argv, mode, cwd, stdin, out, err)
    deadline = time.monotonic() + TIMEOUT
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return 124, b"", b"timeout"
        time.sleep(0.01)
    rc = os.waitstatus_to_exitcode(status)
    return rc, out.read_bytes(), err.read_bytes()


def run_subprocess(argv: list[str], mode: str, cwd: Path, stdin: Path) -> tuple[int, bytes, bytes]:
    env = dict(os.environ, COLUMNS="100", MLMON_READER="python" if mode != "native" else "native")
    if mode == "exact":
        code = (
            "import sys; from mlmon.read import jsonlines as j\n"
            "def r(self, *a): raise j._FastFailed('exact')\n"
            "j.BlockParser._fast = r\nfrom mlmon.cli import main; sys.argv = ['mlmon'] + sys.argv[1:]; main()"
        )
        cmd = [sys.executable, "-c", code, *argv]
    else:
        cmd = [shutil.which("mlmon") or "mlmon", *argv]
    with open(stdin, "rb") as f:
        p = subprocess.run(cmd, cwd=cwd, stdin=f, capture_output=True, env=env, timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def outcome(rc: int, out: bytes, err: bytes) -> Outcome:
    text = out.decode("utf-8", "backslashreplace")
    try:
        parsed: Any = json.loads(text) if text.strip() else None
    except ValueError:
        parsed = {"unparsed": text}
    etext = err.decode("utf-8", "backslashreplace")
    first = etext.splitlines()[0] if etext.strip() else ""
    return Outcome(rc, normalise(parsed), first, "Traceback (most recent call last)" in etext, text)


VOLATILE = {"generated_at", "elapsed_seconds", "reader", "now"}


def normalise(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: normalise(x) for k, x in v.items() if k not in VOLATILE}
    if isinstance(v, list):
        return [normalise(x) for x in v]
    return v


def first_difference(a: Any, b: Any, path: str = "") -> str:
    if type(a) is not type(b):
        return f"{path}: {a!r:.200} != {b!r:.200}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}: only in {'second' if k not in a else 'first'}"
            d = first_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return ""
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return ""
    if a != b and not (isinstance(a, float) and a != a and b != b):
        return f"{path}: {a!r:.200} != {b!r:.200}"
    return ""


def run_case(
    case: Case, work: Path, runner: Callable[..., tuple[int, bytes, bytes]], modes: tuple[str, ...]
) -> tuple[list[str], int]:
    """Run every command of a case under each reader; return the differences found."""
    d = work / case.name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    for name, data in case.files.items():
        (d / name).write_bytes(data)
    if case.config is not None:
        (d / "mlmon.toml").write_text(case.config)
    stdin = d / ".stdin"
    stdin.write_bytes(case.stdin)
    problems: list[str] = []
    runs = 0
    for argv in case.commands:
        if argv[0] == ":append":
            # `:append NAME TEXT`: append to each reader's own copy ({mode} in NAME)
            for mode in modes:
                with open(d / argv[1].replace("{mode}", mode), "ab") as f:
                    f.write(argv[2].encode("utf-8", "surrogateescape"))
            continue
        if argv[0] == ":copy":
            # `:copy NAME`: one copy of a file per reader, for commands that change state
            for mode in modes:
                shutil.copyfile(d / argv[1], d / argv[1].replace(".", f"-{mode}.", 1))
            continue
        if argv[0] == "baseline":
            # write the baseline the other commands use, then compare what each reader makes
            rc, out, err = runner(argv, "exact", d, stdin)
            runs += 1
            if rc != 0 or b"Traceback" in err:
                problems.append(f"{case.name}: {' '.join(argv)}: baseline rc {rc}: {err[:300]!r}")
            if "-o" not in argv:
                continue
            argv = list(argv)
            argv[argv.index("-o") + 1] = "-"
        results: dict[str, Outcome] = {}
        for mode in modes:
            rc, out, err = runner([a.replace("{mode}", mode) for a in argv], mode, d, stdin)
            tag = f"-{mode}".encode()  # the per-reader copies' names
            results[mode] = outcome(rc, out.replace(tag, b"-{mode}"), err.replace(tag, b"-{mode}"))
            runs += 1
        shown = " ".join(argv)
        for mode, o in results.items():
            if o.rc in (70, 99, 124) or o.rc < 0 or o.traceback:
                problems.append(f"{case.name}: [{mode}] {shown}: rc {o.rc}, stderr: {o.err1[:300]}")
        ref = results[modes[-1]]
        for mode in modes[:-1]:
            o = results[mode]
            if o.rc != ref.rc:
                problems.append(
                    f"{case.name}: {shown}: exit {mode} {o.rc} != {modes[-1]} {ref.rc} "
                    f"({o.err1[:200]!r} / {ref.err1[:200]!r})"
                )
            elif o.err1 != ref.err1:
                problems.append(f"{case.name}: {shown}: stderr {mode} {o.err1[:200]!r} != {ref.err1[:200]!r}")
            diff = first_difference(o.out, ref.out)
            if diff:
                problems.append(f"{case.name}: {shown}: json {mode} vs {modes[-1]}: {diff}")
    return problems, runs


BLOCK_FIELDS = [
    ["latency_ms"],
    ["status"],
    ["model_version"],
    ["timestamp"],
    ["prediction"],
    ["prediction", "class"],
    ["prediction", "confidence"],
    ["success"],
    ["input", "features", "age"],
    ["input", "features", "country"],
    ["input", "features", "mobile"],
    ["input", "features"],
    ["unread"],
    ["input", "unread"],
]
BLOCK_LITERALS = [
    *NUMBERS,
    *STRINGS,
    *(b.decode("utf-8", "surrogateescape") for b in RAW_BYTES),
    *(json.dumps(s) for s in STATUSES),
    *(json.dumps(s, ensure_ascii=False) for s in STATUSES),
    "[]",
    "[1, 2]",
    "{}",
    '{"a": 1}',
    "[null]",
    '[1, "x", true]',
    '"true"',
    '"TRUE"',
    '"False"',
    '"1"',
    '""',
    '" "',
    '"2026-11-01T10:00:00Z"',
    '"2026-11-01 10:00:00,123"',
    '"2026-13-01T00:00:00Z"',
    '"1793527200"',
    '"nan"',
    '"inf"',
    '"-0"',
    "1793527200",
    "1793527200123",
    "-1e12",
]


def line_variants(base: bytes) -> list[tuple[str, bytes]]:
    """Whole-line edits of one good record: JSON extensions, raw control bytes, odd keys."""
    body = base[1:-1]
    compact = json.dumps(json.loads(base), separators=(",", ":")).encode()
    out = [
        ("trailing comma", base[:-1] + b",}"),
        ("comment", base + b" // c"),
        ("block comment", b"/*c*/" + base),
        ("single quotes", base.replace(b'"status"', b"'status'")),
        ("unquoted key", base.replace(b'"status"', b"status")),
        ("garbage after", base + b"x"),
        ("two objects", base + base),
        ("object then array", base + b"[]"),
        ("array of it", b"[" + base + b"]"),
        ("empty key", b'{"": 1, ' + body + b"}"),
        ("dotted key", b'{"latency_ms.x": 1, "a.b": 2, ' + body + b"}"),
        ("nul key", b'{"\\u0000": 1, ' + body + b"}"),
        ("tab in key", b'{"a\\tb": 1, "c\td": 2, ' + body + b"}"),
        ("escaped slash key", b'{"latency\\/ms": 1, ' + body + b"}"),
        ("key escape latency", base.replace(b'"latency_ms"', b'"latency\\u005fms"')),
        ("key escape status", base.replace(b'"status"', b'"st\\u0061tus"')),
        ("key escape dup", base[:-1] + b', "st\\u0061tus": "ok"}'),
        ("key nfd", base[:-1] + b', "cafe\\u0301": 1, "caf\\u00e9": 2}'),
        ("key case", base[:-1] + b', "Status": "error", "LATENCY_MS": 1}'),
        ("long string", base[:-1] + b', "pad": "' + b"y" * 100_000 + b'"}'),
        ("many keys", base[:-1] + b", " + b", ".join(b'"k%d": %d' % (i, i) for i in range(3000)) + b"}"),
        ("bom in string", base[:-1] + b', "b": "\\ufeff\xef\xbb\xbf"}'),
        ("nbsp before colon", base.replace(b'"status":', b'"status"\xc2\xa0:')),
        ("cr between", base.replace(b", ", b",\r")),
        ("tab between", base.replace(b", ", b",\t")),
        ("vt between", base.replace(b", ", b",\x0b")),
        ("ff between", base.replace(b", ", b",\x0c")),
        ("compact", compact),
        ("compact crlf", compact + b"\r"),
    ]
    for ctl in (0x00, 0x01, 0x08, 0x1F, 0x7F, 0x85, 0xA0):
        out.append((f"raw {ctl:#x} in string", base.replace(b'"success"', b'"succ' + bytes([ctl]) + b'ess"')))
        out.append((f"raw {ctl:#x} between", base.replace(b", ", b"," + bytes([ctl]) + b" ", 1)))
        out.append((f"raw {ctl:#x} after", base + bytes([ctl])))
        out.append((f"raw {ctl:#x} before", bytes([ctl]) + base))
    return out


def blocks(mutations: int = 0, seed: int = 1) -> int:
    """One odd value in an otherwise clean block, for every field and literal, parsed by the
    pyarrow reader (its fast path takes the block when pyarrow accepts it) and the native one,
    against the exact path: rows, reasons and line numbers must be the same."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from collections import Counter

    from corpus import dumps as cdumps
    from corpus import join as cjoin
    from corpus import record as crecord

    from mlmon.read import native
    from mlmon.read.jsonlines import BlockParser, BlockResult, sniff
    from mlmon.read.records import FeatureSpec, Kind, ReadPlan

    def rows(res: Any) -> tuple[list[tuple[str, ...]], list[int]]:
        out: list[tuple[str, ...]] = []
        lines: list[int] = []
        for p in res.pieces:
            out += [tuple(repr(v) for v in r.values()) for r in p.raw.to_pylist()]
            lines += [int(x) for x in p.row_lines()]
        return out, lines

    plans = {
        "summary": ReadPlan(),
        "drift": ReadPlan(
            by=None,
            summary=False,
            features=(
                FeatureSpec("age", Kind.NUMERIC),
                FeatureSpec("income", Kind.NUMERIC),
                FeatureSpec("country", Kind.CATEGORICAL),
                FeatureSpec("mobile", Kind.CATEGORICAL),
            ),
        ),
        "marker": ReadPlan(record_marker="Prediction: "),
    }
    n = bad = 0
    for pname, plan in plans.items():
        prefix = b"x Prediction: " if pname == "marker" else b""
        good = [prefix + cdumps(crecord(i)) for i in range(20)]
        layout = sniff(good, plan)
        cases: list[tuple[str, bytes]] = []
        for path in BLOCK_FIELDS:
            for lit in BLOCK_LITERALS:
                rec = crecord(7)
                _set(rec, ".".join(path), "__X__")
                line = cdumps(rec).replace(b'"__X__"', lit.encode("utf-8", "surrogateescape"))
                cases.append((f"{'.'.join(path)} = {lit[:40]!r}", prefix + line))
        base = cdumps(crecord(7))
        for label, line in line_variants(base):
            cases.append((label, prefix + line))
        mrng = random.Random(seed)
        for k in range(mutations):
            line = mutate(cdumps(crecord(k)), mrng)
            cases.append((f"mutation {k}: {line[:60]!r}", prefix + line))
        for label, line in cases:
            data = cjoin([*good[:5], line, *good[5:10]])
            exact = BlockResult([], Counter(), 0, [])
            BlockParser(plan, layout, examples_wanted=lambda: True)._exact(data, 1, exact, tail=False)
            parsers = [("python", BlockParser(plan, layout, examples_wanted=lambda: True))]
            if native.available():
                parsers.append(
                    ("native", native.NativeBlockParser(plan, layout, examples_wanted=lambda: True))
                )
            for name, parser in parsers:
                n += 1
                got = parser.parse(data, 1)
                if got.lines != exact.lines or +got.reasons != +exact.reasons or rows(got) != rows(exact):
                    bad += 1
                    print(
                        f"block {pname} [{name}] {label}: reasons {dict(got.reasons)} vs exact "
                        f"{dict(exact.reasons)}",
                        flush=True,
                    )
    print(f"{n} block comparisons, {bad} differences", flush=True)
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--family", action="append", help=f"families to run (default all but big): {list(FAMILIES)}"
    )
    ap.add_argument("--big", action="store_true", help="also run the 200k-line block-boundary logs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, help="write the cases here and keep them")
    ap.add_argument("--subprocess", action="store_true", help="run the console script, not forked runs")
    ap.add_argument("--case", help="only cases whose name contains this")
    ap.add_argument("--blocks", action="store_true", help="only the in-process one-odd-line block sweep")
    ap.add_argument(
        "--mutations", type=int, default=0, help="with --blocks: this many randomly mutated lines too"
    )
    args = ap.parse_args()
    if args.blocks:
        return blocks(args.mutations, args.seed)
    names = args.family or [n for n in FAMILIES if n != "big"]
    if args.big and "big" not in names:
        names.append("big")
    if not args.subprocess:
        _preload()
    runner = run_subprocess if args.subprocess else run_forked
    work = args.keep or Path(tempfile.mkdtemp(prefix="mlmon-diffhunt-"))
    rng = random.Random(args.seed)
    all_problems: list[str] = []
    n_cases = n_runs = 0
    t0 = time.monotonic()
    for name in names:
        for case in FAMILIES[name](rng):
            if args.case and args.case not in case.name:
                continue
            problems, runs = run_case(case, work, runner, MODES)
            n_cases += 1
            n_runs += runs
            for p in problems:
                print(p, flush=True)
            all_problems += problems
            if not args.keep:
                shutil.rmtree(work / case.name, ignore_errors=True)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"{n_cases} cases, {n_runs} runs, {len(all_problems)} differences or failures, "
        f"{time.monotonic() - t0:.0f} s",
        flush=True,
    )
    return 1 if all_problems else 0


if __name__ == "__main__":
    sys.exit(main())
