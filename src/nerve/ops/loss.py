"""Fused, numerically stable classification losses.

Each loss is one graph node: forward computes the loss from raw scores in a
stable way, backward writes the closed-form gradient (CS231n's ``softmax_loss``
and ``svm_loss``). Targets (integer labels or 0/1 targets) are options, not
inputs, so they get no gradient. ``reduction`` is ``"mean"`` (over examples),
``"sum"`` or ``"none"`` (one loss per example, or per element for the binary
losses). Inputs are assumed valid: :mod:`nerve.losses` checks them first.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ._util import constant, keep_float


def _reduce(per_item: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean":
        # ndarray.mean's own arithmetic (sum, divide by the count in float64, round back
        # to the dtype), with Python floats instead of its slower NumPy scalars.
        total = float(np.add.reduce(per_item, axis=None))
        return np.array(total / per_item.size, dtype=per_item.dtype)
    if reduction == "sum":
        return np.asarray(per_item.sum(dtype=per_item.dtype))
    return per_item


def _upstream(g: np.ndarray, reduction: str, count: int, ndim_extra: int) -> np.ndarray:
    """dL/d(per-item loss) as an array that broadcasts against the input."""
    if reduction == "mean":
        return g / count  # the count becomes g's dtype first, as np.asarray(count, g.dtype)
    if reduction == "sum":
        return g
    return g.reshape(g.shape + (1,) * ndim_extra)


class CrossEntropy(Function):
    """Softmax cross-entropy on scores S (N, C) and labels y (N,).

    Lᵢ = −log softmax(Sᵢ)_yᵢ = log Σⱼ e^(Sᵢⱼ − mᵢ) − (Sᵢ,yᵢ − mᵢ), with mᵢ = maxⱼ Sᵢⱼ
    (log-sum-exp, so no exponential overflows);  dLᵢ/dSᵢ = softmax(Sᵢ) − onehot(yᵢ).
    With the mean reduction the gradient is (softmax − onehot) / N.
    """

    def __init__(self, labels: np.ndarray, reduction: str = "mean"):
        self.labels, self.reduction = labels, reduction

    def forward(self, scores):
        n, c = scores.shape
        self.picks = picks = self.labels + row_starts(n, c)  # flat index of each label's score
        shifted = scores - row_max(scores)
        exp = np.exp(shifted)
        total = np.add.reduce(exp, 1, None, None, True)
        log_total, picked = np.log(total[:, 0]), shifted.take(picks)
        exp /= total
        self.probs = exp  # softmax, reused by backward
        if self.reduction == "none":
            return log_total - picked
        # Σᵢ Lᵢ = Σᵢ log Σⱼ e^(Sᵢⱼ − mᵢ) − Σᵢ (Sᵢ,yᵢ − mᵢ): two sums, subtracted in float64.
        loss = float(np.add.reduce(log_total)) - float(np.add.reduce(picked))
        return np.array(loss / n if self.reduction == "mean" else loss, dtype=scores.dtype)

    def backward(self, g):
        if self.reduction == "none":
            scale = g[:, None]
            grad = self.probs * scale
            grad.reshape(-1)[self.picks] -= g
        else:
            scale = float(g) / self.probs.shape[0] if self.reduction == "mean" else float(g)
            scale = constant(scale, self.probs.dtype)
            grad = self.probs * scale  # a new array: backward may run twice (retain_graph)
            grad.reshape(-1)[self.picks] -= scale
        return (grad,)


class WeightedCrossEntropy(Function):
    """Softmax cross-entropy against per-class coefficients A (N, C), the general form
    behind class weights, ignored labels and label smoothing:

    Lᵢ = Σ_c Aᵢc·(−log softmax(sᵢ)_c);  dLᵢ/dsᵢ = (Σ_c Aᵢc)·softmax(sᵢ) − Aᵢ.
    The mean divides the sum by ``denominator`` (the summed weight of the labels).
    """

    def __init__(self, coefficients: np.ndarray, denominator: float, reduction: str = "mean"):
        self.coef, self.denominator, self.reduction = coefficients, denominator, reduction

    def forward(self, scores):
        shifted = scores - row_max(scores)
        exp = np.exp(shifted)
        total = np.add.reduce(exp, 1, None, None, True)
        exp /= total
        self.probs = exp
        neg_log_p = np.log(total) - shifted
        # A class with coefficient 0 counts for nothing, also where its score is −inf
        # (−log p = inf there, and 0·inf would make the loss NaN): skip those products.
        weighted = np.zeros_like(neg_log_p)
        np.multiply(self.coef, neg_log_p, out=weighted, where=self.coef != 0)
        per_item = np.add.reduce(weighted, 1)
        if self.reduction == "none":
            return per_item
        loss = float(np.add.reduce(per_item, axis=None))
        if self.reduction == "mean":
            loss /= self.denominator
        return np.array(loss, dtype=scores.dtype)

    def backward(self, g):
        coef = self.coef
        grad = self.probs * np.add.reduce(coef, 1, None, None, True) - coef
        if self.reduction == "none":
            return (grad * g[:, None],)
        scale = float(g) / self.denominator if self.reduction == "mean" else float(g)
        return (grad * constant(scale, grad.dtype),)


class NLL(Function):
    """Negative log-likelihood on log-probabilities P (N, C) and labels y (N,):
    Lᵢ = −Pᵢ,yᵢ;  dLᵢ/dPᵢ = −onehot(yᵢ) (÷ N for the mean). With P = log_softmax(S)
    it is the cross-entropy, split in two as PyTorch's MNIST example writes it."""

    def __init__(self, labels: np.ndarray, reduction: str = "mean"):
        self.labels, self.reduction = labels, reduction

    def forward(self, log_probs):
        n, c = log_probs.shape
        self.shape, self.picks = log_probs.shape, self.labels + row_starts(n, c)
        losses = -log_probs.take(self.picks)
        return _reduce(losses, self.reduction)

    def backward(self, g):
        grad = np.zeros(self.shape, dtype=g.dtype)
        if self.reduction == "none":
            grad.reshape(-1)[self.picks] = -g
        else:
            scale = float(g) / self.shape[0] if self.reduction == "mean" else float(g)
            grad.reshape(-1)[self.picks] = -scale
        return (grad,)


