"""Sequential's fast path: a stack of Linear layers and activations as one graph node.

``fused_forward(layers, x)`` returns the output of ``layers`` on ``x`` computed by a
single :class:`nerve.ops.dense.DenseChain` node — bitwise the values and gradients of
calling the layers one by one — or None when the stack holds anything else (dropout,
batch norm, a custom or subclassed layer) or the input does not fit; then Sequential
runs the layers one by one, which also raises the layer's own error for a bad input.
"""
from __future__ import annotations

from functools import partial

from ..ops import activation as A
from ..ops.dense import DenseChain
from ..tensor import Tensor

_STEPS: dict = {}  # layer type -> function of the layer giving its DenseChain step (None: skip)


def _steps() -> dict:
    if not _STEPS:
        from .activation import ELU, LeakyReLU, ReLU, Sigmoid, Tanh
        from .container import Identity

        _STEPS.update({
            ReLU: lambda layer: A.ReLU,
            Tanh: lambda layer: A.Tanh,
            Sigmoid: lambda layer: A.Sigmoid,
            LeakyReLU: lambda layer: partial(A.LeakyReLU, alpha=layer.alpha),
            ELU: lambda layer: partial(A.ELU, alpha=layer.alpha),
            Identity: lambda layer: None,
        })
    return _STEPS


def fused_forward(layers, x: Tensor) -> Tensor | None:
    """The output of ``layers`` on ``x`` as one DenseChain node, or None if they can't fuse."""
    from .linear import Linear

    data = x.data
    if data.ndim != 2:
        return None
    width, dtype = data.shape[1], data.dtype
    steps, inputs, names = [], [x], []
    table = _STEPS or _steps()
    for layer in layers:
        kind = type(layer)
        if kind is Linear:
            w, b = layer.weight, layer.bias
            wd = w.data
            if wd.ndim != 2 or wd.shape[0] != width or wd.dtype != dtype:
                return None
            width = wd.shape[1]
            inputs.append(w)
            if b is not None:
                if b.data.shape != (width,) or b.data.dtype != dtype:
                    return None
                inputs.append(b)
            steps.append(b is not None)
            names.append("Linear")
            continue
        make = table.get(kind)
        if make is None:
            return None
        step = make(layer)
        if step is not None:
            steps.append(step)
            names.append(kind.__name__)
    if len(steps) < 2:
        return None
    return DenseChain.apply(*inputs, steps=tuple(steps), name="→".join(names))
