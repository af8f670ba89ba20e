"""Batch normalisation over the channels of (N, C) and (N, C, L) inputs, with a fused
closed-form backward."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..autograd import Function, apply_node
from ..tensor import Tensor, _check_float_dtype, check_bool, get_default_dtype
from ..tensor_torch import check_device
from .linear import check_features, layer_input
from .module import Module, Parameter


class BatchNormOp(Function):
    """y = γ · x̂ + β with x̂ = (x − μ) / √(σ² + ε), per feature (column) of x (N, C).

    Training (``batch=True``): μ, σ² are the batch mean and biased variance (computed
    here, as ``np.mean``/``np.var`` do), and
    dx = (1/N) · (1/√(σ² + ε)) · (N·dx̂ − Σₙ dx̂ − x̂ · Σₙ(dx̂ ⊙ x̂)) with dx̂ = g ⊙ γ.
    Eval (``batch=False``, running μ, σ²): constants, so dx = g ⊙ γ / √(σ² + ε).
    Both: dγ = Σₙ g ⊙ x̂, dβ = Σₙ g.
    """

    def __init__(self, mean: np.ndarray | None, var: np.ndarray | None, eps: float,
                 batch: bool):
        self.mean, self.var, self.eps, self.training = mean, var, eps, batch

    def forward(self, x, gamma, beta):
        add = np.add.reduce
        if self.training:  # the batch's statistics, in np.var's order of operations
            n = x.shape[0]
            self.mean = mean = np.true_divide(add(x, 0), n)
            xhat = x - mean
            out = np.multiply(xhat, xhat)
            self.var = np.true_divide(add(out, 0), n)
        else:
            xhat = x - self.mean
            out = None
        self.inv_std = 1.0 / np.sqrt(self.var + np.asarray(self.eps, dtype=x.dtype))
        xhat *= self.inv_std
        self.xhat, self.gamma = xhat, gamma
        out = np.multiply(xhat, gamma, out=out)
        out += beta
        return out

    def backward(self, g):
        add = np.add.reduce
        xhat, gamma = self.xhat, self.gamma
        t = np.multiply(g, xhat)
        dgamma = add(t, 0)
        dbeta = add(g, 0)
        dx = np.multiply(g, gamma)  # dx̂
        if not self.training:
            dx *= self.inv_std
            return dx, dgamma, dbeta
        n = np.asarray(g.shape[0], dtype=g.dtype)
        dx *= n
        dx -= dbeta * gamma                             # Σₙ dx̂ = γ · Σₙ g
        dx -= np.multiply(xhat, dgamma * gamma, out=t)  # Σₙ dx̂ ⊙ x̂ = γ · Σₙ g ⊙ x̂
        dx *= self.inv_std / n
        return dx, dgamma, dbeta


def _check_momentum(owner: str, momentum, allow_none: bool = True) -> float | None:
    if momentum is None and allow_none:
        return None
    none = " or None (a cumulative average)" if allow_none else ""
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real):
        raise TypeError(f"{owner}: momentum must be a number in [0, 1]{none}, got "
                        f"{momentum!r}")
    if not 0 <= momentum <= 1:
        raise ValueError(f"{owner}: momentum must be in [0, 1]{none}, got {momentum}")
    return float(momentum)


def _check_eps(owner: str, eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"{owner}: eps must be a number, got {eps!r}")
    if not eps > 0:
        raise ValueError(f"{owner}: eps must be positive, got {eps}")
    return float(eps)


def _normalize(owner: str, x: Tensor, gamma: Tensor, beta: Tensor, mean, var, eps: float,
               batch: bool):
    """BatchNormOp on (N, C), or on (N, C, L) through the (N·L, C) layout; with ``batch``,
    also the batch's mean and unbiased variance per channel and the count behind them."""
    shape = x.shape
    flat = x if x.ndim == 2 else x.transpose(0, 2, 1).reshape(-1, shape[1])
    stats = None
    if batch:
        n = flat.shape[0]
        if n < 2:
            raise ValueError(f"{owner}: training needs more than one example per batch "
                             f"(more than one value per channel) to estimate a variance, got "
                             f"shape {shape}; use a larger batch or call model.eval()")
    op = BatchNormOp(mean, var, eps, batch)
    out = apply_node(op, (flat, gamma, beta))
    if batch:
        stats = (op.mean, op.var, flat.shape[0])
    if x.ndim != 2:
        out = out.reshape(shape[0], shape[2], shape[1]).transpose(0, 2, 1)
    return out, stats


