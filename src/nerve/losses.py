"""Loss functions: data loss L(scores, targets) as a differentiable scalar tensor.

Each function checks its inputs up front (shapes, label range and type) and
then runs one fused, numerically stable op of :mod:`nerve.ops.loss`. The layer
versions are in :mod:`nerve.nn.loss`.

>>> import nerve as nv
>>> scores = nv.tensor([[3.2, 5.1, -1.7]], requires_grad=True)
>>> round(hinge(scores, [0]).item(), 2)        # the lecture's cat image
2.9
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .autograd import apply1, apply_node
from .data._checks import first_non_finite
from .ops import loss as L
from .tensor import Tensor, as_array

_REDUCTIONS = ("mean", "sum", "none")
_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}  # by itemsize


def _check_reduction(where: str, reduction: str, x: Tensor | None = None) -> str:
    try:
        known = reduction in _REDUCTIONS
    except ValueError:  # an array or a tensor: its == gives no single truth value
        known = False
    if not known:
        _reject_reduction(where, reduction)
    if reduction == "mean" and x is not None and x.size == 0:
        raise ValueError(f"{where}: the mean over an empty input (shape {x.shape}) is "
                         "undefined; pass at least one element")
    return reduction


# Where ``reduction`` stands among the positional arguments (third for the functions, first
# for the layers, but for the hinge's margin), and the losses whose PyTorch twin has ``weight``
# there: those that take it as ``weight=`` in nerve, and those that do not have it.
_REDUCTION_SLOT = {"hinge": "fourth", "HingeLoss": "second"}
_WEIGHT_KEYWORD = {"cross_entropy", "nll_loss", "CrossEntropyLoss", "NLLLoss"}
_NO_WEIGHT = {"binary_cross_entropy", "binary_cross_entropy_with_logits", "BCELoss",
              "BCEWithLogitsLoss"}


def _reject_reduction(where: str, reduction: Any) -> None:
    """The error for a ``reduction`` that is not 'mean', 'sum' or 'none': ValueError for
    another string, TypeError for anything else (PyTorch's class weights passed in its
    positional place, most likely)."""
    if isinstance(reduction, str):
        raise ValueError(f"{where}: reduction must be one of {', '.join(_REDUCTIONS)}, "
                         f"got {reduction!r}") from None
    slot = _REDUCTION_SLOT.get(where, "first" if where[:1].isupper() else "third")
    hint = ""
    if where in _WEIGHT_KEYWORD:
        hint = "; pass class weights as weight="
    elif where in _NO_WEIGHT:
        hint = f"; PyTorch's weight goes there, an option {where} does not have"
    raise TypeError(f"{where}: the {slot} positional argument is the reduction, a string "
                    f"({', '.join(map(repr, _REDUCTIONS))}), got {type(reduction).__name__}"
                    f"{hint}") from None


def reject_options(where: str, unsupported: dict, takes: str = "reduction only") -> None:
    """TypeError naming options nerve's loss ``where`` does not have (PyTorch's ``weight=``,
    ``size_average=``...): the one message of the loss functions and the loss layers."""
    raise TypeError(f"{where} does not support {', '.join(sorted(unsupported))} "
                    f"(it takes {takes})")


def _as_input(where: str, x: Any) -> Tensor:
    """Scores or predictions: a float tensor (arrays and lists are made float32 constants)."""
    if isinstance(x, Tensor):
        if x.data.dtype.kind != "f":
            raise TypeError(f"{where}: the input must be a float tensor, got dtype {x.dtype}")
        return x
    arr = as_array(x)
    return Tensor(arr if arr.dtype.kind == "f" else arr.astype(np.float32))


def labels_in_range(y: np.ndarray, classes: int) -> bool:
    """Whether every label of the non-empty integer array ``y`` lies in [0, classes).

    One reduction: viewed as unsigned, a negative label is huge, so the largest
    value is below ``classes`` exactly when all are in range.
    """
    return bool(np.maximum.reduce(y.view(_UNSIGNED[y.itemsize]), axis=None) < classes)


def _as_labels(where: str, labels: Any, n: int, classes: int, ignore_index: int | None = None,
               keep_ignored: bool = False) -> Any:
    """Integer class labels of shape (n,) in [0, classes).

    Labels equal to ``ignore_index`` (outside [0, classes)) pass too: the labels come
    back if ``keep_ignored``, else the marker _IGNORED says that some are there.
    """
    y = labels.data if isinstance(labels, Tensor) else labels
    if type(y) is not np.ndarray:
        y = np.asarray(y)
    if y.dtype.kind in "iu" and y.shape == (n,) and n and labels_in_range(y, classes):
        return y  # the common case, checked with one reduction
    if y.dtype.kind == "f":
        flat = y.reshape(-1)
        whole = np.isfinite(flat) & (flat == np.round(flat))
        if not whole.all():
            bad = flat[~whole][0]
            raise TypeError(f"{where}: labels must be integer class indices, got the "
                            f"non-integer value {float(bad)!r} (dtype {y.dtype})")
        huge = np.abs(flat) > 2.0 ** 53  # beyond the exact integers: int64 would garble it
        if huge.any():
            raise ValueError(f"{where}: labels must be in [0, {classes}) for scores with "
                             f"{classes} classes, got label {flat[huge][0]:g}")
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iu":
        raise TypeError(f"{where}: labels must be integer class indices, got dtype {y.dtype}")
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"{where}: expected one label per example, shape ({n},), "
                         f"got labels of shape {y.shape}")
    if n:
        outside = (y < 0) | (y >= classes)
        ignored = outside & (y == ignore_index) if ignore_index is not None else None
        if ignored is not None:
            outside &= ~ignored
        if outside.any():
            bad = y[outside][0]
            raise ValueError(f"{where}: labels must be in [0, {classes}) for scores with "
                             f"{classes} classes, got label {int(bad)}")
        if ignored is not None and ignored.any() and not keep_ignored:
            return _IGNORED
    return y


def _check_scores(where: str, scores: Tensor) -> None:
    if scores.ndim != 2:
        raise ValueError(f"{where}: expected scores of shape (N, C), got shape {scores.shape}")
    if scores.shape[1] < 1:
        raise ValueError(f"{where}: scores need at least one class, got shape {scores.shape}")
    if scores.shape[0] < 1:
        raise ValueError(f"{where}: scores need at least one example, got shape {scores.shape}")


def _as_target(where: str, target: Any, like: Tensor, unit: bool = False) -> np.ndarray:
    """A float target of the input's shape and dtype (0/1 probabilities if ``unit``)."""
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if t.dtype.kind not in "fiub":
        raise TypeError(f"{where}: the target must be numeric, got dtype {t.dtype}")
    if t.shape != like.shape:
        raise ValueError(f"{where}: the target has shape {t.shape} but the input has shape "
                         f"{like.shape}; they must match")
    t = t.astype(like.data.dtype, copy=False)
    if unit:
        if t.size and not np.all((t >= 0) & (t <= 1)):  # NaN is outside [0, 1] too
            _check_finite_target(where, t, "probabilities in [0, 1]")
            raise ValueError(f"{where}: targets must be probabilities in [0, 1], got values "
                             f"in [{t.min():g}, {t.max():g}]")
    elif not math.isfinite(np.vdot(t, t)):  # one BLAS reduction: NaN and inf propagate
        _check_finite_target(where, t, "finite numbers")  # (or the squares overflowed)
    return t


