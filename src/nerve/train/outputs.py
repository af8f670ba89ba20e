"""What a model's outputs are, read from its last layer, and the labels or probabilities
they give: the rule ``nerve predict``/``evaluate`` and the decision-boundary plots share
(a final Sigmoid: p > 0.5; Softmax/LogSoftmax: argmax; raw scores: argmax, or z > 0 for
one column)."""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["labels_or_proba", "output_kind"]


def output_kind(model: Any) -> str:
    """What a model's outputs are, from its last layer (trailing Identity and Dropout,
    the identity at inference, skipped): ``"sigmoid"`` (probabilities σ(z) of each
    column being 1), ``"softmax"`` (class probabilities), ``"log_softmax"``
    (log-probabilities), ``"logits"`` (raw scores) or ``"unknown"`` (a module of the
    user's, whose forward says what it returns)."""
    from .. import nn
    skip = (nn.Identity, nn.Dropout)
    layer = model
    while type(layer) is nn.Sequential:
        layers = [m for m in layer if type(m) not in skip]
        if not layers:
            return "logits"
        layer = layers[-1]
    kinds = {nn.Sigmoid: "sigmoid", nn.Softmax: "softmax", nn.LogSoftmax: "log_softmax"}
    kind = kinds.get(type(layer))
    if kind is not None:
        # over the class axis only: a Softmax over the batch (axis 0) is no distribution
        # over classes, and its scores are taken as they are
        return kind if kind == "sigmoid" or layer.axis in (1, -1) else "logits"
    return "logits" if type(layer).__module__.startswith("nerve.") else "unknown"


def labels_or_proba(scores: np.ndarray, kind: str, proba: bool) -> np.ndarray:
    """Labels (or, with ``proba``, probabilities) from a model's outputs (N, k) of
    ``kind`` (see :func:`output_kind`). Logits: argmax, or with one column logit > 0;
    probabilities softmax(z), or σ(z) for one column. A final Sigmoid: p > 0.5 per column
    (one column: a binary label; several: multi-label rows of 0/1), probabilities as they
    are. A final Softmax: argmax, probabilities as they are; LogSoftmax: argmax, e^y."""
    if kind == "sigmoid":
        if proba:
            return scores
        labels = (scores > 0.5).astype(np.int64)
        return labels[:, 0] if scores.shape[1] == 1 else labels
    if kind == "softmax":
        return scores if proba else scores.argmax(axis=1)
    if kind == "log_softmax":
        return np.exp(scores) if proba else scores.argmax(axis=1)
    if proba:
        if scores.shape[1] == 1:
            return 1.0 / (1.0 + np.exp(-scores))
        from ..ops.loss import softmax_rows
        return softmax_rows(scores)
    return (scores[:, 0] > 0).astype(np.int64) if scores.shape[1] == 1 \
        else scores.argmax(axis=1)
