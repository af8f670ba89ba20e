"""Reverse-mode automatic differentiation: the Function base, the backward driver, no_grad.

Every op is a gate: ``forward`` maps input arrays to an output array and remembers
what it needs; ``backward`` maps the upstream gradient dL/dout to one gradient per
input, local gradient × upstream gradient (the chain rule). The driver visits the
graph in reverse topological order, found with an explicit stack (no recursion, so
graphs of any depth work), and adds up gradients where a value fans out.
"""
from __future__ import annotations

from heapq import heappop, heappush
from itertools import count
from typing import Any

import numpy as np

_grad_enabled = True
_Tensor: Any = None  # set by nerve.tensor to break the import cycle
next_seq = count().__next__  # creation number of every tensor: a topological order


def is_grad_enabled() -> bool:
    """Whether new ops are recorded in the graph."""
    return _grad_enabled


class _GradMode:
    """Context manager (and decorator) that switches graph recording off or on."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.prev: list[bool] = []

    def __enter__(self):
        global _grad_enabled
        self.prev.append(_grad_enabled)
        _grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.prev.pop()
        return False

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with _GradMode(self.enabled):
                return func(*args, **kwargs)

        return wrapper


def no_grad() -> _GradMode:
    """``with nv.no_grad():`` records no graph (inference, optimizer updates)."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """``with nv.enable_grad():`` records the graph even inside ``no_grad``."""
    return _GradMode(True)


class Function:
    """One node type of the computational graph.

    Subclasses implement ``forward(*arrays) -> array`` (saving on ``self`` what
    backward needs) and ``backward(grad) -> tuple`` with one gradient (or None)
    per tensor input, each of that input's shape.
    """

    __slots__ = ("parents", "__dict__")

    def forward(self, *arrays: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *tensors, **options):
        """Run the op on tensors; record it in the graph if any input needs a gradient."""
        fn = cls(**options) if options else cls()
        try:
            if len(tensors) == 1:
                out = fn.forward(tensors[0].data)
            else:
                out = fn.forward(*[t.data for t in tensors])
        except ValueError as exc:
            shapes = " and ".join(str(t.data.shape) for t in tensors)
            raise ValueError(f"{cls.__name__} on input shapes {shapes}: {exc}") from None
        result = _Tensor.__new__(_Tensor)
        result.data = out
        result.grad = None
        result._retain = False
        if _grad_enabled:
            for t in tensors:
                if t.requires_grad:
                    fn.parents = tensors
                    result.requires_grad = True
                    result._ctx = fn
                    result._seq = next_seq()  # only graph nodes are ordered by it
                    return result
        result.requires_grad = False
        result._ctx = None
        result._seq = 0
        return result


class _Freed:
    """Stands in for an op whose saved arrays a backward pass released.

    It keeps the op's name and inputs, so the graph can still be drawn, but a
    second backward through it is an error.
    """

    __slots__ = ("op", "parents")

    def __init__(self, op: str, parents: tuple):
        self.op = op
        self.parents = parents


def backward(root, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Backpropagate ``grad`` (dL/droot) to every leaf of root's graph.

    Nodes are visited in reverse topological order: every tensor carries its
    creation number, and a tensor is always created after its inputs, so taking
    nodes from a heap, newest first, visits each one only after all the nodes that
    consumed it have passed their gradient back (no recursion, deterministic).
    Gradients add up, out of place, where a value fans out. Leaves (tensors no op
    made, such as parameters) accumulate each contribution into ``.grad`` as it
    arrives; intermediate results keep theirs only after ``retain_grad()``.
    Unless ``retain_graph`` is set, the saved arrays of each op are freed as it goes.
    """
    grads = {id(root): grad}
    heap = [(-root._seq, root)]
    handed_out: set = set()  # ids of arrays already stored in a leaf's .grad
    if root._ctx is None:  # backward on a leaf: its gradient is the upstream one
        _store_grad(root, grad, handed_out)
        return
    pop, push, freed = heappop, heappush, _Freed  # locals: this loop runs once per node
    while heap:
        node = pop(heap)[1]
        g = grads.pop(id(node))
        ctx = node._ctx
        if node._retain:
            _store_grad(node, g, handed_out)
        op = type(ctx)
        if op is freed:
            raise RuntimeError(
                f"backward through the graph a second time: the saved values of "
                f"{ctx.op} were freed by the first backward(); call "
                f"backward(retain_graph=True) the first time if you need a second pass"
            )
        parents = ctx.parents
        for parent, pg in zip(parents, ctx.backward(g)):
            if pg is None or not parent.requires_grad:
                continue
            if pg.shape != parent.data.shape:
                raise RuntimeError(
                    f"{op.__name__}.backward returned a gradient of shape {pg.shape} "
                    f"for an input of shape {parent.data.shape}"
                )
            if parent._ctx is None:  # a leaf: nothing flows further, store it now
                _store_grad(parent, pg, handed_out)
                continue
            key = id(parent)
            prev = grads.get(key)
            if prev is None:
                grads[key] = pg
                push(heap, (-parent._seq, parent))
            else:
                grads[key] = prev + pg  # out of place: pg may be shared with a sibling
        if not retain_graph:
            node._ctx = freed(op.__name__, parents)


def _store_grad(node, g: np.ndarray, handed_out: set) -> None:
    if g.dtype != node.data.dtype or not g.flags.writeable:
        g = np.array(g, dtype=node.data.dtype)  # a broadcast view or another dtype
    if node.grad is None:
        # The same array may reach two leaves (an add passes it to both): copy the second.
        node.grad = g.copy() if id(g) in handed_out else g
        handed_out.add(id(node.grad))
    else:
        node.grad = node.grad + g
