"""Adagrad (Duchi et al., 2011), in PyTorch's form.

With ``g = grad + weight_decay * w`` and ``t`` the step count (from 1)::

    h <- h + g**2                                  (h starts at initial_accumulator_value)
    w <- w - lr_t * g / (sqrt(h) + eps),   lr_t = lr / (1 + (t - 1) * lr_decay)

The per-coordinate step shrinks as squared gradients pile up in ``h``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, check_number, prepare_grad

__all__ = ["Adagrad", "adagrad_update"]


def adagrad_update(param: np.ndarray, grad: np.ndarray, state: dict[str, Any], lr: float = 0.01,
                   eps: float = 1e-10, weight_decay: float = 0.0, lr_decay: float = 0.0,
                   initial_accumulator_value: float = 0.0) -> None:
    """One Adagrad step on ``param`` (in place); ``state`` keeps ``"step"`` and ``"sum"``."""
    grad = prepare_grad(param, grad)
    lr, eps, weight_decay, lr_decay = float(lr), float(eps), float(weight_decay), float(lr_decay)
    if "sum" not in state:
        state["step"] = 0
        state["sum"] = np.full_like(param, float(initial_accumulator_value))
    state["step"] += 1
    if weight_decay != 0.0:
        grad = grad + weight_decay * param
    clr = lr / (1.0 + (state["step"] - 1) * lr_decay)
    total = state["sum"]
    total += grad * grad
    denom = np.sqrt(total)
    denom += eps
    np.divide(grad, denom, out=denom)
    denom *= clr
    param -= denom


class Adagrad(Optimizer):
    """Adagrad: per-coordinate steps scaled by the root of the summed squared gradients.

    >>> opt = Adagrad(model.parameters(), lr=0.01)  # doctest: +SKIP
    """

    update_fn = staticmethod(adagrad_update)
    elementwise = True
    denominator_state = ("sum",)

    def __init__(self, params: ParamsT, lr: float = 0.01, eps: float = 1e-10,
                 weight_decay: float = 0.0, *, lr_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0) -> None:
        defaults = dict(lr=lr, eps=eps, weight_decay=weight_decay, lr_decay=lr_decay,
                        initial_accumulator_value=initial_accumulator_value)
        super().__init__(params, defaults)

    def _check_hyperparameters(self, options: dict[str, Any]) -> dict[str, Any]:
        name = self._name
        return {key: check_number(name, key, options[key]) for key in self.defaults}
