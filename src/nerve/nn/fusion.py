"""Sequential's fast path: a stack of Linear layers and activations as one graph node.

``fused_forward(seq, x)`` returns the output of Sequential ``seq`` on ``x`` computed
by a single :class:`nerve.ops.dense.DenseChain` node — bitwise the values and
gradients of calling the layers one by one — or None when the stack holds anything
else (dropout, batch norm, a custom or subclassed layer) or the input does not fit;
then Sequential runs the layers one by one, which also raises the layer's own error
for a bad input. The plan (which step each layer is) is cached until the layers change.
"""
from __future__ import annotations

from ..autograd import apply_node
from ..ops import activation as A
from ..ops.dense import AFFINE, LINEAR, RELU, DenseChain
from ..tensor import Tensor
from .module import HookHandle


def _plan(layers: list):
    """``(layers, steps, name, linears, buffers)`` for a fusable stack, else ``(layers, None)``."""
    from .activation import ELU, LeakyReLU, ReLU, Sigmoid, Tanh
    from .container import Identity
    from .linear import Linear

    simple = {ReLU: RELU, Tanh: A.Tanh, Sigmoid: A.Sigmoid}
    with_alpha = {LeakyReLU: A.LeakyReLU, ELU: A.ELU}
    steps, names, linears = [], [], []
    for layer in layers:
        kind = type(layer)
        if layer._hooks:  # a forward hook must see this layer's own call
            return (layers, None)
        if kind is Linear:
            steps.append(LINEAR if layer.bias is None else AFFINE)
            linears.append(layer)
        elif kind in simple:
            steps.append(simple[kind])
        elif kind in with_alpha:
            steps.append((with_alpha[kind], layer))
        elif kind is Identity:
            continue
        else:
            return (layers, None)
        names.append(kind.__name__)
    if len(steps) < 2 or not linears:
        return (layers, None)
    buffers = len({id(layer) for layer in linears}) == len(linears)  # no layer used twice
    linears = tuple((layer, layer.bias is not None) for layer in linears)
    return (layers, tuple(steps), "→".join(names), linears, buffers)


def fused_forward(seq, x: Tensor) -> Tensor | None:
    """The output of Sequential ``seq`` on ``x`` as one DenseChain node, or None."""
    layers = seq._modules
    plan = seq.__dict__.get("_fusion_plan")
    # a list compare (the identity of each layer), and whether hooks came or went since
    if plan is None or plan[0] != layers or plan[-1] != HookHandle.generation:
        plan = seq._fusion_plan = _plan(list(layers)) + (HookHandle.generation,)
    if plan[1] is None:
        return None
    _, steps, name, linears, buffers, _ = plan
    try:
        data = x.data
    except AttributeError:  # a tuple or None: the layers one by one convert it or say why not
        return None
    if data.ndim != 2:
        return None
    width, dtype = data.shape[1], data.dtype
    inputs = [x]
    for layer, biased in linears:
        w, b = layer.weight, layer.bias
        wd = w.data
        if wd.shape[0] != width or wd.dtype != dtype or wd.ndim != 2:
            return None
        width = wd.shape[1]
        inputs.append(w)
        if b is not None:
            if not biased or b.data.shape != (width,) or b.data.dtype != dtype:
                seq._fusion_plan = None  # e.g. a bias was added: plan again next time
                return None
            inputs.append(b)
        elif biased:
            seq._fusion_plan = None
            return None
    return apply_node(DenseChain(steps, name, buffers), tuple(inputs))
