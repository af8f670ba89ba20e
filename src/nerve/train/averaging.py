"""A loss over a whole set from its batches, the same whatever the batch size.

A batch's mean loss divides by what the loss divides by: the batch size, or for a
cross-entropy the labels it does not ignore, weighted by the class weights if any
(PyTorch's weighted mean). Over the set, ``L = Σ_b share_b·L_b / Σ_b share_b`` is
then that mean over all the examples; with ``reduction="sum"``, ``L = Σ_b L_b``.
``fit``'s epoch ``loss``, its ``val_loss`` and ``evaluate`` all add up this way. A
regularizer's penalty λ·R(W) is in every batch's L: it averages with the means, and is
counted once (its mean over the batches) with the sums.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["LossAverage"]


class LossAverage:
    """Adds up batch losses of ``loss_fn`` into the loss over every example seen."""

    def __init__(self, loss_fn: Any) -> None:
        from ..nn import CrossEntropyLoss

        self.summed = getattr(loss_fn, "reduction", "mean") == "sum"
        cross_entropy = isinstance(loss_fn, CrossEntropyLoss) and not self.summed
        self.by_label = cross_entropy
        weight = loss_fn.weight if cross_entropy else None
        self.weight = None if weight is None else np.asarray(getattr(weight, "data", weight),
                                                             dtype=np.float64)
        self.ignore = loss_fn.ignore_index if cross_entropy else None
        self.total = 0.0
        self.denominator = 0.0
        self.penalty = 0.0  # with reduction="sum": Σ_b share_b·penalty_b

    def share(self, targets: np.ndarray, counted: int) -> float:
        """What the batch's mean divides by; ``counted``: its labels not ignored. Class
        probabilities (N, C) as targets divide by the examples (PyTorch's mean, class
        weights or not)."""
        if not self.by_label or targets.ndim != 1:
            return float(len(targets))
        if self.weight is None:
            return float(counted)
        kept = targets[targets != self.ignore]
        return float(self.weight[kept].sum())

    def add(self, value: float, share: float, penalty: float = 0.0) -> None:
        """Count one batch whose loss is ``value`` (``penalty`` of it a regularizer's)
        and whose mean divided by ``share``."""
        if share > 0:
            if self.summed:
                self.total += value - penalty
                self.penalty += penalty * share
            else:
                self.total += value * share
            self.denominator += share

    def result(self) -> float | None:
        """The loss over every batch added, or None when nothing counted."""
        if self.summed:
            return self.total + self.penalty / self.denominator if self.denominator else None
        return self.total / self.denominator if self.denominator > 0 else None
