"""Maxout: the max over k affine maps (Goodfellow et al. 2013)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from . import derivatives as D
from ..tensor import Tensor, _check_float_dtype, get_default_dtype
from .init import check_init, initialize
from .linear import check_features, layer_input
from .module import Module, Parameter


class Maxout(Module):
    """y_j = max_k (x W_k + b_k)_j for k = 1..pieces; x (N, in) → y (N, out).

    The k maps are stored side by side in one weight of shape (in, pieces·out) (as
    Linear's, x·W) and one bias of shape (pieces·out,) (columns k·out … k·out + out − 1
    are piece k), so the
    layer has exactly ``pieces`` times a Linear's parameters and runs as one
    matrix product. dy_j/dz_kj = 1 for the winning piece; tied pieces share the
    gradient evenly. So dy_j/dx_i = W_k*[i, j] for the winning piece k* (see
    :meth:`derivative`).
    """

    counts_as_layer = True

    def __init__(self, in_features: int, out_features: int, pieces: int = 2,
                 init: str = "he", dtype=None):
        super().__init__()
        check_features("Maxout", in_features=in_features, out_features=out_features,
                       pieces=pieces)
        init = check_init(init)
        dt = _check_float_dtype(dtype) if dtype is not None else get_default_dtype()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.pieces, self.init = int(pieces), init
        cols = self.pieces * self.out_features
        self.weight = Parameter(initialize(init, (self.in_features, cols), self.in_features,
                                           self.out_features, dt), dtype=dt)
        self.bias = Parameter(np.zeros(cols), dtype=dt)

    def forward(self, x: Tensor) -> Tensor:
        try:
            ndim = x.ndim
        except AttributeError:  # a tuple or None: numbers converted, else a TypeError
            return self.forward(layer_input(self, x))
        if ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"Maxout({self.in_features}, {self.out_features}, "
                             f"pieces={self.pieces}): expected input of shape "
                             f"(N, {self.in_features}), got shape {x.shape}")
        z = F.linear(x, self.weight, self.bias)                 # (N, pieces·out)
        return F._maxout(z, self.pieces)                        # (N, out): F.maxout

    def derivative(self, x):
        """dy/dx on arrays (uses the current weights): the Jacobian of each example, shape
        (N, out, in) for x of shape (N, in), with ∂y_j/∂x_i = Σ_k m_kj · W_k[i, j] where
        m = maxout_prime(z) is the one-hot of the winning piece (1/k each for k ties).
        Unlike an elementwise activation's, it is not diagonal: maxout mixes the inputs."""
        x = D._arr(x, f"{self.short_name()}.derivative")
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"{self.short_name()}.derivative: expected input of shape "
                             f"(N, {self.in_features}), got shape {x.shape}")
        w, b = self.weight.data, self.bias.data
        z = (x @ w + b).reshape(x.shape[0], self.pieces, self.out_features)
        won = D.maxout_prime(z, axis=1)                          # (N, pieces, out)
        w = w.reshape(self.in_features, self.pieces, self.out_features)
        return np.einsum("nkj,ikj->nji", won, w)                 # (N, out, in)

    def short_name(self) -> str:
        return f"Maxout({self.in_features}, {self.out_features}, pieces={self.pieces})"

    def get_config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "out_features": self.out_features,
                "pieces": self.pieces, "init": self.init,
                "dtype": str(self.weight.data.dtype)}

    def param_formula(self) -> str:
        """pieces·(in·out + out)."""
        return f"{self.pieces}·({self.in_features}·{self.out_features} + {self.out_features})"
