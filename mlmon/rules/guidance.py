"""What an alert on each metric means and what to check first: one text for the report and the alerts."""

from __future__ import annotations

TODO = (
    ("latency_ms.", "Latency is over its limit: see which model version and which windows are slow "
                    "(the report's Serving health), compare versions with mlmon compare, and check the "
                    "serving hosts' load."),
    ("success_rate", "Requests fail: look at the failing windows' error statuses in the log; if only one "
                     "model version fails, roll it back."),
    ("error_rate", "Requests fail: look at the failing windows' error statuses in the log; if only one "
                   "model version fails, roll it back."),
    ("drift.", "The feature's values differ from training: compare its two distributions (mlmon "
               "drift, the report). A change upstream (units, defaults, a renamed category) is fixed "
               "there; a real change in the world "
               "calls for retraining on recent data."),
    ("mean_deviation.", "The feature's mean moved: compare its distributions (mlmon drift, the "
                        "report) and check the pipeline that computes it."),
    ("unseen.", "The log has categories training never had: a renamed or new category upstream, or a "
                "new kind of input the model was not trained on."),
    ("evidence.", "A small shift of the feature has held over several windows: compare its distribution "
                  "over time (the report with --every, mlmon trend) and find when it began."),
    ("out_of_range.", "More of the feature's values than chance fall outside the training range: check "
                      "its units and the pipeline that computes it; real inputs beyond training call for "
                      "retraining on recent data."),
    ("missing_share.", "More records lack the feature than in training: check the service's logging and "
                       "the upstream source of the feature (a join or a lookup that now fails)."),
    ("type_errors.", "The feature's values have the wrong type (text where numbers were): check the "
                     "service's serialisation of the feature."),
    ("constant.", "The feature takes one value in the log though training had many: a default or a "
                  "broken upstream source fills it."),
    ("missing.", "The feature is absent from the log: check the field name (--features-field) and the "
                 "service's logging."),
    ("records", "Too few or no records: is the service up and writing its log, and is the path right?"),
    ("age", "The newest record is old: the service may have stopped serving or logging."),
    ("confidence.", "More predictions with low confidence: often the first sign of drift, see the drift "
                    "section."),
    ("predictions_out_of_range", "Numeric predictions fall outside the expected range: check the model "
                                 "version and its inputs."),
)
"""(metric name prefix, what it means and what to check first), first match wins."""


def what_to_do(metric: str) -> str | None:
    """The guidance for a metric (`latency_ms.p99`, `drift.country`), or None when there is none."""
    for prefix, text in TODO:
        if metric.startswith(prefix) or metric == prefix:
            return text
    return None


def topic(metric: str) -> str:
    """The guidance entry a metric falls under (`drift.` for `drift.age`), or the metric itself:
    alerts of one topic share one text."""
    for prefix, _ in TODO:
        if metric.startswith(prefix) or metric == prefix:
            return prefix
    return metric
