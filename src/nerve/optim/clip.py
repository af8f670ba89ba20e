"""Gradient clipping, applied between ``backward()`` and ``step()`` (PyTorch's semantics)."""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor, check_bool, get_default_dtype
from .optimizer import check_number

__all__ = ["clip_grad_norm_", "clip_grad_value_", "NonFiniteNormError"]


class NonFiniteNormError(ValueError, RuntimeError):
    """``clip_grad_norm_(..., error_if_nonfinite=True)`` met a nan or inf norm (a
    ValueError as nerve's other bad values, and the RuntimeError that PyTorch raises)."""


def _grads(params: Any, owner: str) -> list[np.ndarray]:
    """The distinct gradient arrays of ``params`` (one parameter or an iterable), skipping None."""
    if hasattr(params, "grad"):
        params = [params]
    elif not isinstance(params, Iterable):
        raise TypeError(f"{owner}: params must be a parameter or an iterable of parameters, "
                        f"got {type(params).__name__}")
    grads, seen = [], set()
    for k, p in enumerate(params):
        if not hasattr(p, "grad"):
            raise TypeError(f"{owner}: parameter {k} has no .grad attribute "
                            f"({type(p).__name__})")
        g = p.grad
        if g is None or id(g) in seen:
            continue
        if not isinstance(g, np.ndarray):
            raise TypeError(f"{owner}: parameter {k} has a .grad of type {type(g).__name__}, "
                            "expected a NumPy array")
        seen.add(id(g))
        grads.append(g)
    return grads


def clip_grad_norm_(params: Any, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Rescale all gradients together so that their joint norm is at most ``max_norm``.

    ``total = (sum_i ||g_i||_p ** p) ** (1/p)`` over every gradient (``p = inf``:
    the largest ``|g|``); if ``total > max_norm``, each ``g_i`` is multiplied in
    place by ``max_norm / (total + 1e-6)``. Returns ``total`` (before clipping) as a
    0-d tensor of the gradients' dtype, as PyTorch: ``total.item()`` and ``float(total)``
    give the number (0 when no parameter has a gradient).
    A nan or inf total raises :class:`NonFiniteNormError` (a ValueError and PyTorch's
    RuntimeError) if ``error_if_nonfinite``, else it is returned and the gradients are
    left as they are (PyTorch would scale them by max_norm / inf = 0, or turn them all
    into nan). ``foreach`` (None, True or False, PyTorch's choice of kernel) is accepted
    and changes nothing here.
    """
    owner = "clip_grad_norm_"
    if foreach is not None:
        check_bool(foreach, f"{owner}: foreach (PyTorch's choice of kernel; None, True or "
                            "False)")
    error_if_nonfinite = check_bool(error_if_nonfinite, f"{owner}: error_if_nonfinite")
    max_norm = check_number(owner, "max_norm", max_norm, allow_inf=True)
    if isinstance(norm_type, str) and norm_type.strip().lower() in ("inf", "infinity"):
        norm_type = math.inf  # PyTorch takes the string too
    norm_type = check_number(owner, "norm_type", norm_type, 0.0, math.inf, allow_inf=True)
    if norm_type == 0.0:
        raise ValueError(f"{owner}: norm_type must be > 0 (or inf), got 0")
    grads = _grads(params, owner)
    if not grads:
        return Tensor(np.zeros((), dtype=get_default_dtype()))
    dtype = np.result_type(*grads)
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        norms = [float(np.linalg.norm(g.ravel().astype(np.float64), ord=norm_type))
                 for g in grads]
        total = math.fsum(n ** norm_type for n in norms) ** (1.0 / norm_type)
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise NonFiniteNormError(
                f"{owner}: the total gradient norm (of order {norm_type}) is {total}; the "
                "gradients contain nan or inf (try a smaller learning rate or check the "
                "loss), so they cannot be clipped"
            )
        # nothing sensible to rescale by; the gradients are left as they are
        return Tensor(np.asarray(total, dtype=dtype), dtype=dtype)
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g *= coef
    return Tensor(np.asarray(total, dtype=dtype), dtype=dtype)


def clip_grad_value_(params: Any, clip_value: float) -> None:
    """Clip every gradient element into ``[-clip_value, clip_value]``, in place."""
    owner = "clip_grad_value_"
    clip_value = check_number(owner, "clip_value", clip_value)
    for g in _grads(params, owner):
        np.clip(g, -clip_value, clip_value, out=g)
