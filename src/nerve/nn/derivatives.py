"""Activation functions and their derivatives on plain NumPy arrays (for teaching and plots).

Each ``f`` has a twin ``f_prime`` giving df/dx elementwise, with the same
subgradient choices as the layers' backward passes: relu′(0) = 0,
leaky_relu′(0) = α, prelu′(0) = a, step′ = 0 everywhere; maxout′ is the one-hot of
the winning piece (tied pieces share it evenly, as the layer's backward).
softmax′ is the diagonal sᵢ(1 − sᵢ); :func:`softmax_jacobian` gives the whole
diag(s) − s sᵀ per row.
Every function refuses non-numeric data (None, objects, strings, complex numbers) and
a slope that is not a finite real number, with the same errors as the layers.

>>> import numpy as np
>>> x = np.linspace(-3, 3, 7)
>>> sigmoid_prime(np.array([0.0]))          # σ(0)(1 − σ(0))
array([0.25])
"""
from __future__ import annotations

import math
import numbers
import reprlib
from typing import Any, Callable

import numpy as np

from ..ops.activation import sigmoid_array
from ..registry import lookup, normalize_name


def _arr(x: Any, where: str = "activation") -> np.ndarray:
    """``x`` as a float array (ints and bools become float64); anything that is not real
    numbers (None, objects, strings, complex values) raises TypeError naming it."""
    if x is None:
        raise TypeError(f"{where}: x must be a number or an array of real numbers, got None")
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged lists and the like
        raise TypeError(f"{where}: x must be a number or an array of real numbers, got "
                        f"{type(x).__name__} ({exc})") from None
    kind = arr.dtype.kind
    if kind == "f":
        return arr
    if kind in "iub":
        return arr.astype(np.float64)
    if kind == "c":
        raise TypeError(f"{where}: x must hold real numbers, got complex values (dtype "
                        f"{arr.dtype}); pass x.real if the imaginary part is to be dropped")
    found = "None among the values" if kind == "O" and any(v is None for v in arr.flat) \
        else f"dtype {arr.dtype}"
    raise TypeError(f"{where}: x must be a number or an array of real numbers, got {found}")


def check_alpha(where: str, alpha: Any, name: str = "alpha") -> float:
    """A slope or scale α as a float: a finite real number (not a bool), else TypeError.
    The one check of every function here that takes ``alpha`` (the layers' rule)."""
    if not isinstance(alpha, (bool, np.bool_)) and isinstance(alpha, numbers.Real):
        try:
            value = float(alpha)
        except OverflowError:  # an int too large for a float
            value = math.inf
        if math.isfinite(value):
            return value
    raise TypeError(f"{where}: {name} must be a finite number, got {reprlib.repr(alpha)}")


def _slopes(where: str, a: Any, x: np.ndarray):
    """PReLU's slope(s) ``a``: one finite number, or an array of them that broadcasts
    against ``x`` (NumPy rules: a (C,) array matches the last axis of x)."""
    if isinstance(a, numbers.Real) and not isinstance(a, (bool, np.bool_)):
        return x.dtype.type(check_alpha(where, a, "a"))
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError):
        arr = np.asarray(None)
    if arr.dtype.kind not in "fiu" or not np.isfinite(arr).all():
        raise TypeError(f"{where}: a must be a finite number or an array of finite numbers, "
                        f"got {reprlib.repr(a)}")
    try:
        fits = np.broadcast_shapes(arr.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{where}: the slopes a of shape {arr.shape} do not broadcast "
                         f"against x of shape {x.shape} (the result must keep x's shape)")
    return arr.astype(x.dtype, copy=False)


def sigmoid(x):
    """σ(x) = 1 / (1 + e⁻ˣ), computed from e = exp(−|x|) as 1/(1 + e) for x ≥ 0 and
    e/(1 + e) for x < 0 (no overflow, small values keep their relative accuracy)."""
    return sigmoid_array(_arr(x, "sigmoid"))[()]  # the layers' own σ; [()]: a number stays a number


