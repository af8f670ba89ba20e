"""Demo: SGD, momentum, Nesterov, Adagrad, RMSprop and Adam on 2-D loss surfaces.

The lecture's picture of the update rules: each optimiser of :mod:`nerve.optim`
moves one 2-element parameter w = (w1, w2) downhill on a loss L(w) we can draw,
from the same start, for the same number of steps:

* a ravine, L(w) = 0.05·w1² + 2·w2² (curvatures 0.1 and 4, condition number 40): plain
  SGD's step must stay below 2/4 for the steep w2 direction, so it zig-zags across
  the ravine and crawls along the flat w1 floor; momentum accumulates the consistent
  w1 component, and the adaptive methods (Adagrad, RMSprop, Adam) divide each
  coordinate by its own gradient scale;
* Rosenbrock's banana, L(w) = (1 − w1)² + 100·(w2 − w1²)², minimum 0 at (1, 1) at the
  end of a long, curved, flat-bottomed valley.

The losses are built from nerve Tensors and differentiated by nerve's autograd
(``loss.backward()``), then ``optimizer.step()`` updates w, exactly as in training.
"""
from __future__ import annotations

import os
from typing import Any, Callable, TextIO

import numpy as np

from ._common import save_figure, stream_or_stdout

__all__ = ["run", "SURFACES", "OPTIMIZERS", "ravine", "rosenbrock"]


def ravine(w: Any) -> Any:
    """L(w) = 0.05·w1² + 2·w2²; ∇L = (0.1·w1, 4·w2). Works on Tensors and on arrays
    whose first axis holds (w1, w2)."""
    return 0.05 * w[0] * w[0] + 2.0 * w[1] * w[1]


def rosenbrock(w: Any) -> Any:
    """L(w) = (1 − w1)² + 100·(w2 − w1²)²; ∇L = (−2(1 − w1) − 400·w1(w2 − w1²),
    200·(w2 − w1²)). Works on Tensors and on arrays whose first axis holds (w1, w2)."""
    a = 1.0 - w[0]
    b = w[1] - w[0] * w[0]
    return a * a + 100.0 * b * b


#: surface -> its loss, formula, start, minimum, steps, view box (w1 range, w2 range) and
#: each optimiser's hyperparameters there (step sizes that suit the surface's scale)
SURFACES: dict[str, dict[str, Any]] = {
    "ravine": {
        "loss": ravine, "formula": "L(w) = 0.05 w1² + 2 w2²", "start": (-7.0, 2.0),
        "minimum": (0.0, 0.0), "steps": 50, "box": ((-8.0, 2.0), (-3.0, 3.0)),
        "settings": {"SGD": {"lr": 0.4}, "momentum": {"lr": 0.05, "momentum": 0.9},
                     "Nesterov": {"lr": 0.05, "momentum": 0.9, "nesterov": True},
                     "Adagrad": {"lr": 1.0}, "RMSprop": {"lr": 0.1}, "Adam": {"lr": 0.2}},
    },
    "rosenbrock": {
        "loss": rosenbrock, "formula": "L(w) = (1 − w1)² + 100 (w2 − w1²)²",
        "start": (-1.5, 2.0), "minimum": (1.0, 1.0), "steps": 500,
        "box": ((-2.0, 2.0), (-1.0, 3.0)),
        "settings": {"SGD": {"lr": 1e-3}, "momentum": {"lr": 1e-3, "momentum": 0.9},
                     "Nesterov": {"lr": 1e-3, "momentum": 0.9, "nesterov": True},
                     "Adagrad": {"lr": 0.5}, "RMSprop": {"lr": 0.01}, "Adam": {"lr": 0.1}},
    },
}

#: label -> the nerve.optim class that runs it (momentum and Nesterov are SGD's options)
OPTIMIZERS = {"SGD": "SGD", "momentum": "SGD", "Nesterov": "SGD", "Adagrad": "Adagrad",
              "RMSprop": "RMSprop", "Adam": "Adam"}


def _describe(settings: dict[str, Any]) -> str:
    """'lr 0.05, β 0.9' for the table and the legend."""
    parts = [f"lr {settings['lr']:g}"]
    if "momentum" in settings:
        parts.append(f"μ {settings['momentum']:g}")
    return ", ".join(parts)


def trajectory(loss: Callable[[Any], Any], start: tuple[float, float], name: str,
               settings: dict[str, Any], steps: int) -> np.ndarray:
    """The points w₀ … w_steps that ``nerve.optim.<name>(**settings)`` visits minimising
    ``loss`` from ``start`` (float64), shape (steps + 1, 2)."""
    import nerve as nv
    from .. import optim
    w = nv.tensor(np.array(start, dtype=np.float64), dtype=nv.float64, requires_grad=True)
    optimizer = getattr(optim, name)([w], **settings)
    path = np.empty((steps + 1, 2))
    path[0] = w.data
    for i in range(steps):
        optimizer.zero_grad()
        loss(w).backward()
        optimizer.step()
        path[i + 1] = w.data
    return path


