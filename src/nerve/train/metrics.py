"""Classification metrics on label arrays: accuracy and the confusion matrix."""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["accuracy", "confusion_matrix"]


def _label_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(getattr(y_true, "data", y_true))
    p = np.asarray(getattr(y_pred, "data", y_pred))
    if t.ndim != 1 or p.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D label arrays, got shapes "
                         f"{t.shape} and {p.shape}")
    if len(t) != len(p):
        raise ValueError(f"y_true and y_pred must have the same length, got {len(t)} and "
                         f"{len(p)}")
    for name, a in (("y_true", t), ("y_pred", p)):
        if a.dtype.kind not in "iub":
            raise TypeError(f"{name} must hold integer class labels, got dtype {a.dtype}")
        if a.size and a.min() < 0:
            raise ValueError(f"{name} holds a negative label ({a.min()}); labels are 0..C-1")
    return t.astype(np.int64), p.astype(np.int64)


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of positions where ``y_pred == y_true`` (both (N,) integer labels)."""
    t, p = _label_pair(y_true, y_pred)
    if len(t) == 0:
        raise ValueError("accuracy of zero samples is undefined")
    return float(np.count_nonzero(t == p)) / len(t)


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """C[i, j] = number of samples of true class i predicted as class j; shape (C, C), int64.

    ``num_classes`` defaults to 1 + the largest label seen.

    >>> confusion_matrix([0, 1, 1], [0, 1, 0]).tolist()
    [[1, 0], [1, 1]]
    """
    t, p = _label_pair(y_true, y_pred)
    top = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    if num_classes is None:
        num_classes = max(top, 1)
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"num_classes must be an int, got {num_classes!r}")
    elif num_classes < top:
        raise ValueError(f"num_classes={num_classes} but a label {top - 1} occurs; "
                         f"labels must be in 0..{num_classes - 1}")
    counts = np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64)