class WeightedNLL(Function):
    """Negative log-likelihood with PyTorch's class weights and ignored labels, on
    log-probabilities P (N, C): the examples that count are ``rows``, with labels y and
    weights a (the weight of each one's class); the others get 0.

    Lᵢ = −aᵢ·Pᵢ,yᵢ;  dLᵢ/dPᵢ,yᵢ = −aᵢ, 0 elsewhere. The mean divides the sum by
    ``denominator`` (Σ aᵢ). A weight of 0 counts for nothing, also where P is −inf.
    """

    def __init__(self, rows: np.ndarray, labels: np.ndarray, weights: np.ndarray,
                 denominator: float, reduction: str = "mean"):
        self.rows, self.labels, self.weights = rows, labels, weights
        self.denominator, self.reduction = denominator, reduction

    def forward(self, log_probs):
        n, c = self.shape = log_probs.shape
        self.picks = self.rows * c + self.labels  # flat index of each counted label's entry
        weighted = np.zeros(self.picks.shape, log_probs.dtype)
        np.multiply(self.weights, log_probs.take(self.picks), out=weighted,
                    where=self.weights != 0)  # skips 0·(−inf)
        if self.reduction == "none":
            losses = np.zeros(n, log_probs.dtype)
            losses[self.rows] = -weighted
            return losses
        loss = -float(np.add.reduce(weighted))
        if self.reduction == "mean":
            loss /= self.denominator
        return np.array(loss, dtype=log_probs.dtype)

    def backward(self, g):
        grad = np.zeros(self.shape, dtype=g.dtype)
        if self.reduction == "none":
            grad.reshape(-1)[self.picks] = -self.weights * g[self.rows]
        else:
            scale = float(g) / self.denominator if self.reduction == "mean" else float(g)
            grad.reshape(-1)[self.picks] = -self.weights * constant(scale, g.dtype)
        return (grad,)


def row_max(scores: np.ndarray) -> np.ndarray:
    """mᵢ = maxⱼ Sᵢⱼ of scores S (N, C), as an (N, 1) column.

    NumPy reduces along short rows one row at a time (about 0.1 µs a row), but across
    the rows of a C-contiguous (C, N) copy it takes elementwise maxima of whole rows,
    vectorised: for 16+ rows of at most 64 classes the copy is the faster road (10× at
    1024 × 10). A maximum does not round, so both give the same numbers.
    """
    n, c = scores.shape
    if max_by_copy(n, c):
        return np.maximum.reduce(scores.T.copy(), 0).reshape(n, 1)
    return np.maximum.reduce(scores, 1, None, None, True)


def softmax_rows(scores: np.ndarray) -> np.ndarray:
    """pᵢⱼ = e^(sᵢⱼ − mᵢ) / Σₖ e^(sᵢₖ − mᵢ), mᵢ = maxⱼ sᵢⱼ, of a 2-D array (a new array)."""
    p = scores - row_max(scores)
    np.exp(p, out=p)
    p /= p.sum(axis=1, keepdims=True)
    return p


def max_along(x: np.ndarray, axis: int) -> np.ndarray:
    """``x.max(axis, keepdims=True)``, through :func:`row_max` for the rows of a 2-D array."""
    if x.ndim == 2 and axis in (1, -1):
        return row_max(x)
    return x.max(axis=axis, keepdims=True)