def _running(name: str, value: Any, c: int, written: bool) -> np.ndarray | None:
    """A running statistic of ``batch_norm``: None, or the float array of shape (C,) to read
    and (if ``written``: in training) update in place (a Tensor's ``.data``)."""
    if value is None:
        return None
    arr = value.data if isinstance(value, Tensor) else value
    if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f" or arr.shape != (c,):
        got = (f"an array of dtype {arr.dtype} and shape {arr.shape}"
               if isinstance(arr, np.ndarray) else type(value).__name__)
        raise TypeError(f"batch_norm: {name} must be None or a float array or tensor of "
                        f"shape ({c},) (one value per channel), updated in place; got {got}")
    if written and not arr.flags.writeable:
        raise ValueError(f"batch_norm: {name} is updated in place in training, but the array "
                         "given is read-only; pass a writeable copy (np.array(...)), or "
                         "training=False to only read it")
    return arr


def _affine(name: str, value: Any, c: int, dt: np.dtype, fill: float) -> Tensor:
    """``weight`` (γ) or ``bias`` (β) of ``batch_norm``: a tensor of shape (C,) (a learned
    one as given, an array or list of numbers as a constant of the input's dtype; None:
    all ``fill``)."""
    if value is None:
        return Tensor(np.full(c, fill, dtype=dt))
    if isinstance(value, Tensor):
        arr = value.data
    else:
        try:
            arr = np.asarray(value)
        except ValueError:  # a ragged list
            arr = np.asarray(None)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"batch_norm: {name} must be None or a float tensor (or array) of "
                        f"shape ({c},), one value per channel; got {type(value).__name__}"
                        f"{'' if arr.dtype.kind == 'O' else f' of dtype {arr.dtype}'}")
    if arr.shape != (c,):
        raise ValueError(f"batch_norm: {name} must have shape ({c},), one value per channel "
                         f"of the input, got shape {arr.shape}")
    if isinstance(value, Tensor):
        if arr.dtype != dt:
            raise TypeError(f"batch_norm: {name} has dtype {arr.dtype} but the input is {dt}; "
                            "convert one of them")
        return value
    return Tensor(arr.astype(dt))