def _check_finite_target(where: str, t: np.ndarray, expected: str) -> None:
    """Raise naming the first NaN or infinite element of the target ``t``, if any."""
    found = first_non_finite(t)
    if found is None:
        return
    index, kind = found
    if t.ndim == 0:
        raise ValueError(f"{where}: the target is {kind}; expected {expected}")
    at = index[0] if len(index) == 1 else index
    raise ValueError(f"{where}: the target contains {kind} at index {at}; expected {expected}")


_CROSS_ENTROPY_TAKES = "reduction, weight, ignore_index and label_smoothing"


def cross_entropy(scores: Any, labels: Any, reduction: str = "mean", *, weight: Any = None,
                  ignore_index: int = -100, label_smoothing: float = 0.0,
                  **unsupported: Any) -> Tensor:
    """Softmax cross-entropy: Lᵢ = −log(e^s_yᵢ / Σⱼ e^sⱼ), averaged over the N examples.

    ``scores`` (N, C) raw class scores; ``labels`` (N,) integers in [0, C).
    Gradient: (softmax(s) − onehot(y)) / N.

    As PyTorch, ``labels`` may instead be class probabilities T (N, C), float, one-hot or
    soft: Lᵢ = −Σ_c Tᵢc·log softmax(sᵢ)_c, gradient (softmax(s)·Σ_c Tᵢc − T) / N (the mean
    is over the N examples; a target tensor that requires grad gets −log softmax(s) / N).

    PyTorch's options: ``weight`` (C,) scales each example's loss by the weight of its
    label, and the mean divides by the summed weights (by N for probability targets,
    where it scales each class's term); examples labelled ``ignore_index`` count for
    nothing (integer labels only); ``label_smoothing`` ε trains against
    (1 − ε)·onehot + ε/C (or (1 − ε)·T + ε/C) instead of the one-hot target.

    Scores (N, C, d₁, …) with labels (N, d₁, …) (or probabilities of the scores' shape)
    give one loss per position, as PyTorch: the same loss on the class axis moved last and
    the positions flattened, the mean over all positions, "none" of shape (N, d₁, …).
    """
    s = _as_input("cross_entropy", scores)
    shape = s.data.shape
    if len(shape) != 2 or not shape[0] or not shape[1]:
        if len(shape) > 2:  # (N, C, d₁, …): one loss per position, as PyTorch
            return _per_position("cross_entropy", cross_entropy, s, labels, reduction,
                                 weight=weight, ignore_index=ignore_index,
                                 label_smoothing=label_smoothing, **unsupported)
        _check_scores("cross_entropy", s)
    plain = weight is None and not label_smoothing and type(ignore_index) is int \
        and not 0 <= ignore_index < shape[1] and not unsupported  # else: the general path
    if plain:
        try:
            y = _as_labels("cross_entropy", labels, shape[0], shape[1], ignore_index)
        except (TypeError, ValueError):  # not labels: class probabilities (N, C)?
            loss = _cross_entropy_on_probabilities(s, labels, reduction)
            if loss is None:
                raise
            return loss
        try:
            if reduction != "mean":
                _check_reduction("cross_entropy", reduction)
        except ValueError:  # a reduction that is no string (an array, a tensor): its TypeError
            if isinstance(reduction, str):
                raise
            _check_reduction("cross_entropy", reduction)
            raise
        if y is not _IGNORED:
            return apply1(L.CrossEntropy(y, reduction), s)
    return _weighted_cross_entropy(s, labels, reduction, weight, ignore_index, label_smoothing,
                                   unsupported)


