"""Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019), in PyTorch's form.

With ``t`` the step count (from 1) and ``g = grad (+ weight_decay * w for Adam)``::

    m <- beta1 * m + (1 - beta1) * g            first moment (momentum)
    v <- beta2 * v + (1 - beta2) * g**2         second moment (RMSProp)
    w <- w - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

The two ``1 - beta**t`` factors correct the bias of ``m`` and ``v`` starting at 0.
Decoupled weight decay (AdamW) instead shrinks ``w <- w * (1 - lr * weight_decay)``
before the step and leaves ``g`` alone. ``amsgrad`` uses the running maximum of ``v``.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..ops._util import constant
from .optimizer import Optimizer, ParamsT, check_flag, check_number, prepare_grad

__all__ = ["Adam", "AdamW", "adam_update"]


def adam_update(param: np.ndarray, grad: np.ndarray, state: dict[str, Any], lr: float = 0.001,
                betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                weight_decay: float = 0.0, decoupled_weight_decay: bool = False,
                amsgrad: bool = False) -> None:
    """One Adam step on ``param`` (in place).

    ``state`` keeps ``"step"``, ``"exp_avg"`` (m), ``"exp_avg_sq"`` (v) and, with
    ``amsgrad``, ``"max_exp_avg_sq"``. Works in ``param``'s dtype.
    """
    grad = prepare_grad(param, grad)
    lr, eps, weight_decay = float(lr), float(eps), float(weight_decay)
    beta1, beta2 = (float(b) for b in betas)
    if "exp_avg" not in state:
        state["step"] = 0
        state["exp_avg"] = np.zeros_like(param)
        state["exp_avg_sq"] = np.zeros_like(param)
        if amsgrad:
            state["max_exp_avg_sq"] = np.zeros_like(param)
    state["step"] += 1
    step = state["step"]
    if weight_decay != 0.0:
        if decoupled_weight_decay:
            param *= 1.0 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    # The fixed coefficients as cached 0-d arrays of the operand's dtype: the same numbers
    # as Python floats would give, with cheaper ufunc calls.
    dt = grad.dtype
    exp_avg *= constant(beta1, exp_avg.dtype)
    exp_avg += constant(1.0 - beta1, dt) * grad
    exp_avg_sq *= constant(beta2, exp_avg_sq.dtype)
    exp_avg_sq += constant(1.0 - beta2, dt) * grad * grad
    if amsgrad:
        second = state.setdefault("max_exp_avg_sq", np.zeros_like(param))
        np.maximum(second, exp_avg_sq, out=second)
    else:
        second = exp_avg_sq
    step_size = lr / (1.0 - beta1 ** step)
    denom = np.sqrt(second)
    denom /= math.sqrt(1.0 - beta2 ** step)
    denom += constant(eps, denom.dtype)
    np.divide(exp_avg, denom, out=denom)
    denom *= step_size
    param -= denom


class Adam(Optimizer):
    """Adam: momentum on the gradient, RMSProp on its scale, both bias-corrected.

    ``weight_decay`` is L2 added to the gradient (PyTorch's Adam); pass
    ``decoupled_weight_decay=True`` or use :class:`AdamW` for decoupled decay.

    >>> opt = Adam(model.parameters(), lr=1e-3)  # doctest: +SKIP
    """

    update_fn = staticmethod(adam_update)
    elementwise = True
    denominator_state = ("exp_avg_sq", "max_exp_avg_sq")

    def __init__(self, params: ParamsT, lr: float = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, *, decoupled_weight_decay: bool = False,
                 amsgrad: bool = False) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, amsgrad=amsgrad)
        super().__init__(params, defaults)

    def _denominator_scale(self, group: dict[str, Any]) -> float:
        """√(1 − β₂), the smallest bias correction √(1 − β₂ᵗ) that divides √v (t = 1)."""
        return math.sqrt(1.0 - group["betas"][1])

    def _check_hyperparameters(self, options: dict[str, Any]) -> dict[str, Any]:
        name = self._name
        betas = options["betas"]
        if not isinstance(betas, (tuple, list, np.ndarray)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        return dict(
            lr=check_number(name, "lr", options["lr"]),
            betas=(check_number(name, "betas[0]", betas[0], 0.0, 1.0, high_open=True),
                   check_number(name, "betas[1]", betas[1], 0.0, 1.0, high_open=True)),
            eps=check_number(name, "eps", options["eps"]),
            weight_decay=check_number(name, "weight_decay", options["weight_decay"]),
            decoupled_weight_decay=check_flag(name, "decoupled_weight_decay",
                                              options["decoupled_weight_decay"]),
            amsgrad=check_flag(name, "amsgrad", options["amsgrad"]),
        )


class AdamW(Adam):
    """Adam with decoupled weight decay: ``w <- w * (1 - lr * weight_decay)`` before each step.

    >>> opt = AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)  # doctest: +SKIP
    """

    def __init__(self, params: ParamsT, lr: float = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01, *, amsgrad: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         decoupled_weight_decay=True, amsgrad=amsgrad)
