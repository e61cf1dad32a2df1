"""Predicted classes in bounded memory: exact counts up to EXACT_CLASSES distinct classes, then a
frequent-items sketch and a HyperLogLog distinct count; top K with the rest counted."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from corpus import cli, record, strict_json

from mlmon.read.records import PRED_CLASS
from mlmon.stats import classes as cl
from mlmon.stats.classes import ClassCounter
from mlmon.stats.summary import SummaryAccumulator, SummaryOptions


def _feed(counter: ClassCounter, names: list[str], chunk: int = 5000) -> None:
    for i in range(0, len(names), chunk):
        c = Counter(names[i : i + chunk])
        counter.update(list(c), list(c.values()))


def test_exact_below_the_cap_top_k_other_and_distinct() -> None:
    rng = random.Random(3)
    names = [f"c{int(rng.paretovariate(1.2)) % 300}" for _ in range(20_000)]
    truth = Counter(names)
    counter = ClassCounter()
    _feed(counter, names)
    for k in (0, 1, 5, 20, 300, 10_000):
        res = counter.result(k)
        want = sorted(truth.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        assert [(c.name, c.count) for c in res.top] == want
        assert [c.share for c in res.top] == [n / len(names) for _, n in want]  # exact shares
        assert res.other == len(names) - sum(n for _, n in want)
        assert (res.distinct, res.exact, res.total) == (len(truth), True, len(names))


def test_past_the_cap_memory_is_fixed_and_heavy_classes_are_kept() -> None:
    rng = random.Random(5)
    heavy = {"cat": 0.2, "dog": 0.1, "bird": 0.05}
    names = []
    for i in range(200_000):
        x = rng.random()
        names.append("cat" if x < 0.2 else "dog" if x < 0.3 else "bird" if x < 0.35 else f"id-{i}")
    truth = Counter(names)
    counter = ClassCounter()
    _feed(counter, names)
    assert counter.exact is None  # no per-class dictionary is kept past the cap
    assert counter.freq.num_active_items <= 0.75 * 2**cl.SKETCH_LG_SIZE
    res = counter.result(20)
    assert res.exact is False and res.total == len(names)
    got = {c.name: c.count for c in res.top}
    assert list(got)[:3] == ["cat", "dog", "bird"]
    bound = counter.freq.get_apriori_error(cl.SKETCH_LG_SIZE, len(names))
    for name in heavy:
        assert truth[name] - bound <= got[name] <= truth[name]  # a lower bound, within the error
    assert res.other == len(names) - sum(got.values())
    assert res.distinct == pytest.approx(len(truth), rel=0.03)


def test_merge_matches_one_pass_across_the_cap() -> None:
    names = [f"k{i % 7}" if i % 3 else f"u{i}" for i in range(60_000)]
    one = ClassCounter()
    _feed(one, names)
    small, big = ClassCounter(), ClassCounter()
    _feed(small, names[:900])  # exact
    _feed(big, names[900:])  # past the cap
    for a, b in ((small, big), (big, small)):
        merged = ClassCounter()
        merged.merge(a)
        merged.merge(b)
        res, ref = merged.result(7), one.result(7)
        assert res.total == ref.total == len(names) and not res.exact
        assert [c.name for c in res.top] == [c.name for c in ref.top]
        assert res.distinct == pytest.approx(len(set(names)), rel=0.03)
    exact = ClassCounter()
    exact.merge(small)
    exact.merge(small)
    assert exact.result(3).exact and exact.result(3).total == 1800


def test_summary_lists_top_classes_with_the_rest_per_group() -> None:
    acc = SummaryAccumulator(SummaryOptions(top_classes=2))
    values = [f"c{i % 5}" for i in range(103)]
    n = len(values)
    acc.update(pa.table({
        PRED_CLASS: pa.array(values),
        "group": pa.array(["v1"] * n),
        "latency_ms": pa.nulls(n, pa.float64()), "success": pa.nulls(n, pa.bool_()),
        "confidence": pa.nulls(n, pa.float64()), "pred_value": pa.nulls(n, pa.float64()),
        "timestamp": pa.nulls(n, pa.timestamp("ns", tz="UTC")),
    }))
    g = acc.result().groups[0]
    counts = Counter(values)
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:2]
    assert [(c.name, c.count) for c in g.classes] == top
    assert g.classes_other == n - sum(c for _, c in top) and g.classes_distinct == 5 and g.classes_exact


def test_cli_caps_classes_in_json_and_table(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    recs = [record(i, prediction={"class": f"label-{i}" if i % 2 else ["a", "b"][i % 4 // 2],
                                  "confidence": 0.9}) for i in range(40_000)]
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    r = cli(["summary", str(path), "--by", "", "-f", "json", "--top-classes", "5"])
    doc = strict_json(r.stdout)
    assert len(r.stdout) < 20_000  # was one entry per class: megabytes
    truth = Counter(x["prediction"]["class"] for x in recs)
    assert [c["name"] for c in doc["classes"]][:2] == ["a", "b"]
    assert len(doc["classes"]) <= 5 and doc["classes_exact"] is False
    assert doc["classes_distinct"] == pytest.approx(len(truth), rel=0.03)
    assert doc["classes_other"] == len(recs) - sum(c["count"] for c in doc["classes"])
    for c in doc["classes"]:
        assert c["count"] <= truth[c["name"]]
    table = cli(["summary", str(path), "--by", "", "--width", "220"]).stdout
    assert "other: " in table and "classes in all)" in table
    # a few classes: every one listed, exact, no rest
    small = tmp_path / "few.jsonl"
    few = [r for r in recs[:300] if r["prediction"]["class"] in ("a", "b")]
    small.write_text("".join(json.dumps(r) + "\n" for r in few))
    doc = strict_json(cli(["summary", str(small), "--by", "", "-f", "json"]).stdout)
    counts = Counter(json.loads(x)["prediction"]["class"] for x in small.read_text().splitlines())
    assert {c["name"]: c["count"] for c in doc["classes"]} == counts
    assert [c["share"] for c in doc["classes"]] == [
        counts[c["name"]] / counts.total() for c in doc["classes"]
    ]
    assert (doc["classes_other"], doc["classes_distinct"], doc["classes_exact"]) == (0, 2, True)
    assert cli(["summary", str(small), "--top-classes", "-1"]).exit_code == 2
    assert np.isclose(sum(c["share"] for c in doc["classes"]), 1.0)


def test_exact_up_to_the_cap_and_sketched_one_class_past_it() -> None:
    names = [f"c{i}" for i in range(cl.EXACT_CLASSES)]
    counter = ClassCounter()
    counter.update(names, [1] * len(names))
    res = counter.result(3)
    assert res.exact is True and res.distinct == cl.EXACT_CLASSES and counter.exact is not None
    counter.update(["one-more"], [2])
    res = counter.result(3)
    assert res.exact is False and counter.exact is None
    assert res.total == cl.EXACT_CLASSES + 2


def test_lower_bound_is_the_count_while_exact_and_a_sure_count_past_the_cap() -> None:
    counter = ClassCounter()
    counter.update(["a", "b"], [5, 2])
    assert (counter.lower_bound("a"), counter.lower_bound("b"), counter.lower_bound("zz")) == (5, 2, 0)
    rng = random.Random(11)
    names = ["cat" if rng.random() < 0.3 else f"id-{i}" for i in range(60_000)]
    truth = Counter(names)
    _feed(counter, names)
    assert counter.exact is None
    bound = counter.freq.get_apriori_error(cl.SKETCH_LG_SIZE, counter.total)
    low = counter.lower_bound("cat")
    assert truth["cat"] - bound <= low <= truth["cat"] and low > 0
    assert 5 - bound <= counter.lower_bound("a") <= 5
    assert counter.lower_bound("never-logged") == 0


def test_a_counter_is_true_once_it_holds_a_record() -> None:
    counter = ClassCounter()
    assert not counter
    counter.update(["a"], [0])
    assert not counter
    counter.update(["a"], [1])
    assert counter and counter.total == 1


def test_names_and_counts_of_different_lengths_are_refused() -> None:
    """A caller's slip (one count short) must fail, never pair names with the wrong counts."""
    with pytest.raises(ValueError):
        ClassCounter().update(["a", "b"], [1])
    counter = ClassCounter()
    names = [f"c{i}" for i in range(cl.EXACT_CLASSES + 1)]
    counter.update(names, [1] * len(names))
    assert counter.exact is None
    with pytest.raises(ValueError):
        counter.update(["a", "b"], [1])
