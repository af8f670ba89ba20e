"""Activation layers. Each is a Module and knows its derivative (``layer.derivative(x)``).

``ACTIVATIONS`` maps names to classes (``get_activation("relu")`` builds one);
the NumPy functions and derivatives live in :mod:`nerve.nn.derivatives`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..tensor import Tensor, _check_float_dtype, axis_or_dim, get_default_dtype
from ..tensor_torch import check_device
from . import derivatives as D
from .container import Identity
from .linear import layer_input
from .module import Module, Parameter
from ..registry import lookup, normalize_name


_check_alpha = D.check_alpha  # one rule for every slope: a finite real number, not a bool


def _input(layer, x) -> Tensor:
    """Called in a forward's ``except AttributeError``: that error again if ``x`` is a
    tensor (it came from inside the op), else ``x`` converted or refused by
    :func:`~nerve.nn.linear.layer_input` (a tuple of numbers, None, ...)."""
    if isinstance(x, Tensor):
        raise  # noqa: PLE0704 - the AttributeError being handled, re-raised
    return layer_input(layer, x)


class Sigmoid(Module):
    """y = σ(x) = 1 / (1 + e⁻ˣ);  dy/dx = σ(x)(1 − σ(x))."""

    def forward(self, x: Tensor) -> Tensor:
        try:
            return x.sigmoid()
        except AttributeError:  # a tuple or None: numbers converted, else TypeError
            return _input(self, x).sigmoid()

    @staticmethod
    def derivative(x):
        return D.sigmoid_prime(x)


class Tanh(Module):
    """y = tanh x = 2σ(2x) − 1;  dy/dx = 1 − tanh² x."""

    def forward(self, x: Tensor) -> Tensor:
        try:
            return x.tanh()
        except AttributeError:  # a tuple or None: numbers converted, else TypeError
            return _input(self, x).tanh()

    @staticmethod
    def derivative(x):
        return D.tanh_prime(x)


def _check_inplace(owner: str, inplace) -> None:
    """PyTorch's ``inplace=`` flag, accepted so its code runs: the result is the same
    either way (nerve never overwrites a layer's input)."""
    if inplace is not True and inplace is not False:
        raise TypeError(f"{owner}: inplace must be True or False, got {inplace!r}")


class ReLU(Module):
    """y = max(0, x);  dy/dx = 1 for x > 0, else 0 (0 at x = 0)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        _check_inplace("ReLU", inplace)

    def forward(self, x: Tensor) -> Tensor:
        try:
            return x.relu()
        except AttributeError:  # a tuple or None: numbers converted, else TypeError
            return _input(self, x).relu()

    @staticmethod
    def derivative(x):
        return D.relu_prime(x)


class LeakyReLU(Module):
    """y = x for x > 0, else αx;  dy/dx = 1 for x > 0, else α."""

    def __init__(self, alpha: float = 0.01, inplace: bool = False, *,
                 negative_slope: float | None = None):
        super().__init__()
        _check_inplace("LeakyReLU", inplace)
        if negative_slope is not None:  # PyTorch's name for alpha
            if alpha != 0.01:
                raise TypeError("LeakyReLU: got both alpha and negative_slope; pass one "
                                "(negative_slope is PyTorch's name for alpha)")
            alpha = negative_slope
        self.alpha = _check_alpha("LeakyReLU", alpha)

    def forward(self, x: Tensor) -> Tensor:
        try:
            return x.leaky_relu(self.alpha)
        except AttributeError:  # a tuple or None: numbers converted, else TypeError
            return _input(self, x).leaky_relu(self.alpha)

    def derivative(self, x):
        return D.leaky_relu_prime(x, self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class ELU(Module):
    """y = x for x > 0, else α(eˣ − 1);  dy/dx = 1 for x > 0, else α·eˣ."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        _check_inplace("ELU", inplace)
        self.alpha = _check_alpha("ELU", alpha)

    def forward(self, x: Tensor) -> Tensor:
        try:
            return x.elu(self.alpha)
        except AttributeError:  # a tuple or None: numbers converted, else TypeError
            return _input(self, x).elu(self.alpha)

    def derivative(self, x):
        return D.elu_prime(x, self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


def _slopes_for(owner: str, alpha, shape: tuple):
    """The slopes ``alpha`` (shape (C,), or (1,) shared) shaped to broadcast against an
    input of ``shape``: one per channel, axis 1 of (N, C) or (N, C, L...) as PyTorch; a
    shared slope keeps the input's shape (a 0-d input stays 0-d)."""
    n = alpha.shape[0] if alpha.ndim == 1 else -1
    if n == 1:
        return alpha.reshape(()) if len(shape) == 0 else alpha
    if alpha.ndim != 1 or len(shape) < 2 or shape[1] != n:
        raise ValueError(f"{owner}: expected input of shape (N, {n}) or (N, {n}, L) with "
                         f"one slope per channel (axis 1), got shape {shape}")
    return alpha if len(shape) == 2 else alpha.reshape((n,) + (1,) * (len(shape) - 2))


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    """PyTorch's ``F.prelu(input, weight)``: x for x > 0, else weight·x, with one slope
    (weight of shape (1,)) or one per channel (shape (C,), channels on axis 1)."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    weight = weight if isinstance(weight, Tensor) else Tensor(weight, dtype=x.dtype)
    if weight.ndim != 1:
        raise ValueError(f"prelu: weight must be a vector of slopes, got shape {weight.shape}")
    return F.where(x.data > 0, x, _slopes_for("prelu", weight, x.shape) * x)


class PReLU(Module):
    """Parametric ReLU: y = x for x > 0, else a·x, with the slope a learned.

    ``num_parameters=1`` shares one slope; ``num_parameters=C`` learns one per
    channel of an (N, C) or (N, C, L) input. dy/dx = 1 for x > 0, else a (a at
    x = 0, as PyTorch); dy/da = 0 for x > 0, else x.

    The slopes are ``alpha`` (state-dict key ``"alpha"``; PyTorch: ``weight``, an alias
    here), and their count is ``num_slopes``: ``num_parameters()`` is the Module method.
    """

    _torch_keys = {"weight": "alpha"}

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=None, device=None):
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, (int, np.integer)) \
                or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, "
                             f"got {num_parameters!r}")
        if device is not None:
            check_device(device)
        dt = _check_float_dtype(dtype) if dtype is not None else get_default_dtype()
        self.num_slopes = int(num_parameters)  # not num_parameters: that is a Module method
        self.init = _check_alpha("PReLU", init)
        self.alpha = Parameter(np.full(self.num_slopes, self.init), dtype=dt)

    @property
    def weight(self) -> Parameter:
        """PyTorch's name for ``alpha`` (the learned slopes)."""
        return self.alpha

    @weight.setter
    def weight(self, value: Parameter) -> None:
        self.alpha = value

    def forward(self, x: Tensor) -> Tensor:
        try:
            shape = x.shape
        except AttributeError:  # a tuple or None: numbers converted, else a TypeError
            return self.forward(layer_input(self, x))
        alpha = _slopes_for(self.short_name(), self.alpha, shape)
        return F.where(x.data > 0, x, alpha * x)

    def derivative(self, x):
        """dy/dx on arrays (uses the current slopes), the shape of ``x``."""
        x = D._arr(x, f"{self.short_name()}.derivative")
        alpha = _slopes_for(self.short_name(), self.alpha.data, x.shape)
        return np.where(x > 0, 1.0, alpha).astype(self.alpha.dtype)

    def short_name(self) -> str:
        return f"PReLU({self.num_slopes})"

    def get_config(self) -> dict[str, Any]:
        return {"num_parameters": self.num_slopes, "init": self.init,
                "dtype": str(self.alpha.data.dtype)}


def _axis_or_dim(owner: str, axis, dim) -> int:
    """The axis of a softmax layer, given as NumPy's ``axis`` or PyTorch's ``dim``."""
    axis = axis_or_dim(owner, axis, dim, -1)  # PyTorch's nn.Softmax(dim=1)
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{owner}: axis must be an int, got {axis!r}")
    return int(axis)


class Softmax(Module):
    """yᵢ = e^xᵢ / Σⱼ e^xⱼ along ``axis``;  ∂yᵢ/∂xⱼ = yᵢ(δᵢⱼ − yⱼ)."""

    def __init__(self, axis: int = -1, *, dim: int | None = None):
        super().__init__()
        self.axis = _axis_or_dim("Softmax", axis, dim)

    def forward(self, x: Tensor) -> Tensor:
        try:
            return x.softmax(self.axis)
        except AttributeError:  # a tuple or None: numbers converted, else TypeError
            return _input(self, x).softmax(self.axis)

    def derivative(self, x):
        """The Jacobian's diagonal yᵢ(1 − yᵢ); the full Jacobian diag(y) − y yᵀ is
        :func:`nerve.nn.derivatives.softmax_jacobian`."""
        return D.softmax_prime(x, self.axis)

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class LogSoftmax(Module):
    """yᵢ = xᵢ − log Σⱼ e^xⱼ along ``axis`` (log-sum-exp);  dL/dx = g − softmax(x)·Σg.
    Feeds ``nn.NLLLoss``; together they are ``nn.CrossEntropyLoss``."""

    def __init__(self, axis: int = -1, *, dim: int | None = None):
        super().__init__()
        self.axis = _axis_or_dim("LogSoftmax", axis, dim)

    def forward(self, x: Tensor) -> Tensor:
        try:
            return x.log_softmax(self.axis)
        except AttributeError:  # a tuple or None: numbers converted, else TypeError
            return _input(self, x).log_softmax(self.axis)

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class Step(Module):
    """y = 1 for x > 0, else 0 (hard threshold);  dy/dx = 0 everywhere, so nothing learns
    through it by gradient descent (the perceptron rule is used instead)."""

    def forward(self, x: Tensor) -> Tensor:
        try:
            return x.step()
        except AttributeError:  # a tuple or None: numbers converted, else TypeError
            return _input(self, x).step()

    @staticmethod
    def derivative(x):
        return D.step_prime(x)


ACTIVATIONS: dict[str, type[Module]] = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "prelu": PReLU,
    "elu": ELU,
    "softmax": Softmax,
    "identity": Identity,
    "linear": Identity,
    "step": Step,
}


def get_activation(name: str, **kwargs: Any) -> Module:
    """Build the activation layer called ``name`` (e.g. ``"relu"``, ``"leaky_relu"``).

    Names are case-insensitive and ``-`` works as ``_``; unknown names raise
    ValueError listing the valid ones.
    """
    key = {"leakyrelu": "leaky_relu"}.get(normalize_name(name), name)
    return lookup(ACTIVATIONS, key, "activation")(**kwargs)