def sigmoid_prime(x):
    """σ′(x) = σ(x)(1 − σ(x)); at most ¼, at x = 0 (so gradients shrink through sigmoids)."""
    s = sigmoid_array(_arr(x, "sigmoid_prime"))[()]
    return s * (1 - s)


def tanh(x):
    """tanh(x) = 2σ(2x) − 1."""
    return np.tanh(_arr(x, "tanh"))


def tanh_prime(x):
    """tanh′(x) = 1 − tanh²(x)."""
    t = np.tanh(_arr(x, "tanh_prime"))
    return 1 - t * t


def relu(x):
    """max(0, x)."""
    x = _arr(x, "relu")
    return np.maximum(x, 0).astype(x.dtype)


def relu_prime(x):
    """1 for x > 0, else 0 (0 at x = 0, as PyTorch)."""
    x = _arr(x, "relu_prime")
    return (x > 0).astype(x.dtype)


def leaky_relu(x, alpha: float = 0.01):
    """x for x > 0, else αx."""
    alpha = check_alpha("leaky_relu", alpha)
    x = _arr(x, "leaky_relu")
    return np.where(x > 0, x, alpha * x).astype(x.dtype)


def leaky_relu_prime(x, alpha: float = 0.01):
    """1 for x > 0, else α (α at x = 0)."""
    alpha = check_alpha("leaky_relu_prime", alpha)
    x = _arr(x, "leaky_relu_prime")
    return np.where(x > 0, 1.0, alpha).astype(x.dtype)


def prelu(x, a=0.25):
    """PReLU: x for x > 0, else a·x, with the learned slope(s) ``a`` (a number, or an
    array broadcasting against x; PyTorch starts a at 0.25)."""
    x = _arr(x, "prelu")
    a = _slopes("prelu", a, x)
    return np.where(x > 0, x, a * x).astype(x.dtype)


def prelu_prime(x, a=0.25):
    """dy/dx = 1 for x > 0, else a (a at x = 0, as PyTorch)."""
    x = _arr(x, "prelu_prime")
    a = _slopes("prelu_prime", a, x)
    return np.where(x > 0, x.dtype.type(1), a).astype(x.dtype)


def prelu_prime_a(x, a=0.25):
    """dy/da = 0 for x > 0, else x, elementwise (x's shape; a slope shared by several
    elements gets the sum of their upstream-weighted entries, Σ g·dy/da)."""
    x = _arr(x, "prelu_prime_a")
    _slopes("prelu_prime_a", a, x)  # checked, though dy/da does not depend on a
    return np.where(x > 0, x.dtype.type(0), x)


def elu(x, alpha: float = 1.0):
    """x for x > 0, else α(eˣ − 1)."""
    alpha = check_alpha("elu", alpha)
    x = _arr(x, "elu")
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype)


def elu_prime(x, alpha: float = 1.0):
    """1 for x > 0, else α·eˣ."""
    alpha = check_alpha("elu_prime", alpha)
    x = _arr(x, "elu_prime")
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0))).astype(x.dtype)


def identity(x):
    """x (the "linear" activation)."""
    return _arr(x, "identity")


def identity_prime(x):
    """1 everywhere."""
    return np.ones_like(_arr(x, "identity_prime"))


def step(x):
    """1 for x > 0, else 0 (the perceptron's threshold)."""
    x = _arr(x, "step")
    return (x > 0).astype(x.dtype)


def step_prime(x):
    """0 everywhere (also at the jump, where the true derivative does not exist)."""
    return np.zeros_like(_arr(x, "step_prime"))


def _check_axis(where: str, axis: Any, x: np.ndarray) -> int:
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{where}: axis must be an int, got {axis!r}")
    bound = max(x.ndim, 1)  # a 0-d x is one value along axis 0 / -1, as Tensor.softmax
    if not -bound <= axis < bound:
        raise ValueError(f"{where}: axis {axis} is out of range for x of shape {x.shape}")
    if x.ndim == 0:
        return int(axis)
    if x.shape[axis] == 0:
        raise ValueError(f"{where}: axis {axis} of x (shape {x.shape}) is empty; it needs "
                         "at least one value")
    return int(axis)


