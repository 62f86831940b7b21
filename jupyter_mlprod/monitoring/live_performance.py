"""Live performance of an endpoint version once labels arrive (feedback): accuracy, ROC AUC
and a calibration table, from the window's predicted scores and the labels sent for them."""
from __future__ import annotations

import numpy as np

CALIBRATION_BINS = 10


def performance(scores: np.ndarray, labels: np.ndarray) -> dict:
    """`scores`: predicted probability of the positive class (or any number: accuracy then
    compares it with the label directly); `labels`: 0/1 (or class numbers)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    keep = ~np.isnan(scores) & ~np.isnan(labels)
    scores, labels = scores[keep], labels[keep]
    n = int(scores.size)
    if n == 0:
        return {"labels": 0, "accuracy": None, "auc": None, "calibration": []}
    probabilities = bool(np.all((scores >= 0) & (scores <= 1)))
    binary = bool(np.all((labels == 0) | (labels == 1)))
    predicted = (scores >= 0.5).astype(np.float64) if probabilities else np.round(scores)
    out = {"labels": n, "accuracy": float(np.mean(predicted == labels)), "auc": None,
           "calibration": []}
    if probabilities and binary:
        out["auc"] = roc_auc(scores, labels)
        out["calibration"] = calibration(scores, labels)
    return out


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Mann-Whitney U over average ranks (ties share their rank)."""
    positives = int(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    ordered = scores[order]
    ranks = np.empty(scores.size)
    # average rank of each run of equal scores
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], ordered.size]
    average = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(average, ends - starts)
    u = ranks[labels == 1].sum() - positives * (positives + 1) / 2.0
    return float(u / (positives * negatives))


def calibration(scores: np.ndarray, labels: np.ndarray) -> list[dict]:
    index = np.minimum((scores * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    counts = np.bincount(index, minlength=CALIBRATION_BINS)
    predicted = np.bincount(index, weights=scores, minlength=CALIBRATION_BINS)
    observed = np.bincount(index, weights=labels, minlength=CALIBRATION_BINS)
    return [{"bin": i / CALIBRATION_BINS, "predicted": float(predicted[i] / counts[i]),
             "observed": float(observed[i] / counts[i]), "count": int(counts[i])}
            for i in range(CALIBRATION_BINS) if counts[i]]
