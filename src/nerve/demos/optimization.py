"""Demo: the optimisation ladder, four ways to minimise one loss, side by side.

The lecture's strategies, from worst to best, on one problem (a softmax
classifier s = Wx on a few hundred standardised 8×8 digits, the bias folded into
W by appending a constant 1 to x, so W has shape (10, 65)):

1. random search: sample W = scale·N(0, 1) again and again, keep the best;
2. random local search: perturb the current W, keep the step if the loss drops;
3. gradient descent with the numerical gradient, (f(W + h) − f(W − h)) / 2h for
   each of the 650 weights in turn (two loss evaluations per weight per step);
4. gradient descent with the analytic gradient from backpropagation,
   dL/dW = (softmax(S) − onehot(y))ᵀ X / N + 2λW, one backward pass per step.

Every method measures its loss with the same function, L(W) = mean softmax
cross-entropy + λ·ΣW² in float64 (plain NumPy: a black box to the first three;
the fourth builds the same L with nerve's engine to backpropagate through it),
and is timed step by step, so the table and the figure compare loss against
steps and against seconds.
"""
from __future__ import annotations

import math
import os
import time
from typing import Any, Callable, TextIO

import numpy as np

from ._common import save_figure, stream_or_stdout

__all__ = ["run", "time_to_reach", "METHODS"]

#: key -> the label shown in the table and the figure
METHODS = {
    "random_search": "random search",
    "random_local_search": "random local search",
    "numerical_gradient": "GD, numerical gradient",
    "analytic_gradient": "GD, analytic gradient",
}


def time_to_reach(result: dict[str, Any], target: float) -> float:
    """Seconds a method took until its loss first reached ``target`` or below (inf if never)."""
    hit = np.flatnonzero(np.asarray(result["loss"]) <= target)
    return float(result["seconds"][hit[0]]) if len(hit) else math.inf


