"""Activation functions and their derivatives on plain NumPy arrays (for teaching and plots).

Each ``f`` has a twin ``f_prime`` giving df/dx elementwise, with the same
subgradient choices as the layers' backward passes: relu′(0) = 0,
leaky_relu′(0) = α, step′ = 0 everywhere.

>>> import numpy as np
>>> x = np.linspace(-3, 3, 7)
>>> sigmoid_prime(np.array([0.0]))          # σ(0)(1 − σ(0))
array([0.25])
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..ops.activation import sigmoid_array
from ..registry import lookup


def _arr(x) -> np.ndarray:
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def sigmoid(x):
    """σ(x) = 1 / (1 + e⁻ˣ), computed as exp(−log(1 + e⁻ˣ)) (no overflow, small values
    keep their relative accuracy)."""
    return sigmoid_array(_arr(x))[()]  # the layers' own σ; [()]: a number stays a number


def sigmoid_prime(x):
    """σ′(x) = σ(x)(1 − σ(x)); at most ¼, at x = 0 (so gradients shrink through sigmoids)."""
    s = sigmoid(x)
    return s * (1 - s)


def tanh(x):
    """tanh(x) = 2σ(2x) − 1."""
    return np.tanh(_arr(x))


def tanh_prime(x):
    """tanh′(x) = 1 − tanh²(x)."""
    t = np.tanh(_arr(x))
    return 1 - t * t


def relu(x):
    """max(0, x)."""
    x = _arr(x)
    return np.maximum(x, 0).astype(x.dtype)


def relu_prime(x):
    """1 for x > 0, else 0 (0 at x = 0, as PyTorch)."""
    x = _arr(x)
    return (x > 0).astype(x.dtype)


def leaky_relu(x, alpha: float = 0.01):
    """x for x > 0, else αx."""
    x = _arr(x)
    return np.where(x > 0, x, alpha * x).astype(x.dtype)


def leaky_relu_prime(x, alpha: float = 0.01):
    """1 for x > 0, else α (α at x = 0)."""
    x = _arr(x)
    return np.where(x > 0, 1.0, alpha).astype(x.dtype)


def elu(x, alpha: float = 1.0):
    """x for x > 0, else α(eˣ − 1)."""
    x = _arr(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype)


def elu_prime(x, alpha: float = 1.0):
    """1 for x > 0, else α·eˣ."""
    x = _arr(x)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0))).astype(x.dtype)


def identity(x):
    """x (the "linear" activation)."""
    return _arr(x)


def identity_prime(x):
    """1 everywhere."""
    return np.ones_like(_arr(x))


def step(x):
    """1 for x > 0, else 0 (the perceptron's threshold)."""
    x = _arr(x)
    return (x > 0).astype(x.dtype)


def step_prime(x):
    """0 everywhere (also at the jump, where the true derivative does not exist)."""
    return np.zeros_like(_arr(x))


def softmax(x, axis: int = -1):
    """e^xᵢ / Σⱼ e^xⱼ along ``axis``, shifted by the max."""
    x = _arr(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_prime(x, axis: int = -1):
    """The diagonal of the softmax Jacobian, ∂yᵢ/∂xᵢ = yᵢ(1 − yᵢ)
    (the full Jacobian is diag(y) − y yᵀ; the layer's backward uses it all)."""
    y = softmax(x, axis)
    return y * (1 - y)


#: name → the activation on arrays
FUNCTIONS: dict[str, Callable] = {
    "sigmoid": sigmoid, "tanh": tanh, "relu": relu, "leaky_relu": leaky_relu, "elu": elu,
    "identity": identity, "step": step, "softmax": softmax,
}

#: name → its derivative on arrays
DERIVATIVES: dict[str, Callable] = {
    "sigmoid": sigmoid_prime, "tanh": tanh_prime, "relu": relu_prime,
    "leaky_relu": leaky_relu_prime, "elu": elu_prime, "identity": identity_prime,
    "step": step_prime, "softmax": softmax_prime,
}


def get_derivative(name: str) -> Callable:
    """The derivative function for an activation name; unknown names list the valid ones."""
    return lookup(DERIVATIVES, name, "activation")
