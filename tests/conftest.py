"""Generic helpers shared by the unit tests (fixtures only; no test data of any one module)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, so a failing test fails the same way every run."""
    return np.random.default_rng(20261101)