def max_by_copy(n: int, c: int) -> bool:
    """Whether :func:`row_max` of an (n, c) array goes through the transposed copy."""
    return n >= 16 and c <= 64


_ROW_STARTS: dict = {}


def row_starts(n: int, c: int) -> np.ndarray:
    """``arange(0, n·c, c)``: where each row of an (n, c) array starts when flattened (cached)."""
    starts = _ROW_STARTS.get((n, c))
    if starts is None:
        if len(_ROW_STARTS) > 64:
            _ROW_STARTS.clear()
        starts = _ROW_STARTS[(n, c)] = np.arange(0, n * c, c)
        starts.flags.writeable = False
    return starts


class MultiHinge(Function):
    """Multiclass SVM (hinge) loss on scores S (N, C) and labels y (N,).

    Lᵢ = Σ_{j≠yᵢ} max(0, Sᵢⱼ − Sᵢ,yᵢ + Δ);  dLᵢ/dSᵢⱼ = 1[Sᵢⱼ − Sᵢ,yᵢ + Δ > 0] for j ≠ yᵢ
    and dLᵢ/dSᵢ,yᵢ = −(number of positive margins). A margin exactly 0 gives no
    gradient (the subgradient PyTorch's ``multi_margin_loss`` uses). A score that is the
    same infinity as the correct one (a masked class: ∞ − ∞) counts as margin 0, so a
    fully masked row (all −inf) has loss 0 and gradient 0, as PyTorch.
    """

    def __init__(self, labels: np.ndarray, margin: float = 1.0, reduction: str = "mean"):
        self.labels, self.margin, self.reduction = labels, margin, reduction

    def forward(self, scores):
        rows = np.arange(scores.shape[0])
        correct = scores[rows, self.labels][:, None]
        if np.count_nonzero(np.isinf(correct)):  # rare: a correct score of ±inf
            margins = self._infinite_margins(scores, correct)
        else:
            margins = scores - correct
            margins += np.asarray(self.margin, dtype=scores.dtype)
        margins[rows, self.labels] = 0
        np.maximum(margins, 0, out=margins)
        self.positive = margins > 0
        return _reduce(margins.sum(axis=1), self.reduction)

    def _infinite_margins(self, scores, correct):
        """Sᵢⱼ − Sᵢ,yᵢ + Δ with ∞ − ∞ (the score and the correct one the same infinity) read
        as margin 0, not NaN; a NaN score still gives NaN."""
        with np.errstate(invalid="ignore"):
            margins = scores - correct
        margins += np.asarray(self.margin, dtype=scores.dtype)
        margins[(scores == correct) & np.isinf(scores)] = 0
        return margins

    def backward(self, g):
        n = self.positive.shape[0]
        grad = self.positive.astype(g.dtype)
        grad[np.arange(n), self.labels] = -self.positive.sum(axis=1)
        grad *= _upstream(g, self.reduction, n, 1)
        return (grad,)


class BCEWithLogits(Function):
    """Binary cross-entropy on logits x and targets t in [0, 1] (same shape).

    L = max(x, 0) − x·t + log(1 + e^(−|x|))  (= −t·log σ(x) − (1 − t)·log(1 − σ(x)),
    written so that no exponential overflows);  dL/dx = σ(x) − t.
    """

    def __init__(self, target: np.ndarray, reduction: str = "mean"):
        self.target, self.reduction = target, reduction

    def forward(self, x):
        self.x = x
        loss = np.maximum(x, 0) - x * self.target
        loss += np.log1p(np.exp(-np.abs(x)))
        return keep_float(_reduce(loss, self.reduction), x)

    def backward(self, g):
        x = self.x
        half = np.asarray(0.5, dtype=x.dtype)
        sig = np.tanh(x * half) * half + half  # σ(x) without overflow
        grad = sig - self.target
        grad *= _upstream(g, self.reduction, x.size, 0)
        return (grad,)


class BCEWithLogitsPosWeight(Function):
    """Binary cross-entropy on logits x with PyTorch's ``pos_weight`` p (broadcast against x):

    L = −p·t·log σ(x) − (1 − t)·log(1 − σ(x)) = (1 − t)·x + (1 + (p − 1)·t)·softplus(−x),
    with softplus(−x) = log(1 + e^(−|x|)) + max(−x, 0) (no overflow);
    dL/dx = (1 + (p − 1)·t)·σ(x) − p·t. p = 1 is :class:`BCEWithLogits`.
    """

    def __init__(self, target: np.ndarray, pos_weight: np.ndarray, reduction: str = "mean"):
        self.target, self.pos_weight, self.reduction = target, pos_weight, reduction

    def forward(self, x):
        t, p = self.target, self.pos_weight
        self.x = x
        self.log_weight = log_weight = 1 + (p - 1) * t
        softplus = np.log1p(np.exp(-np.abs(x)))
        softplus += np.maximum(-x, 0)
        loss = (1 - t) * x + log_weight * softplus
        return keep_float(_reduce(loss, self.reduction), x)

    def backward(self, g):
        x = self.x
        half = np.asarray(0.5, dtype=x.dtype)
        sig = np.tanh(x * half) * half + half  # σ(x) without overflow
        grad = self.log_weight * sig - self.pos_weight * self.target
        grad *= _upstream(g, self.reduction, x.size, 0)
        return (grad,)


