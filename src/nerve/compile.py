"""A captured training step: trace a network's step once, replay it on preallocated arrays.

``step = nv.compile(model, loss_fn, optimizer)`` looks at the model once; for each
batch size it then records a *tape*: the list of NumPy calls of one forward and
backward pass — the same operations the eager ops run, so results are bitwise
identical — with every intermediate written, through NumPy ``out=`` arguments,
into arrays allocated once. ``step(X_batch, y_batch)`` replays the tape (no graph
objects are built), then runs the optimizer's own update function once on flat
views of all parameters, and returns the loss. It covers the common case — a
Sequential of Linear layers and elementwise activations with a softmax
cross-entropy loss; anything else raises and the eager loop is the way.

>>> step = nv.compile(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))  # doctest: +SKIP
>>> loss = step(xb, yb)                                                                    # doctest: +SKIP
"""
from __future__ import annotations

import numpy as np

from .autograd import mark_updated
from .losses import labels_in_range
from .ops._util import constant, zero
from .ops.loss import max_by_copy, row_starts
from .ops.activation import sigmoid_into
from .nn import module as _module
from .nn.module import HookHandle
from .optim.flat import FlatParameters, flat_parameters
from .tensor import Tensor, as_array


class CaptureError(ValueError):
    """The captured step cannot run this model (any more): it was changed since the step
    was made, into something the step does not support; ``fit(compile="auto")`` then
    carries on with the eager graph."""


class FrozenParameterError(CaptureError):
    """A parameter is frozen (``requires_grad=False``): the captured step cannot train the
    model; ``fit(compile="auto")`` then carries on with the eager graph."""


class _Plan:
    """The NumPy calls of one step for one batch size, with every array preallocated.

    ``forward`` and ``backward`` are lists of ``(function, args)`` replayed in order;
    ``inputs`` lists the (list index, call index, argument index, transposed) places
    where the batch itself (or its transpose) is read, patched at each step so the
    batch is never copied. ``scratch`` holds the ids of the arrays that no later call
    reads in their present state (a matmul's output before its activation, say): an
    activation may overwrite one of those in place, as the eager fused chain does.
    """

    def __init__(self, x_stub: np.ndarray):
        self.x_stub, self.x_stub_T = x_stub, x_stub.T
        self.forward: list = []
        self.backward: list = []
        self.inputs: list = []
        self.scratch: set[int] = set()

    def output_for(self, a: np.ndarray) -> np.ndarray:
        """Where an elementwise op on ``a`` may write its result: ``a`` itself if it is
        scratch, else a new array (which is scratch in turn)."""
        if id(a) in self.scratch:
            return a
        out = _empty(a.shape, a.dtype)
        self.scratch.add(id(out))
        return out

    def transpose(self, a: np.ndarray) -> np.ndarray:
        """``a.T``, as the one view the patcher recognises when ``a`` is the batch."""
        return self.x_stub_T if a is self.x_stub else a.T

    def find_inputs(self) -> None:
        for which, calls in enumerate((self.forward, self.backward)):
            for i, (_, args) in enumerate(calls):
                for j, a in enumerate(args):
                    if a is self.x_stub or a is self.x_stub_T:
                        self.inputs.append((which, i, j, a is self.x_stub_T))

    def run(self, x: np.ndarray, calls: list) -> None:
        lists = (self.forward, self.backward)
        for which, i, j, transposed in self.inputs:
            fn, args = lists[which][i]
            lists[which][i] = (fn, args[:j] + (x.T if transposed else x,) + args[j + 1:])
        for fn, args in calls:
            fn(*args)


def _empty(shape, dtype):
    return np.empty(shape, dtype=dtype)


def _relu_into(x, y):
    np.maximum(x, zero(x.dtype), out=y)  # np.maximum takes its output by keyword only


