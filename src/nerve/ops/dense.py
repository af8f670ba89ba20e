"""A run of dense layers as one graph node: Linear layers and elementwise activations.

``nn.Sequential`` records its Linear/activation stack as this single node instead of
one node per layer. The arithmetic is the same NumPy calls as the separate ops, in
the same order, so values and gradients are bitwise those of the unfused graph; what
goes away is the per-layer bookkeeping (a tensor, a graph node and a backward-driver
visit per layer), which dominates the step time of small networks.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..optim.flat import grad_buffer

#: A Linear step in ``steps``: True with a bias, False without. Any other step is an
#: activation op class (or a ``functools.partial`` of one) from nerve.ops.activation.
LINEAR_STEPS = (True, False)


class DenseChain(Function):
    """h₀ = x; each step is hₖ = hₖ₋₁ W + b (Linear) or hₖ = f(hₖ₋₁) (activation).

    Backward walks the steps in reverse with G = dL/dhₖ: a Linear step gives
    dW = hₖ₋₁ᵀ G, db = Σₙ G and passes G Wᵀ on; an activation passes f'(hₖ₋₁)·G on
    (its own op's backward). Inputs: x, then each Linear's W (and b) in order.
    """

    def __init__(self, steps: tuple, name: str):
        self.steps = steps
        self.op = name  # shown by draw_graph, e.g. "Linear→ReLU→Linear"

    def forward(self, x, *params):
        saved = []
        h, k = x, 0
        for step in self.steps:
            if step is True or step is False:
                w = params[k]
                saved.append((h, w))
                h = h @ w
                if step:
                    h += params[k + 1]
                    k += 2
                else:
                    k += 1
            else:
                op = step()
                h = op.forward(h)
                saved.append(op)
        self.saved = saved
        return h

    def backward(self, g):
        parents = self.parents
        grads = [None] * len(parents)
        k = len(parents)
        taken = set()  # a parameter used twice gets its buffer only once
        for i in range(len(self.steps) - 1, -1, -1):
            step, saved = self.steps[i], self.saved[i]
            if step is True or step is False:
                if step:
                    k -= 1
                    grads[k] = self._into_buffer(parents[k], np.add.reduce, g, (g, 0), taken)
                k -= 1
                h, w = saved
                grads[k] = self._into_buffer(parents[k], np.matmul, g, (h.T, g), taken)
                if i == 0 and not parents[0].requires_grad:
                    return tuple(grads)
                g = g @ w.T
            else:
                g = saved.backward(g)[0]
        grads[0] = g
        return tuple(grads)

    @staticmethod
    def _into_buffer(param, ufunc, g, args, taken):
        """``ufunc(*args)``, written into ``param``'s gradient buffer when it has a free one."""
        out = grad_buffer(param, param.data.shape, g.dtype)
        if out is not None:
            if id(out) in taken:
                out = None
            else:
                taken.add(id(out))
        return ufunc(*args, out=out)
