"""Renderers: every format renders, log text is escaped, JSON is strict."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from rich.console import Console

from mlmon.api import SummaryReport
from mlmon.cli import Fmt
from mlmon.read.reader import Example, FileReport, InputReport
from mlmon.report.render import plain, safe, summary_json, summary_table
from mlmon.rules.alerts import SummaryThresholds, summary_alerts
from mlmon.stats.summary import SummaryAccumulator

HOSTILE = ["\x1b]0;pwned\x07", "\x1b[2J", "a\rb", "\u202eevil", "[bold]x[/bold]", "[link=file:///etc/passwd]x[/link]"]


def _report(groups: list[str]) -> SummaryReport:
    n = len(groups)
    t = pa.table(
        {
            "group": pa.array(groups, pa.string()),
            "latency_ms": pa.array([float(i) for i in range(n)]),
            "success": pa.array([True] * n),
            "pred_class": pa.array(groups, pa.string()),
            "confidence": pa.array([0.9] * n),
            "pred_value": pa.nulls(n, pa.float64()),
            "timestamp": pa.array([i * 10**9 for i in range(n)], pa.timestamp("ns", tz="UTC")),
        }
    )
    acc = SummaryAccumulator()
    acc.update(t)
    result = acc.result()
    inp = InputReport(
        files=(FileReport(groups[0], "jsonl", "none", n + 1, n, {"bad_json": 1}, None),),
        lines=n + 1,
        records=n,
        reasons={"bad_json": 1},
        bad_lines=1,
        examples=(Example(groups[0], 2, "bad_json", groups[1]),),
    )
    alerts = summary_alerts(result, SummaryThresholds(max_p95_ms=-1.0))
    return SummaryReport(inp, n, 0, result, alerts)


@pytest.mark.parametrize("text", HOSTILE)
def test_safe_escapes_controls(text: str) -> None:
    out = safe(text)
    assert not any(ch in out for ch in "\x1b\x07\r\u202e")


def test_every_format_renders_hostile_text_safely() -> None:
    rep = _report(HOSTILE * 10)
    for fmt in Fmt:
        if fmt is Fmt.JSON:
            text = summary_json(rep, by="model_version")
            doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))
            assert {g["group"] for g in doc["groups"]} == set(HOSTILE)
        else:
            console = Console(record=True, width=200, color_system=None)
            console.print(summary_table(rep, by="model_version"))
            text = console.export_text()
            assert "[bold]x[/bold]" in text  # shown literally, never read as markup
            assert "[link=file:///etc/passwd]" in text
        assert not any(ch in text for ch in "\x1b\x07\r\u202e")


def test_plain_turns_non_finite_into_null() -> None:
    assert plain({"a": float("nan"), "b": (1.0, float("inf"))}) == {"a": None, "b": [1.0, None]}