def _per_position(where: str, loss, s: Tensor, labels: Any, reduction: Any,
                  **options: Any) -> Tensor:
    """PyTorch's K-dimensional form: scores (N, C, d₁, …, d_K) with labels (N, d₁, …, d_K)
    (or, for cross_entropy, class probabilities of the scores' shape), one example per
    position. The class axis is moved last and the positions flattened, so the 2-D ``loss``
    sees (M, C) scores and (M,) labels, M = N·d₁⋯d_K: the mean is over the M positions
    (Σ w_y over those not ignored, with ``weight``), and ``reduction="none"`` gives the
    losses back in shape (N, d₁, …). The gradient flows back through the transpose and
    reshape (dL/ds is dL/d(flat) with the class axis put back at 1)."""
    shape = s.data.shape
    n, c, rest = shape[0], shape[1], shape[2:]
    if 0 in shape:
        raise ValueError(f"{where}: scores of shape (N, C, d1, ...) need at least one "
                         f"example, class and position, got shape {shape}")
    order = (0,) + tuple(range(2, len(shape))) + (1,)  # the class axis last
    flat = s.transpose(*order).reshape(-1, c)
    t = labels.data if isinstance(labels, Tensor) else labels
    try:
        t_shape = np.shape(t)
    except ValueError:  # a ragged list
        t_shape = None
    if t_shape == (n,) + rest:
        target = np.reshape(t, -1)
    elif t_shape == shape and where == "cross_entropy":  # class probabilities
        target = (labels.transpose(*order).reshape(-1, c) if isinstance(labels, Tensor)
                  else np.asarray(t).transpose(order).reshape(-1, c))
    else:
        probs = (" or class probabilities of the scores' shape" if where == "cross_entropy"
                 else "")
        got = "a ragged list" if t_shape is None else f"shape {t_shape}"
        raise ValueError(f"{where}: scores of shape {shape} (N, C, d1, ...) take labels of "
                         f"shape {(n,) + rest} (N, d1, ...){probs}, got {got}")
    out = loss(flat, target, reduction, **options)
    if out.ndim == 1:  # reduction="none": one loss per position
        out = out.reshape((n,) + rest)
    return out


