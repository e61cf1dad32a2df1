"""How numbers are written for people, in one place: tables and alert messages use the same forms."""

from __future__ import annotations

import math

MISSING = "-"


def _exp(text: str) -> str:
    """`3.3e-51` rather than `3.3e-051`/`1.2e-05`: no padded exponent, no `+`."""
    mant, _, exp = text.partition("e")
    if not exp:
        return text
    sign = "-" if exp.startswith("-") else ""
    return f"{mant}e{sign}{exp.lstrip('+-').lstrip('0') or '0'}"


def number(x: float | None, digits: int = 4) -> str:
    """A measured value (a mean, a baseline value): `68,430`, `44.83`, `0.03839`, `0.0048`.

    At least `digits` significant digits; thousands separated by commas from 1,000 on, no
    decimals past the significant ones; exponent form only below 1e-4 or from 1e15 on."""
    if x is None:
        return MISSING
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if x == 0:
        return "0"
    a = abs(x)
    if a < 1e-4 or a >= 1e15:
        return _exp(f"{x:.{digits}g}")
    whole = math.floor(math.log10(a)) + 1  # digits before the point (<= 0 for 0.0x)
    decimals = max(digits - whole, 0)
    text = f"{x:,.{decimals}f}"
    if decimals and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def p_value(p: float | None) -> str:
    """A p-value: `0.853`, `0.0123`, `8e-32`, `3.3e-51`; `<1e-300` when it underflowed to 0."""
    if p is None:
        return MISSING
    if not math.isfinite(p):
        return "nan"
    if p < 1e-300:
        return "<1e-300"
    if p < 1e-3:
        return _exp(f"{p:.2g}")
    return f"{p:.3g}"


def percent(share: float | None, *, signed: bool = False, decimals: int = 1) -> str:
    """A share as a percentage: `22.1%`, `+33.1%` (`97.45%` with decimals=2); small non-zero
    shares keep two significant digits (`0.048%`), never `0.0%`."""
    if share is None:
        return MISSING
    if math.isnan(share):
        return "nan"
    sign = "+" if signed and share > 0 else ""
    if math.isinf(share):
        return f"{sign}{share}%"
    v = share * 100
    if not math.isfinite(v):  # a share past 1.8e306: write it as a mantissa and exponent + 2
        mant, _, exp = f"{share:.2g}".partition("e")
        return f"{sign}{mant}e{int(exp) + 2}%"
    if v != 0 and abs(v) < 10**-decimals:
        return f"{sign}{_exp(f'{v:.2g}')}%"
    return f"{sign}{v:,.{decimals}f}%"


def sd(x: float | None) -> str:
    """A deviation in standard deviations: `0.0048 sd`, `1.3 sd` (never `0.00 sd`)."""
    if x is None:
        return MISSING
    return f"{number(x, 2)} sd"


def ms(x: float | None) -> str:
    """A latency in milliseconds, to 0.01 ms: `27.38`, `12,345.67`."""
    if x is None:
        return MISSING
    if not math.isfinite(x):
        return number(x)
    if x != 0 and abs(x) < 0.01:
        return number(x, 2)
    return f"{x:,.2f}"


def stat(x: float | None) -> str:
    """A test statistic or effect size (KS D, PSI, chi-square): `0.160`, `0.0004`, `1,234`."""
    if x is not None and math.isfinite(x) and 1e-3 <= abs(x) < 1:
        return f"{x:.3f}"
    return number(x, 3)


def duration(seconds: float) -> str:
    """An age or a span for people: `47s`, `4m 7s`, `3h 12m`, `1 day 3h`, `36 days`."""
    if not math.isfinite(seconds):
        return number(seconds)
    s = max(0, int(round(seconds)))
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days >= 7:
        return f"{days:,} days"
    if days:
        return f"{days} day{'s' if days > 1 else ''}" + (f" {hours}h" if hours else "")
    if hours:
        return f"{hours}h" + (f" {minutes}m" if minutes else "")
    if minutes:
        return f"{minutes}m" + (f" {secs}s" if secs else "")
    return f"{secs}s"