def run(out: str | os.PathLike | None = None, stream: TextIO | None = None,
        surfaces: tuple[str, ...] = ("ravine", "rosenbrock")) -> dict[str, Any]:
    """Run every optimiser of :data:`OPTIMIZERS` on each surface of :data:`SURFACES`
    (same start, same number of steps), print each one's final w and loss, and with
    ``out`` write ``optimizers.png`` (the trajectories over the loss's contour lines,
    one panel per surface). Returns ``{surface: {optimizer: {"path": (steps + 1, 2)
    array, "final_loss": float, "settings": dict}}}``.
    """
    stream = stream_or_stdout(stream)
    unknown = [s for s in surfaces if s not in SURFACES]
    if unknown or not surfaces:
        raise ValueError(f"unknown surface(s) {unknown or list(surfaces)}; valid surfaces: "
                         f"{', '.join(SURFACES)}")
    stream.write("Optimisers on 2-D loss surfaces: nerve.optim moving w = (w1, w2) downhill, "
                 "the same start\nand the same number of steps for each.\n")
    results: dict[str, Any] = {}
    for surface in surfaces:
        spec = SURFACES[surface]
        stream.write(f"\n{surface}: {spec['formula']}, minimum {spec['loss'](spec['minimum']):g} "
                     f"at {spec['minimum']}; start {spec['start']}, {spec['steps']} steps\n")
        stream.write(f"  {'optimizer':<26}{'final w':>20}{'final loss':>14}\n")
        results[surface] = {}
        for label, name in OPTIMIZERS.items():
            settings = spec["settings"][label]
            path = trajectory(spec["loss"], spec["start"], name, settings, spec["steps"])
            final = float(spec["loss"](path[-1]))
            results[surface][label] = {"path": path, "final_loss": final,
                                       "settings": dict(settings)}
            where = f"({path[-1, 0]:.3f}, {path[-1, 1]:.3f})"
            stream.write(f"  {label + ' (' + _describe(settings) + ')':<26}{where:>20}"
                         f"{final:>14.4g}\n")
    stream.write("\nRavine: SGD's step must stay below 2/4 for the steep w2 direction, so "
                 "it zig-zags across and crawls\nalong the flat floor; momentum and Nesterov "
                 "gather speed along it; Adagrad, RMSprop and Adam\ndivide each coordinate "
                 "by its own gradient scale, which evens out the two curvatures.\n"
                 "Rosenbrock: with the same lr, momentum and Nesterov run down the curved "
                 "valley while plain SGD\nis still near its entrance; Adagrad's steps "
                 "shrink as its sum of squared gradients grows.\n")
    save_figure(out, "optimizers.png", lambda path: plot_trajectories(results, path), stream)
    return results


def plot_trajectories(results: dict[str, Any], path: str | os.PathLike | None = None) -> Any:
    """The trajectories of :func:`run`'s ``results`` over each surface's contour lines
    (log-spaced levels), one panel per surface, each path's end a large dot; returns
    the matplotlib Figure."""
    from ..plot import _figure, _finish, _out_path
    path = _out_path(path)
    fig = _figure(6.0 * len(results), 5.0)
    axes = np.atleast_1d(fig.subplots(1, len(results)))
    for ax, (surface, runs) in zip(axes, results.items()):
        spec = SURFACES[surface]
        (x0, x1), (y0, y1) = spec["box"]
        g1, g2 = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
        values = spec["loss"](np.stack([g1, g2]))
        low = max(float(values.min()), 1e-3)
        levels = np.geomspace(low, float(values.max()), 18)
        ax.contour(g1, g2, values, levels=levels, colors="0.6", linewidths=0.7)
        for i, (label, run_) in enumerate(runs.items()):
            p = run_["path"]
            every = max(1, (len(p) - 1) // 40)  # at most ~40 markers a path
            z = 3.0 - 0.1 * i  # the first (slowest) optimisers on top where paths overlap
            ax.plot(p[:, 0], p[:, 1], ("-", "--")[i % 2], color=f"C{i}", lw=1.4, zorder=z,
                    label=f"{label} ({_describe(run_['settings'])}): "
                          f"L = {run_['final_loss']:.2g}")
            ax.plot(p[::every, 0], p[::every, 1], "o", color=f"C{i}", ms=2.5, zorder=z)
            ax.plot(*p[-1], "o", color=f"C{i}", ms=8, mec="k", zorder=4)  # where it ended
        ax.plot(*spec["start"], "ks", ms=6, label="start")
        ax.plot(*spec["minimum"], "k*", ms=12, label="minimum")
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_xlabel("w1")
        ax.set_ylabel("w2")
        ax.set_title(f"{surface}: {spec['formula']}, {spec['steps']} steps", fontsize=10)
        ax.legend(fontsize=7, loc="upper right" if surface == "ravine" else "lower right")
    return _finish(fig, path)
