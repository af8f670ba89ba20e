"""Demo: the lectures' worked backpropagation examples, computed by nerve's autograd."""
from __future__ import annotations

import os
from typing import Any, TextIO

from ._common import save_figure, stream_or_stdout


def _add_mul(stream: TextIO) -> tuple[dict[str, float], Any, dict]:
    """f(x, y, z) = (x + y)·z at x = -2, y = 5, z = -4."""
    import nerve as nv
    x = nv.tensor(-2.0, dtype=nv.float64, requires_grad=True)
    y = nv.tensor(5.0, dtype=nv.float64, requires_grad=True)
    z = nv.tensor(-4.0, dtype=nv.float64, requires_grad=True)
    q = (x + y).retain_grad()
    f = q * z
    f.backward()
    r = {"q": q.item(), "f": f.item(), "dq": float(q.grad), "dx": float(x.grad),
         "dy": float(y.grad), "dz": float(z.grad)}
    stream.write(
        "1. f(x, y, z) = (x + y) * z  at x = -2, y = 5, z = -4\n"
        f"   forward:  q = x + y = {r['q']:g};  f = q * z = {r['f']:g}\n"
        f"   backward: df/dq = z = {r['dq']:g};  df/dz = q = {r['dz']:g}\n"
        f"             df/dx = df/dq * dq/dx = {r['dq']:g} * 1 = {r['dx']:g};  "
        f"df/dy = {r['dy']:g}\n\n")
    return r, f, {x: "x", y: "y", z: "z", q: "q", f: "f"}


def _sigmoid_neuron(stream: TextIO) -> tuple[dict[str, Any], Any, dict]:
    """f(w, x) = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) at w = [2, -3, -3], x = [-1, -2]."""
    import nerve as nv
    w = nv.tensor([2.0, -3.0, -3.0], dtype=nv.float64, requires_grad=True)
    x = nv.tensor([-1.0, -2.0], dtype=nv.float64, requires_grad=True)
    dot = ((w[:2] * x).sum() + w[2]).retain_grad()        # the neuron's input, 1.0
    neg = (dot * -1.0).retain_grad()                       # the lecture's gates: *-1,
    e = neg.exp().retain_grad()                            # exp,
    den = (e + 1.0).retain_grad()                          # +1,
    f = 1.0 / den                                          # 1/x
    f.backward()
    r = {"dot": dot.item(), "f": f.item(), "dw": w.grad.tolist(), "dx": x.grad.tolist(),
         "ddot": float(dot.grad), "gates": [(t, v.item(), float(v.grad)) for t, v in
                                           (("-dot", neg), ("exp", e), ("1 + exp", den))]}
    stream.write(
        "2. The sigmoid neuron f = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))\n"
        "   at w = [2, -3, -3], x = [-1, -2]\n"
        f"   forward:  w.x + b = {r['dot']:g};  f = sigmoid(1) = {r['f']:.4f}\n"
        "   backward gate by gate (value, gradient):\n")
    for name, value, grad in reversed(r["gates"]):
        stream.write(f"     {name:>8}: value {value:8.4f}   grad {grad:8.4f}\n")
    stream.write(
        f"   local shortcut: dsigma/ddot = (1 - f) * f = {r['ddot']:.4f}\n"
        f"   dw = [{', '.join(f'{g:.2f}' for g in r['dw'])}]  (x0, x1, 1 times {r['ddot']:.2f})\n"
        f"   dx = [{', '.join(f'{g:.2f}' for g in r['dx'])}]  (w0, w1 times {r['ddot']:.2f})\n\n")
    return r, f, {w: "w", x: "x", dot: "w.x+b", neg: "-(w.x+b)", e: "exp", den: "1+exp",
                  f: "f"}


def backprop(out: str | os.PathLike | None = None, stream: TextIO | None = None
             ) -> dict[str, Any]:
    """Print the two worked examples with every intermediate value and gradient.

    1. f = (x + y)·z at x=-2, y=5, z=-4: f = -12, df/dx = df/dy = -4, df/dz = 3.
    2. the sigmoid neuron w=[2,-3,-3], x=[-1,-2]: f = 0.73, dw = [-0.20, -0.39, 0.20],
       dx = [0.39, -0.59].

    Intermediates keep their gradients with ``t.retain_grad()``. With ``out``, the
    two graphs are written as SVG (``nv.draw_graph``). Returns the numbers.
    """
    from ..graph import draw_graph
    stream = stream_or_stdout(stream)
    stream.write("Backpropagation: the chain rule, one gate at a time\n\n")
    first, f1, names1 = _add_mul(stream)
    second, f2, names2 = _sigmoid_neuron(stream)
    if out is not None:
        os.makedirs(out, exist_ok=True)
        for filename, root, names in (("backprop_add_mul.svg", f1, names1),
                                      ("backprop_sigmoid_neuron.svg", f2, names2)):
            save_figure(out, filename,
                        lambda path, r=root, n=names: draw_graph(r, path, format="svg", names=n),
                        stream)
    return {"add_mul": first, "sigmoid_neuron": second}
