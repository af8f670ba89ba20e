"""``Module.summary()``: a table of layers, output shapes and parameter counts.

The network is named by the lecture convention: the input layer is not
counted, and only layers with weights count, so Linear-ReLU-Linear is a
"2-layer neural network" with one hidden layer.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor
from .container import ModuleList
from .linear import Linear
from .module import Module, Summary


def _leaves(model: Module) -> list[tuple[str, Module]]:
    """The layers to list: containers are opened, other modules shown whole."""
    if not isinstance(model, ModuleList):
        kids = list(model.named_children())
        if not kids:
            return [("", model)]
        return [(n, m) for n, m in model.named_modules() if not any(True for _ in m.children())]
    out = []
    for i, m in enumerate(model):
        if isinstance(m, ModuleList):
            out.extend((f"{i}.{n}", sub) for n, sub in _leaves(m))
        else:
            out.append((str(i), m))
    return out


def _label(m: Module) -> str:
    short = getattr(m, "short_name", None)
    return short() if callable(short) else f"{type(m).__name__}({m.extra_repr()})"


def network_name(n_layers: int, linear: bool = True) -> str:
    """'2-layer neural network (1 hidden layer)' for 2 layers with weights, etc.

    One layer is "(no hidden layer: a linear model)" when ``linear`` says that layer is
    affine (a ``Linear``), else just "(no hidden layer)": a single ``Maxout`` layer is
    piecewise linear, not linear.
    """
    if n_layers == 0:
        return "no layers with weights (0-layer network)"
    if n_layers == 1:
        return "1-layer neural network (no hidden layer" + (": a linear model)" if linear
                                                            else ")")
    hidden = n_layers - 1
    return f"{n_layers}-layer neural network ({hidden} hidden layer{'s' if hidden > 1 else ''})"


def _input_shape(model: Module, leaves, input_shape) -> tuple | None:
    if input_shape is not None:
        shape = input_shape if isinstance(input_shape, (tuple, list)) else (input_shape,)
        ints = all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in shape)
        if not ints or not all(n > 0 for n in shape):
            raise (ValueError if ints else TypeError)(
                f"summary: input_shape must be a tuple of positive ints, got {input_shape!r} "
                "(one example's shape, without the batch axis: e.g. (3,) or 3)")
        return tuple(int(n) for n in shape)
    for _, m in leaves:
        for attr in ("in_features", "num_features"):
            if isinstance(getattr(m, attr, None), int):
                return (getattr(m, attr),)
    return None


def _trace(model: Module, leaves, shape, guessed: bool) -> list:
    """Output shape of each listed layer for a batch of two zero examples.

    A guessed input shape (the first layer with ``in_features``) can be wrong for a
    custom module whose forward does something else first: then the shapes are left
    unknown ("?"). A shape the caller gave that the model cannot take is an error.
    """
    if shape is None:
        return [None] * len(leaves)
    try:
        return _run(model, leaves, shape)
    except (ValueError, TypeError) as exc:
        if guessed:
            return [None] * len(leaves)
        raise ValueError(f"summary: the model does not run on input_shape {shape} (one "
                         f"example's shape): {exc}") from None


def _run(model: Module, leaves, shape) -> list:
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with no_grad():
            x = Tensor(np.zeros((2,) + shape, dtype=model.dtype))
            if len(leaves) == 1 or not isinstance(model, ModuleList):
                # each layer's output shape as forward hooks see it (torchinfo's way), so a
                # custom forward shows every layer it calls; "?" for layers it never calls
                seen: dict[int, tuple] = {}

                def recorder(i):
                    def hook(module, inputs, out):
                        seen.setdefault(i, getattr(out, "shape", None))  # returns None: no change
                    return hook

                handles = [m.register_forward_hook(recorder(i)) for i, (_, m) in enumerate(leaves)]
                try:
                    model(x)
                finally:
                    for handle in handles:
                        handle.remove()
                return [seen.get(i) for i in range(len(leaves))]
            shapes = []
            for _, m in leaves:
                x = m(x)
                shapes.append(x.shape)
            return shapes
    finally:
        for m, flag in flags:
            m.training = flag


def _fmt_shape(shape) -> str:
    return "?" if shape is None else "(" + ", ".join(["N", *map(str, shape[1:])]) + ")"


def summarize(model: Module, input_shape=None) -> Summary:
    """Build the summary table of ``model`` (see :meth:`Module.summary`)."""
    leaves = _leaves(model)
    shape = _input_shape(model, leaves, input_shape)
    shapes = _trace(model, leaves, shape, guessed=input_shape is None)
    rows = [("Layer", "Output shape", "Params", "Formula")]
    for (name, m), out in zip(leaves, shapes):
        count = m.num_parameters()
        formula = m.param_formula() if count else ""
        formula = f"{formula} = {count}" if formula and formula != str(count) else formula
        rows.append((f"{name}: {_label(m)}" if name else _label(m), _fmt_shape(out),
                     f"{count:,}", formula))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    line = "─" * (sum(widths) + 6)

    def fmt(r):
        return "  ".join(c.ljust(w) if i != 2 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    weighted = [m for _, m in leaves if m.counts_as_layer]
    n_layers = len(weighted)
    linear = n_layers == 1 and isinstance(weighted[0], Linear)
    total = model.num_parameters()
    trainable = model.num_parameters(trainable_only=True)
    text = [f"{type(model).__name__}: {network_name(n_layers, linear)}",
            "Input: " + (_fmt_shape((None,) + shape) if shape and any(shapes) else
                         "? (pass summary(input_shape=...) to see the output shapes)"), line,
            fmt(rows[0]),
            line]
    text += [fmt(r) for r in rows[1:]]
    text += [line, f"Total parameters: {total:,} (trainable: {trainable:,})",
             "Layers with weights: "
             f"{n_layers} (the input layer is not counted)"]
    result = Summary("\n".join(text))
    result.total_parameters = total
    result.num_layers = n_layers
    return result