def softmax(x, axis: int = -1):
    """e^xᵢ / Σⱼ e^xⱼ along ``axis``, shifted by the max."""
    x = _arr(x, "softmax")
    axis = _check_axis("softmax", axis, x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_prime(x, axis: int = -1):
    """The diagonal of the softmax Jacobian, ∂yᵢ/∂xᵢ = yᵢ(1 − yᵢ)
    (the full Jacobian is diag(y) − y yᵀ, :func:`softmax_jacobian`; the layer's backward
    uses it all)."""
    y = softmax(x, axis)
    return y * (1 - y)


def softmax_jacobian(z):
    """The full softmax Jacobian of each row of z (..., C): J[..., i, j] = ∂sᵢ/∂zⱼ =
    sᵢ(δᵢⱼ − sⱼ), i.e. J = diag(s) − s sᵀ with s = softmax(z) over the last axis;
    shape (..., C, C), e.g. (N, C, C) for a batch. Backprop through softmax is
    dL/dz = Jᵀ g = s ⊙ (g − g·s) for the upstream g = dL/ds (J is symmetric).

    >>> softmax_jacobian(np.array([0.0, 0.0]))
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    z = _arr(z, "softmax_jacobian")
    if z.ndim == 0:
        raise ValueError("softmax_jacobian: z must have at least one axis (the classes, "
                         "last), e.g. shape (C,) or (N, C); got a single number")
    s = softmax(z, -1)
    jac = -s[..., :, None] * s[..., None, :]
    diag = np.arange(s.shape[-1])
    jac[..., diag, diag] += s
    return jac


def maxout(z, axis: int = -1):
    """y = maxₖ zₖ over the k pieces along ``axis`` (the pre-activations zₖ = x Wₖ + bₖ;
    ``nn.Maxout`` computes them as (N, pieces, out) and takes axis=1)."""
    z = _arr(z, "maxout")
    return z.max(axis=_check_axis("maxout", axis, z))


def maxout_prime(z, axis: int = -1):
    """∂y/∂zₖ = 1 for the winning piece, else 0 (z's shape: the one-hot of the argmax along
    ``axis``); k tied winners get 1/k each, as ``nn.Maxout``'s backward. A NaN piece is
    the maximum (``np.max`` propagates it): the NaN pieces win, as in that backward."""
    z = _arr(z, "maxout_prime")
    axis = _check_axis("maxout_prime", axis, z)
    zmax = z.max(axis=axis, keepdims=True)
    won = z == zmax
    if np.isnan(zmax).any():
        won |= np.isnan(z) & np.isnan(zmax)
    won = won.astype(z.dtype)
    return won / won.sum(axis=axis, keepdims=True)


#: name → the activation on arrays (the elementwise ones and softmax, as in ACTIVATIONS)
FUNCTIONS: dict[str, Callable] = {
    "sigmoid": sigmoid, "tanh": tanh, "relu": relu, "leaky_relu": leaky_relu, "elu": elu,
    "prelu": prelu, "identity": identity, "linear": identity, "step": step,
    "softmax": softmax,
}

#: name → its derivative on arrays (dy/dx; PReLU's dy/da is :func:`prelu_prime_a`)
DERIVATIVES: dict[str, Callable] = {
    "sigmoid": sigmoid_prime, "tanh": tanh_prime, "relu": relu_prime,
    "leaky_relu": leaky_relu_prime, "elu": elu_prime, "prelu": prelu_prime,
    "identity": identity_prime, "linear": identity_prime, "step": step_prime,
    "softmax": softmax_prime,
}

#: derivatives of what reduces over pieces rather than acting elementwise (no layer of
#: ``get_activation``): found by :func:`get_derivative` too
_REDUCING: dict[str, Callable] = {"maxout": maxout_prime}


def get_derivative(name: str) -> Callable:
    """The derivative function for an activation name (every name ``get_activation``
    accepts, and ``"maxout"``); unknown names list the valid ones."""
    key = {"leakyrelu": "leaky_relu"}.get(normalize_name(name), name)
    return lookup({**DERIVATIVES, **_REDUCING}, key, "activation")
