"""Number formats for people: readable, whole, and faithful to the value."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from mlmon.numfmt import ms, number, p_value, percent, sd, stat


def test_examples() -> None:
    assert number(68430.0) == "68,430"
    assert number(-56040.2) == "-56,040"
    assert number(44.83) == "44.83"
    assert number(0.03839) == "0.03839"
    assert number(0.0048) == "0.0048"
    assert number(None) == "-"
    assert sd(0.0048) == "0.0048 sd"
    assert p_value(8e-32) == "8e-32"
    assert p_value(3.35e-51) == "3.3e-51"
    assert p_value(0.853) == "0.853"
    assert p_value(0.0) == "<1e-300"
    assert percent(0.331, signed=True) == "+33.1%"
    assert percent(0.9745, decimals=2) == "97.45%"
    assert percent(0.00048) == "0.048%"
    # a deviation from a baseline mean of nearly 0 can pass float's range once in percent
    assert percent(1.7976190476190477e308, signed=True) == "+1.8e310%"
    assert percent(-1.7976e308) == "-1.8e310%" and percent(float("inf"), signed=True) == "+inf%"
    assert percent(float("nan")) == "nan"
    assert ms(12345.678) == "12,345.68"
    assert stat(0.16) == "0.160"


def _back(text: str) -> float:
    return float(text.replace(",", ""))


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300))
def test_number_keeps_four_significant_digits(x: float) -> None:
    text = number(x)
    assert "e+" not in text
    if abs(x) >= 1e-4 and abs(x) < 1e15:
        assert "e" not in text
    back = _back(text)
    # rounded to 4 significant digits, or to a whole number when it has more integer digits
    tolerance = max(abs(x) * 5e-4 * 1.0001, 0.5 if abs(x) >= 1000 else 0.0)
    assert math.isclose(back, x, abs_tol=tolerance + 1e-300), (x, text)


@given(st.floats(min_value=0, max_value=1))
def test_p_value_is_faithful(p: float) -> None:
    text = p_value(p)
    if p < 1e-300:
        assert text == "<1e-300"
    else:
        assert math.isclose(float(text), p, rel_tol=0.05 if p < 1e-3 else 0.005)


@given(st.floats(min_value=-10, max_value=10, allow_nan=False))
def test_percent_never_rounds_a_nonzero_share_to_zero(share: float) -> None:
    text = percent(share)
    assert text.endswith("%")
    if share != 0:
        assert float(text[:-1].replace(",", "")) != 0