def batch_norm(input: Tensor, running_mean: np.ndarray | None,  # noqa: A002 - PyTorch's name
               running_var: np.ndarray | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """PyTorch's ``F.batch_norm``: normalise each channel (axis 1 of (N, C) or (N, C, L))
    by the batch's statistics (``training``, or no running statistics given) or by
    ``running_mean``/``running_var``, then scale by ``weight`` and shift by ``bias``.
    In training the running arrays given are updated in place:
    running = (1 − momentum)·running + momentum·batch (unbiased variance). The running
    statistics are float arrays or nerve tensors of shape (C,) (a tensor's ``.data`` is
    read and updated in place, as PyTorch's buffers)."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim not in (2, 3):
        raise ValueError(f"batch_norm: expected input of shape (N, C) or (N, C, L), got "
                         f"shape {x.shape}")
    c, dt = x.shape[1], x.data.dtype
    training = check_bool(training, "batch_norm: training")
    running_mean = _running("running_mean", running_mean, c, training)
    running_var = _running("running_var", running_var, c, training)
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither "
                         "(then the batch's statistics are used)")
    momentum = _check_momentum("batch_norm", momentum, allow_none=False)
    eps = _check_eps("batch_norm", eps)
    gamma = _affine("weight", weight, c, dt, 1.0)
    beta = _affine("bias", bias, c, dt, 0.0)
    use_batch = training or running_mean is None
    out, stats = _normalize("batch_norm", x, gamma, beta, running_mean, running_var, eps,
                            use_batch)
    if training and running_mean is not None:
        mean, var, n = stats
        m = np.asarray(momentum, dtype=running_mean.dtype)
        running_mean *= 1 - m
        running_mean += m * mean
        running_var *= 1 - m
        running_var += m * var * (n / (n - 1))
    return out


class BatchNorm1d(Module):
    """Batch normalisation per channel: y = γ (x − μ) / √(σ² + ε) + β, for inputs of
    shape (N, C) or (N, C, L) (statistics over N, or over N and L).

    In training, μ and σ² are the batch's mean and biased variance, and the running
    statistics are updated as running = (1 − momentum)·running + momentum·batch
    (with the unbiased variance n/(n − 1)·σ², as PyTorch); ``momentum=None`` makes
    them the cumulative average of all batches seen (1/k for the k-th batch, counted in
    ``num_batches_tracked``, which the state dict then holds). In eval mode the running
    statistics are used. γ (``gamma``) starts at 1, β (``beta``) at 0.

    PyTorch's options: ``affine=False`` learns no γ and β (``gamma``/``beta`` are None);
    ``track_running_stats=False`` keeps no running statistics and normalises by the
    batch's in eval mode too. PyTorch names γ and β ``weight`` and ``bias`` (aliases
    here; the state-dict keys are ``gamma`` and ``beta``).
    """

    _torch_keys = {"weight": "gamma", "bias": "beta", "num_batches_tracked": None}

    def __init__(self, num_features: int, momentum: float | None = 0.1, eps: float = 1e-5,
                 dtype=None, *, affine: bool = True, track_running_stats: bool = True,
                 device=None):
        super().__init__()
        check_features("BatchNorm1d", num_features=num_features)
        momentum = _check_momentum("BatchNorm1d", momentum)
        eps = _check_eps("BatchNorm1d", eps)
        affine = check_bool(affine, "BatchNorm1d: affine")
        track = check_bool(track_running_stats, "BatchNorm1d: track_running_stats")
        if device is not None:
            check_device(device)
        dt = _check_float_dtype(dtype) if dtype is not None else get_default_dtype()
        self.num_features = int(num_features)
        self.momentum, self.eps = momentum, float(eps)
        self.affine, self.track_running_stats = affine, track
        self._dtype = dt
        c = self.num_features
        self.gamma = Parameter(np.ones(c), dtype=dt) if affine else None
        self.beta = Parameter(np.zeros(c), dtype=dt) if affine else None
        self.register_buffer("running_mean", np.zeros(c, dtype=dt) if track else None)
        self.register_buffer("running_var", np.ones(c, dtype=dt) if track else None)
        # saved only where it matters: for the cumulative average (momentum=None)
        self.register_buffer("num_batches_tracked",
                             np.zeros((), dtype=np.int64) if track else None,
                             persistent=momentum is None)

    @property
    def weight(self) -> Parameter | None:
        """PyTorch's name for ``gamma`` (the learned scale)."""
        return self.gamma

    @weight.setter
    def weight(self, value: Parameter | None) -> None:
        self.gamma = value

    @property
    def bias(self) -> Parameter | None:
        """PyTorch's name for ``beta`` (the learned shift)."""
        return self.beta

    @bias.setter
    def bias(self, value: Parameter | None) -> None:
        self.beta = value

    def forward(self, x: Tensor) -> Tensor:
        c = self.num_features
        try:
            ndim = x.ndim
        except AttributeError:  # a tuple or None: numbers converted, else a TypeError
            return self.forward(layer_input(self, x))
        if ndim not in (2, 3) or x.shape[1] != c:
            raise ValueError(f"BatchNorm1d({c}): expected input of shape (N, {c}) or "
                             f"(N, {c}, L), got shape {x.shape}")
        gamma, beta = self.gamma, self.beta
        dt = gamma.data.dtype if gamma is not None else self.dtype
        if x.data.dtype != dt:
            raise TypeError(f"BatchNorm1d({c}): input has dtype {x.dtype} but the layer is "
                            f"{np.dtype(dt)}; convert one of them")
        if gamma is None:
            gamma, beta = Tensor(np.ones(c, dtype=dt)), Tensor(np.zeros(c, dtype=dt))
        running_mean = self.running_mean
        if not self.training and running_mean is not None:
            return _normalize(self.short_name(), x, gamma, beta, running_mean,
                              self.running_var, self.eps, False)[0]
        out, (mean, var, n) = _normalize(self.short_name(), x, gamma, beta, None, None,
                                         self.eps, True)
        if self.training and running_mean is not None:
            self.num_batches_tracked = np.array(self.num_batches_tracked + 1, dtype=np.int64)
            momentum = self.momentum
            if momentum is None:  # the cumulative average: the k-th batch weighs 1/k
                momentum = 1.0 / float(self.num_batches_tracked)
            m = np.asarray(momentum, dtype=x.data.dtype)
            self.running_mean = (1 - m) * running_mean + m * mean
            self.running_var = (1 - m) * self.running_var + m * var * (n / (n - 1))
        return out

    def short_name(self) -> str:
        return f"BatchNorm1d({self.num_features})"

    def get_config(self) -> dict[str, Any]:
        cfg = {"num_features": self.num_features, "momentum": self.momentum, "eps": self.eps,
               "dtype": str(np.dtype(self.dtype))}
        if not self.affine:
            cfg["affine"] = False
        if not self.track_running_stats:
            cfg["track_running_stats"] = False
        return cfg

    def extra_repr(self) -> str:
        text = f"{self.num_features}, momentum={self.momentum}, eps={self.eps}"
        if not self.affine:
            text += ", affine=False"
        if not self.track_running_stats:
            text += ", track_running_stats=False"
        return text
