"""A captured training step: trace a network's step once, replay it on preallocated arrays.

``step = nv.compile(model, loss_fn, optimizer)`` looks at the model once and
builds, per layer, a kernel that runs the same NumPy operations as the eager
ops (so results are bitwise identical) but writes every intermediate into
arrays allocated once per batch size, with NumPy ``out=`` arguments, and builds
no graph objects. ``step(X_batch, y_batch)`` then runs forward, backward and the
optimizer's update and returns the loss. It covers the common case — a
Sequential of Linear layers and elementwise activations with a softmax
cross-entropy loss; anything else raises and the eager loop is the way.

>>> step = nv.compile(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))  # doctest: +SKIP
>>> loss = step(xb, yb)                                                                    # doctest: +SKIP
"""
from __future__ import annotations

import numpy as np

from .tensor import Tensor, as_array


class _Buffers(dict):
    """Arrays of one kernel for one batch size, allocated on first use."""

    def get_array(self, key, shape, dtype):
        arr = self.get(key)
        if arr is None:
            arr = self[key] = np.empty(shape, dtype=dtype)
        return arr


class _LinearKernel:
    """y = x Wᵀ + b;  dx = g W, dW = gᵀ x, db = Σₙ g (as nerve.ops.linalg.Linear)."""

    def __init__(self, layer):
        self.layer = layer
        self.has_bias = layer.bias is not None

    def forward(self, x, buf):
        w = self.layer.weight.data
        buf["x"] = x
        y = buf.get_array("y", (x.shape[0], w.shape[0]), w.dtype)
        np.matmul(x, w.T, out=y)
        if self.has_bias:
            y += self.layer.bias.data
        return y

    def backward(self, g, buf, need_input_grad):
        layer = self.layer
        w, x = layer.weight.data, buf["x"]
        gw = buf.get_array("gw", w.shape, w.dtype)
        np.matmul(g.T, x, out=gw)
        layer.weight.grad = gw
        if self.has_bias:
            gb = buf.get_array("gb", w.shape[:1], w.dtype)
            np.sum(g, axis=0, out=gb)
            layer.bias.grad = gb
        if not need_input_grad:
            return None
        gx = buf.get_array("gx", x.shape, x.dtype)
        np.matmul(g, w, out=gx)
        return gx


class _ReLUKernel:
    """y = max(0, x);  dx = g · 1[x > 0]."""

    def forward(self, x, buf):
        mask = buf.get_array("mask", x.shape, np.bool_)
        y = buf.get_array("y", x.shape, x.dtype)
        np.greater(x, 0, out=mask)
        np.maximum(x, 0, out=y)
        return y

    def backward(self, g, buf, need_input_grad):
        gx = buf.get_array("gx", g.shape, g.dtype)
        np.multiply(g, buf["mask"], out=gx)
        return gx


class _TanhKernel:
    """y = tanh x;  dx = g · (1 − y²)."""

    def forward(self, x, buf):
        y = buf.get_array("y", x.shape, x.dtype)
        np.tanh(x, out=y)
        return y

    def backward(self, g, buf, need_input_grad):
        y = buf["y"]
        t = buf.get_array("t", y.shape, y.dtype)
        np.multiply(y, y, out=t)
        np.subtract(1, t, out=t)
        gx = buf.get_array("gx", g.shape, g.dtype)
        np.multiply(g, t, out=gx)
        return gx


class _SigmoidKernel:
    """y = ½ tanh(x/2) + ½ = σ(x);  dx = g · y · (1 − y)."""

    def forward(self, x, buf):
        half = np.asarray(0.5, dtype=x.dtype)
        y = buf.get_array("y", x.shape, x.dtype)
        np.multiply(x, half, out=y)
        np.tanh(y, out=y)
        y *= half
        y += half
        return y

    def backward(self, g, buf, need_input_grad):
        y = buf["y"]
        gx = buf.get_array("gx", g.shape, g.dtype)
        t = buf.get_array("t", y.shape, y.dtype)
        np.multiply(g, y, out=gx)
        np.subtract(1, y, out=t)
        gx *= t
        return gx


class _LeakyReLUKernel:
    """y = x for x > 0, else αx;  dx = g for x > 0, else αg."""

    def __init__(self, alpha):
        self.alpha = alpha

    def forward(self, x, buf):
        mask = buf.get_array("mask", x.shape, np.bool_)
        y = buf.get_array("y", x.shape, x.dtype)
        np.greater(x, 0, out=mask)
        np.multiply(x, np.asarray(self.alpha, dtype=x.dtype), out=y)
        np.copyto(y, x, where=mask)
        return y

    def backward(self, g, buf, need_input_grad):
        gx = buf.get_array("gx", g.shape, g.dtype)
        np.multiply(g, np.asarray(self.alpha, dtype=g.dtype), out=gx)
        np.copyto(gx, g, where=buf["mask"])
        return gx