class _LinearKernel:
    """y = x W + b;  dx = g Wᵀ, dW = xᵀ g, db = Σₙ g (as nerve.ops.linalg.Linear)."""

    def __init__(self, layer):
        self.layer = layer

    def build(self, x, plan):
        w, b = self.layer.weight, self.layer.bias
        self.x = x
        plan.scratch.discard(id(x))  # kept for dW = xᵀ g
        y = _empty((x.shape[0], w.data.shape[1]), w.data.dtype)
        plan.scratch.add(id(y))
        plan.forward.append((np.matmul, (x, w.data, y)))
        if b is not None:
            plan.forward.append((np.add, (y, b.data, y)))
        return y

    def build_backward(self, g, plan, need_input_grad):
        w, b, x = self.layer.weight, self.layer.bias, self.x
        plan.backward.append((np.matmul, (plan.transpose(x), g, w.grad)))
        if b is not None:
            plan.backward.append((np.add.reduce, (g, 0, None, b.grad)))
        if not need_input_grad:
            return None
        gx = _empty(x.shape, x.dtype)
        plan.scratch.add(id(gx))
        plan.backward.append((np.matmul, (g, w.data.T, gx)))
        return gx


class _ReLUKernel:
    """y = max(0, x);  dx = g · 1[x > 0]. In place where the plan allows (see _Plan)."""

    def build(self, x, plan):
        self.mask = _empty(x.shape, np.bool_)
        y = plan.output_for(x)
        plan.forward += [(np.greater, (x, zero(x.dtype), self.mask)), (_relu_into, (x, y))]
        return y

    def build_backward(self, g, plan, need_input_grad):
        gx = plan.output_for(g)
        plan.backward.append((np.multiply, (g, self.mask, gx)))
        return gx


class _TanhKernel:
    """y = tanh x;  dx = g · (1 − y²)."""

    def build(self, x, plan):
        self.y = y = _empty(x.shape, x.dtype)
        plan.forward.append((np.tanh, (x, y)))
        return y

    def build_backward(self, g, plan, need_input_grad):
        y = self.y
        t, gx = _empty(y.shape, y.dtype), _empty(g.shape, g.dtype)
        plan.backward += [(np.multiply, (y, y, t)), (np.subtract, (1, t, t)),
                          (np.multiply, (g, t, gx))]
        return gx


class _SigmoidKernel:
    """y = σ(x) = 1/(1 + e) for x ≥ 0, e/(1 + e) for x < 0, e = exp(−|x|)
    (ops.activation.sigmoid_into);  dx = g · y · (1 − y)."""

    def build(self, x, plan):
        self.y = y = _empty(x.shape, x.dtype)
        plan.forward.append((sigmoid_into, (x, y)))
        return y

    def build_backward(self, g, plan, need_input_grad):
        y = self.y
        t, gx = _empty(y.shape, y.dtype), _empty(g.shape, g.dtype)
        plan.backward += [(np.multiply, (g, y, gx)), (np.subtract, (1, y, t)),
                          (np.multiply, (gx, t, gx))]
        return gx


class _LeakyReLUKernel:
    """y = x for x > 0, else αx;  dx = g for x > 0, else αg."""

    def __init__(self, alpha):
        self.alpha = alpha

    def build(self, x, plan):
        self.alpha_arr = np.asarray(self.alpha, dtype=x.dtype)
        self.mask = _empty(x.shape, np.bool_)
        y = _empty(x.shape, x.dtype)
        plan.forward += [(np.greater, (x, zero(x.dtype), self.mask)),
                         (np.multiply, (x, self.alpha_arr, y)),
                         (np.copyto, (y, x, "same_kind", self.mask))]
        return y

    def build_backward(self, g, plan, need_input_grad):
        gx = _empty(g.shape, g.dtype)
        plan.backward += [(np.multiply, (g, self.alpha_arr, gx)),
                          (np.copyto, (gx, g, "same_kind", self.mask))]
        return gx


class _IdentityKernel:
    def build(self, x, plan):
        return x

    def build_backward(self, g, plan, need_input_grad):
        return g


