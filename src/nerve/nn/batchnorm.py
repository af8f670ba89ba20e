"""Batch normalisation over the features of (N, C) inputs, with a fused closed-form backward."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, _check_float_dtype, get_default_dtype
from .linear import check_features
from .module import Module, Parameter


class BatchNormOp(Function):
    """y = γ · x̂ + β with x̂ = (x − μ) / √(σ² + ε), per feature (column) of x (N, C).

    Training (``batch=True``): μ, σ² are the batch mean and biased variance, and
    dx = (1/N) · (1/√(σ² + ε)) · (N·dx̂ − Σₙ dx̂ − x̂ · Σₙ(dx̂ ⊙ x̂)) with dx̂ = g ⊙ γ.
    Eval (``batch=False``, running μ, σ²): constants, so dx = g ⊙ γ / √(σ² + ε).
    Both: dγ = Σₙ g ⊙ x̂, dβ = Σₙ g.
    """

    def __init__(self, mean: np.ndarray, var: np.ndarray, eps: float, batch: bool):
        self.mean, self.var, self.eps, self.training = mean, var, eps, batch

    def forward(self, x, gamma, beta):
        self.inv_std = 1.0 / np.sqrt(self.var + np.asarray(self.eps, dtype=x.dtype))
        self.xhat = (x - self.mean) * self.inv_std
        self.gamma = gamma
        return self.xhat * gamma + beta

    def backward(self, g):
        xhat = self.xhat
        dgamma = (g * xhat).sum(axis=0)
        dbeta = g.sum(axis=0)
        dxhat = g * self.gamma
        if not self.training:
            return dxhat * self.inv_std, dgamma, dbeta
        n = np.asarray(g.shape[0], dtype=g.dtype)
        dx = n * dxhat
        dx -= dbeta * self.gamma                        # Σₙ dx̂ = γ · Σₙ g
        dx -= xhat * (dgamma * self.gamma)              # Σₙ dx̂ ⊙ x̂ = γ · Σₙ g ⊙ x̂
        dx *= self.inv_std / n
        return dx, dgamma, dbeta


class BatchNorm1d(Module):
    """Batch normalisation of (N, C) inputs: y = γ (x − μ) / √(σ² + ε) + β per feature.

    In training, μ and σ² are the batch's mean and biased variance, and the running
    statistics are updated as running = (1 − momentum)·running + momentum·batch
    (with the unbiased variance N/(N − 1)·σ², as PyTorch). In eval mode the running
    statistics are used. γ (``gamma``) starts at 1, β (``beta``) at 0.
    """

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5,
                 dtype=None):
        super().__init__()
        check_features("BatchNorm1d", num_features=num_features)
        for name, value in (("momentum", momentum), ("eps", eps)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"BatchNorm1d: {name} must be a number, got {value!r}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"BatchNorm1d: momentum must be in [0, 1], got {momentum}")
        if not eps > 0:
            raise ValueError(f"BatchNorm1d: eps must be positive, got {eps}")
        dt = _check_float_dtype(dtype) if dtype is not None else get_default_dtype()
        self.num_features = int(num_features)
        self.momentum, self.eps = float(momentum), float(eps)
        self.gamma = Parameter(np.ones(self.num_features), dtype=dt)
        self.beta = Parameter(np.zeros(self.num_features), dtype=dt)
        self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dt))
        self.register_buffer("running_var", np.ones(self.num_features, dtype=dt))

    @property
    def weight(self) -> Parameter:
        """PyTorch's name for ``gamma`` (the learned scale)."""
        return self.gamma

    @property
    def bias(self) -> Parameter:
        """PyTorch's name for ``beta`` (the learned shift)."""
        return self.beta

    def forward(self, x: Tensor) -> Tensor:
        c = self.num_features
        if x.ndim != 2 or x.shape[1] != c:
            raise ValueError(f"BatchNorm1d({c}): expected input of shape (N, {c}), "
                             f"got shape {x.shape}")
        if x.data.dtype != self.gamma.data.dtype:
            raise TypeError(f"BatchNorm1d({c}): input has dtype {x.dtype} but the layer is "
                            f"{self.gamma.dtype}; convert one of them")
        if not self.training:
            return BatchNormOp.apply(x, self.gamma, self.beta, mean=self.running_mean,
                                     var=self.running_var, eps=self.eps, batch=False)
        n = x.shape[0]
        if n < 2:
            raise ValueError(f"BatchNorm1d({c}): training needs more than one example per "
                             f"batch to estimate a variance, got shape {x.shape}; "
                             "use a larger batch or call model.eval()")
        mean, var = x.data.mean(axis=0), x.data.var(axis=0)
        out = BatchNormOp.apply(x, self.gamma, self.beta, mean=mean, var=var, eps=self.eps,
                                batch=True)
        m = np.asarray(self.momentum, dtype=x.data.dtype)
        self.running_mean = (1 - m) * self.running_mean + m * mean
        self.running_var = (1 - m) * self.running_var + m * var * (n / (n - 1))
        return out

    def short_name(self) -> str:
        return f"BatchNorm1d({self.num_features})"

    def get_config(self) -> dict[str, Any]:
        return {"num_features": self.num_features, "momentum": self.momentum, "eps": self.eps,
                "dtype": str(self.gamma.data.dtype)}

    def extra_repr(self) -> str:
        return f"{self.num_features}, momentum={self.momentum}, eps={self.eps}"