class _Ignored:
    """What _as_labels returns when some labels equal ``ignore_index``."""


_IGNORED = _Ignored()


def check_cross_entropy_options(where: str, weight: Any, ignore_index: Any,
                                label_smoothing: Any, classes: int | None = None):
    """``(weight array or None, ignore_index, label_smoothing)``, checked, with clear errors."""
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"{where}: ignore_index must be an integer, got {ignore_index!r}")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float,
                                                                            np.number)) \
            or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{where}: label_smoothing must be a number in [0, 1], got "
                         f"{label_smoothing!r}")
    if weight is not None:
        w = np.asarray(weight.data if isinstance(weight, Tensor) else weight)
        if w.dtype.kind not in "fiu" or w.ndim != 1 or not w.size:
            raise ValueError(f"{where}: weight must be a 1-D array of one number per class, "
                             f"got {'dtype ' + str(w.dtype) if w.dtype.kind not in 'fiu' else 'shape ' + str(w.shape)}")
        if classes is not None and w.shape[0] != classes:
            raise ValueError(f"{where}: weight has {w.shape[0]} entries but the scores have "
                             f"{classes} classes; give one weight per class")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"{where}: weight must hold finite numbers >= 0, got {w.tolist()}")
        weight = w
    return weight, int(ignore_index), float(label_smoothing)


def _class_probabilities(where: str, labels: Any, shape: tuple) -> np.ndarray | None:
    """Targets of the scores' shape (N, C), float, as class probabilities in [0, 1];
    None when ``labels`` is not 2-D, or is integer of another shape (labels, checked by
    :func:`_as_labels`)."""
    t = labels.data if isinstance(labels, Tensor) else labels
    try:
        t = np.asarray(t)
    except ValueError:  # a ragged list: not a table of probabilities
        return None
    if t.ndim != 2 or t.dtype.kind != "f" and t.shape != shape:
        return None  # e.g. a column of labels (N, 1): the labels' own message
    n, c = shape
    if t.dtype.kind != "f":
        raise TypeError(f"{where}: targets of shape {t.shape} are class probabilities (one-hot "
                        f"or soft), which must be floating point, got dtype {t.dtype}; pass "
                        f"y.astype(np.float32), or integer labels of shape ({n},) "
                        "(e.g. y.argmax(1))")
    if t.shape != shape:
        raise ValueError(f"{where}: expected labels of shape ({n},) or class probabilities "
                         f"of the scores' shape {shape}, got targets of shape {t.shape}")
    if not np.all((t >= 0) & (t <= 1)):  # NaN is outside [0, 1] too
        _check_finite_target(where, t, "class probabilities in [0, 1]")
        raise ValueError(f"{where}: class-probability targets must be in [0, 1], got values "
                         f"in [{t.min():g}, {t.max():g}]")
    return t


def _cross_entropy_on_probabilities(s: Tensor, labels: Any, reduction: str) -> Tensor | None:
    """The plain loss on targets that are not labels: class probabilities (N, C), or None
    (the labels' error stands). Its own errors come without the labels' one as context."""
    try:
        probs = _class_probabilities("cross_entropy", labels, s.data.shape)
        if probs is None:
            return None
        return _probability_cross_entropy(s, probs, labels, reduction, None, 0.0)
    except (TypeError, ValueError) as error:
        raise error from None


def _probability_cross_entropy(s: Tensor, probs: np.ndarray, target: Any, reduction: str,
                               weight: np.ndarray | None, eps: float) -> Tensor:
    """−Σ_c w_c·((1 − ε)·Tᵢc + ε/C)·log softmax(sᵢ)_c, PyTorch's loss for class-probability
    targets T; the mean divides by N. ``weight`` and ``eps`` come checked."""
    where = "cross_entropy"
    red = _check_reduction(where, reduction)
    n, c = s.data.shape
    dt = s.data.dtype
    coef = probs.astype(dt)  # a copy: the op keeps it
    if eps:
        coef *= dt.type(1.0 - eps)
        coef += dt.type(eps / c)
    if weight is not None:
        coef *= weight.astype(dt)
    loss = apply1(L.WeightedCrossEntropy(coef, float(n), red), s)
    if not (isinstance(target, Tensor) and target.requires_grad):
        return loss
    # ∂Lᵢ/∂Tᵢc = −(1 − ε)·w_c·log softmax(sᵢ)_c (÷ N for the mean): the term (T − T̄)·slope,
    # zero in value, carries it (T̄ the target's value as a constant)
    shifted = s.data - s.data.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    slope = -(1.0 - eps) * log_p * (1.0 if weight is None else weight.astype(dt))
    if red == "mean":
        slope = slope / n
    dtype = target.data.dtype
    zero = target - Tensor(target.data, dtype=dtype)
    term = zero * Tensor(np.asarray(slope, dtype=dtype), dtype=dtype)
    term = term.sum(axis=1) if red == "none" else term.sum()
    if dtype != dt:
        term = term.to(dt)
    return loss + term


