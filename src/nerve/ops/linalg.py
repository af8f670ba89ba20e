"""Matrix products: matmul and the fused affine map of a Linear layer."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..optim.flat import grad_buffer
from ._util import unbroadcast


class MatMul(Function):
    """Y = A @ B;  dL/dA = G @ Bᵀ, dL/dB = Aᵀ @ G (1-D and batched operands as in NumPy)."""

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul needs tensors with at least one dimension, "
                             f"got shapes {a.shape} and {b.shape}; use * for scalars")
        inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if a.shape[-1] != inner_b:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: "
                             f"{a.shape[-1]} (last dim of the first) != {inner_b} "
                             f"({'first' if b.ndim == 1 else 'second-to-last'} dim of the second)")
        self.a, self.b = a, b
        return a @ b

    def backward(self, g):
        a, b = self.a, self.b
        if a.ndim == 2 and b.ndim == 2:
            return g @ b.T, a.T @ g
        if a.ndim == 1 and b.ndim == 1:  # dot product: g is a scalar
            return g * b, g * a
        a2 = a if a.ndim > 1 else a[None, :]
        b2 = b if b.ndim > 1 else b[:, None]
        g2 = g
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        ga = g2 @ np.swapaxes(b2, -1, -2)
        gb = np.swapaxes(a2, -1, -2) @ g2
        if a.ndim == 1:
            ga = ga.squeeze(-2)
        if b.ndim == 1:
            gb = gb.squeeze(-1)
        return unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)


class Linear(Function):
    """Y = X @ W + b for X (N, in), W (in, out), b (out,) — the lectures' X·W;
    dX = G @ Wᵀ, dW = Xᵀ @ G, db = Σₙ G (three matrix products, one fused node)."""

    def forward(self, x, w, b=None):
        if x.ndim != 2 or x.shape[1] != w.shape[0]:
            raise ValueError(f"linear: input of shape {x.shape} does not match weight of shape "
                             f"{w.shape}; expected (N, {w.shape[0]})")
        self.x, self.w = x, w
        y = x @ w
        if b is not None:
            y += b
        return y

    def backward(self, g):
        x, w = self.x, self.w
        parents = self.parents
        gx = g @ w.T if parents[0].requires_grad else None
        # dW (and db) go straight into the parameters' gradient buffers when they have them.
        gw = np.matmul(x.T, g, out=grad_buffer(parents[1], w.shape, w.dtype))
        if len(parents) == 3:
            b = parents[2]
            return gx, gw, np.add.reduce(g, axis=0, out=grad_buffer(b, b.data.shape, g.dtype))
        return gx, gw
