"""Export a trained network to ONNX, for onnxruntime and every other ONNX runtime.

``export_onnx(model, path, example_input)`` writes a ``Sequential`` of nerve layers
as a graph of standard ONNX operators (optional extra: ``pip install 'nerve[onnx]'``),
built with the ``onnx`` package's own helpers and checked with
``onnx.checker.check_model`` before the file is written (atomically). The model is
exported as it computes in eval mode:

==============  ==========================================================
nerve layer     ONNX operators
==============  ==========================================================
Linear          Gemm(x, W, b), W as (in, out)           y = x W + b;
                on (N, ..., in) inputs MatMul(x, W) → Add(b), as PyTorch
Maxout          Gemm → Reshape(−1, pieces, out) → ReduceMax(axis 1)
BatchNorm1d     BatchNormalization (running mean and variance, eval mode); in
                float64 ε is added to the variance by an Add node in the graph
                (epsilon=0), since an ONNX attribute holds ε only as a float32
Dropout         Identity (inverted dropout is the identity at inference)
ReLU, Sigmoid,  Relu, Sigmoid, Tanh, Identity
Tanh, Identity
LeakyReLU, ELU  LeakyRelu(alpha), Elu(alpha); in float64 PRelu(x, alpha) and
                Where(x > 0, x, α·expm1(min(x, 0))) with Kahan's accurate
                expm1(u) = (e^u − 1)·u / log e^u for u ≥ −1 (float64
                attributes and kernels are missing)
PReLU           PRelu(x, slopes); one slope per channel as (C, 1, ...) on
                (N, C, L) inputs (ONNX broadcasts from the right)
Softmax,        Softmax(axis), LogSoftmax(axis)
LogSoftmax
Flatten         Reshape(x, [0]·start_dim + [−1])
Step            Cast(Greater(x, 0), float)              y = 1[x > 0]
==============  ==========================================================

Nested ``Sequential`` containers are flattened. A ``Sequential`` subclass with a
``forward`` of its own and a module with forward hooks are refused (the file would
compute something else). The batch dimension is symbolic
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
        self.in_shape: tuple[int, ...] = ()  # the example's shape at the current layer

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
    """Gemm on (N, in); on (N, ..., in), which Gemm (rank 2 only) cannot take,
    MatMul(x, W) then Add(b): y = x W + b over the last axis, as PyTorch exports it."""
    if len(g.in_shape) <= 2:
        return _affine(layer, x, prefix, g, f"{prefix}out")
    w = _params(layer, prefix, g, "weight")[0]
    if layer.bias is None:
        return g.node("MatMul", [x, w], f"{prefix}out", f"{prefix}MatMul")
    z = g.node("MatMul", [x, w], f"{prefix}matmul", f"{prefix}MatMul")
    b = _params(layer, prefix, g, "bias")[0]
    return g.node("Add", [z, b], f"{prefix}out", f"{prefix}Add")


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


def _check_batchnorm(layer, prefix):
    if not getattr(layer, "track_running_stats", True) or layer.running_mean is None:
        raise ValueError(f"export_onnx: {_layer_name(prefix, 'BatchNorm1d')} keeps no running "
                         "statistics (track_running_stats=False), and ONNX's "
                         "BatchNormalization normalises with stored ones; build it with "
                         "track_running_stats=True to export it")


def _batchnorm(layer, x, prefix, g):
    """BatchNormalization: y = γ (x − μ) / √(σ² + ε) + β with the running μ, σ².
    In float64 σ² + ε is an Add node on a float64 ε and the attribute epsilon is 0
    (exact: the attribute is a float32, which would round ε)."""
    if layer.gamma is not None:
        inputs = [x] + _params(layer, prefix, g, "gamma", "beta")
    else:  # affine=False: γ = 1, β = 0
        c = layer.running_mean.shape[0]
        dt = layer.running_mean.dtype
        inputs = [x, g.constant(f"{prefix}gamma", np.ones(c, dt)),
                  g.constant(f"{prefix}beta", np.zeros(c, dt))]
    inputs.append(g.constant(f"{prefix}running_mean", layer.running_mean))
    var = g.constant(f"{prefix}running_var", layer.running_var)
    eps = float(layer.eps)
    if np.dtype(g.dtype) == np.float64:
        e = g.constant(f"{prefix}eps", np.asarray(eps, dtype=np.float64))
        var, eps = g.node("Add", [var, e], f"{prefix}var_eps", f"{prefix}Add"), 0.0
    return g.node("BatchNormalization", inputs + [var], f"{prefix}out",
                  f"{prefix}BatchNormalization", epsilon=eps)


def _prelu(layer, x, prefix, g):
    """PRelu(x, slopes). ONNX broadcasts the slopes NumPy-style (from the right), so one
    slope per channel (axis 1) of an (N, C, L...) input is stored as (C, 1, ..., 1)."""
    alpha = layer.alpha.data
    if alpha.shape[0] > 1 and len(g.in_shape) > 2:
        alpha = alpha.reshape((alpha.shape[0],) + (1,) * (len(g.in_shape) - 2))
    slope = g.constant(f"{prefix}alpha", alpha)
    return g.node("PRelu", [x, slope], f"{prefix}out", f"{prefix}PRelu")


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
    Where(x > 0, x, α·expm1(u)) with u = min(x, 0) and ONNX having no Expm1, Kahan's
    expm1(u) = (v − 1)·u / log v for v = e^u (u itself where v = 1; plain v − 1 for
    u < −1, which has no cancellation and no subnormal v), accurate to a few ulps where
    e^u − 1 alone loses all digits as u → 0."""
    if np.dtype(g.dtype) != np.float64:
        return g.node("Elu", [x], f"{prefix}out", f"{prefix}Elu", alpha=layer.alpha)
    zero = g.constant(f"{prefix}zero", np.zeros((), dtype=g.dtype))
    one = g.constant(f"{prefix}one", np.ones((), dtype=g.dtype))
    alpha = g.constant(f"{prefix}alpha", np.asarray(layer.alpha, dtype=g.dtype))
    low = g.node("Min", [x, zero], f"{prefix}low", f"{prefix}Min")
    v = g.node("Exp", [low], f"{prefix}exp", f"{prefix}Exp")
    vm1 = g.node("Sub", [v, one], f"{prefix}exp_minus_1", f"{prefix}Sub")
    num = g.node("Mul", [vm1, low], f"{prefix}kahan_num", f"{prefix}KahanMul")
    den = g.node("Log", [v], f"{prefix}log_exp", f"{prefix}Log")
    e = g.node("Div", [num, den], f"{prefix}kahan", f"{prefix}Div")  # unused where v = 1
    is_one = g.node("Equal", [v, one], f"{prefix}exp_is_1", f"{prefix}EqualOne")
    e = g.node("Where", [is_one, low, e], f"{prefix}expm1_small", f"{prefix}WhereOne")
    minus_one = g.constant(f"{prefix}minus_one", -np.ones((), dtype=g.dtype))
    far = g.node("Less", [low, minus_one], f"{prefix}below_minus_1", f"{prefix}Less")
    e = g.node("Where", [far, vm1, e], f"{prefix}expm1", f"{prefix}WhereFar")
    neg = g.node("Mul", [alpha, e], f"{prefix}neg", f"{prefix}Mul")
    positive = g.node("Greater", [x, zero], f"{prefix}positive", f"{prefix}Greater")
    return g.node("Where", [positive, x, neg], f"{prefix}out", f"{prefix}Where")