class BCE(Function):
    """Binary cross-entropy on probabilities p in [0, 1] and targets t (same shape).

    L = −(t·max(log p, −100) + (1 − t)·max(log(1 − p), −100))  (the logs clamped at −100
    as PyTorch does, so p = 0 or 1 gives a finite loss);
    dL/dp = (p − t) / max(p(1 − p), 1e-12).
    """

    def __init__(self, target: np.ndarray, reduction: str = "mean"):
        self.target, self.reduction = target, reduction

    def forward(self, p):
        self.p = p
        floor = np.asarray(-100, dtype=p.dtype)
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), floor)
            log_q = np.maximum(np.log1p(-p), floor)
        t = self.target
        loss = -(t * log_p + (1 - t) * log_q)
        return keep_float(_reduce(loss, self.reduction), p)

    def backward(self, g):
        p = self.p
        denom = np.maximum(p * (1 - p), np.asarray(1e-12, dtype=p.dtype))
        grad = (p - self.target) / denom
        grad *= _upstream(g, self.reduction, p.size, 0)
        return (grad,)


class MSE(Function):
    """Squared error on predictions p and targets t of one shape and dtype, d = p − t:
    L = Σ d²/n (mean), Σ d² (sum) or d² per element (none);  dL/dp = 2d·g (÷ n for the
    mean), and dL/dt = −dL/dp for a target passed as a second input (one that requires grad).

    The arithmetic of the engine's p − t, d·d and .mean()/.sum() in their order (the mean
    as ndarray.mean: sum, ÷ n in float64), so loss and gradients are bitwise those of the
    composed graph, in one node.
    """

    keeps_shape = True

    def __init__(self, target: np.ndarray | None = None, reduction: str = "mean"):
        self.target, self.reduction = target, reduction

    def forward(self, p, t=None):
        self.d = d = p - (self.target if t is None else t)
        sq = d * d
        if self.reduction == "none":
            return sq
        return _reduce(np.asarray(sq), self.reduction)

    def backward(self, g):
        if self.reduction == "mean":
            g = g / np.asarray(self.d.size, dtype=g.dtype)  # as Mean's backward: g/n first
        h = g * self.d
        if type(h) is np.ndarray:
            np.add(h, h, out=h)  # 2d·g as the composed graph adds d·d's two gradients: h + h
        else:
            h = h + h  # a 0-d input: NumPy's scalars take no out=
        if len(self.parents) == 1:
            return (h,)
        p, t = self.parents
        return (h if p.requires_grad else None, -h if t.requires_grad else None)


class SmoothL1(Function):
    """The smooth L1 loss on differences d = ŷ − y, times ``scale``:

    lᵢ = ½dᵢ²/β where |dᵢ| < β, else |dᵢ| − ½β;  dl/dd = d/β there, else sign(d).
    β = 0 is the L1 loss |d| (gradient sign(d), 0 at d = 0); ``scale`` = β gives the
    Huber loss with δ = β (½d² inside, δ(|d| − ½δ) outside).
    """

    keeps_shape = True

    def __init__(self, beta: float = 1.0, scale: float = 1.0, reduction: str = "mean"):
        self.beta, self.scale, self.reduction = beta, scale, reduction

    def forward(self, d):
        dt = d.dtype
        a = np.abs(d)
        if self.beta == 0.0:
            loss, self.inside = a, None
        else:
            beta = constant(self.beta, dt)
            self.inside = inside = a < beta
            loss = np.where(inside, d * d * constant(0.5 / self.beta, dt),
                            a - beta * constant(0.5, dt))
        if self.scale != 1.0:
            loss = loss * constant(self.scale, dt)
        self.d = d
        return _reduce(loss, self.reduction)

    def backward(self, g):
        d, dt = self.d, self.d.dtype
        grad = np.sign(d)
        if self.inside is not None:
            grad = np.where(self.inside, d / constant(self.beta, dt), grad)
        if self.scale != 1.0:
            grad = grad * constant(self.scale, dt)
        return (np.asarray(grad * _upstream(g, self.reduction, d.size, 0), dtype=dt),)
