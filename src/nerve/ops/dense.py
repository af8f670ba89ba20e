"""A run of dense layers as one graph node: Linear layers and elementwise activations.

``nn.Sequential`` records its Linear/activation stack as this single node instead of
one node per layer. The arithmetic is the same NumPy calls as the separate ops, in
the same order, so values and gradients are bitwise those of the unfused graph; what
goes away is the per-layer bookkeeping (a tensor, a graph node and a backward-driver
visit per layer), which dominates the step time of small networks.
"""
from __future__ import annotations

import numpy as np

from .. import autograd
from ..autograd import Function
from ..optim.flat import grad_buffer
from ._util import zero

#: The steps of a chain: LINEAR (x W), AFFINE (x W + b), RELU, or an activation op
#: class of nerve.ops.activation, or a (op class, layer) pair whose op takes the
#: layer's ``alpha`` (read at every forward, so changing it takes effect).
LINEAR, AFFINE, RELU = 0, 1, 2


class DenseChain(Function):
    """h₀ = x; each step is hₖ = hₖ₋₁ W + b (Linear) or hₖ = f(hₖ₋₁) (activation).

    Backward walks the steps in reverse with G = dL/dhₖ: a Linear step gives
    dW = hₖ₋₁ᵀ G, db = Σₙ G and passes G Wᵀ on; an activation passes f'(hₖ₋₁)·G on
    (ReLU: G·1[hₖ₋₁ > 0]; the others through their own op's backward). Inputs: x, then
    each Linear's W (and b) in order. ``buffers=False`` when a parameter occurs twice.
    """

    def __init__(self, steps: tuple, name: str, buffers: bool = True):
        self.steps, self.op, self.buffers = steps, name, buffers

    def forward(self, x, *params):
        saved = []
        keep = autograd._grad_enabled()  # under no_grad nothing is kept for backward
        h, k, fresh = x, 0, False  # fresh: h is an array this chain made (safe to overwrite)
        z = zero(x.dtype)
        for step in self.steps:
            if step is AFFINE:
                w = params[k]
                saved.append((h, w))
                h = h @ w
                h += params[k + 1]
                k += 2
                fresh = True
            elif step is LINEAR:
                w = params[k]
                saved.append((h, w))
                h = h @ w
                k += 1
                fresh = True
            elif step is RELU:
                saved.append(h > z if keep else None)
                h = np.maximum(h, z, out=h) if fresh else np.maximum(h, z)
                fresh = True
            else:
                op = step[0](alpha=step[1].alpha) if type(step) is tuple else step()
                h = op.forward(h)
                saved.append(op)
                fresh = False  # the op may keep its output (tanh, sigmoid)
        self.saved = saved
        return h

    def backward(self, g):
        parents = self.parents
        grads = [None] * len(parents)
        k = len(parents)
        steps, saved = self.steps, self.saved
        # Where a parameter has a free gradient buffer, dW/db go straight into it and
        # become its .grad here (what the driver would store); its entry stays None.
        bufs = _free_buffers(parents, g.dtype) if self.buffers else [None] * k
        fresh = False  # g is an array made here (safe to overwrite)
        for i in range(len(steps) - 1, -1, -1):
            step = steps[i]
            if step is AFFINE or step is LINEAR:
                # (a .grad already set here: the parameter occurs twice, as tied weights
                # of two layers; this use goes to the driver, which adds it in)
                if step is AFFINE:
                    k -= 1
                    buf = bufs[k]
                    if buf is None or parents[k].grad is not None:
                        grads[k] = np.add.reduce(g, 0)
                    else:
                        parents[k].grad = np.add.reduce(g, 0, None, buf)
                k -= 1
                h, w = saved[i]
                buf = bufs[k]
                if buf is None or parents[k].grad is not None:
                    grads[k] = h.T @ g
                else:
                    parents[k].grad = np.matmul(h.T, g, out=buf)
                if i == 0 and not parents[0].requires_grad:
                    return tuple(grads)
                g = g @ w.T
                fresh = True
            elif step is RELU:
                g = np.multiply(g, saved[i], out=g) if fresh else g * saved[i]
                fresh = True
            else:
                g = saved[i].backward(g)[0]
                fresh = True
        grads[0] = g
        return tuple(grads)


def _free_buffers(params, dtype) -> list:
    """Per input, the gradient buffer (nerve.optim.flat) backward may write into and
    store as its ``.grad``: a leaf that needs a gradient, has none yet, and a buffer
    that fits. None for the input x and other tensors."""
    bufs = [None]  # x: its gradient goes back to the driver
    for i in range(1, len(params)):
        p = params[i]
        buf = None
        if p._ctx is None and p.requires_grad:
            buf = grad_buffer(p, p.data.shape, dtype)
        bufs.append(buf)
    return bufs
