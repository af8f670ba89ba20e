"""PyTorch's ``torch.nn.functional`` names: ``import nerve.nn.functional as F``.

One namespace for the differentiable functions a model's ``forward`` calls: the
activations and ``linear`` of :mod:`nerve.functional`, ``dropout``, ``prelu`` and
``batch_norm`` of the layers' modules and the losses of :mod:`nerve.losses`, under
PyTorch's names (``F.relu``, ``F.dropout(x, p, training=self.training)``,
``F.cross_entropy``, ``F.mse_loss``...), and every activation of ``nn.ACTIVATIONS`` plus
``identity`` and ``maxout(z, pieces)`` (the max over the pieces of a pre-activation laid
out as ``nn.Maxout``'s). ``relu``, ``leaky_relu``, ``elu`` and ``linear``
are thin wrappers with PyTorch's signatures (``negative_slope=``, ``inplace=``, inputs of
any shape (..., in)) around :mod:`nerve.functional`; the others are the same function as
in their home module. The losses take PyTorch's options that nerve has (``weight=``,
``ignore_index=``, ``label_smoothing=`` and probability targets for ``cross_entropy``,
``weight=`` and ``ignore_index=`` for ``nll_loss``, ``pos_weight=`` for ``binary_cross_entropy_with_logits``) and refuse the others with the
loss layers' message ("cross_entropy does not support size_average (it takes ...)").

``inplace=True`` is accepted, as by ``nn.ReLU(inplace=True)`` and ``F.dropout``: the
result is the same, a new tensor (nerve never overwrites the input), so use the value
returned, as ``x = F.relu(x, inplace=True)`` does.

``F.linear(x, weight, bias)`` is x @ weight + bias with weight of shape (in, out), the
layout of nerve's ``Linear.weight``; PyTorch's ``F.linear`` takes (out, in) and computes
x @ weightᵀ + bias, so pass a PyTorch weight as ``weight.T`` (a square one would
otherwise be used transposed without any error).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as _F
from ..functional import identity, log_softmax, maxout, sigmoid, softmax, step, tanh
from ..losses import (
    binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, hinge, huber_loss,
    l1_loss, nll_loss, smooth_l1_loss,
)
from ..losses import mse as mse_loss
from ..tensor import Tensor
from .activation import _check_inplace, prelu
from .batchnorm import batch_norm
from .derivatives import check_alpha
from .dropout import dropout

__all__ = [
    "relu", "sigmoid", "tanh", "leaky_relu", "elu", "softmax", "log_softmax", "step", "linear",
    "identity", "maxout", "dropout", "prelu", "batch_norm",
    "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "hinge",
]


def relu(input: Any, inplace: bool = False) -> Tensor:  # noqa: A002 - PyTorch's name
    """max(0, x);  derivative 1 for x > 0, else 0. ``inplace``: see the module's note."""
    _check_inplace("relu", inplace)
    return _F.relu(input)


def leaky_relu(input: Any, negative_slope: float = 0.01,  # noqa: A002 - PyTorch's name
               inplace: bool = False, *, alpha: float | None = None) -> Tensor:
    """x for x > 0, else αx with α = ``negative_slope`` (nerve's name: ``alpha=``, also
    accepted);  derivative 1 or α. ``inplace``: see the module's note."""
    _check_inplace("leaky_relu", inplace)
    if alpha is not None:
        if negative_slope != 0.01:
            raise TypeError("leaky_relu: got both negative_slope and alpha; pass one "
                            "(alpha is nerve's name for PyTorch's negative_slope)")
        negative_slope = alpha
    return _F.leaky_relu(input, check_alpha("leaky_relu", negative_slope, "negative_slope"))


def elu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, else α(eˣ − 1);  derivative 1 or α·eˣ. ``inplace``: see the module's
    note."""
    _check_inplace("elu", inplace)
    return _F.elu(input, check_alpha("elu", alpha))


def linear(input: Any, weight: Any, bias: Any = None) -> Tensor:  # noqa: A002
    """y = x @ weight + bias over the last axis of x: (..., in) → (..., out), with weight
    of shape (in, out) and bias (out,) (dX = G Wᵀ, dW = Xᵀ G, db = Σ G over the leading
    axes). A 2-D x goes straight to the fused op; others are reshaped to (−1, in) and back,
    as PyTorch broadcasts over the leading axes (a 1-D x of shape (in,) gives (out,))."""
    shape = input.shape if isinstance(input, Tensor) else np.shape(input)
    if len(shape) == 2 or len(shape) == 0:
        return _F.linear(input, weight, bias)  # 0-d: the fused op names the error
    w_shape = weight.shape if isinstance(weight, Tensor) else np.shape(weight)
    b_shape = None if bias is None else bias.shape if isinstance(bias, Tensor) \
        else np.shape(bias)
    if len(w_shape) != 2 or shape[-1] != w_shape[0] or \
            b_shape is not None and b_shape not in ((), (1,), (w_shape[1],)):
        inputs = f"(..., {w_shape[0]})" if len(w_shape) == 2 else "(..., in)"
        raise ValueError(f"linear: input of shape {tuple(shape)}, weight of shape "
                         f"{tuple(w_shape)} and bias of shape {b_shape}: expected input "
                         f"{inputs}, weight (in, out) and bias (out,)")
    x = input if isinstance(input, Tensor) else np.asarray(input)
    rows = math.prod(shape[:-1])
    y = _F.linear(x.reshape(rows, shape[-1]), weight, bias)
    return y.reshape(*shape[:-1], y.shape[1])
