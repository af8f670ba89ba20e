"""The hand-written NumPy MLP: the speed floor for any NumPy framework.

A ReLU MLP trained with softmax cross-entropy and SGD with momentum, written the
CS231n way with manual gradients and no framework at all:

* forward, per hidden layer: ``Z = H W + b``, ``H' = max(Z, 0)`` (in place);
* fused softmax-CE on the scores ``S`` (N, C): ``L = mean(log sum exp(S - max) - (S - max)_y)``
  with gradient ``dS = (softmax(S) - onehot(y)) / N``;
* backward, per layer: ``dW = H^T dZ``, ``db = sum_n dZ``, ``dH = dZ W^T`` then
  ``dZ = dH * [H > 0]`` (ReLU; relu'(0) = 0);
* momentum update in place (CS231n form): ``v = mu v - lr dW``, ``W = W + v``, with
  ``-lr`` folded into ``dS`` so that the products yield ``-lr dW`` directly.

Everything stays in the requested dtype (float32 by default): no float64 temporaries.
:class:`GemmFloor` times only the matrix products of one such step.
"""
from __future__ import annotations

import numpy as np

from nerve.random import get_rng


def he_init(sizes: tuple[int, ...], dtype=np.float32, seed: int = 0) -> list[list[np.ndarray]]:
    """He-initialised ``[W, b]`` pairs: ``W ~ N(0, 2 / fan_in)``, shape (fan_in, fan_out); b = 0."""
    params = [[np.empty((fan_in, fan_out), dtype), np.zeros(fan_out, dtype)]
              for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
    _fill_he(params, get_rng(seed))
    return params


def _fill_he(params: list[list[np.ndarray]], rng: np.random.Generator) -> None:
    """Draw every ``W`` in place (no temporary): ``W ~ N(0, 1) * sqrt(2 / fan_in)``."""
    for W, _ in params:
        rng.standard_normal(out=W, dtype=W.dtype)
        W *= W.dtype.type(np.sqrt(2.0 / W.shape[0]))


class NumpyMLP:
    """ReLU MLP with manual gradients and an in-place momentum SGD step.

    ``sizes`` = (D, H1, ..., C). Weights ``W_i`` have shape (fan_in, fan_out).
    :meth:`train_step` writes every intermediate into arrays allocated once per batch
    size and folds ``-lr`` into the loss gradient, so the backward products come out
    as ``-lr dW`` directly and the update is ``v = mu v + (-lr dW)``, ``W += v``. The
    parameters, velocities and gradients are views of three flat arrays, so that update
    is three array operations in all, whatever the number of layers.
    """

    def __init__(
        self,
        sizes: tuple[int, ...],
        lr: float = 0.01,
        momentum: float = 0.9,
        dtype=np.float32,
        seed: int = 0,
    ) -> None:
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least an input and an output size, got {sizes}")
        self.sizes = tuple(int(s) for s in sizes)
        self.dtype = np.dtype(dtype)
        self.lr = self.dtype.type(lr)
        self.momentum = np.asarray(momentum, self.dtype)  # 0-d: cheaper in ufuncs than a scalar
        self.zero = np.zeros((), self.dtype)
        shapes = [s for a, b in zip(self.sizes[:-1], self.sizes[1:]) for s in ((a, b), (b,))]
        total = sum(int(np.prod(shape)) for shape in shapes)
        self.flat = np.zeros(total, self.dtype)
        self.flat_velocity = np.zeros(total, self.dtype)
        self.flat_grad = np.zeros(total, self.dtype)  # holds -lr * gradient after a step
        self.params = self._views(self.flat, shapes)
        self.velocity = self._views(self.flat_velocity, shapes)
        self._grads = self._views(self.flat_grad, shapes)
        _fill_he(self.params, get_rng(seed))  # the same draws as he_init(sizes, dtype, seed)
        self._buf: dict | None = None  # arrays for the latest batch size only

    @staticmethod
    def _views(flat: np.ndarray, shapes: list[tuple[int, ...]]) -> list[list[np.ndarray]]:
        """``[[W, b], ...]`` views of consecutive slices of ``flat``."""
        views, start = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            views.append(flat[start:start + size].reshape(shape))
            start += size
        return [views[i:i + 2] for i in range(0, len(views), 2)]

    # ------------------------------------------------------------------ forward
    def forward(self, X: np.ndarray) -> np.ndarray:
        """Class scores (N, C) for inputs X (N, D); no state is kept (inference)."""
        H = X
        last = len(self.params) - 1
        for i, (W, b) in enumerate(self.params):
            Z = H @ W
            Z += b
            if i < last:
                np.maximum(Z, 0, out=Z)
            H = Z
        return H

    @staticmethod
    def _softmax_ce(scores: np.ndarray, y: np.ndarray, row_starts: np.ndarray,
                    scale: float = 1.0) -> tuple[float, np.ndarray]:
        """Fused softmax cross-entropy; overwrites ``scores`` with ``scale * dL/dscores``.

        ``L = mean_n(log sum_c exp(s_nc - m_n) - (s_{n,y_n} - m_n))``, ``m_n = max_c s_nc``;
        ``dL/ds = (softmax(s) - onehot(y)) / N``. ``scores`` (N, C) must be C-contiguous;
        ``row_starts`` = ``arange(N) * C``. (ufunc reductions are called directly: the
        ``ndarray.max``/``sum`` methods add a Python-level wrapper per call.)
        """
        n = scores.shape[0]
        flat = scores.reshape(-1)
        picks = row_starts + y  # flat index of each row's label
        # Row maxima across the rows of a (C, N) copy when rows are short: NumPy vectorises
        # that, while along each short row it spends about 0.1 µs a row.
        c = scores.shape[1]
        scores -= (np.maximum.reduce(scores.T.copy(), 0).reshape(n, 1) if n >= 16 and c <= 64
                   else np.maximum.reduce(scores, axis=1, keepdims=True))
        correct = np.add.reduce(flat[picks])
        np.exp(scores, out=scores)
        sums = np.add.reduce(scores, axis=1, keepdims=True)
        loss = (float(np.add.reduce(np.log(sums), axis=None)) - float(correct)) / n
        scores /= sums
        dt = scores.dtype
        flat[picks] -= np.ones((), dt)  # 0-d arrays: a Python number costs NumPy a conversion
        scores *= np.asarray(scale / n, dt)
        return loss, scores

    # ----------------------------------------------------------------- backward
    def loss_and_grads(self, X: np.ndarray, y: np.ndarray) -> tuple[float, list[list[np.ndarray]]]:
        """Mean softmax-CE loss and its gradients ``[[dW, db], ...]``; parameters unchanged."""
        inputs = [X]
        for W, b in self.params[:-1]:
            inputs.append(np.maximum(inputs[-1] @ W + b, 0))
        W, b = self.params[-1]
        scores = inputs[-1] @ W + b
        loss, dZ = self._softmax_ce(scores, y, np.arange(len(y)) * scores.shape[1])
        grads = [None] * len(self.params)
        for i in range(len(self.params) - 1, -1, -1):
            H = inputs[i]
            grads[i] = [H.T @ dZ, dZ.sum(axis=0)]
            if i > 0:
                dZ = (dZ @ self.params[i][0].T) * (H > 0)
        return loss, grads

    def _buffers(self, n: int) -> dict:
        if self._buf is None or self._buf["n"] != n:
            dt, Ws = self.dtype, [W for W, _ in self.params]
            self._buf = {
                "n": n, "row_starts": np.arange(n) * Ws[-1].shape[1],
                "out": [np.empty((n, W.shape[1]), dt) for W in Ws],  # Z_i, then H_i
                "dx": [None] + [np.empty((n, W.shape[0]), dt) for W in Ws[1:]],  # dH_i
                "mask": [None] + [np.empty((n, W.shape[0]), bool) for W in Ws[1:]],
            }
        return self._buf

    def train_step(self, X: np.ndarray, y: np.ndarray) -> float:
        """One SGD-momentum step on the batch (X (N, D), y (N,) int); returns the loss."""
        buf = self._buffers(X.shape[0])
        out, last = buf["out"], len(self.params) - 1
        H = X
        for i, (W, b) in enumerate(self.params):
            Z = out[i]
            np.matmul(H, W, out=Z)
            Z += b
            if i < last:
                np.maximum(Z, self.zero, out=Z)
            H = Z
        loss, dZ = self._softmax_ce(out[last], y, buf["row_starts"], -float(self.lr))
        for i in range(last, -1, -1):
            W = self.params[i][0]
            H = X if i == 0 else out[i - 1]
            dW, db = self._grads[i]
            np.matmul(H.T, dZ, out=dW)  # = -lr dL/dW
            np.add.reduce(dZ, axis=0, out=db)
            if i > 0:  # dX before W changes; ReLU mask [H > 0]
                dH, mask = buf["dx"][i], buf["mask"][i]
                np.matmul(dZ, W.T, out=dH)
                np.greater(H, self.zero, out=mask)
                np.multiply(dH, mask, out=dH)
                dZ = dH
        v = self.flat_velocity
        v *= self.momentum
        v += self.flat_grad
        self.flat += v
        return loss


class GemmFloor:
    """The matrix products of one training step and nothing else.

    Forward ``H_i W_i`` and ``dW_i = H_i^T dZ_i`` for every layer, ``dX_i = dZ_i W_i^T`` for
    every layer but the first, written into preallocated buffers.
    """

    def __init__(self, sizes: tuple[int, ...], batch: int, dtype=np.float32, seed: int = 0) -> None:
        rng = get_rng(seed)
        self.weights = [W for W, _ in he_init(tuple(sizes), dtype, seed)]
        self.outs = [rng.standard_normal((batch, W.shape[1]), dtype=dtype) for W in self.weights]
        self.dWs = [np.empty_like(W) for W in self.weights]
        self.dXs = [np.empty((batch, W.shape[0]), dtype=dtype) for W in self.weights]

    def step(self, X: np.ndarray) -> None:
        """Run the products for one batch X (batch, D)."""
        H = X
        for W, out in zip(self.weights, self.outs):
            np.matmul(H, W, out=out)
            H = out
        for i, W in enumerate(self.weights):
            H_in = X if i == 0 else self.outs[i - 1]
            dZ = self.outs[i]
            np.matmul(H_in.T, dZ, out=self.dWs[i])
            if i > 0:
                np.matmul(dZ, W.T, out=self.dXs[i])


# ------------------------------------------------------------------ trainers
from nerve.bench.common import Trainer  # noqa: E402  (after the math on purpose)
from nerve.bench.configs import Workload  # noqa: E402


class NumpyTrainer(Trainer):
    """Column "NumPy": :class:`NumpyMLP` over the workload's batches."""

    def __init__(self, wl: Workload, seed: int = 0) -> None:
        super().__init__(wl)
        self.net = NumpyMLP(wl.config.sizes, seed=seed)

    def steps(self, n: int) -> None:
        X, y, B = self.wl.X, self.wl.y, self.wl.config.batch
        step = self.net.train_step
        for s in range(n):
            step(X[s * B:(s + 1) * B], y[s * B:(s + 1) * B])


class GemmTrainer(Trainer):
    """Column "GEMM floor": only the matrix products of each step."""

    def __init__(self, wl: Workload, seed: int = 0) -> None:
        super().__init__(wl)
        self.floor = GemmFloor(wl.config.sizes, wl.config.batch, seed=seed)

    def steps(self, n: int) -> None:
        X, B = self.wl.X, self.wl.config.batch
        step = self.floor.step
        for s in range(n):
            step(X[s * B:(s + 1) * B])
