"""Demo: the CS231n spiral, a linear softmax classifier vs a 2-layer ReLU network."""
from __future__ import annotations

import os
from typing import Any, TextIO

from ._common import save_figure, stream_or_stdout


def spiral(out: str | os.PathLike | None = None, stream: TextIO | None = None, seed: int = 0,
           epochs: int = 200) -> dict[str, Any]:
    """Train on the 3-class spiral (100 points per class), full batch.

    The linear classifier s = Wx + b reaches only about 50% (no line separates the
    arms); a 2-layer network with 100 ReLU hidden units reaches about 98%. With
    ``out``, writes both decision boundaries. Returns the training accuracies.
    """
    import nerve as nv
    from .. import nn
    from ..data import spiral as spiral_data
    from ..plot import plot_decision_boundary
    from ..train import fit
    stream = stream_or_stdout(stream)
    X, y = spiral_data(100, 3, seed=seed)
    stream.write("The spiral: 3 classes x 100 points, not linearly separable\n\n")
    nv.manual_seed(seed)
    runs = {
        "linear": ("linear softmax  s = Wx + b", nn.Sequential(nn.Linear(2, 3)), "sgd", 1.0),
        "two_layer": ("2-layer net (100 ReLU units)  s = W2 max(0, W1 x + b1) + b2",
                      nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 3)),
                      "adam", 0.01),
    }
    results: dict[str, Any] = {}
    for key, (title, model, optimizer, lr) in runs.items():
        history = fit(model, X, y, loss="cross_entropy", optimizer=optimizer, lr=lr,
                      epochs=epochs, batch_size=len(X), progress=False, seed=seed)
        results[key] = {"accuracy": history.accuracy[-1], "loss": history.loss[-1]}
        stream.write(f"{title}\n    training accuracy {history.accuracy[-1]:.3f} "
                     f"(loss {history.loss[-1]:.3f}) after {epochs} full-batch steps\n")
        save_figure(out, f"spiral_{key}.png", lambda path, m=model, t=title:
                    plot_decision_boundary(m, X, y, path=path, title=t.split("  ")[0]), stream)
    return results
