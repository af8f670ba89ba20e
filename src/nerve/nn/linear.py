"""The fully connected (affine) layer."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from ..ops.linalg import Linear as AffineOp
from ..tensor import Tensor, _check_float_dtype, check_bool, get_default_dtype
from ..tensor_torch import check_device
from .init import check_init, initialize
from .module import Module, Parameter


def check_features(owner: str, **sizes: Any) -> None:
    """Each size must be a positive int; raise naming the argument otherwise."""
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{owner}: {name} must be a positive int, got {value!r}")
        if value < 1:
            raise ValueError(f"{owner}: {name} must be a positive int, got {value}")


def layer_input(layer: Module, x: Any) -> Tensor:
    """The input of a built-in layer's forward given ``x`` that is not a tensor: the
    failure path of the forwards (a tuple, a list of tensors or None reaches ``forward``
    unchanged, see ``Module.__call__``). A tuple of numbers (nested too) becomes a float
    tensor of the layer's dtype, as a list of numbers does; anything else is a TypeError
    naming the layer and what it takes (PyTorch: "argument 'input' must be Tensor")."""
    name = layer.short_name() if hasattr(layer, "short_name") else type(layer).__name__
    if isinstance(x, Tensor):
        return x
    if isinstance(x, tuple) and not any(isinstance(v, (Tensor, type(None))) for v in x):
        try:
            return Tensor(x, dtype=layer.dtype)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{name}: expected a tensor or numeric data as input; the tuple "
                            f"given is not numbers ({error})") from None
    if isinstance(x, (tuple, list)):
        got = f"a {type(x).__name__} of {len(x)} items"
        hint = ("; a layer takes one tensor (a tuple or list of inputs is for a forward of "
                "your own that unpacks it)")
    else:
        got, hint = type(x).__name__, ""
    raise TypeError(f"{name}: expected a tensor (or numeric data: an array, a list or tuple "
                    f"of numbers) as input, got {got}{hint}")


class Linear(Module):
    """y = x W + b, for x of shape (N, in_features) and y of shape (N, out_features)
    (or (..., in_features) → (..., out_features) over the last axis, as PyTorch).

    W has shape (in_features, out_features) — the lectures' X·W, column j holding
    the weights of output unit j — and b shape (out_features,). (PyTorch keeps W as
    (out, in) and computes x·Wᵀ + b: load its ``weight.T``.)
    Backward: dx = G Wᵀ, dW = xᵀ G, db = Σₙ G — three matrix products in one fused op.
    ``device="cpu"`` is accepted (PyTorch's argument); nerve computes on the CPU only.

    >>> layer = Linear(3, 4)
    >>> layer.num_parameters()      # 3·4 weights + 4 biases
    16
    """

    counts_as_layer = True

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init: str = "he", dtype=None, device=None):
        super().__init__()
        check_features("Linear", in_features=in_features, out_features=out_features)
        if device is not None:
            check_device(device)
        init = check_init(init)
        bias = check_bool(bias, "Linear: bias")
        dt = _check_float_dtype(dtype) if dtype is not None else get_default_dtype()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.init = init
        shape = (self.in_features, self.out_features)
        self.weight = Parameter(initialize(init, shape, self.in_features, self.out_features, dt),
                                dtype=dt)
        self.bias = Parameter(np.zeros(self.out_features), dtype=dt) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        try:
            data = x.data
        except AttributeError:  # a tuple or None: numbers converted, else a TypeError
            return self.forward(layer_input(self, x))
        w, b = self.weight, self.bias
        if data.ndim == 2 and data.shape[1] == self.in_features and data.dtype == w.data.dtype:
            # The checked common case goes straight to the fused op.
            return AffineOp.apply(x, w) if b is None else AffineOp.apply(x, w, b)
        shape = x.shape
        if x.ndim == 0 or shape[-1] != self.in_features:
            raise ValueError(f"{self.short_name()}: expected input of shape "
                             f"(N, {self.in_features}) or (..., {self.in_features}) "
                             f"(in_features={self.in_features}), got shape {shape}")
        if x.data.dtype != self.weight.data.dtype:
            raise TypeError(f"{self.short_name()}: input has dtype {x.dtype} but the "
                            f"weights are {self.weight.dtype}; convert the input or call "
                            "model.to(dtype)")
        if x.ndim == 1:
            return F.linear(x.reshape(1, -1), self.weight, self.bias).reshape(-1)
        if x.ndim > 2:  # (..., in) → (..., out) over the leading axes, as PyTorch
            flat = x.reshape(math.prod(shape[:-1]), self.in_features)
            return F.linear(flat, self.weight, self.bias).reshape(*shape[:-1],
                                                                  self.out_features)
        return F.linear(x, self.weight, self.bias)

    def short_name(self) -> str:
        return f"Linear({self.in_features}, {self.out_features})"

    def get_config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "out_features": self.out_features,
                "bias": self.bias is not None, "init": self.init,
                "dtype": str(self.weight.data.dtype)}

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")

    def param_formula(self) -> str:
        """The lecture's count: in·out weights + out biases."""
        text = f"{self.in_features}·{self.out_features}"
        return text + (f" + {self.out_features}" if self.bias is not None else "")