def _check_flatten(layer, prefix):
    if getattr(layer, "end_dim", -1) != -1 or layer.start_dim < 0:
        raise ValueError(f"export_onnx: {_layer_name(prefix, 'Flatten')} ({layer.extra_repr()}) is "
                         "exported only with start_dim >= 0 and end_dim = -1 (the trailing "
                         "axes joined)")


def _flatten_layer(layer, x, prefix, g):
    """Reshape(x, [0]·start_dim + [−1]): the first start_dim axes kept, the rest joined."""
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


def _checks() -> dict[type, Callable]:
    """Per-layer preconditions, run before the example is traced (so that the real
    reason is named, not what the example happens to trip over in the layer)."""
    from . import nn
    return {nn.BatchNorm1d: _check_batchnorm, nn.Flatten: _check_flatten}


def _refuse_hidden_computation(module: Any, name: str) -> None:
    """Refuse what the exported file would leave out: forward hooks, and a Sequential
    subclass whose own forward (or __call__) adds to its layers (nv.compile refuses the
    same). Leaf layers are looked up by their exact type, so a subclass is unmapped."""
    from .nn import Module, Sequential
    what = f"layer {name} " if name else "the model "
    hooks = module._hooks
    if hooks and (hooks.get("pre") or hooks.get("post")):
        kinds = " and ".join(label for key, label in (("pre", "forward pre-hooks"),
                                                      ("post", "forward hooks"))
                             if hooks.get(key))
        raise ValueError(f"export_onnx: {what}({type(module).__name__}) has {kinds}, "
                         "which the exported file would not run; remove them "
                         "(handle.remove()) before exporting: only the layers themselves "
                         "are exported")
    cls = type(module)
    if isinstance(module, Sequential) and (cls.forward is not Sequential.forward
                                           or cls.__call__ is not Module.__call__):
        raise ValueError(f"export_onnx: {what}({cls.__name__}) is a Sequential subclass with a "
                         "forward of its own, which the exported file would not run (it "
                         "chains the layers alone); export a plain nn.Sequential of the "
                         "layers, with any extra computation as layers of its own")


