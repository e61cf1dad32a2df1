"""Tables fit every width: no number, marker or name is cut; extra columns move to a second table."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from mlmon.api import DriftReport, SummaryReport, detect_drift, load_training
from mlmon.numfmt import p_value
from mlmon.read.reader import FileReport, InputReport
from mlmon.read.records import FieldMap, ReadPlan
from mlmon.report.layout import Col, FitTable
from mlmon.report.render import drift_table, summary_table
from mlmon.rules.alerts import SummaryThresholds, summary_alerts
from mlmon.stats.summary import SummaryAccumulator

ROOT = Path(__file__).resolve().parents[2]
WIDTHS = (200, 120, 80, 60, 40, 30, 24)
LONG = "churn-xgb-2026.11.01-retrain-weekly"


def _render(renderable: object, width: int) -> list[str]:
    console = Console(record=True, width=width, color_system=None)
    console.print(renderable)
    return console.export_text().splitlines()


def _summary() -> SummaryReport:
    # LONG has 2 records: its p95 and p99 carry the `*` marker (too few values above them).
    groups = ["v1.0"] * 400 + [LONG] * 2
    n = len(groups)
    t = pa.table(
        {
            "group": pa.array(groups, pa.string()),
            "latency_ms": pa.array([100.0 + i * 0.37 for i in range(n)]),
            "success": pa.array([i % 17 != 0 for i in range(n)]),
            "pred_class": pa.array(["a"] * n, pa.string()),
            "confidence": pa.array([0.9] * n),
            "pred_value": pa.nulls(n, pa.float64()),
            "timestamp": pa.array([i * 10**9 for i in range(n)], pa.timestamp("ns", tz="UTC")),
        }
    )
    acc = SummaryAccumulator()
    acc.update(t)
    result = acc.result()
    inp = InputReport(
        files=(FileReport(f"/var/log/{LONG}/predictions.jsonl", "jsonl", "none", n, n, {}, None),),
        lines=n,
        records=n,
        reasons={},
        bad_lines=0,
        examples=(),
    )
    return SummaryReport(inp, n, 0, result, summary_alerts(result, SummaryThresholds(max_p99_ms=1.0)))


def _drift() -> DriftReport:
    base = load_training(str(ROOT / "sample_logs/training.csv"), exclude={"timestamp"}, max_edges=None)
    rep = detect_drift([str(ROOT / "sample_logs/predictions.jsonl")], base, plan=ReadPlan(fields=FieldMap()))
    features = list(rep.features)
    features[0] = dataclasses.replace(features[0], name="customer_lifetime_value_score_normalised")
    return dataclasses.replace(rep, features=tuple(features))


def _cells(table: FitTable, kind: str) -> list[str]:
    return [r[i].plain for r in table.rows for i, c in enumerate(table.columns) if c.kind == kind]


def _tables(renderable: object) -> list[FitTable]:
    return [r for r in getattr(renderable, "renderables", ()) if isinstance(r, FitTable)]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("which", ["summary", "drift"])
def test_nothing_is_cut_at_any_width(which: str, width: int) -> None:
    if which == "summary":
        renderable = summary_table(_summary(), by="model_version")
    else:
        renderable = drift_table(_drift())
    lines = _render(renderable, width)
    text = "\n".join(lines)
    assert "…" not in text and "..." not in text
    assert max(len(line) for line in lines) <= width
    tables = _tables(renderable)
    assert tables
    for t in tables:
        for number in _cells(t, "num"):
            # whole, on one line: never wrapped, folded or cut
            assert any(number in line for line in lines), (number, width)
    if width >= 80:  # names stay whole where they fit
        names = [LONG] if which == "summary" else ["customer_lifetime_value_score_normalised", "score_a"]
        for name in names:
            assert any(name in line for line in lines), (name, width)
    if which == "summary":
        assert "*" in text and any("*" in c for c in _cells(tables[0], "num"))


def test_old_cut_cases_at_80_columns() -> None:
    """What 80 columns used to cut: p99 `111.…`, `142.…` (the `*` lost), `sco…`, `8e-…`."""
    rep = _drift()
    text = "\n".join(_render(drift_table(rep), 80))
    for f in rep.features:
        assert f.name in text
    p = [f for f in rep.features if f.name == "income"][0].p_value_adjusted
    assert p is not None and p_value(p) in text


def test_narrow_screen_moves_columns_to_a_second_table() -> None:
    table = _tables(summary_table(_summary(), by="model_version"))[0]
    found = table.parts(80)
    assert found is not None
    parts, _ = found
    assert len(parts) >= 2 and all(p[0] == 0 for p in parts)  # the key column repeats
    assert sorted({i for p in parts for i in p}) == list(range(len(table.columns)))
    wide = table.parts(200)
    assert wide is not None and wide[0] == [list(range(len(table.columns)))]


def test_too_narrow_for_any_table_stacks_rows() -> None:
    table = FitTable([Col("name", "text"), Col("value")], [["a-rather-long-name", "123456.789"]])
    assert table.parts(20) is None
    lines = _render(table, 20)
    assert any("123456.789" in line for line in lines)
    assert max(len(line) for line in lines) <= 20


def test_fit_table_measures_its_natural_width() -> None:
    table = FitTable([Col("name", "text"), Col("value")], [["abc", "1.5"], [LONG, "22"]])
    m = Console(width=500).measure(table)
    assert m.maximum == len(LONG) + len("value") + 3 * 2 + 1


_word = st.text("abcdefghij-_.", min_size=1, max_size=30)
_number = st.from_regex(r"-?[0-9]{1,9}(\.[0-9]{1,6})?[*!%]?", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.lists(_word, min_size=1, max_size=4).map(" ".join), min_size=1, max_size=5),
    numbers=st.lists(st.lists(_number, min_size=1, max_size=6), min_size=5, max_size=5),
    width=st.integers(min_value=20, max_value=220),
)
def test_numbers_never_cut_property(names: list[str], numbers: list[list[str]], width: int) -> None:
    ncols = min(len(r) for r in numbers)
    cols = [Col("name", "text"), *(Col(f"metric {j}", priority=j) for j in range(ncols))]
    rows: list[list[str | Text]] = [[n, *numbers[i][:ncols]] for i, n in enumerate(names)]
    lines = _render(FitTable(cols, rows, title="t"), width)
    assert max(len(line) for line in lines) <= width
    for r in rows:
        for cell in r[1:]:
            assert any(str(cell) in line for line in lines)
    flat = "".join("".join(ch for ch in line if ch.isalnum() or ch in "-_.") for line in lines)
    for n in names:
        for word in n.split():
            if len(word) <= 16:
                assert word in flat
