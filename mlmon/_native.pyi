"""Type stubs of the compiled reader (native/, built by setuptools-rust)."""

from typing import Any

CODES: tuple[str, ...]

class Buf: ...

class Plan:
    def __init__(
        self,
        timestamp: str,
        by: str | None,
        summary: tuple[str, str, str, str, str, str] | None,
        features: tuple[str, list[tuple[bool, str]]] | None,
        marker: bytes | None,
        success_values: list[str],
        naive_utc: bool = False,
    ) -> None: ...

def parse_block(plan: Plan, data: bytes, first_line: int) -> tuple[Any, ...]: ...
def count_newlines(data: bytes) -> int: ...

class EdgeSlots:
    def __init__(self, edges: Any) -> None: ...
    def count(self, values: Any) -> Buf: ...

def summary_block(
    n: int,
    group: tuple[int, list[Any]] | None,
    success: tuple[int, list[Any]],
    latency: tuple[int, list[Any]],
    pred_class: tuple[int, list[Any]],
    confidence: tuple[int, list[Any]],
    value: tuple[int, list[Any]],
    ts: tuple[int, list[Any]],
    low_confidence: float,
    range: tuple[float, float] | None,
    edges: list[float],
) -> list[tuple[Any, ...]] | None: ...

def read_block(carry: bytes, readinto: Any, size: int) -> tuple[bytes | None, bytes, int]: ...
