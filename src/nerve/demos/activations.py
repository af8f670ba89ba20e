"""Demo: the activation functions and their derivatives, as a table and a plot."""
from __future__ import annotations

import os
from typing import Any, TextIO

import numpy as np

from ._common import save_figure, stream_or_stdout

#: The points of the table.
POINTS = (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0)


def activations(out: str | os.PathLike | None = None, stream: TextIO | None = None
                ) -> dict[str, Any]:
    """Print f(x) and f'(x) of every elementwise nerve activation at :data:`POINTS`.

    The values come from :mod:`nerve.nn.derivatives` (leaky ReLU with alpha = 0.01,
    ELU with alpha = 1). With ``out``, also writes ``activations.png`` there.
    Returns ``{name: {"f": [...], "df": [...]}}``.
    """
    from ..nn import derivatives as D
    from ..plot import ACTIVATION_NAMES, plot_activations
    stream = stream_or_stdout(stream)
    x = np.array(POINTS)
    header = "x".rjust(16) + "".join(f"{p:>8.1f}" for p in POINTS)
    stream.write("Activation functions f(x) and their derivatives f'(x)\n\n" + header + "\n")
    results: dict[str, Any] = {}
    for name in ACTIVATION_NAMES:
        f, df = D.FUNCTIONS[name](x), D.DERIVATIVES[name](x)
        results[name] = {"f": f.tolist(), "df": df.tolist()}
        stream.write(f"{name:>14}  " + "".join(f"{v:8.3f}" for v in f) + "\n")
        stream.write(f"{name + chr(39):>14}  " + "".join(f"{v:8.3f}" for v in df) + "\n")
    stream.write("\nNotes: sigmoid' peaks at 0.25 and vanishes for large |x| (saturation); "
                 "relu'(0) = 0 by convention;\nstep' = 0 everywhere, so a step network "
                 "cannot learn by gradient descent.\n")
    if out is not None:
        stream.write("The figure draws leaky ReLU with α = 0.1 (written on it), so that its "
                     "slope shows.\n")
    save_figure(out, "activations.png", lambda path: plot_activations(path=path), stream)
    return results
