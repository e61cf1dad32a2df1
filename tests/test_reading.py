"""The reading options as one value (mlmon.Reading): the same answers as keyword arguments, the
CLI's defaults, and misuse refused as Python refuses an unknown keyword."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

import mlmon
from mlmon.api.reading import FIELDS, Reading
from mlmon.cli.options import reading

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"
LOG = str(SAMPLES / "predictions.jsonl")


def _doc(rep: object) -> dict[str, object]:
    d = rep.to_dict()  # type: ignore[attr-defined]
    d.pop("freshness", None)  # the age of the newest record: wall-clock
    return d  # type: ignore[no-any-return]


def test_a_reading_gives_what_its_keyword_arguments_give() -> None:
    kwargs = {"last": "20m", "status_field": "status", "success_value": ["ok", "SUCCESS"],
              "max_bad_lines": "2%", "log_timezone": "Europe/Berlin"}
    by_kwargs = mlmon.summarize(LOG, max_p99_ms=250, now=2e9, **kwargs)
    by_value = mlmon.summarize(LOG, max_p99_ms=250, now=2e9, reading=Reading(**kwargs))
    assert _doc(by_value) == _doc(by_kwargs)
    assert by_value.records < mlmon.summarize(LOG, now=2e9).records  # the window was applied


def test_keyword_arguments_win_over_the_reading_they_come_with() -> None:
    narrow = Reading(last="5m")
    assert (mlmon.summarize(LOG, reading=narrow, last=None, now=2e9).records
            == mlmon.summarize(LOG, now=2e9).records)
    assert mlmon.summarize(LOG, reading=narrow, now=2e9).records < mlmon.summarize(LOG, now=2e9).records
    assert narrow.last == "5m"  # frozen: the caller's value is not changed


def test_a_success_value_text_is_one_value_not_its_letters() -> None:
    assert Reading(success_value="ok").success_value == ("ok",)
    assert Reading(include=["*.jsonl"]).include == ("*.jsonl",)
    assert Reading(success_value="ok").plan(None).success_values == frozenset({"ok"})


def test_an_unknown_keyword_is_a_type_error_as_python_gives() -> None:
    with pytest.raises(TypeError, match="summarize\\(\\) got an unexpected keyword argument 'lats'"):
        mlmon.summarize(LOG, lats="5m")
    with pytest.raises(TypeError, match="trend\\(\\) got an unexpected keyword argument 'engine'"):
        mlmon.trend(LOG, every="10m", engine="dask")
    with pytest.raises(mlmon.OptionError, match="compare\\(\\) does not take the reading option include"):
        mlmon.compare(LOG, control="v1.0", reading=Reading(include=("*.jsonl",)))


def test_a_bad_reading_value_names_its_flag() -> None:
    with pytest.raises(mlmon.OptionError, match="--max-line-bytes"):
        mlmon.summarize(LOG, reading=Reading(max_line_bytes=0))
    with pytest.raises(mlmon.OptionError, match="--log-timezone"):
        mlmon.detect_drift(LOG, baseline=str(SAMPLES / "training.csv"), log_timezone="Mars/Base")


@pytest.mark.parametrize("command", ["summary", "drift", "trend", "compare"])
def test_each_commands_reading_flags_default_as_the_library_does(command: str) -> None:
    """The CLI builds its Reading from its parameters: a flag left out is the library's default,
    and the reading options a command takes are the ones its library call takes."""
    fn = importlib.import_module(f"mlmon.cli.{command}").cli.registered_commands[0].callback
    params = inspect.signature(fn).parameters
    taken = {name: p.default for name, p in params.items() if name in FIELDS}
    serving = {"latency_field", "status_field", "success_field", "success_value", "prediction_field",
               "class_field", "confidence_field"}
    not_taken = {"summary": {"features_field"}, "drift": serving,
                 "trend": {"engine", "scheduler", "include"}, "compare": {"engine", "scheduler", "include"}}
    assert set(taken) == set(FIELDS) - not_taken[command]
    assert reading(taken) == Reading()
    for name, default in taken.items():
        assert default == FIELDS[name], (command, name)