def _problem(n_train: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n_train standardised digits with a constant-1 column appended (the bias trick), float64."""
    from ..data import load_digits, standardize
    from ..random import get_rng
    X, y = load_digits()
    pick = get_rng(seed).permutation(len(X))[:n_train]
    X, _, _ = standardize(X[pick].astype(np.float64))
    return np.hstack([X, np.ones((len(X), 1))]), y[pick]


class _Timed:
    """Wraps the loss L(W) (W an array): counts calls and keeps the time of each one."""

    def __init__(self, loss: Callable[[np.ndarray], float]):
        self.loss, self.start, self.times = loss, time.perf_counter(), []

    def restart(self) -> None:
        self.start, self.times = time.perf_counter(), []

    def __call__(self, W: np.ndarray) -> float:
        value = self.loss(W)
        self.times.append(time.perf_counter() - self.start)
        return value


def _result(key: str, loss: np.ndarray, seconds: np.ndarray, evaluations: int,
            accuracy: float) -> dict[str, Any]:
    return {"label": METHODS[key], "loss": np.asarray(loss, dtype=np.float64),
            "seconds": np.asarray(seconds, dtype=np.float64), "steps": len(loss),
            "evaluations": evaluations, "final_loss": float(loss[-1]),
            "total_seconds": float(seconds[-1]), "accuracy": accuracy}


def run(out_dir: str | os.PathLike | None = None, *, tries: int = 1000,
        local_steps: int = 1000, steps: int = 100, numerical_steps: int = 10,
        lr: float = 0.5, reg: float = 1e-3, scale: float = 0.05, step_size: float = 0.02,
        n_train: int = 200, seed: int = 0, stream: TextIO | None = None,
        out: str | os.PathLike | None = None) -> dict[str, Any]:
    """Run the four strategies on the same problem, print the table, plot loss curves.

    Args:
        out_dir: folder for ``optimization.png`` (loss against steps and against
            seconds); needs matplotlib, skipped with a note if it is missing.
        tries / local_steps: loss evaluations of random search / random local search.
        steps / numerical_steps: gradient-descent steps with the analytic /
            numerical gradient (the numerical one costs 2·650 evaluations a step).
        lr: gradient-descent step size; reg: λ; scale: random search's weight scale;
        step_size: random local search's perturbation scale.
        n_train: digits in the problem; seed: data subset, starting point, samples.
        stream: where the table goes (stdout by default); out: same as ``out_dir``
            (the keyword ``nerve demo`` passes).

    Returns ``{"methods": {key: result}, "target_loss": random search's best loss,
    "table": the printed table, "figure": path or None}``, where each result holds
    ``loss`` and ``seconds`` (one entry per step: the loss of the current W and the
    time since the method started), ``final_loss``, ``total_seconds``, ``steps``,
    ``evaluations`` (loss evaluations, or forward+backward passes) and the training
    ``accuracy`` of the final W; see :func:`time_to_reach`.
    """
    import nerve as nv
    from .. import losses
    from ..optim import random_local_search, random_search
    from ..random import get_rng

    for name, value in (("tries", tries), ("local_steps", local_steps), ("steps", steps),
                        ("numerical_steps", numerical_steps), ("n_train", n_train)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"optimization demo: {name} must be a positive int, got {value!r}")
    for name, value in (("lr", lr), ("scale", scale), ("step_size", step_size)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"optimization demo: {name} must be a number > 0, got {value!r}")
    if isinstance(reg, bool) or not isinstance(reg, (int, float)) or not reg >= 0:
        raise ValueError(f"optimization demo: reg must be a number >= 0, got {reg!r}")
    stream = stream_or_stdout(stream)
    out_dir = out_dir if out is None else out
    X, y = _problem(min(n_train, 1797), seed)
    classes = 10
    shape = (classes, X.shape[1])
    Xt = nv.tensor(X, dtype=nv.float64)

    def objective(W: Any) -> Any:
        """L(W) = mean softmax cross-entropy of X Wᵀ + λ·ΣW² (W a tensor)."""
        return losses.cross_entropy(Xt @ W.T, y) + (W * W).sum() * reg

    rows = np.arange(len(y))

    def loss_of(W: np.ndarray) -> float:
        """The same L(W) in plain NumPy: the black box the gradient-free methods query."""
        scores = X @ W.T
        scores -= scores.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(scores).sum(axis=1))
        return float(np.mean(log_norm - scores[rows, y]) + reg * np.sum(W * W))

    def accuracy(W: np.ndarray) -> float:
        return float(np.mean(np.argmax(X @ W.T, axis=1) == y))

    timed = _Timed(loss_of)
    W0 = 0.001 * get_rng(seed + 1).standard_normal(shape)
    methods: dict[str, dict[str, Any]] = {}

    # 1. random search: the best of `tries` random W
    timed.restart()
    W, hist = random_search(timed, shape, tries=tries, scale=scale, seed=seed + 2,
                            dtype=np.float64)
    methods["random_search"] = _result("random_search", hist, timed.times, tries, accuracy(W))

    # 2. random local search from W0 (its first evaluation is the starting point)
    timed.restart()
    W, hist = random_local_search(timed, W0, steps=local_steps, step_size=step_size,
                                  seed=seed + 3)
    methods["random_local_search"] = _result("random_local_search", hist, timed.times[1:],
                                             local_steps + 1, accuracy(W))

    # 3. gradient descent following the numerical gradient
    W = W0.copy()
    hist, seconds = np.empty(numerical_steps), np.empty(numerical_steps)
    start = time.perf_counter()
    for k in range(numerical_steps):
        W -= lr * nv.numerical_gradient(loss_of, W)
        hist[k] = loss_of(W)
        seconds[k] = time.perf_counter() - start
    methods["numerical_gradient"] = _result(
        "numerical_gradient", hist, seconds, numerical_steps * (2 * W.size + 1), accuracy(W))

    # 4. gradient descent following the analytic gradient (backpropagation)
    Wt = nv.tensor(W0.copy(), dtype=nv.float64, requires_grad=True)
    hist, seconds = np.empty(steps), np.empty(steps)
    start = time.perf_counter()
    for k in range(steps):
        Wt.grad = None
        objective(Wt).backward()
        Wt.data -= lr * Wt.grad
        hist[k] = loss_of(Wt.data)
        seconds[k] = time.perf_counter() - start
    methods["analytic_gradient"] = _result("analytic_gradient", hist, seconds, steps,
                                           accuracy(Wt.data))

    target = methods["random_search"]["final_loss"]
    table = _table(methods, target, n=len(X), size=int(np.prod(shape)), start=loss_of(W0))
    stream.write(table)
    figure = save_figure(out_dir, "optimization.png",
                         lambda path: _plot(methods, target, path), stream)
    return {"methods": methods, "target_loss": target, "table": table, "figure": figure}


def _table(methods: dict[str, dict[str, Any]], target: float, n: int, size: int,
           start: float) -> str:
    lines = [f"The optimisation ladder: softmax classifier on {n} digits, W of {size} weights "
             f"(loss at the small starting W: {start:.3f}, ln 10 = {math.log(10):.3f})",
             "",
             f"{'method':<24} {'steps':>6} {'evaluations':>11} {'final loss':>10} "
             f"{'train acc':>9} {'seconds':>8} {'s to reach RS best':>18}"]
    for result in methods.values():
        reach = time_to_reach(result, target)
        reach_text = "never" if math.isinf(reach) else f"{reach:.4f}"
        lines.append(f"{result['label']:<24} {result['steps']:>6} {result['evaluations']:>11} "
                     f"{result['final_loss']:>10.4f} {result['accuracy']:>9.3f} "
                     f"{result['total_seconds']:>8.3f} {reach_text:>18}")
    lines += ["", f"evaluations: loss evaluations (forward+backward passes for the analytic "
              f"gradient); RS best: random search's best loss, {target:.4f}.",
              "The analytic gradient gets there in a step or two; the numerical gradient "
              "follows the same path, one costly step at a time.", ""]
    return "\n".join(lines) + "\n"


def _plot(methods: dict[str, dict[str, Any]], target: float, path: str) -> None:
    from .._extras import require
    plt = require("matplotlib.pyplot", "plot", "the optimization figure")
    from ..plot import save_figure as write_figure
    fig, (by_step, by_time) = plt.subplots(1, 2, figsize=(11, 4))
    for key, result in methods.items():
        steps = np.arange(1, result["steps"] + 1)
        # the numerical gradient follows the analytic one's path: dashed so both show
        style = {"linestyle": "--", "linewidth": 2.5} if key == "numerical_gradient" else {}
        by_step.plot(steps, result["loss"], label=result["label"], **style)
        by_time.plot(result["seconds"], result["loss"], label=result["label"], **style)
    for ax, xlabel in ((by_step, "step (log scale)"), (by_time, "seconds (log scale)")):
        ax.axhline(target, color="gray", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("loss")
        ax.grid(alpha=0.3)
    by_step.set_title("loss against steps")
    by_time.set_title("loss against wall-clock time")
    by_step.legend(fontsize=8)
    by_time.legend(fontsize=8)
    fig.tight_layout()
    write_figure(fig, path, dpi=100)
    plt.close(fig)