def _weighted_cross_entropy(s: Tensor, labels: Any, reduction: str, weight: Any,
                            ignore_index: int, label_smoothing: float,
                            unsupported: dict | None = None) -> Tensor:
    where = "cross_entropy"
    if unsupported:
        reject_options(where, unsupported, _CROSS_ENTROPY_TAKES)
    n, c = s.data.shape
    weight, ignore_index, eps = check_cross_entropy_options(where, weight, ignore_index,
                                                            label_smoothing, c)
    probs = _class_probabilities(where, labels, (n, c))
    if probs is not None:
        if ignore_index != -100:
            raise ValueError(f"{where}: ignore_index={ignore_index} applies to integer labels, "
                             f"not to class-probability targets of shape {probs.shape} (as in "
                             "PyTorch); leave it at its default, -100")
        return _probability_cross_entropy(s, probs, labels, reduction, weight, eps)
    red = _check_reduction(where, reduction)
    dt = s.data.dtype
    y, w, rows, label_weight, denominator = _counted_labels(where, labels, (n, c), weight,
                                                            ignore_index, red, dt)
    coef = np.zeros((n, c), dt)
    coef[rows, y[rows]] = label_weight * dt.type(1.0 - eps)
    if eps:
        coef[rows] += w * dt.type(eps / c)
    return apply1(L.WeightedCrossEntropy(coef, denominator, red), s)


def _counted_labels(where: str, labels: Any, shape: tuple, weight: np.ndarray | None,
                    ignore_index: int, reduction: str, dt: np.dtype) -> tuple:
    """The labels' ignore_index and class weights, as PyTorch's cross_entropy and nll_loss
    read them: ``(y, w, rows, label_weight, denominator)`` with y the checked labels (N,),
    w the class weights (ones without ``weight``) in dtype ``dt``, ``rows`` the examples
    that count (label ≠ ``ignore_index``), ``label_weight`` = w[y[rows]] and the mean's
    denominator Σ w_yᵢ over them; ValueError when the mean has nothing to divide by.
    ``weight`` and ``ignore_index`` come checked."""
    n, c = shape
    y = _as_labels(where, labels, n, c, ignore_index, keep_ignored=True)
    w = np.ones(c, dt) if weight is None else weight.astype(dt)
    rows = np.flatnonzero(y != ignore_index)
    label_weight = w[y[rows]]
    denominator = float(label_weight.sum(dtype=np.float64))
    if reduction == "mean" and denominator == 0.0:
        raise ValueError(f"{where}: every example is ignored or has weight 0 (labels "
                         f"{np.unique(y).tolist()}, ignore_index={ignore_index}): the mean "
                         "over no examples is undefined")
    return y, w, rows, label_weight, denominator


_NLL_TAKES = "reduction, weight and ignore_index"