def _flatten(model: Any, converters: dict[type, Callable], name: str = ""
             ) -> list[tuple[str, Any]]:
    """(dotted name, layer) for every layer of ``model``, nested Sequentials flattened;
    a hook or a Sequential subclass's own forward anywhere is refused."""
    from .nn import Module, Sequential
    if not isinstance(model, Module):
        raise TypeError(f"export_onnx expects a nerve.nn Module (a Sequential of layers), "
                        f"got {type(model).__name__}")
    _refuse_hidden_computation(model, name)
    if not isinstance(model, Sequential):
        return [("", model)]
    out: list[tuple[str, Any]] = []
    names = model._names or [str(i) for i in range(len(model))]  # as the state dict names them
    for child, layer in zip(names, model):
        full = f"{name}.{child}" if name else child
        for sub, leaf in _flatten(layer, converters, full):
            out.append((f"{child}.{sub}" if sub else child, leaf))
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
    model's dtype (float32 or float64). A layer without an ONNX mapping (or failing
    its precondition), a forward hook, a Sequential subclass with a forward of its own,
    and an ``input_name``/``output_name`` that clashes with another name of the graph
    raise ValueError naming it; nothing is written unless the whole export succeeds.
    """
    path = check_path(path)  # before anything is traced or built
    onnx = require("onnx", "onnx", "ONNX export")
    converters, checks = _converters(), _checks()
    layers = _flatten(model, converters)
    for name, layer in layers:
        if type(layer) not in converters:
            where = f"layer {name} " if name else ""
            raise ValueError(f"export_onnx: {where}({type(layer).__name__}) has no ONNX "
                             f"mapping; supported layers: "
                             f"{', '.join(sorted(c.__name__ for c in converters))}")
        check = checks.get(type(layer))
        if check is not None:
            check(layer, f"{name}." if name else "")
    if isinstance(opset, bool) or not isinstance(opset, int) or \
            not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(f"export_onnx: opset must be an int from {MIN_OPSET} to "
                         f"{onnx.defs.onnx_opset_version()}, got {opset!r}")
    for label, value in (("input_name", input_name), ("output_name", output_name)):
        if not isinstance(value, str) or not value:
            raise TypeError(f"export_onnx: {label} must be a non-empty string, got {value!r}")
    if input_name == output_name:
        raise ValueError(f"export_onnx: input_name and output_name are both {input_name!r}; "
                         "an ONNX graph needs a different name for each")
    dtype = model.dtype
    x = _example(model, example_input, dtype)
    shapes = _trace_shapes(model, layers, x, dtype)

    g = _Graph(onnx, dtype, opset)
    owners: dict[str, str] = {}  # node name -> the layer it comes from, for errors
    current = input_name
    for i, (name, layer) in enumerate(layers):
        prefix = f"{name}." if name else f"{i}."
        g.in_shape = shapes[i]
        start = len(g.nodes)
        current = converters[type(layer)](layer, current, prefix, g)
        for node in g.nodes[start:]:
            owners[node.name] = _layer_name(f"{name}." if name else "", type(layer).__name__)
    if current == input_name:  # an empty chain of identities still needs a node
        current = g.node("Identity", [current], "identity_out", "Identity")
    g.nodes[-1].output[0] = output_name
    _check_names(g, input_name, output_name)

    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    graph = onnx.helper.make_graph(
        g.nodes, "nerve_model",
        [onnx.helper.make_tensor_value_info(input_name, elem, ["batch", *x.shape[1:]])],
        [onnx.helper.make_tensor_value_info(output_name, elem, ["batch", *shapes[-1][1:]])],
        initializer=g.initializers)
    opsets = [onnx.helper.make_opsetid("", opset)]
    proto = onnx.helper.make_model(graph, opset_imports=opsets, producer_name="nerve",
                                   ir_version=onnx.helper.find_min_ir_version_for(opsets))
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as exc:  # noqa: BLE001 - onnx's C++ errors derive from Exception only
        raise ValueError(f"export_onnx: {_blame(exc, owners)}the onnx checker rejected the "
                         f"graph ({type(exc).__name__}: {' '.join(str(exc).split())})") \
            from None
    with atomic_path(path) as tmp:
        onnx.save_model(proto, tmp)
    return proto


def _trace_shapes(model: Any, layers: list[tuple[str, Any]], x: np.ndarray,
                  dtype: np.dtype) -> list[tuple[int, ...]]:
    """Run the example through the layers one by one in eval mode (as the model's own
    forward does: the hooks and forward overrides that would differ are refused); return
    each layer's input shape and, last, the output's."""
    shapes = []
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            h = Tensor(x, dtype=dtype)
            for _, layer in layers:
                shapes.append(tuple(h.shape))
                h = layer(h)
            shapes.append(tuple(h.shape))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"export_onnx: the model does not accept example_input of shape "
                         f"{x.shape}: {exc}") from None
    finally:
        model.train(was_training)
    return shapes


def _check_names(g: _Graph, input_name: str, output_name: str) -> None:
    """The graph's input and output names must differ from the names it makes itself
    (initializers such as "0.weight", values such as "0.out")."""
    taken = {n.output[0] for n in g.nodes[:-1]} | {t.name for t in g.initializers}
    for label, value in (("input_name", input_name), ("output_name", output_name)):
        if value in taken:
            kind = "a weight (initializer)" if value in {t.name for t in g.initializers} \
                else "an intermediate value"
            raise ValueError(f"export_onnx: {label}={value!r} is already the name of {kind} "
                             "in the exported graph; choose another name (such as the "
                             "default 'input'/'output')")


def _blame(exc: BaseException, owners: dict[str, str]) -> str:
    """"layer 2 (Linear): " when onnx's message names one of that layer's nodes."""
    text = str(exc)
    for node, layer in owners.items():
        if f"node name: {node})" in text or f"node name: {node}," in text \
                or f"'{node}'" in text:
            return f"{layer}: "
    return ""