class _IdentityKernel:
    def forward(self, x, buf):
        return x

    def backward(self, g, buf, need_input_grad):
        return g


class _CrossEntropyKernel:
    """Mean softmax cross-entropy and its gradient (softmax − onehot)/N in one pass
    (the same operations as nerve.ops.loss.CrossEntropy)."""

    def run(self, scores, labels, buf):
        n, c = scores.shape
        rows = buf.get("rows")
        if rows is None:
            rows = buf["rows"] = np.arange(n)
            buf["scale"] = np.ones((), dtype=scores.dtype) / np.asarray(n, dtype=scores.dtype)
        peak = buf.get_array("max", (n, 1), scores.dtype)
        shifted = buf.get_array("shifted", scores.shape, scores.dtype)
        probs = buf.get_array("probs", scores.shape, scores.dtype)
        total = buf.get_array("total", (n, 1), scores.dtype)
        np.max(scores, axis=1, keepdims=True, out=peak)
        np.subtract(scores, peak, out=shifted)
        np.exp(shifted, out=probs)
        np.sum(probs, axis=1, keepdims=True, out=total)
        per_example = np.log(total[:, 0]) - shifted[rows, labels]
        loss = per_example.mean(dtype=per_example.dtype)
        probs /= total
        probs[rows, labels] -= 1
        probs *= buf["scale"]
        return loss, probs


def _kernel_for(layer):
    from . import nn

    kinds = {nn.ReLU: _ReLUKernel, nn.Tanh: _TanhKernel, nn.Sigmoid: _SigmoidKernel,
             nn.Identity: _IdentityKernel}
    if type(layer) is nn.Linear:
        return _LinearKernel(layer)
    if type(layer) is nn.LeakyReLU:
        return _LeakyReLUKernel(layer.alpha)
    if type(layer) in kinds:
        return kinds[type(layer)]()
    supported = "Linear, ReLU, Tanh, Sigmoid, LeakyReLU, Identity"
    raise ValueError(f"nv.compile: layer {type(layer).__name__} is not supported by the "
                     f"captured step (supported: {supported}); train it with the eager loop")


class CompiledStep:
    """One training step of ``model`` replayed on preallocated arrays; see the module doc."""

    def __init__(self, model, loss, optimizer):
        from . import nn

        layers = list(model) if isinstance(model, nn.Sequential) else [model]
        if not layers:
            raise ValueError("nv.compile: the model has no layers")
        self.kernels = [_kernel_for(layer) for layer in layers]
        if type(loss) is not nn.CrossEntropyLoss or getattr(loss, "reduction", "mean") != "mean":
            raise ValueError(f"nv.compile: loss {type(loss).__name__} is not supported by the "
                             "captured step (supported: CrossEntropyLoss with mean reduction)")
        self.model, self.optimizer = model, optimizer
        self.loss_kernel = _CrossEntropyKernel()
        first = next((k for k in self.kernels if isinstance(k, _LinearKernel)), None)
        if first is None:
            raise ValueError("nv.compile: the model needs at least one Linear layer")
        self.dtype = first.layer.weight.data.dtype
        self.in_features = first.layer.in_features
        self.n_classes = None
        self._plans: dict[int, list[_Buffers]] = {}
        self.scores: np.ndarray | None = None  # the last step's scores (for accuracy)

    def __call__(self, x, y) -> float:
        """Run forward, backward and the optimizer's update on one batch; return the loss."""
        x = as_array(x, self.dtype)
        labels = np.asarray(y.data if isinstance(y, Tensor) else y)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"nv.compile step: expected a batch of shape (N, {self.in_features}),"
                             f" got {x.shape}")
        if labels.shape != (x.shape[0],) or labels.dtype.kind not in "iu":
            raise ValueError(f"nv.compile step: expected {x.shape[0]} integer labels, got an "
                             f"array of shape {labels.shape} and dtype {labels.dtype}")
        plan = self._plans.get(x.shape[0])
        if plan is None:
            plan = self._plans[x.shape[0]] = [_Buffers() for _ in range(len(self.kernels) + 1)]
        a = x
        for kernel, buf in zip(self.kernels, plan):
            a = kernel.forward(a, buf)
        if labels.size and (labels.min() < 0 or labels.max() >= a.shape[1]):
            raise ValueError(f"nv.compile step: labels must lie in [0, {a.shape[1]}), got "
                             f"values from {labels.min()} to {labels.max()}")
        self.scores = a
        loss, g = self.loss_kernel.run(a, labels, plan[-1])
        last = len(self.kernels) - 1
        for i in range(last, -1, -1):
            g = self.kernels[i].backward(g, plan[i], need_input_grad=i > 0)
        self.optimizer.step()
        return float(loss)


def compile(model, loss, optimizer) -> CompiledStep:  # noqa: A001 - the API's name
    """Capture one training step of ``model`` (see :class:`CompiledStep`)."""
    return CompiledStep(model, loss, optimizer)
