"""The bad-line budget word for word and at its edges: a share below 1, a count from 1 on (1 itself
is one line, not 100%), the budget met exactly, --strict's messages, and which reasons count as
bad. The message is the whole of what a user sees when a run stops with exit 65."""

from __future__ import annotations

import pytest

from mlmon.errors import DataError
from mlmon.read.reader import FileReport, InputReport, check_budget


def _file(name: str, records: int, reasons: dict[str, int], truncated: str | None = None) -> FileReport:
    return FileReport(name, "jsonl", "none", records + sum(reasons.values()), records, reasons, truncated)


def _report(*files: FileReport) -> InputReport:
    reasons: dict[str, int] = {}
    for f in files:
        for k, v in f.reasons.items():
            reasons[k] = reasons.get(k, 0) + v
    return InputReport(files, sum(f.lines for f in files), sum(f.records for f in files), reasons,
                       sum(f.bad_lines for f in files), ())


def _error(rep: InputReport, max_bad: float, strict: bool = False) -> str:
    with pytest.raises(DataError) as e:
        check_budget(rep, max_bad=max_bad, strict=strict)
    assert e.value.report is rep or rep.truncated  # the report comes with every bad-line error
    return str(e.value)


def test_blank_non_record_and_incomplete_tail_lines_are_not_bad() -> None:
    f = _file("a", 10, {"blank": 4, "non_record": 3, "incomplete_tail": 1, "bad_json": 2, "wrong_type": 5})
    assert f.bad_lines == 7


@pytest.mark.parametrize(("bad", "max_bad", "passes"), [
    (1, 1, True), (2, 1, False),  # 1 is a count of one line, not a share of 100%
    (3, 3, True), (4, 3, False),
    (5, 0.05, True), (6, 0.05, False),  # 5% of 100 record lines
    (0, 0, True), (1, 0, False),
])
def test_the_budget_holds_at_equality_and_breaks_one_line_past_it(
    bad: int, max_bad: float, passes: bool
) -> None:
    rep = _report(_file("a", 100 - bad, {"bad_json": bad, "blank": 50}))
    if passes:
        check_budget(rep, max_bad=max_bad, strict=False)
    else:
        assert "pass the budget" in _error(rep, max_bad)


def test_over_a_share_budget_the_message_gives_counts_share_budget_and_reasons() -> None:
    rep = _report(_file("a", 90, {"bad_json": 4, "blank": 7}),
                  _file("b", 90, {"wrong_type": 6, "bad_json": 2}))
    assert _error(rep, 0.01) == (
        "12 bad lines of 192 record lines (6.2%) pass the budget of 1.00% (bad_json: 6, wrong_type: 6); "
        "raise --max-bad-lines to accept them")


def test_over_a_count_budget_the_message_gives_lines() -> None:
    rep = _report(_file("a", 50, {"oversized": 3}))
    assert _error(rep, 2) == (
        "3 bad lines of 53 record lines (5.7%) pass the budget of 2 lines (oversized: 3); "
        "raise --max-bad-lines to accept them")


def test_strict_names_the_bad_lines_then_a_truncated_file() -> None:
    bad = _report(_file("a", 50, {"bad_json": 1, "blank": 3}))
    assert _error(bad, 0.5, strict=True) == "--strict: 1 bad line(s) in the input (bad_json: 1)"
    cut = _report(_file("a", 50, {"blank": 3}), _file("b.gz", 5, {}, "gzip stream ends early"))
    want = "--strict: a truncated file in the input: b.gz (gzip stream ends early)"
    assert _error(cut, 0.5, strict=True) == want
    check_budget(cut, max_bad=0.5, strict=False)  # without --strict: read as far as it goes


def test_no_record_at_all_says_why_per_reason() -> None:
    assert _error(_report(_file("a", 0, {})), 1) == "no valid record: the input is empty"
    msg = _error(_report(_file("a", 0, {"bad_json": 2, "blank": 1})), 1)
    assert msg == "no valid record in 3 lines (bad_json: 2, blank: 1)"
    hint = _error(_report(_file("a", 0, {"non_record": 2})), 1)
    assert hint.startswith("no valid record in 2 lines (non_record: 2); no line is a JSON object")
    assert hint.endswith("(e.g. --record-marker 'Prediction: ')")
