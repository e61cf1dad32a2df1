"""What an alert means and what to check first (mlmon/rules/guidance.py): each metric finds its
own text, the first matching prefix wins, and alerts of one topic share it."""

from __future__ import annotations

import pytest

from mlmon.rules.guidance import TODO, topic, what_to_do

TEXT = dict(TODO)


@pytest.mark.parametrize(
    ("metric", "prefix"),
    [
        ("latency_ms.p99", "latency_ms."),
        ("success_rate", "success_rate"),
        ("error_rate", "error_rate"),
        ("drift.country", "drift."),
        ("drift.multivariate", "drift."),
        ("mean_deviation.age", "mean_deviation."),
        ("unseen.country", "unseen."),
        ("evidence.age", "evidence."),
        ("out_of_range.age", "out_of_range."),
        ("missing_share.age", "missing_share."),
        ("type_errors.age", "type_errors."),
        ("constant.age", "constant."),
        ("missing.age", "missing."),
        ("records", "records"),
        ("age_seconds", "age"),
        ("confidence.low_share", "confidence."),
        ("predictions_out_of_range", "predictions_out_of_range"),
    ],
)
def test_each_metric_finds_its_topic_and_text(metric: str, prefix: str) -> None:
    assert topic(metric) == prefix
    assert what_to_do(metric) == TEXT[prefix]


def test_the_first_matching_prefix_wins() -> None:
    # `missing_share.x` starts with `missing` too: the earlier, longer entry is its own
    assert [p for p, _ in TODO].index("missing_share.") < [p for p, _ in TODO].index("missing.")
    assert topic("missing_share.x") == "missing_share." and topic("missing.x") == "missing."
    assert what_to_do("missing_share.x") != what_to_do("missing.x")


def test_a_metric_without_guidance_is_its_own_topic() -> None:
    for metric in ("requests_per_second", "quality.accuracy", "", "drift"):
        assert what_to_do(metric) is None
        assert topic(metric) == metric


def test_the_texts_name_what_to_check() -> None:
    assert "roll it back" in TEXT["error_rate"] and TEXT["error_rate"] == TEXT["success_rate"]
    assert "--features-field" in TEXT["missing."]
    assert all(text.endswith((".", "?")) for _, text in TODO)