def nll_loss(log_probs: Any, labels: Any, reduction: str = "mean", *, weight: Any = None,
             ignore_index: int = -100, **unsupported: Any) -> Tensor:
    """Negative log-likelihood: Lᵢ = −log pᵢ,yᵢ on log-probabilities (N, C), e.g. the
    output of ``log_softmax``; ``nll_loss(x.log_softmax(1), y)`` = ``cross_entropy(x, y)``,
    options included.

    Gradient: −onehot(y) (divided by N for the mean).

    PyTorch's options, read as by :func:`cross_entropy`: ``weight`` w (C,) makes
    Lᵢ = −w_yᵢ·log pᵢ,yᵢ and the mean Σᵢ Lᵢ / Σᵢ w_yᵢ; examples labelled ``ignore_index``
    (default −100) count for nothing, in the sum and in the mean's denominator. Gradient:
    −w_yᵢ·onehot(yᵢ) (÷ Σᵢ w_yᵢ for the mean), 0 for the ignored. A label of weight 0 counts
    for nothing even where its log-probability is −inf (PyTorch: 0·∞ = NaN). With every
    example ignored (or of weight 0) the mean is undefined: ValueError, as cross_entropy
    (PyTorch returns NaN); "sum" and "none" give 0. Log-probabilities (N, C, d₁, …) with
    labels (N, d₁, …) give one loss per position, as PyTorch (see :func:`cross_entropy`).
    """
    if unsupported:
        reject_options("nll_loss", unsupported, _NLL_TAKES)
    s = _as_input("nll_loss", log_probs)
    shape = s.data.shape
    if len(shape) != 2 or not shape[0] or not shape[1]:
        if len(shape) > 2:  # (N, C, d₁, …): one loss per position, as PyTorch
            return _per_position("nll_loss", nll_loss, s, labels, reduction, weight=weight,
                                 ignore_index=ignore_index)
        _check_scores("nll_loss", s)
    n, c = shape
    if weight is None and type(ignore_index) is int and not 0 <= ignore_index < c:
        y = _as_labels("nll_loss", labels, n, c, ignore_index)
        if y is not _IGNORED:  # the plain loss: no label ignored
            return L.NLL.apply(s, labels=y, reduction=_check_reduction("nll_loss", reduction))
    return _weighted_nll(s, labels, reduction, weight, ignore_index)


def _weighted_nll(s: Tensor, labels: Any, reduction: str, weight: Any,
                  ignore_index: int) -> Tensor:
    where = "nll_loss"
    n, c = s.data.shape
    weight, ignore_index, _ = check_cross_entropy_options(where, weight, ignore_index, 0.0, c)
    red = _check_reduction(where, reduction)
    y, _, rows, label_weight, denominator = _counted_labels(where, labels, (n, c), weight,
                                                            ignore_index, red, s.data.dtype)
    return apply1(L.WeightedNLL(rows, y[rows], label_weight, denominator, red), s)


def hinge(scores: Any, labels: Any, margin: float = 1.0, reduction: str = "mean",
          **unsupported: Any) -> Tensor:
    """Multiclass SVM loss: Lᵢ = Σ_{j≠yᵢ} max(0, sⱼ − s_yᵢ + margin), averaged over examples.

    ``scores`` (N, C); ``labels`` (N,) integers in [0, C). A margin of exactly 0
    gives no gradient. A fully masked row (all −inf) has loss 0, as in PyTorch.
    """
    if unsupported:
        reject_options("hinge", unsupported, "margin and reduction")
    s = _as_input("hinge", scores)
    _check_scores("hinge", s)
    y = _as_labels("hinge", labels, s.shape[0], s.shape[1])
    margin = check_threshold("hinge", "margin", margin, positive=False)
    return L.MultiHinge.apply(s, labels=y, margin=margin,
                              reduction=_check_reduction("hinge", reduction))


def binary_cross_entropy_with_logits(logits: Any, target: Any, reduction: str = "mean", *,
                                     pos_weight: Any = None, **unsupported: Any) -> Tensor:
    """L = max(x, 0) − x·t + log(1 + e^−|x|) on logits x, targets t in [0, 1] (same shape).

    Gradient: σ(x) − t (divided by the element count for the mean). A target tensor
    that requires grad gets its gradient dL/dt = −x too (÷ n for the mean), as PyTorch.

    PyTorch's ``pos_weight`` p (one per class, broadcast along the last axis) weighs the
    positive term: L = −p·t·log σ(x) − (1 − t)·log(1 − σ(x)) = (1 − t)·x + (1 + (p − 1)t)·
    softplus(−x);  dL/dx = (1 + (p − 1)t)·σ(x) − p·t, dL/dt = −x + (p − 1)·softplus(−x).
    """
    where = "binary_cross_entropy_with_logits"
    if unsupported:
        reject_options(where, unsupported, "reduction and pos_weight")
    x = _as_input(where, logits)
    t = _as_target(where, target, x, unit=True)
    red = _check_reduction(where, reduction, x)
    if pos_weight is not None:
        return _bce_with_logits_pos_weight(x, t, target, red, check_pos_weight(where, pos_weight))
    loss = L.BCEWithLogits.apply(x, target=t, reduction=red)
    if isinstance(target, Tensor) and target.requires_grad:
        return _with_target_grad(where, loss, target, x, -x.data, red)
    return loss