class _CrossEntropyKernel:
    """Mean softmax cross-entropy and its gradient (softmax − onehot)/N: the same
    operations as nerve.ops.loss.CrossEntropy, the label-free ones on the tape."""

    def build(self, scores, plan):
        n, c = scores.shape
        dt = scores.dtype
        self.n = n
        self.offsets = row_starts(n, c)  # row starts in the flattened scores
        self.index = _empty(n, np.int64)
        self.shifted = _empty((n, c), dt)
        self.probs = _empty((n, c), dt)
        self.log_total = _empty(n, dt)
        peak, total = _empty((n, 1), dt), _empty((n, 1), dt)
        self.scale = constant(1.0 / n, dt)
        if max_by_copy(n, c):  # = row_max(scores)
            scores_t = _empty((c, n), dt)
            plan.forward += [(np.copyto, (scores_t, scores.T)),
                             (np.maximum.reduce, (scores_t, 0, None, peak.reshape(n)))]
        else:
            plan.forward.append((np.maximum.reduce, (scores, 1, None, peak, True)))
        plan.forward += [(np.subtract, (scores, peak, self.shifted)),
                         (np.exp, (self.shifted, self.probs)),
                         (np.add.reduce, (self.probs, 1, None, total, True)),
                         (np.log, (total[:, 0], self.log_total)),
                         (np.divide, (self.probs, total, self.probs))]
        return self.probs

    def loss_and_grad(self, labels):
        """The loss, with the gradient left in ``self.probs`` (needs the forward tape run)."""
        index = self.index
        np.add(self.offsets, labels, out=index)
        picked = self.shifted.take(index)
        loss = float(np.add.reduce(self.log_total)) - float(np.add.reduce(picked))
        loss = self.probs.dtype.type(loss / self.n)
        np.multiply(self.probs, self.scale, out=self.probs)
        self.probs.reshape(-1)[index] -= self.scale
        return loss


def _kernel_for(layer):
    from . import nn

    kinds = {nn.ReLU: _ReLUKernel, nn.Tanh: _TanhKernel, nn.Sigmoid: _SigmoidKernel,
             nn.Identity: _IdentityKernel}
    if type(layer) is nn.Linear:
        return lambda: _LinearKernel(layer)
    if type(layer) is nn.LeakyReLU:
        return lambda: _LeakyReLUKernel(layer.alpha)
    if type(layer) in kinds:
        return kinds[type(layer)]
    supported = "Linear, ReLU, Tanh, Sigmoid, LeakyReLU, Identity"
    raise ValueError(f"nv.compile: layer {type(layer).__name__} is not supported by the "
                     f"captured step (supported: {supported}); train it with the eager loop")


def _signature(layers: list) -> tuple:
    """What the kernels were made from: each layer's type, parameters and slope."""
    return tuple((type(layer), id(getattr(layer, "weight", None)),
                  id(getattr(layer, "bias", None)), getattr(layer, "alpha", None))
                 for layer in layers)


#: Plans (preallocated arrays for one batch size) a captured step keeps at most: fit needs
#: two (the batch size and the last, smaller batch); varying sizes must not grow memory.
MAX_PLANS = 8


