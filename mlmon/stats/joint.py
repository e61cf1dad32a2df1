"""Joint drift of the numeric features: PCA reconstruction error against a calibrated reference.

Per-feature tests cannot see a change in how features move together (a correlation of 0.8
falling to 0 with every marginal unchanged). A principal-component model of the training data,
fitted on standardised features, keeps the directions that explain VARIANCE_KEPT of the
variance; a record's reconstruction error (the Euclidean distance between the standardised
record and its projection on those directions) grows when the data leave the subspace training
lived in. The baseline stores the model and the error's mean and standard deviation measured on
training rows the model was NOT fitted on (a random half), so the reference is not biased low by
over-fitting. A log is tested with Welch's z on the mean error (one-sided: the error rose), so
the false-alarm rate is the test's level at any n rather than a band of chunk means.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mlmon.stats import effects as fx
from mlmon.stats.moments import Moments

METHOD = "pca_reconstruction"
VARIANCE_KEPT = 0.65
"""Components are kept until they explain this share of the standardised variance (as NannyML's
default); the rest, where a broken correlation shows, make the error."""
MAX_FEATURES = 200
"""Numeric features in the joint test: the model stores components x features numbers."""
MIN_ROWS = 100
"""Complete training rows (every numeric feature present) needed to fit and calibrate."""
SPLIT_SEED = 20261207
"""The fixed seed of the fit / calibration split: the same training data give the same model."""
WARNING = 0.1
"""Default warning limit on the effect (the error's rise in reference standard deviations)."""
CRITICAL = 0.5
"""Default critical limit on the same effect (its lower 95% bound)."""
NAME = "multivariate"
"""The result row's name: the rule is `drift.multivariate`."""


@dataclass(frozen=True)
class PcaModel:
    """A PCA of standardised numeric features and its calibrated reconstruction error."""

    features: tuple[str, ...]
    """The numeric features the model takes, in baseline order (constant ones are left out)."""
    mean: Sequence[float]
    scale: Sequence[float]
    """Per feature, the mean and sample standard deviation the values are standardised with."""
    components: tuple[tuple[float, ...], ...]
    """Kept principal directions (unit rows, features wide), largest variance first."""
    explained: float
    """Share of the standardised variance the kept components explain (on the fit half)."""
    fit_rows: int
    calibration_rows: int
    """Training rows the model was fitted on, and the other rows its error was measured on."""
    error_mean: float
    error_std: float
    """Mean and sample standard deviation of the reconstruction error on the calibration rows."""


def split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the fit half and the calibration half (a fixed-seed permutation)."""
    order = np.random.default_rng(SPLIT_SEED).permutation(n)
    half = n // 2
    return np.sort(order[:half]), np.sort(order[half:])


def fit(names: Sequence[str], matrix: np.ndarray) -> tuple[PcaModel | None, str]:
    """The model of rows x features `matrix` (NaN where a value is missing), or None with the
    reason when it cannot be made (fewer than two varying features, too few complete rows)."""
    if len(names) > MAX_FEATURES:
        return None, f"{len(names)} numeric features, more than the {MAX_FEATURES} the joint test takes"
    if len(names) < 2:
        return None, "fewer than two numeric features"
    complete = matrix[np.all(np.isfinite(matrix), axis=1)]
    need = max(MIN_ROWS, 4 * len(names))
    if len(complete) < need:
        return None, f"{len(complete)} rows with every numeric feature, fewer than the {need} needed"
    fit_idx, cal_idx = split(len(complete))
    part = complete[fit_idx]
    with np.errstate(all="ignore"):
        mean = part.mean(axis=0)
        scale = part.std(axis=0, ddof=1)
    keep = np.isfinite(mean) & np.isfinite(scale) & (scale > 0)
    if int(keep.sum()) < 2:
        return None, "fewer than two numeric features that vary"
    mean, scale = mean[keep], scale[keep]
    z = (part[:, keep] - mean) / scale
    z = z - z.mean(axis=0)  # centred on the fit half, as a PCA centres (0 up to rounding)
    _, s, vt = np.linalg.svd(z, full_matrices=False)
    var = s**2
    share = np.cumsum(var) / var.sum()
    k = int(np.searchsorted(share, VARIANCE_KEPT - 1e-12) + 1)
    k = min(k, int(keep.sum()) - 1)  # at least one direction left out: else the error is 0
    components = vt[:k]
    kept = tuple(n for n, k_ in zip(names, keep.tolist(), strict=True) if k_)
    model = PcaModel(kept, array("d", mean.tolist()), array("d", scale.tolist()),
                     tuple(tuple(r) for r in components.tolist()), float(share[k - 1]),
                     len(fit_idx), len(cal_idx), 0.0, 0.0)
    err = errors(model, complete[cal_idx][:, keep])
    return PcaModel(model.features, model.mean, model.scale, model.components, model.explained,
                    model.fit_rows, model.calibration_rows, float(err.mean()),
                    float(err.std(ddof=1))), ""


def errors(model: PcaModel, x: np.ndarray) -> np.ndarray:
    """Per row of `x` (the model's features, complete rows), the reconstruction error: the
    Euclidean distance between the standardised row and its projection on the components."""
    c = np.asarray(model.components, dtype=np.float64)
    z = (x - np.asarray(model.mean)) / np.asarray(model.scale)
    # |z - proj(z)|^2 = |z|^2 - |z C'|^2 for orthonormal components: one product, not two
    kept = z @ c.T
    squared = np.einsum("ij,ij->i", z, z) - np.einsum("ij,ij->i", kept, kept)
    out: np.ndarray = np.sqrt(np.maximum(squared, 0.0))
    return out


class JointAccumulator:
    """Mergeable: the count, mean and sum of squared deviations of the log's errors."""

    __slots__ = ("incomplete", "model", "moments")

    def __init__(self, model: PcaModel) -> None:
        self.model = model
        self.moments = Moments()
        """The moments of the errors of the records tested (see mlmon.stats.moments)."""
        self.incomplete = 0
        """Records left out for lacking a finite value of one of the model's features."""

    def update(self, x: np.ndarray) -> None:
        """Rows x model features, NaN where a value is missing (such rows are counted, not tested)."""
        if not len(x):
            return
        ok = np.all(np.isfinite(x), axis=1)
        self.incomplete += int(len(x) - ok.sum())
        if ok.any():
            self.moments.update(errors(self.model, x[ok]))

    @property
    def n(self) -> int:
        return self.moments.n

    @property
    def mean(self) -> float:
        return self.moments.mean

    def merge(self, other: JointAccumulator) -> None:
        self.incomplete += other.incomplete
        self.moments.merge(other.moments)

    def fields(self, min_samples: int) -> dict[str, object]:
        """The result row's fields (mlmon.stats.drift builds the row): the test's statistic
        and one-sided p-value, and the effect with its 95% bounds."""
        m = self.model
        out: dict[str, object] = {
            "n": self.n, "baseline_n": m.calibration_rows, "mean": self.mean if self.n else None,
            "baseline_mean": m.error_mean, "missing": self.incomplete,
        }
        if self.n < min_samples or m.calibration_rows < min_samples:
            return {**out, "status": "insufficient_data"}
        std = self.moments.std()
        se = math.sqrt(std**2 / self.n + m.error_std**2 / m.calibration_rows)
        diff = self.mean - m.error_mean
        unit = m.error_std if m.error_std > 0 else 1.0
        if se == 0:
            z = 0.0 if diff <= 0 else math.inf
        else:
            z = diff / se
        p = 0.5 * math.erfc(z / math.sqrt(2)) if math.isfinite(z) else 0.0
        low, high = fx.bounds(diff / unit, 1.959963984540054 * se / unit, at_most=math.inf)
        return {**out, "status": "ok", "statistic": z, "p_value": p, "p_method": "asymptotic",
                "effect_size": diff / unit, "effect_low": low, "effect_high": high}