def check_pos_weight(where: str, pos_weight: Any) -> np.ndarray:
    """``pos_weight`` as a float64 array of finite numbers >= 0, else a clear error."""
    if isinstance(pos_weight, Tensor):
        pos_weight = pos_weight.data
    try:
        p = np.asarray(pos_weight)
    except ValueError:
        p = np.asarray(None)
    if p.dtype.kind not in "fiu":
        raise TypeError(f"{where}: pos_weight must be a number or an array of numbers (one "
                        f"per class), got {type(pos_weight).__name__} (dtype {p.dtype})")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"{where}: pos_weight must hold finite numbers >= 0, got "
                         f"{p.tolist()}")
    return p.astype(np.float64)


def _bce_with_logits_pos_weight(x: Tensor, t: np.ndarray, target: Any, reduction: str,
                                pos_weight: np.ndarray) -> Tensor:
    where = "binary_cross_entropy_with_logits"
    shape = x.data.shape
    try:
        fits = np.broadcast_shapes(pos_weight.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{where}: pos_weight of shape {pos_weight.shape} does not broadcast "
                         f"to the input's shape {shape}; give one weight per class (the last "
                         f"axis{', ' + str(shape[-1]) if shape else ''}) or a single number")
    p = pos_weight.astype(x.data.dtype)
    loss = L.BCEWithLogitsPosWeight.apply(x, target=t, pos_weight=p, reduction=reduction)
    if isinstance(target, Tensor) and target.requires_grad:
        xd = x.data
        softplus = np.log1p(np.exp(-np.abs(xd))) + np.maximum(-xd, 0)
        return _with_target_grad(where, loss, target, x, -xd + (p - 1) * softplus, reduction)
    return loss


def binary_cross_entropy(probs: Any, target: Any, reduction: str = "mean",
                         **unsupported: Any) -> Tensor:
    """L = −(t log p + (1 − t) log(1 − p)) on probabilities p in [0, 1], logs clamped at −100.

    dL/dp = (p − t) / (p(1 − p)); a target tensor that requires grad gets its gradient
    dL/dt = log(1 − p) − log p too (the clamped logs; ÷ n for the mean), as PyTorch.
    Prefer :func:`binary_cross_entropy_with_logits` on raw scores: it is stabler.
    """
    if unsupported:
        reject_options("binary_cross_entropy", unsupported)
    p = _as_input("binary_cross_entropy", probs)
    if p.size and not (p.data.min() >= 0 and p.data.max() <= 1):  # NaN fails both
        if np.isnan(p.data).any():
            raise ValueError("binary_cross_entropy: the input contains NaN; expected "
                             "probabilities in [0, 1] (apply a sigmoid first)")
        raise ValueError("binary_cross_entropy: the input must be probabilities in [0, 1] "
                         f"(apply a sigmoid first), got values in [{p.data.min():g}, "
                         f"{p.data.max():g}]")
    t = _as_target("binary_cross_entropy", target, p, unit=True)
    red = _check_reduction("binary_cross_entropy", reduction, p)
    loss = L.BCE.apply(p, target=t, reduction=red)
    if isinstance(target, Tensor) and target.requires_grad:
        floor = np.asarray(-100, dtype=p.data.dtype)
        with np.errstate(divide="ignore"):
            slope = np.maximum(np.log1p(-p.data), floor) - np.maximum(np.log(p.data), floor)
        return _with_target_grad("binary_cross_entropy", loss, target, p, slope, red)
    return loss


def _with_target_grad(where: str, loss: Tensor, target: Tensor, like: Tensor,
                      slope: np.ndarray, reduction: str) -> Tensor:
    """``loss`` plus the reduced term (t − t̄)·∂l/∂t with t̄ the target's value as a constant:
    zero, so the value is unchanged, while the target gets the gradient ∂l/∂t = ``slope``
    per element (÷ n for the mean). Only for a target that requires grad."""
    dtype = target.data.dtype  # the term is worked in the target's dtype, cast to the loss's
    zero = target - Tensor(target.data, dtype=dtype)
    term = zero * Tensor(np.asarray(slope, dtype=dtype), dtype=dtype)
    if reduction == "mean":
        term = term.mean()
    elif reduction == "sum":
        term = term.sum()
    if dtype != loss.data.dtype:
        term = term.to(loss.data.dtype)
    return loss + term


