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

Each penalty is one graph node over all the penalised tensors (float tensors of one
dtype), with the same NumPy calls, in the same order, as the composed expression
``(w * w).sum() + ...``, so values and gradients are bit for bit those of that graph
(the gradient of a weight, when the penalty is built after the forward pass as in
``loss + lam * l2(model)``). Its backward writes into the optimizer's gradient buffer
(``nerve.optim.flat``) when the weight has no gradient yet.
"""
from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .autograd import Function, apply_node
from .ops._util import constant
from .optim.flat import grad_buffer
from .registry import lookup
from .tensor import Tensor, get_default_dtype


# ----------------------------------------------------------------- the nodes
class _Penalty(Function):
    """R = Σ_k Σ r(w_k) over the tensors w_k: one node for the penalty of all of them.

    ``forward`` sums ``np.sum(r(w), all axes)`` over the tensors, left to right;
    ``backward`` returns g · ∂R/∂w for each input that requires a gradient (None for
    the others), written into the input's flat gradient buffer when it has no gradient yet.
    """

    def forward(self, *ws):
        self.ws = ws
        total = None
        for w in ws:
            # np.sum's own reduction, without its Python wrapper: the same bits
            s = np.add.reduce(self.terms(w), axis=tuple(range(w.ndim)))
            total = s if total is None else total + s
        return total

    def backward(self, g):
        taken: set = set()  # a tensor given twice gets its buffer once (the 2nd adds to it)
        grads = []
        for p, w in zip(self.parents, self.ws):
            if not p.requires_grad:
                grads.append(None)
                continue
            buf = grad_buffer(p, w.shape, w.dtype)  # a weight without a gradient yet
            if buf is not None:
                if id(p) in taken:
                    buf = None
                else:
                    taken.add(id(p))
            grads.append(self.grad(g, w, buf))
        return tuple(grads)


class L2Penalty(_Penalty):
    """R = Σ w² over all the tensors;  ∂R/∂w = 2w, computed as h + h with h = g·w."""

    op = "L2"

    @staticmethod
    def terms(w):
        return w * w

    @staticmethod
    def grad(g, w, out):
        if out is None:
            out = np.asarray(g * w)  # (a 0-d w gives a NumPy scalar)
            if out.dtype != w.dtype:
                out = out.astype(w.dtype)
        else:
            np.multiply(g, w, out=out)
        return np.add(out, out, out=out)


class L1Penalty(_Penalty):
    """R = Σ |w| over all the tensors;  ∂R/∂w = sign(w) (0 at w = 0), times g."""

    op = "L1"

    @staticmethod
    def terms(w):
        return np.abs(w)

    @staticmethod
    def grad(g, w, out):
        s = np.sign(w, out=np.empty_like(w) if out is None else out)
        return np.multiply(g, s, out=s)


class ElasticNetPenalty(_Penalty):
    """R = Σ (β w² + |w|) over all the tensors;  ∂R/∂w = 2βw + sign(w), computed as
    (g·sign(w) + q) + q with q = (g·β)·w."""

    op = "ElasticNet"

    def __init__(self, beta: float):
        self.beta = beta

    def terms(self, w):
        return (w * w) * constant(self.beta, w.dtype) + np.abs(w)

    def grad(self, g, w, out):
        q = (g * constant(self.beta, w.dtype)) * w
        if q.dtype != w.dtype:
            q = q.astype(w.dtype)
        s = np.sign(w, out=np.empty_like(w) if out is None else out)
        np.multiply(g, s, out=s)
        np.add(s, q, out=s)
        return np.add(s, q, out=s)


def _params(params: Any, weights_only: bool, where: str) -> tuple | list:
    from .nn.module import Module
    if isinstance(params, Module):
        return tuple(p for name, p in params.named_parameters()
                     if not weights_only or name.rsplit(".", 1)[-1] == "weight")
    if isinstance(params, Tensor):
        return (params,)
    if isinstance(params, Iterable) and not isinstance(params, (str, bytes, dict)):
        out = tuple(params)
        for i, p in enumerate(out):
            if not isinstance(p, Tensor):
                raise TypeError(f"{where}: item {i} is a {type(p).__name__}; expected tensors "
                                "(e.g. model.parameters()) or a Module")
        return out
    raise TypeError(f"{where}: expected a Module, a tensor or an iterable of tensors, "
                    f"got {type(params).__name__}")


def _penalty(node: _Penalty, ps, composed: Callable[[Tensor], Tensor]) -> Tensor:
    """One ``node`` over ``ps``; tensors that are not all floats of one dtype go through
    the composed expression ``composed(w)`` per tensor (ints; mixed dtypes, which the
    sum then refuses as any nerve op does)."""
    if not ps:
        return Tensor(0.0, dtype=get_default_dtype())
    dt = ps[0].data.dtype
    if dt.kind != "f" or any(p.data.dtype != dt for p in ps):
        total = composed(ps[0])
        for p in ps[1:]:
            total = total + composed(p)
        return total
    return apply_node(node, ps)


# ---------------------------------------------------------------- penalties
def l2(params: Any, weights_only: bool = True) -> Tensor:
    """R(W) = Σ w² over all penalised parameters (plain sum, no ½);  ∂R/∂w = 2w."""
    return _penalty(L2Penalty(), _params(params, weights_only, "l2"),
                    lambda p: (p * p).sum())


def l1(params: Any, weights_only: bool = True) -> Tensor:
    """R(W) = Σ |w|;  ∂R/∂w = sign(w), 0 at w = 0. Drives weights to exactly zero (sparse)."""
    return _penalty(L1Penalty(), _params(params, weights_only, "l1"),
                    lambda p: p.abs().sum())


def elastic_net(params: Any, beta: float = 1.0, weights_only: bool = True) -> Tensor:
    """R(W) = Σ (β w² + |w|);  ∂R/∂w = 2βw + sign(w). β ≥ 0 weighs L2 against L1."""
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not beta >= 0:
        raise ValueError(f"elastic_net: beta must be a non-negative number, got {beta!r}")
    b = float(beta)
    return _penalty(ElasticNetPenalty(b), _params(params, weights_only, "elastic_net"),
                    lambda p: (b * (p * p) + p.abs()).sum())


REGULARIZERS: dict[str, Callable[..., Tensor]] = {
    "l2": l2,
    "l1": l1,
    "elastic_net": elastic_net,
}


def get_regularizer(name: str) -> Callable[..., Tensor]:
    """The penalty function called ``name``; unknown names raise listing the valid ones."""
    return lookup(REGULARIZERS, name, "regularizer")
