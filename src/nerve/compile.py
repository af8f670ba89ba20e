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
        np.matmul(g.T, x, out=layer.weight.grad)
        if self.has_bias:
            np.sum(g, axis=0, out=layer.bias.grad)
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


class _FlatParameters:
    """All parameters, their gradients and the optimizer's buffers as views of flat arrays.

    The update functions of nerve's optimizers are elementwise, so one call on the
    flat arrays does what one call per parameter does, bitwise, with a handful of
    NumPy calls instead of a handful per parameter. The optimizer's per-parameter
    state dicts hold views of the flat buffers, so ``optimizer.state_dict()`` and
    the eager ``optimizer.step()`` keep working on the same numbers.
    """

    def __init__(self, params, optimizer):
        self.params, self.optimizer = params, optimizer
        dtype = params[0].data.dtype
        sizes = [p.data.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        self.data = np.empty(self.offsets[-1], dtype=dtype)
        self.grad = np.empty(self.offsets[-1], dtype=dtype)
        self.state: dict = {}
        self.data_views, self.grad_views = [], []
        for p, a, b in zip(params, self.offsets[:-1], self.offsets[1:]):
            self.data[a:b] = p.data.reshape(-1)
            self.data_views.append(self.data[a:b].reshape(p.data.shape))
            self.grad_views.append(self.grad[a:b].reshape(p.data.shape))
        self.attach()
        self._gather_state()

    def attach(self) -> None:
        for p, dv, gv in zip(self.params, self.data_views, self.grad_views):
            p.data, p.grad = dv, gv

    def intact(self) -> bool:
        """Whether every parameter still uses its view (nothing rebound its data)."""
        for p, dv in zip(self.params, self.data_views):
            if p.data is not dv:
                return False
        return True

    def _gather_state(self) -> None:
        """Build flat buffers from state the optimizer already has (a resumed run)."""
        per_param = [self.optimizer.state.get(i) for i in range(len(self.params))]
        if not all(per_param):
            return
        for key, first in per_param[0].items():
            if isinstance(first, np.ndarray) and first.shape == self.params[0].data.shape:
                self.state[key] = np.concatenate([st[key].reshape(-1) for st in per_param])
            else:
                self.state[key] = first
        self._share_state()

    def _share_state(self) -> None:
        for i, (a, b) in enumerate(zip(self.offsets[:-1], self.offsets[1:])):
            st = self.optimizer.state.setdefault(i, {})
            for key, value in self.state.items():
                if isinstance(value, np.ndarray) and value.shape == self.data.shape:
                    st[key] = value[a:b].reshape(self.params[i].data.shape)
                else:
                    st[key] = value

    def step(self) -> None:
        opt = self.optimizer
        state = self.state
        first = opt.state.get(0)
        if first:  # counters (Adam's step) may have moved on in an eager step
            for key, value in first.items():
                if not isinstance(value, np.ndarray):
                    state[key] = value
        fresh = not state
        opt.update_fn(self.data, self.grad, state, **opt._hyperparameters(opt.param_groups[0]))
        if fresh:
            self._share_state()
        else:
            for key, value in state.items():
                if not isinstance(value, np.ndarray):
                    for i in range(len(self.params)):
                        opt.state[i][key] = value


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
        self.params = list(model.parameters())
        groups = getattr(optimizer, "param_groups", None)
        if not groups or len(groups) != 1 or len(groups[0]["params"]) != len(self.params) or \
                any(p is not q for p, q in zip(groups[0]["params"], self.params)):
            raise ValueError("nv.compile: the optimizer must hold exactly model.parameters(), "
                             "in order, in one parameter group")
        if any(p.data.dtype != self.dtype for p in self.params):
            raise ValueError("nv.compile: all parameters must share one dtype")
        self.flat = _FlatParameters(self.params, optimizer)
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
        flat = self.flat
        if not flat.intact():  # something rebound a parameter's data: gather again
            flat = self.flat = _FlatParameters(self.params, self.optimizer)
        else:
            flat.attach()  # zero_grad() may have set .grad to None
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
        for i in range(len(self.kernels) - 1, -1, -1):
            g = self.kernels[i].backward(g, plan[i], need_input_grad=i > 0)
        flat.step()
        return float(loss)


def compile(model, loss, optimizer) -> CompiledStep:  # noqa: A001 - the API's name
    """Capture one training step of ``model`` (see :class:`CompiledStep`)."""
    return CompiledStep(model, loss, optimizer)