def _regression_target(where: str, p: Tensor, target: Any) -> Tensor | np.ndarray:
    """The target of a regression loss on predictions ``p``: a tensor that requires grad
    (it then gets a gradient too) or an array, of ``p``'s shape; a (N,) target with
    (N, 1) predictions is reshaped."""
    column = p.ndim == 2 and p.shape[1] == 1
    if isinstance(target, Tensor) and target.requires_grad:   # differentiable target
        t = target.reshape(p.shape) if column and target.shape == (p.shape[0],) else target
        if t.shape != p.shape:
            raise ValueError(f"{where}: the target has shape {target.shape} but the input has "
                             f"shape {p.shape}; they must match")
        return t
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if column and t.shape == (p.shape[0],):
        t = t.reshape(p.shape)
    return _as_target(where, t, p)


def mse(pred: Any, target: Any, reduction: str = "mean", **unsupported: Any) -> Tensor:
    """Mean squared error: L = (1/n) Σ (ŷ − y)² over all n elements (or the sum);
    dL/dŷ = 2(ŷ − y)/n.

    A (N,) target with (N, 1) predictions is accepted (it is reshaped). A target
    tensor that requires grad gets its gradient −2(ŷ − y)/n too.
    """
    if unsupported:
        reject_options("mse", unsupported)
    p = _as_input("mse", pred)
    red = _check_reduction("mse", reduction, p)
    t = _regression_target("mse", p, target)
    if type(t) is np.ndarray:  # a constant target: an option of the one node
        return apply1(L.MSE(t, red), p)
    if t.data.dtype == p.data.dtype:  # a target that requires grad: a second input
        return apply_node(L.MSE(None, red), (p, t))
    diff = p - t  # two float dtypes: the engine's error (nerve never upcasts silently)
    sq = diff * diff
    return sq.mean() if red == "mean" else sq.sum() if red == "sum" else sq


def check_threshold(where: str, name: str, value: Any, positive: bool) -> float:
    """``beta``/``delta`` of the smooth L1 and Huber losses, the hinge's ``margin``, as a
    float: finite and >= 0 (> 0 if ``positive``), else ValueError naming it."""
    bound = "> 0" if positive else ">= 0"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{where}: {name} must be a finite number {bound}, got {value!r}")
    return float(value)


def _smooth_l1(where: str, pred: Any, target: Any, reduction: str, beta: float,
               scale: bool) -> Tensor:
    p = _as_input(where, pred)
    red = _check_reduction(where, reduction, p)
    beta = check_threshold(where, "delta" if scale else "beta", beta, positive=scale)
    diff = p - _regression_target(where, p, target)
    return L.SmoothL1.apply(diff, beta=beta, scale=beta if scale else 1.0, reduction=red)


def l1_loss(pred: Any, target: Any, reduction: str = "mean", **unsupported: Any) -> Tensor:
    """Mean absolute error: L = (1/n) Σ |ŷ − y| (or the sum);  dL/dŷ = sign(ŷ − y)/n.

    Targets as for :func:`mse`.
    """
    if unsupported:
        reject_options("l1_loss", unsupported)
    return _smooth_l1("l1_loss", pred, target, reduction, 0.0, False)


def smooth_l1_loss(pred: Any, target: Any, reduction: str = "mean", beta: float = 1.0,
                   **unsupported: Any) -> Tensor:
    """Smooth L1: ½d²/β where |d| < β, else |d| − ½β, with d = ŷ − y, averaged;
    dL/dd = d/β inside, sign(d) outside (÷ n). ``beta=0`` is :func:`l1_loss`."""
    if unsupported:
        reject_options("smooth_l1_loss", unsupported, "reduction and beta")
    return _smooth_l1("smooth_l1_loss", pred, target, reduction, beta, False)


def huber_loss(pred: Any, target: Any, reduction: str = "mean", delta: float = 1.0,
               **unsupported: Any) -> Tensor:
    """Huber: ½d² where |d| < δ, else δ(|d| − ½δ), with d = ŷ − y, averaged;
    dL/dd = d inside, δ·sign(d) outside (÷ n). Equal to δ · smooth_l1_loss(β=δ)."""
    if unsupported:
        reject_options("huber_loss", unsupported, "reduction and delta")
    return _smooth_l1("huber_loss", pred, target, reduction, delta, True)


mean_squared_error = mse
mean_absolute_error = l1_loss
softmax_cross_entropy = cross_entropy
multiclass_hinge = svm = hinge