class CompiledStep:
    """One training step of ``model`` replayed on preallocated arrays; see the module doc."""

    def __init__(self, model, loss, optimizer):
        self.model, self.loss, self.optimizer = model, loss, optimizer
        self._setup()

    def _setup(self) -> None:
        """Check that the model, loss and optimizer are what the step supports; choose a
        kernel per layer and note what the step must watch for changes."""
        from . import nn
        from .optim.optimizer import Optimizer

        model, loss, optimizer = self.model, self.loss, self.optimizer
        if isinstance(model, nn.Sequential):
            cls = type(model)
            if cls.forward is not nn.Sequential.forward or cls.__call__ is not nn.Module.__call__:
                raise ValueError(f"nv.compile: {cls.__name__} has a forward of its own, which "
                                 "the captured step would not run (it replays the layers "
                                 "alone); train it with the eager loop")
            layers = list(model)
        else:
            layers = [model]
        if not layers:
            raise ValueError("nv.compile: the model has no layers")
        self._check_hooks()
        self.kernel_factories = [_kernel_for(layer) for layer in layers]
        if type(loss) is not nn.CrossEntropyLoss or getattr(loss, "reduction", "mean") != "mean" \
                or not loss.plain:
            raise ValueError(f"nv.compile: loss {type(loss).__name__} is not supported by the "
                             "captured step (supported: CrossEntropyLoss with mean reduction, "
                             "without weight, ignore_index or label_smoothing)")
        linears = [layer for layer in layers if type(layer) is nn.Linear]
        if not linears:
            raise ValueError("nv.compile: the model needs at least one Linear layer")
        self.dtype = linears[0].weight.data.dtype
        self.in_features = linears[0].in_features
        self.n_classes = linears[-1].out_features
        self.params = list(model.parameters())
        groups = getattr(optimizer, "param_groups", None)
        if not groups or len(groups) != 1 or len(groups[0]["params"]) != len(self.params) or \
                any(p is not q for p, q in zip(groups[0]["params"], self.params)):
            raise ValueError("nv.compile: the optimizer must hold exactly model.parameters(), "
                             "in order, in one parameter group")
        if any(p.data.dtype != self.dtype for p in self.params):
            raise ValueError("nv.compile: all parameters must share one dtype")
        # The step runs the optimizer's update rule once on all parameters side by side,
        # never its step(): only nerve's own elementwise rules, not overridden, do the same.
        name = type(optimizer).__name__
        if not isinstance(optimizer, Optimizer) or not FlatParameters.eligible(optimizer):
            raise ValueError(f"nv.compile: the optimizer {name} is not one whose update the "
                             "captured step can run (nerve's SGD, Adam, AdamW, RMSprop, "
                             "Adagrad, or an Optimizer subclass with an elementwise rule, "
                             "elementwise = True); train it with the eager loop")
        for method in ("step", "zero_grad"):
            if getattr(type(optimizer), method) is not getattr(Optimizer, method):
                raise ValueError(f"nv.compile: {name} overrides {method}(), which the "
                                 "captured step would not call; train it with the eager loop")
        weights = [p for layer in linears for p in (layer.weight, layer.bias) if p is not None]
        if len({id(p) for p in weights}) != len(weights):
            # the tape writes each layer's dW into its buffer: a second use would overwrite
            # the first one's contribution instead of adding to it
            raise ValueError("nv.compile: a Linear layer (or one of its parameters) is used "
                             "twice in the model (tied weights); the captured step does not "
                             "support that: train it with the eager loop")
        self._check_trainable()
        self.flat = flat_parameters(optimizer, self.params)
        self._plans: dict[int, tuple] = {}
        self.scores: np.ndarray | None = None  # the last step's scores (for accuracy)
        self._layers = model._modules if isinstance(model, nn.Sequential) else None
        self._layer_list = list(layers)
        self._signature = _signature(layers)
        self._changes = _module.changes

    def _check_model(self) -> None:
        """After an attribute of some module was set (or a Sequential's layers changed):
        if this model is no longer the one the step was made for (a layer replaced, a
        LeakyReLU's slope or a Linear's parameter changed), make the step again for it,
        or raise CaptureError (on every call from then on) if it is no longer supported."""
        layers = list(self.model) if self._layers is not None else self._layer_list
        if layers == self._layer_list and _signature(layers) == self._signature:
            self._changes = _module.changes
            return
        try:
            self._setup()
        except ValueError as exc:
            # _setup may have stopped halfway: forget the model it was made for, so that
            # every later call sets up again (and refuses again, or succeeds once the model
            # is one the step supports), never replaying kernels of layers that are gone
            self._layer_list, self._signature, self._changes = [], None, -1
            self._plans.clear()
            if isinstance(exc, CaptureError):
                raise
            raise CaptureError(f"{exc} (the model was changed after the step was made)") \
                from None

    def _check_hooks(self) -> None:
        """Refuse a model with forward hooks, which the tape would not call (checked again
        whenever hooks were added or removed anywhere since)."""
        self._hook_generation = HookHandle.generation
        if any(m._hooks for m in self.model.modules()):
            raise CaptureError("nv.compile: the model has forward hooks, which the captured "
                             "step would not call; train it with the eager loop")

    def _check_trainable(self) -> None:
        """Refuse frozen parameters: the tape updates every parameter, while the eager
        step leaves one with ``requires_grad=False`` alone."""
        for p in self.params:
            if not p.requires_grad:
                raise FrozenParameterError("nv.compile: the model has a frozen parameter "
                                 f"(requires_grad=False, shape {p.data.shape}); the captured "
                                 "step updates every parameter: train it with the eager loop")

    def _build(self, n: int) -> tuple:
        plan = _Plan(_empty((n, self.in_features), self.dtype))
        kernels = [make() for make in self.kernel_factories]
        a = plan.x_stub
        for kernel in kernels:
            a = kernel.build(a, plan)
        scores = a
        loss = _CrossEntropyKernel()
        g = loss.build(scores, plan)
        for i in range(len(kernels) - 1, -1, -1):
            g = kernels[i].build_backward(g, plan, need_input_grad=i > 0)
        plan.find_inputs()
        return plan, loss, scores

    def __call__(self, x, y) -> float:
        """Run forward, backward and the optimizer's update on one batch; return the loss.

        A loss that is NaN or infinite is returned without a backward pass or an
        update, so a diverging run never writes NaN into the weights.
        """
        if type(x) is not np.ndarray or x.dtype != self.dtype:
            x = as_array(x, self.dtype)
        labels = y.data if isinstance(y, Tensor) else y
        if type(labels) is not np.ndarray:
            labels = np.asarray(labels)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"nv.compile step: expected a batch of shape (N, {self.in_features}),"
                             f" got {x.shape}")
        n = x.shape[0]
        if n == 0:  # the mean over no examples: the eager loss refuses it too
            raise ValueError("nv.compile step: the batch is empty, shape (0, "
                             f"{self.in_features}); a step needs at least one example")
        if labels.shape != (n,) or labels.dtype.kind not in "iu":
            raise ValueError(f"nv.compile step: expected {n} integer labels, got an "
                             f"array of shape {labels.shape} and dtype {labels.dtype}")
        if not labels_in_range(labels, self.n_classes):
            raise ValueError(f"nv.compile step: labels must lie in [0, {self.n_classes}), got "
                             f"values from {labels.min()} to {labels.max()}")
        self._check_trainable()  # frozen since the step was made: refuse, as when made
        if HookHandle.generation != self._hook_generation:  # hooks came or went since
            self._check_hooks()
        if _module.changes != self._changes or (self._layers is not None
                                                and self._layers != self._layer_list):
            self._check_model()  # some module attribute was set, or layers were changed
        flat = self.flat
        if not flat.intact():  # something rebound a parameter's data: gather again, re-plan
            flat = self.flat = flat_parameters(self.optimizer, self.params)
            self._plans.clear()
        flat.attach_grads()  # zero_grad() may have set .grad to None
        entry = self._plans.get(n)
        if entry is None:
            if len(self._plans) >= MAX_PLANS:  # many batch sizes: drop the oldest plan
                del self._plans[next(iter(self._plans))]
            entry = self._plans[n] = self._build(n)
        plan, loss_kernel, self.scores = entry
        plan.run(x, plan.forward)
        loss = float(loss_kernel.loss_and_grad(labels))
        if loss - loss != 0.0:  # NaN or inf: leave the weights as they are
            return loss
        plan.run(x, plan.backward)
        if flat.usable_state():
            flat.step()
            self.optimizer._after_step()  # counted as the eager step counts it
            mark_updated(self.params)  # an eager graph kept from before is now stale
        else:  # per-parameter state that one flat step cannot carry (some parameters
            self.optimizer.step()  # were frozen for a while): the optimizer's own loop
        return loss


def compile(model, loss, optimizer) -> CompiledStep:  # noqa: A001 - the API's name
    """Capture one training step of ``model`` (see :class:`CompiledStep`)."""
    return CompiledStep(model, loss, optimizer)
