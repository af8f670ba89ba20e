"""Regularisation penalties R(W), added to the data loss: L = data loss + λ·R(W).

All return differentiable scalar tensors, so ``(loss + lam * l2(model)).backward()``
adds λ·∂R/∂W to every weight's gradient.

=================  ===========================  =====================
penalty            R(W)                         ∂R/∂w
=================  ===========================  =====================
``l2``             Σ w²  (no ½ factor)          2w
``l1``             Σ |w|                        sign(w)  (0 at w = 0)
``elastic_net``    Σ (β w² + |w|)               2βw + sign(w)
=================  ===========================  =====================

The lecture's example: for x = [1, 1, 1, 1], w₁ = [1, 0, 0, 0] and
w₂ = [0.25, 0.25, 0.25, 0.25] give the same score, but L2 prefers the spread-out
w₂ (R = 0.25 against 1.0) while L1 ties them (both 1.0).

λ·``l2`` adds 2λw to each weight's gradient, which is exactly what an optimizer's
``weight_decay`` adds: ``loss + lam * l2(model)`` trains as ``weight_decay=2 * lam``
(for the weights only, since weight_decay decays every parameter it updates).

``params`` may be a Module, an iterable of tensors or one tensor. From a Module,
by default only the parameters named ``weight`` are penalised (biases, BatchNorm's
gamma/beta and PReLU slopes are not: the lectures regularise weights only); pass
``weights_only=False`` to penalise every parameter. Tensors passed explicitly
are always all penalised.
"""
from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from typing import Any

from .tensor import Tensor, get_default_dtype
from .registry import lookup


def _params(params: Any, weights_only: bool, where: str) -> list[Tensor]:
    from .nn.module import Module
    if isinstance(params, Module):
        return [p for name, p in params.named_parameters()
                if not weights_only or name.rsplit(".", 1)[-1] == "weight"]
    if isinstance(params, Tensor):
        return [params]
    if isinstance(params, Iterable) and not isinstance(params, (str, bytes, dict)):
        out = list(params)
        for i, p in enumerate(out):
            if not isinstance(p, Tensor):
                raise TypeError(f"{where}: item {i} is a {type(p).__name__}; expected tensors "
                                "(e.g. model.parameters()) or a Module")
        return out
    raise TypeError(f"{where}: expected a Module, a tensor or an iterable of tensors, "
                    f"got {type(params).__name__}")


def _total(terms: list[Tensor], params: list[Tensor]) -> Tensor:
    if not terms:
        dtype = params[0].dtype if params else get_default_dtype()
        return Tensor(0.0, dtype=dtype)
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def l2(params: Any, weights_only: bool = True) -> Tensor:
    """R(W) = Σ w² over all penalised parameters (plain sum, no ½);  ∂R/∂w = 2w."""
    ps = _params(params, weights_only, "l2")
    return _total([(p * p).sum() for p in ps], ps)


def l1(params: Any, weights_only: bool = True) -> Tensor:
    """R(W) = Σ |w|;  ∂R/∂w = sign(w), 0 at w = 0. Drives weights to exactly zero (sparse)."""
    ps = _params(params, weights_only, "l1")
    return _total([p.abs().sum() for p in ps], ps)


def elastic_net(params: Any, beta: float = 1.0, weights_only: bool = True) -> Tensor:
    """R(W) = Σ (β w² + |w|);  ∂R/∂w = 2βw + sign(w). β ≥ 0 weighs L2 against L1."""
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not beta >= 0:
        raise ValueError(f"elastic_net: beta must be a non-negative number, got {beta!r}")
    ps = _params(params, weights_only, "elastic_net")
    b = float(beta)
    return _total([(b * (p * p) + p.abs()).sum() for p in ps], ps)


REGULARIZERS: dict[str, Callable[..., Tensor]] = {
    "l2": l2,
    "l1": l1,
    "elastic_net": elastic_net,
}


def get_regularizer(name: str) -> Callable[..., Tensor]:
    """The penalty function called ``name``; unknown names raise listing the valid ones."""
    return lookup(REGULARIZERS, name, "regularizer")
