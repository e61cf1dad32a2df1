"""Realized binary-classification metrics checked against scikit-learn's, shared by the labels tests."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm


def assert_binary_metrics(m: dict[str, Any], y: np.ndarray, p: np.ndarray, conf: np.ndarray) -> None:
    """Accuracy, macro-F1, AUC, Brier and the positive class's F1 of `m` equal scikit-learn's on (y, p, conf).

    `conf` is the confidence of the predicted class, so the positive class's probability is `conf`
    where the prediction is 1 and `1 - conf` elsewhere.
    """
    prob = np.where(p == 1, conf, 1 - conf)
    assert m["accuracy"]["value"] == pytest.approx(skm.accuracy_score(y, p), abs=1e-12)
    assert m["macro_f1"]["value"] == pytest.approx(skm.f1_score(y, p, average="macro"), abs=1e-12)
    assert m["auc"]["value"] == pytest.approx(skm.roc_auc_score(y, prob), abs=1e-12)
    assert m["brier"]["value"] == pytest.approx(skm.brier_score_loss(y, prob), abs=1e-12)
    assert m["f1.1"]["value"] == pytest.approx(skm.f1_score(y, p), abs=1e-12)
