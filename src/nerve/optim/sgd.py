"""Stochastic gradient descent, with optional (Nesterov) momentum, as in PyTorch.

With ``g = grad + weight_decay * w`` (L2 regularisation folded into the grad)::

    plain:     w <- w - lr * g
    momentum:  v <- momentum * v + (1 - dampening) * g     (v = g on the first step)
               w <- w - lr * v
    Nesterov:  w <- w - lr * (g + momentum * v)

PyTorch's Nesterov form is the lecture's "look-ahead" update rewritten in terms
of the current weights, so it needs only the gradient at ``w``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops._util import constant
from .optimizer import Optimizer, ParamsT, check_flag, check_number, prepare_grad

__all__ = ["SGD", "sgd_update"]


def sgd_update(param: np.ndarray, grad: np.ndarray, state: dict[str, Any], lr: float,
               momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0,
               dampening: float = 0.0) -> None:
    """One SGD step on ``param`` (updated in place); the velocity lives in ``state``.

    ``param`` and ``grad`` have the same shape; ``state`` is a dict that this
    function fills (``"momentum_buffer"``) and reuses on later calls. Works in
    ``param``'s dtype.
    """
    grad = prepare_grad(param, grad)
    lr, momentum = float(lr), float(momentum)
    weight_decay, dampening = float(weight_decay), float(dampening)
    if weight_decay != 0.0:
        grad = grad + weight_decay * param
    if momentum != 0.0:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = np.array(grad, dtype=param.dtype, copy=True)
            state["momentum_buffer"] = buf
        elif param.size > CHUNK and dampening == 0.0 and not nesterov \
                and _contiguous(param, grad, buf):
            # A big parameter: the whole update slice by slice, each slice still in cache.
            _momentum_step_in_slices(param, grad, buf, lr, momentum)
            return
        else:
            buf *= constant(momentum, buf.dtype)
            if dampening != 0.0:
                buf += (1.0 - dampening) * grad
            else:
                buf += grad  # bitwise the same as adding 1.0 * grad, one array op fewer
        grad = grad + momentum * buf if nesterov else buf
    subtract_scaled(param, lr, grad)


#: Above this many elements the update runs in slices of this size.
CHUNK = 1 << 16


def _contiguous(*arrays: np.ndarray) -> bool:
    return all(a.flags.c_contiguous for a in arrays)


def _momentum_step_in_slices(param, grad, buf, lr: float, momentum: float) -> None:
    """``buf = momentum·buf + grad; param -= lr·buf``, one cache-sized slice at a time:
    the same operations per element as the whole-array form (so the same numbers,
    bitwise), with each slice read from memory once instead of once per operation."""
    p, g, v = param.reshape(-1), grad.reshape(-1), buf.reshape(-1)
    lr, momentum = constant(lr, v.dtype), constant(momentum, v.dtype)
    for start in range(0, p.size, CHUNK):
        end = start + CHUNK
        vs = v[start:end]
        vs *= momentum
        vs += g[start:end]
        p[start:end] -= lr * vs


def subtract_scaled(param: np.ndarray, lr: float, step: np.ndarray) -> None:
    """``param -= lr * step`` in place, without a temporary as large as ``param``.

    A big layer's update would otherwise allocate one more array of its size at
    the peak of training memory; slicing gives the same numbers, bitwise, since
    every element is computed alone. ``lr`` goes in as a cached 0-d array of the step's
    dtype: the same number as the Python float, with a cheaper ufunc call.
    """
    lr = constant(lr, step.dtype)
    if param.size <= CHUNK or not (param.flags.c_contiguous and step.flags.c_contiguous):
        param -= lr * step
        return
    p, s = param.reshape(-1), step.reshape(-1)
    for start in range(0, p.size, CHUNK):
        p[start:start + CHUNK] -= lr * s[start:start + CHUNK]


class SGD(Optimizer):
    """Stochastic gradient descent: ``w <- w - lr * dL/dw``, optionally with momentum.

    >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)  # doctest: +SKIP
    >>> loss.backward(); opt.step(); opt.zero_grad()                       # doctest: +SKIP
    """

    update_fn = staticmethod(sgd_update)
    elementwise = True

    def __init__(self, params: ParamsT, lr: float, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0,
                 dampening: float = 0.0) -> None:
        defaults = dict(lr=lr, momentum=momentum, nesterov=nesterov,
                        weight_decay=weight_decay, dampening=dampening)
        super().__init__(params, defaults)

    def _check_hyperparameters(self, options: dict[str, Any]) -> dict[str, Any]:
        name = self._name
        out = dict(options)
        out["lr"] = check_number(name, "lr", options["lr"])
        out["momentum"] = check_number(name, "momentum", options["momentum"], 0.0, 1.0,
                                       high_open=True)
        out["weight_decay"] = check_number(name, "weight_decay", options["weight_decay"])
        out["dampening"] = check_number(name, "dampening", options["dampening"], 0.0, 1.0)
        out["nesterov"] = check_flag(name, "nesterov", options["nesterov"])
        if out["nesterov"] and (out["momentum"] == 0.0 or out["dampening"] != 0.0):
            raise ValueError(
                f"{name}: nesterov=True needs momentum > 0 and dampening = 0, "
                f"got momentum={out['momentum']} and dampening={out['dampening']}"
            )
        return out

