"""PyTorch's ``torch.nn.functional`` names: ``import nerve.nn.functional as F``.

One namespace for the differentiable functions a model's ``forward`` calls: the
activations and ``linear`` of :mod:`nerve.functional`, ``dropout``, ``prelu`` and
``batch_norm`` of the layers' modules and the losses of :mod:`nerve.losses`, under
PyTorch's names (``F.relu``, ``F.dropout(x, p, training=self.training)``,
``F.cross_entropy``, ``F.mse_loss``...). Each is the same function as in its home module.

``F.linear(x, weight, bias)`` is x @ weight + bias with weight of shape (in, out), the
layout of nerve's ``Linear.weight``; PyTorch's ``F.linear`` takes (out, in) and computes
x @ weightᵀ + bias, so pass a PyTorch weight as ``weight.T`` (a square one would
otherwise be used transposed without any error).
"""
from __future__ import annotations

from ..functional import (
    elu, leaky_relu, linear, log_softmax, relu, sigmoid, softmax, step, tanh,
)
from ..losses import (
    binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, hinge, huber_loss,
    l1_loss, nll_loss, smooth_l1_loss,
)
from ..losses import mse as mse_loss
from .activation import prelu
from .batchnorm import batch_norm
from .dropout import dropout

__all__ = [
    "relu", "sigmoid", "tanh", "leaky_relu", "elu", "softmax", "log_softmax", "step", "linear",
    "dropout", "prelu", "batch_norm",
    "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "hinge",
]
