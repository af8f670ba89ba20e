"""Demo: capacity and regularisation on the spiral, a 3×3 grid of decision boundaries.

A 2-layer network s = W₂ max(0, W₁x + b₁) + b₂ with H hidden ReLU units is
trained on the 3-class spiral (inputs standardised) to minimise

    L = mean softmax cross-entropy + λ·(ΣW₁² + ΣW₂²)

for H in (3, 6, 20) (rows) and λ in (0.001, 0.01, 0.1) (columns). More hidden
units can bend the boundary more (more capacity: 20 units fit the arms that 3
cannot); a larger λ keeps the weights small and the boundary smooth, trading
training accuracy for simplicity. The lecture's advice follows: use as big a
network as you can afford and control overfitting with regularisation, not
with a smaller network.
"""
from __future__ import annotations

import os
from typing import Any, Sequence, TextIO

import numpy as np

from ._common import save_figure, stream_or_stdout

__all__ = ["run", "HIDDEN", "REGS"]

HIDDEN = (3, 6, 20)
REGS = (0.001, 0.01, 0.1)


def _check(hidden: Sequence[int], regs: Sequence[float], epochs: int, lr: float,
           n_per_class: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
    where = "capacity demo"
    try:
        hidden, regs = tuple(hidden), tuple(regs)
    except TypeError:
        raise TypeError(f"{where}: hidden and regs must be sequences, e.g. (3, 6, 20) and "
                        f"(0.001, 0.01, 0.1)") from None
    if not hidden or not all(isinstance(h, int) and not isinstance(h, bool) and h >= 1
                             for h in hidden):
        raise ValueError(f"{where}: hidden must be positive ints, got {hidden}")
    if not regs or not all(isinstance(r, (int, float)) and not isinstance(r, bool) and r >= 0
                           for r in regs):
        raise ValueError(f"{where}: regs must be numbers >= 0, got {regs}")
    for name, value in (("epochs", epochs), ("n_per_class", n_per_class)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{where}: {name} must be a positive int, got {value!r}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"{where}: lr must be a number > 0, got {lr!r}")
    return hidden, tuple(float(r) for r in regs)


def run(out_dir: str | os.PathLike | None = None, *, hidden: Sequence[int] = HIDDEN,
        regs: Sequence[float] = REGS, epochs: int = 500, lr: float = 0.03,
        n_per_class: int = 100, seed: int = 0, stream: TextIO | None = None,
        out: str | os.PathLike | None = None) -> dict[str, Any]:
    """Train one network per (hidden units, λ) cell on the spiral; print and plot the grid.

    Each network trains full batch with Adam (``lr``) for ``epochs`` steps from
    the same seed. With ``out_dir`` (and matplotlib) the decision boundaries are
    saved as ``capacity.png``, rows = hidden units, columns = λ. ``out`` is the
    same as ``out_dir`` (the keyword ``nerve demo`` passes); ``stream`` receives the
    table (stdout by default).

    Returns ``{"accuracy": {H: {λ: train accuracy}}, "grid": array (len(hidden),
    len(regs)) of the same accuracies, "hidden": ..., "regs": ..., "table": str,
    "figure": path or None}``.
    """
    import nerve as nv
    from .. import nn
    from ..data import spiral, standardize
    from ..regularizers import l2
    from ..train import fit, predict

    hidden, regs = _check(hidden, regs, epochs, lr, n_per_class)
    stream = stream_or_stdout(stream)
    out_dir = out_dir if out is None else out
    X, y = spiral(n_per_class, 3, seed=seed)
    Xs, mean, std = standardize(X)
    grid = np.zeros((len(hidden), len(regs)))
    models: dict[tuple[int, float], Any] = {}
    for i, h in enumerate(hidden):
        for j, reg in enumerate(regs):
            nv.manual_seed(seed)
            model = nn.Sequential(nn.Linear(2, h), nn.ReLU(), nn.Linear(h, 3))
            weights = [model[0].weight, model[2].weight]
            fit(model, Xs, y, loss="cross_entropy", optimizer="adam", lr=lr, epochs=epochs,
                batch_size=len(Xs), progress=False, seed=seed,
                regularizer=lambda w=weights, lam=reg: l2(w) * lam)
            grid[i, j] = float(np.mean(predict(model, Xs).argmax(axis=1) == y))
            models[h, reg] = model
    accuracy = {h: {reg: float(grid[i, j]) for j, reg in enumerate(regs)}
                for i, h in enumerate(hidden)}
    table = _table(grid, hidden, regs, len(X), epochs)
    stream.write(table)
    figure = save_figure(out_dir, "capacity.png",
                         lambda path: _plot(models, hidden, regs, grid, X, y, mean, std, path),
                         stream)
    return {"accuracy": accuracy, "grid": grid, "hidden": hidden, "regs": regs,
            "table": table, "figure": figure}


def _table(grid: np.ndarray, hidden: tuple[int, ...], regs: tuple[float, ...], n: int,
           epochs: int) -> str:
    lines = [f"Capacity vs regularisation: 2-layer ReLU nets on the spiral ({n} points, "
             f"{epochs} full-batch Adam steps); training accuracy", "",
             "hidden units " + "".join(f"{f'λ = {r:g}':>12}" for r in regs)]
    for h, row in zip(hidden, grid):
        lines.append(f"{h:>12} " + "".join(f"{a:>12.3f}" for a in row))
    lines += ["", "More units fit the arms better; a larger λ smooths the boundary "
              "(and, when too large, underfits).", ""]
    return "\n".join(lines) + "\n"


def _plot(models: dict, hidden: tuple[int, ...], regs: tuple[float, ...], grid: np.ndarray,
          X: np.ndarray, y: np.ndarray, mean: np.ndarray, std: np.ndarray, path: str) -> None:
    from .._extras import require
    from ..train import predict
    plt = require("matplotlib.pyplot", "plot", "the capacity figure")
    from ..plot import save_figure as write_figure
    lo, hi = X.min(axis=0) - 0.15, X.max(axis=0) + 0.15
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 150), np.linspace(lo[1], hi[1], 150))
    points = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    points = (points - mean) / std  # the networks see standardised inputs
    rows, cols = len(hidden), len(regs)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * rows), squeeze=False)
    for i, h in enumerate(hidden):
        for j, reg in enumerate(regs):
            ax = axes[i][j]
            regions = predict(models[h, reg], points).argmax(axis=1).reshape(gx.shape)
            ax.contourf(gx, gy, regions, levels=np.arange(4) - 0.5, cmap="brg", alpha=0.25)
            ax.scatter(X[:, 0], X[:, 1], c=y, cmap="brg", s=8, edgecolors="k",
                       linewidths=0.3)
            ax.set_title(f"{h} hidden, λ = {reg:g}: {grid[i, j]:.0%}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("Capacity (rows: hidden units) vs L2 strength (columns)", fontsize=11)
    fig.tight_layout()
    write_figure(fig, path, dpi=90)
    plt.close(fig)
