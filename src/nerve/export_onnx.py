"""Export a trained network to ONNX, for onnxruntime and every other ONNX runtime.

``export_onnx(model, path, example_input)`` writes a ``Sequential`` of nerve layers
as a graph of standard ONNX operators (optional extra: ``pip install 'nerve[onnx]'``),
built with the ``onnx`` package's own helpers and checked with
``onnx.checker.check_model`` before the file is written (atomically). The model is
exported as it computes in eval mode:

==============  ==========================================================
nerve layer     ONNX operators
==============  ==========================================================
Linear          Gemm(x, W, b), W as (in, out)           y = x W + b
Maxout          Gemm → Reshape(−1, pieces, out) → ReduceMax(axis 1)
BatchNorm1d     BatchNormalization (running mean and variance, eval mode)
Dropout         Identity (inverted dropout is the identity at inference)
ReLU, Sigmoid,  Relu, Sigmoid, Tanh, Identity
Tanh, Identity
LeakyReLU, ELU  LeakyRelu(alpha), Elu(alpha); in float64 PRelu(x, alpha) and
                Where(x > 0, x, α(e^min(x,0) − 1)) (float64 attributes and
                kernels are missing)
PReLU           PRelu(x, slopes)
Softmax,        Softmax(axis), LogSoftmax(axis)
LogSoftmax
Flatten         Reshape(x, [0]·start_dim + [−1])
Step            Cast(Greater(x, 0), float)              y = 1[x > 0]
==============  ==========================================================

Nested ``Sequential`` containers are flattened. The batch dimension is symbolic
(``"batch"``), so the file runs on any number of rows. Initializers keep the
state-dict names (``"0.weight"``, ``"2.running_mean"``...).

>>> export_onnx(model, "model.onnx", X[:1])       # doctest: +SKIP
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ._extras import require
from .atomic import atomic_path, check_path
from .autograd import no_grad
from .tensor import Tensor

#: The opset written by default: the last one whose ReduceMax takes ``axes`` as an
#: attribute, supported by every onnxruntime release since 1.12.
DEFAULT_OPSET = 17
MIN_OPSET = 13  # Softmax's per-axis semantics


class _Graph:
    """Nodes and initializers collected while walking the layers."""

    def __init__(self, onnx: Any, dtype: np.dtype, opset: int) -> None:
        self.onnx, self.helper = onnx, onnx.helper
        self.dtype, self.opset = dtype, opset
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, name: str, **attrs: Any) -> str:
        self.nodes.append(self.helper.make_node(op, inputs, [output], name=name, **attrs))
        return output


def _params(layer: Any, prefix: str, g: _Graph, *names: str) -> list[str]:
    return [g.constant(f"{prefix}{n}", getattr(layer, n).data) for n in names]


def _affine(layer, x, prefix, g, output):
    """Gemm(x, W, b) = x W + b; nerve stores W as (in_features, units), as Gemm takes it."""
    names = ("weight", "bias") if layer.bias is not None else ("weight",)
    return g.node("Gemm", [x] + _params(layer, prefix, g, *names), output, f"{prefix}Gemm")


def _linear(layer, x, prefix, g):
    return _affine(layer, x, prefix, g, f"{prefix}out")


def _maxout(layer, x, prefix, g):
    z = _affine(layer, x, prefix, g, f"{prefix}affine")
    shape = g.constant(f"{prefix}shape", np.array([-1, layer.pieces, layer.out_features],
                                                   dtype=np.int64))
    z = g.node("Reshape", [z, shape], f"{prefix}pieces", f"{prefix}Reshape")
    if g.opset >= 18:  # axes became an input in opset 18
        axes = g.constant(f"{prefix}axes", np.array([1], dtype=np.int64))
        return g.node("ReduceMax", [z, axes], f"{prefix}out", f"{prefix}ReduceMax",
                      keepdims=0)
    return g.node("ReduceMax", [z], f"{prefix}out", f"{prefix}ReduceMax", axes=[1],
                  keepdims=0)


def _layer_name(prefix: str, kind: str) -> str:
    """"layer 1 (BatchNorm1d)" for the state-dict prefix "1.", "the BatchNorm1d" for ""."""
    return f"layer {prefix.rstrip('.')} ({kind})" if prefix else f"the {kind}"


def _batchnorm(layer, x, prefix, g):
    if not getattr(layer, "track_running_stats", True):
        raise ValueError(f"export_onnx: {_layer_name(prefix, 'BatchNorm1d')} keeps no running "
                         "statistics (track_running_stats=False), and ONNX's "
                         "BatchNormalization normalises with stored ones; build it with "
                         "track_running_stats=True to export it")
    if layer.gamma is not None:
        inputs = [x] + _params(layer, prefix, g, "gamma", "beta")
    else:  # affine=False: γ = 1, β = 0
        c = layer.running_mean.shape[0]
        dt = layer.running_mean.dtype
        inputs = [x, g.constant(f"{prefix}gamma", np.ones(c, dt)),
                  g.constant(f"{prefix}beta", np.zeros(c, dt))]
    inputs += [g.constant(f"{prefix}running_mean", layer.running_mean),
               g.constant(f"{prefix}running_var", layer.running_var)]
    return g.node("BatchNormalization", inputs, f"{prefix}out", f"{prefix}BatchNormalization",
                  epsilon=float(layer.eps))


def _prelu(layer, x, prefix, g):
    return g.node("PRelu", [x] + _params(layer, prefix, g, "alpha"), f"{prefix}out",
                  f"{prefix}PRelu")


def _step(layer, x, prefix, g):
    zero = g.constant(f"{prefix}zero", np.zeros((), dtype=g.dtype))
    positive = g.node("Greater", [x, zero], f"{prefix}positive", f"{prefix}Greater")
    elem = g.helper.np_dtype_to_tensor_dtype(np.dtype(g.dtype))
    return g.node("Cast", [positive], f"{prefix}out", f"{prefix}Cast", to=elem)


def _leaky_relu(layer, x, prefix, g):
    """LeakyRelu(alpha); in float64 PRelu with a float64 slope instead, since an ONNX
    attribute holds alpha only as a float32 (off by ~1e-8 on a float64 model)."""
    if np.dtype(g.dtype) == np.float64:
        slope = g.constant(f"{prefix}alpha", np.full(1, layer.alpha, dtype=g.dtype))
        return g.node("PRelu", [x, slope], f"{prefix}out", f"{prefix}PRelu")
    return g.node("LeakyRelu", [x], f"{prefix}out", f"{prefix}LeakyRelu", alpha=layer.alpha)


def _elu(layer, x, prefix, g):
    """Elu(alpha); in float64, which onnxruntime has no Elu kernel for, the formula itself:
    Where(x > 0, x, α·(e^min(x, 0) − 1))."""
    if np.dtype(g.dtype) != np.float64:
        return g.node("Elu", [x], f"{prefix}out", f"{prefix}Elu", alpha=layer.alpha)
    zero = g.constant(f"{prefix}zero", np.zeros((), dtype=g.dtype))
    one = g.constant(f"{prefix}one", np.ones((), dtype=g.dtype))
    alpha = g.constant(f"{prefix}alpha", np.asarray(layer.alpha, dtype=g.dtype))
    low = g.node("Min", [x, zero], f"{prefix}low", f"{prefix}Min")
    e = g.node("Exp", [low], f"{prefix}exp", f"{prefix}Exp")
    e = g.node("Sub", [e, one], f"{prefix}expm1", f"{prefix}Sub")
    neg = g.node("Mul", [alpha, e], f"{prefix}neg", f"{prefix}Mul")
    positive = g.node("Greater", [x, zero], f"{prefix}positive", f"{prefix}Greater")
    return g.node("Where", [positive, x, neg], f"{prefix}out", f"{prefix}Where")


def _flatten_layer(layer, x, prefix, g):
    """Reshape(x, [0]·start_dim + [−1]): the first start_dim axes kept, the rest joined."""
    if getattr(layer, "end_dim", -1) != -1 or layer.start_dim < 0:
        raise ValueError(f"export_onnx: {_layer_name(prefix, 'Flatten')} ({layer.extra_repr()}) is "
                         "exported only with start_dim >= 0 and end_dim = -1 (the trailing "
                         "axes joined)")
    shape = g.constant(f"{prefix}shape", np.array([0] * layer.start_dim + [-1], dtype=np.int64))
    return g.node("Reshape", [x, shape], f"{prefix}out", f"{prefix}Reshape")


def _simple(op: str, **attrs_from: str) -> Callable:
    """A one-node converter; ``attrs_from`` maps ONNX attribute names to layer attributes."""
    def convert(layer, x, prefix, g):
        attrs = {k: getattr(layer, v) for k, v in attrs_from.items()}
        return g.node(op, [x], f"{prefix}out", f"{prefix}{op}", **attrs)
    return convert


def _converters() -> dict[type, Callable]:
    from . import nn
    return {
        nn.Linear: _linear, nn.Maxout: _maxout, nn.BatchNorm1d: _batchnorm,
        nn.PReLU: _prelu, nn.Step: _step,
        nn.Dropout: _simple("Identity"), nn.Identity: _simple("Identity"),
        nn.ReLU: _simple("Relu"), nn.Sigmoid: _simple("Sigmoid"), nn.Tanh: _simple("Tanh"),
        nn.LeakyReLU: _leaky_relu, nn.ELU: _elu, nn.Flatten: _flatten_layer,
        nn.Softmax: _simple("Softmax", axis="axis"),
        nn.LogSoftmax: _simple("LogSoftmax", axis="axis"),
    }


def _flatten(model: Any, converters: dict[type, Callable]) -> list[tuple[str, Any]]:
    """(dotted name, layer) for every layer of ``model``, nested Sequentials flattened."""
    from .nn import Module, Sequential
    if not isinstance(model, Module):
        raise TypeError(f"export_onnx expects a nerve.nn Module (a Sequential of layers), "
                        f"got {type(model).__name__}")
    if not isinstance(model, Sequential):
        return [("", model)]
    out: list[tuple[str, Any]] = []
    names = model._names or [str(i) for i in range(len(model))]  # as the state dict names them
    for child, layer in zip(names, model):
        for name, leaf in _flatten(layer, converters):
            out.append((f"{child}.{name}" if name else child, leaf))
    return out


def _example(model: Any, example_input: Any, dtype: np.dtype) -> np.ndarray:
    x = example_input.data if isinstance(example_input, Tensor) else example_input
    try:
        x = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"export_onnx: example_input must be an array of numbers, got "
                        f"{type(example_input).__name__} ({exc})") from None
    if x.dtype.kind not in "fiub":
        raise TypeError(f"export_onnx: example_input must hold numbers, got dtype {x.dtype}")
    if x.ndim < 2 or x.shape[0] < 1:
        raise ValueError(f"export_onnx: example_input must have shape (N, n_features) (or "
                         f"(N, ...) for a model that starts with Flatten) with N >= 1, got "
                         f"shape {x.shape}")
    return x.astype(dtype, copy=False)


def export_onnx(model: Any, path: str | os.PathLike, example_input: Any, *,
                opset: int = DEFAULT_OPSET, input_name: str = "input",
                output_name: str = "output") -> Any:
    """Write ``model`` (an ``nn.Sequential``) to ``path`` as an ONNX file; return the
    ``onnx.ModelProto``.

    ``example_input`` of shape (N, n_features) (or (N, ...) for a model that starts
    with Flatten) fixes the feature shape and is run through the model (in eval mode)
    to check it; the exported graph takes ``input_name`` of shape (batch, ...) and
    returns ``output_name``, in the
    model's dtype (float32 or float64). A layer without an ONNX mapping raises
    ValueError naming it; nothing is written unless the whole export succeeds.
    """
    path = check_path(path)  # before anything is traced or built
    onnx = require("onnx", "onnx", "ONNX export")
    converters = _converters()
    layers = _flatten(model, converters)
    for name, layer in layers:
        if type(layer) not in converters:
            where = f"layer {name} " if name else ""
            raise ValueError(f"export_onnx: {where}({type(layer).__name__}) has no ONNX "
                             f"mapping; supported layers: "
                             f"{', '.join(sorted(c.__name__ for c in converters))}")
    if isinstance(opset, bool) or not isinstance(opset, int) or \
            not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(f"export_onnx: opset must be an int from {MIN_OPSET} to "
                         f"{onnx.defs.onnx_opset_version()}, got {opset!r}")
    for label, value in (("input_name", input_name), ("output_name", output_name)):
        if not isinstance(value, str) or not value:
            raise TypeError(f"export_onnx: {label} must be a non-empty string, got {value!r}")
    dtype = model.dtype
    x = _example(model, example_input, dtype)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            y = model(Tensor(x, dtype=dtype)).data
    except (ValueError, TypeError) as exc:
        raise ValueError(f"export_onnx: the model does not accept example_input of shape "
                         f"{x.shape}: {exc}") from None
    finally:
        model.train(was_training)

    g = _Graph(onnx, dtype, opset)
    current = input_name
    for i, (name, layer) in enumerate(layers):
        prefix = f"{name}." if name else f"{i}."
        current = converters[type(layer)](layer, current, prefix, g)
    if current == input_name:  # an empty chain of identities still needs a node
        current = g.node("Identity", [current], "identity_out", "Identity")
    g.nodes[-1].output[0] = output_name

    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    graph = onnx.helper.make_graph(
        g.nodes, "nerve_model",
        [onnx.helper.make_tensor_value_info(input_name, elem, ["batch", *x.shape[1:]])],
        [onnx.helper.make_tensor_value_info(output_name, elem, ["batch", *y.shape[1:]])],
        initializer=g.initializers)
    opsets = [onnx.helper.make_opsetid("", opset)]
    proto = onnx.helper.make_model(graph, opset_imports=opsets, producer_name="nerve",
                                   ir_version=onnx.helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(proto, full_check=True)
    with atomic_path(path) as tmp:
        onnx.save_model(proto, tmp)
    return proto
