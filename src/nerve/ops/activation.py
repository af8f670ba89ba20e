"""Activation functions, each with the derivative the lectures give."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ._util import as_float, constant, keep_float, zero
from .loss import max_along


class ReLU(Function):
    """y = max(0, x);  dy/dx = 1 for x > 0, else 0 (0 at x = 0, as PyTorch)."""

    def forward(self, x):
        z = zero(x.dtype)
        self.mask = x > z
        return np.maximum(x, z)

    def backward(self, g):
        return (g * self.mask,)


class LeakyReLU(Function):
    """y = x for x > 0, else αx;  dy/dx = 1 for x > 0, else α."""

    def __init__(self, alpha=0.01):
        self.alpha = alpha

    def forward(self, x):
        x = as_float(x)  # an integer α·x would round α to 0
        self.mask = x > 0
        return np.where(self.mask, x, x * np.asarray(self.alpha, dtype=x.dtype))

    def backward(self, g):
        return (np.where(self.mask, g, g * np.asarray(self.alpha, dtype=g.dtype)),)


class ELU(Function):
    """y = x for x > 0, else α(eˣ − 1);  dy/dx = 1 for x > 0, else αeˣ (= y + α, but
    computed directly: y + α cancels to 0 far below 0)."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def forward(self, x):
        x = as_float(x)
        self.mask = x > 0
        alpha = np.asarray(self.alpha, dtype=x.dtype)
        self.low = low = np.minimum(x, 0)  # keeps exp from overflowing
        return keep_float(np.where(self.mask, x, alpha * np.expm1(low)), x)

    def backward(self, g):
        alpha = np.asarray(self.alpha, dtype=g.dtype)
        return (np.where(self.mask, g, g * (alpha * np.exp(self.low))),)


def sigmoid_into(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """σ(x) = 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0, with e = exp(−|x|) ∈ [0, 1],
    written into ``y`` (which may be ``x``) in seven ufunc calls and one temporary.

    The numerator max(e, [x ≥ 0]) is 1 or e, so no branch needs a mask (NumPy's masked
    ``where=`` loops are not vectorised). No exponential overflows (σ(±1e4) = 1 and 0,
    no warning), and e/(1 + e) keeps the relative accuracy of small values down to
    the smallest float (σ(−100) ≈ 3.7e−44, not 0).
    """
    num = np.greater_equal(x, constant(0, x.dtype), out=np.empty_like(y))  # 1.0 or 0.0
    np.abs(x, out=y)
    np.negative(y, out=y)
    np.exp(y, out=y)  # e = exp(−|x|)
    np.maximum(y, num, out=num)  # 1 where x ≥ 0, else e (NaN stays NaN)
    np.add(y, constant(1, y.dtype), out=y)
    return np.divide(num, y, out=y)


def sigmoid_array(x: np.ndarray) -> np.ndarray:
    """σ(x) of a float array, as a new array (see :func:`sigmoid_into`)."""
    return sigmoid_into(x, np.empty_like(x))


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + e⁻ˣ);  dy/dx = y(1 − y).

    Computed from e = exp(−|x|) as 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0
    (:func:`sigmoid_into`): no overflow, and small values keep their relative accuracy
    (σ(−20) ≈ 2.1e−9, not 0, so log σ stays right for a BCE loss on the output).
    """

    def forward(self, x):
        self.y = y = sigmoid_array(as_float(x))  # integer input: σ in the default float
        return y

    def backward(self, g):
        y = self.y
        return (g * y * (constant(1, y.dtype) - y),)


class Tanh(Function):
    """y = tanh x;  dy/dx = 1 − y²."""

    def forward(self, x):
        self.y = y = np.tanh(x)
        if y.dtype is not x.dtype:  # integer x: tanh in the default float, not float64
            self.y = y = np.tanh(as_float(x))
        return y

    def backward(self, g):
        y = self.y
        return (g * (constant(1, y.dtype) - y * y),)


def _empty_like(x: np.ndarray, axis: int) -> np.ndarray:
    """The (empty) softmax of an array with no entries; the axis is checked all the same."""
    if not -max(x.ndim, 1) <= axis < max(x.ndim, 1):
        raise ValueError(f"axis {axis} is out of range for a tensor with {x.ndim} "
                         "dimension(s)")
    return np.empty_like(x)


class Softmax(Function):
    """yᵢ = e^(xᵢ − max x) / Σⱼ e^(xⱼ − max x);  dL/dx = y ⊙ (g − Σ g ⊙ y)."""

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        x = as_float(x)
        if not x.size:  # no entries: an empty result, as PyTorch (max has no identity)
            self.y = _empty_like(x, self.axis)
            return self.y
        e = np.exp(x - max_along(x, self.axis))
        e /= e.sum(axis=self.axis, keepdims=True)
        self.y = e
        return e

    def backward(self, g):
        y = self.y
        return (y * (g - (g * y).sum(axis=self.axis, keepdims=True)),)


class LogSoftmax(Function):
    """y = x − max x − log Σ e^(x − max x);  dL/dx = g − softmax(x) · Σ g."""

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        x = as_float(x)
        if not x.size:  # no entries: an empty result, as PyTorch
            self.y = _empty_like(x, self.axis)
            return self.y
        shifted = x - max_along(x, self.axis)
        y = shifted - np.log(np.exp(shifted).sum(axis=self.axis, keepdims=True))
        self.y = y
        return y

    def backward(self, g):
        return (g - np.exp(self.y) * g.sum(axis=self.axis, keepdims=True),)


class Step(Function):
    """y = 1 if x > 0 else 0 (the perceptron's hard threshold);  dy/dx = 0 everywhere."""

    def forward(self, x):
        return (x > 0).astype(x.dtype)

    def backward(self, g):
        return (np.zeros_like(g),)
