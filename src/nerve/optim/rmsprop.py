"""RMSProp (Hinton's lecture 6e), in PyTorch's form.

With ``g = grad + weight_decay * w``::

    s <- alpha * s + (1 - alpha) * g**2             (s starts at 0)
    d  = sqrt(s) + eps          (centered: sqrt(max(s - a**2, 0)) + eps, a <- alpha*a + (1-alpha)*g)
    plain:     w <- w - lr * g / d
    momentum:  b <- momentum * b + g / d;  w <- w - lr * b
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops._util import constant
from .optimizer import Optimizer, ParamsT, check_flag, check_number, prepare_grad

__all__ = ["RMSProp", "RMSprop", "rmsprop_update"]


def rmsprop_update(param: np.ndarray, grad: np.ndarray, state: dict[str, Any], lr: float = 0.01,
                   alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                   momentum: float = 0.0, centered: bool = False) -> None:
    """One RMSProp step on ``param`` (in place); running averages live in ``state``.

    ``state`` gets ``"step"``, ``"square_avg"`` and, when used, ``"grad_avg"``
    (centered) and ``"momentum_buffer"``. Works in ``param``'s dtype.
    """
    grad = prepare_grad(param, grad)
    lr, alpha, eps = float(lr), float(alpha), float(eps)
    weight_decay, momentum = float(weight_decay), float(momentum)
    if "square_avg" not in state:
        state["step"] = 0
        state["square_avg"] = np.zeros_like(param)
        if centered:
            state["grad_avg"] = np.zeros_like(param)
        if momentum > 0.0:
            state["momentum_buffer"] = np.zeros_like(param)
    state["step"] += 1
    if weight_decay != 0.0:
        grad = grad + weight_decay * param
    square_avg = state["square_avg"]
    # The fixed coefficients as cached 0-d arrays of the operand's dtype: the same numbers
    # as Python floats would give, with cheaper ufunc calls.
    square_avg *= constant(alpha, square_avg.dtype)
    square_avg += constant(1.0 - alpha, grad.dtype) * grad * grad
    if centered:
        grad_avg = state.setdefault("grad_avg", np.zeros_like(param))
        grad_avg *= alpha
        grad_avg += (1.0 - alpha) * grad
        denom = square_avg - grad_avg * grad_avg
        # s − a² ≥ 0 in exact arithmetic (Cauchy–Schwarz) but may round to a tiny negative
        # number (a constant gradient gives s − a² = αᵗ(1 − αᵗ)g²): clamp it, no √ of it
        np.maximum(denom, 0, out=denom)
        np.sqrt(denom, out=denom)
    else:
        denom = np.sqrt(square_avg)
    denom += constant(eps, denom.dtype)
    if momentum > 0.0:
        buf = state.setdefault("momentum_buffer", np.zeros_like(param))
        buf *= momentum
        buf += grad / denom
        param -= lr * buf
    else:
        np.divide(grad, denom, out=denom)
        denom *= constant(lr, denom.dtype)
        param -= denom


class RMSProp(Optimizer):
    """RMSProp: divide the step by a running root-mean-square of recent gradients.

    >>> opt = RMSProp(model.parameters(), lr=1e-3)  # doctest: +SKIP
    """

    update_fn = staticmethod(rmsprop_update)
    elementwise = True
    denominator_state = ("square_avg",)

    def __init__(self, params: ParamsT, lr: float = 0.01, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered)
        super().__init__(params, defaults)

    def _check_hyperparameters(self, options: dict[str, Any]) -> dict[str, Any]:
        name = self._name
        return dict(
            lr=check_number(name, "lr", options["lr"]),
            alpha=check_number(name, "alpha", options["alpha"], 0.0, 1.0),
            eps=check_number(name, "eps", options["eps"]),
            weight_decay=check_number(name, "weight_decay", options["weight_decay"]),
            momentum=check_number(name, "momentum", options["momentum"], 0.0, 1.0,
                                  high_open=True),
            centered=check_flag(name, "centered", options["centered"]),
        )


#: PyTorch's spelling.
RMSprop = RMSProp
