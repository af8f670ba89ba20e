"""Reverse-mode automatic differentiation: the Function base, the backward driver, no_grad.

Every op is a gate: ``forward`` maps input arrays to an output array and remembers
what it needs; ``backward`` maps the upstream gradient dL/dout to one gradient per
input, local gradient × upstream gradient (the chain rule). The driver visits the
graph in reverse topological order, found with an explicit stack (no recursion, so
graphs of any depth work), and adds up gradients where a value fans out.
"""
from __future__ import annotations

import threading
import weakref
from contextvars import ContextVar
from heapq import heappop, heappush
from itertools import count
from typing import Any

import numpy as np

#: Whether new ops are recorded, per thread (and per asyncio task), as PyTorch's grad
#: mode is: a thread that runs inference under no_grad leaves a training thread
#: recording. A new thread starts with recording on.
_grad_mode = ContextVar("nerve_grad_enabled", default=True)
_grad_enabled = _grad_mode.get  # the hot paths call this bound method: one C call
_set_grad_mode = _grad_mode.set
_ndarray = np.ndarray
_PACKAGE = __name__.split(".")[0]  # "nerve": its own ops keep the engine's plain apply
_Tensor: Any = None  # set by nerve.tensor to break the import cycle
next_seq = count().__next__  # creation number of every tensor: a topological order
_new = object.__new__  # Tensor.__new__: makes a tensor without running __init__


def is_grad_enabled() -> bool:
    """Whether new ops are recorded in the graph (in this thread)."""
    return _grad_enabled()


class _GradMode:
    """Context manager (and decorator) that switches graph recording off or on, in the
    thread that enters it. One object may be entered in several threads at once (a
    module-level ``no_grad()``): each thread restores its own previous mode."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._prev = threading.local()  # per thread: the modes to restore, innermost last

    def _stack(self) -> list:
        stack = getattr(self._prev, "stack", None)
        if stack is None:
            stack = self._prev.stack = []
        return stack

    def __enter__(self):
        self._stack().append(_grad_enabled())
        _set_grad_mode(self.enabled)
        return self

    def __exit__(self, *exc):
        _set_grad_mode(self._stack().pop())
        return False

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with _GradMode(self.enabled):
                return func(*args, **kwargs)

        return wrapper


def no_grad(func=None):
    """``with nv.no_grad():`` records no graph (inference, optimizer updates). Also a
    decorator, with or without the parentheses (``@nv.no_grad``)."""
    if func is not None:
        if not callable(func):
            raise TypeError(f"no_grad takes no arguments (or decorates a function), got "
                            f"{func!r}")
        return _GradMode(False)(func)
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """``with nv.enable_grad():`` records the graph even inside ``no_grad``."""
    return _GradMode(True)


class set_grad_enabled(_GradMode):  # noqa: N801 - PyTorch's name
    """Record the graph or not, as PyTorch's: called alone, ``nv.set_grad_enabled(False)``
    switches recording off from then on (in this thread); as
    ``with nv.set_grad_enabled(training):`` it switches for the block and restores the
    previous mode after it."""

    def __init__(self, mode: bool):
        if mode is not True and mode is not False:
            raise TypeError(f"set_grad_enabled(mode) expects True or False, got {mode!r}")
        super().__init__(mode)
        self._before = _grad_enabled()
        _set_grad_mode(mode)

    def __enter__(self):
        self._stack().append(self._before)  # __exit__ restores the mode from before the call
        return self


def inference_mode(mode: bool = True) -> _GradMode:
    """PyTorch's inference-only context: here :func:`no_grad` (``mode=False``: record)."""
    if mode is not True and mode is not False:
        raise TypeError(f"inference_mode(mode) expects True or False, got {mode!r}")
    return _GradMode(not mode)


class Function:
    """One node type of the computational graph.

    Subclasses implement ``forward(*arrays) -> array`` (saving on ``self`` what
    backward needs) and ``backward(grad) -> tuple`` with one gradient (or None)
    per tensor input, each of that input's shape. A user's subclass may also be written
    in PyTorch's form (static methods taking ``ctx``): see :mod:`nerve.user_function`.
    """

    __slots__ = ("parents", "__dict__")
    # True where backward's gradient provably has the input's shape (one-input
    # elementwise ops): the backward driver then skips its shape check.
    keeps_shape = False
    # The name draw_graph shows: the class name unless an op sets its own (a fused node).
    op = None

    def forward(self, *arrays: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *tensors, **options):
        """Run the op on tensors; record it in the graph if any input needs a gradient."""
        return apply_node(cls(**options) if options else cls(), tensors)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.split(".")[0] != _PACKAGE:  # a user's op: checked, both forms
            from . import user_function

            user_function.install(cls)

    def save_for_backward(self, *tensors) -> None:
        """PyTorch's ``ctx.save_for_backward``: read them back as ``ctx.saved_tensors``."""
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *args) -> None:
        """Accepted for PyTorch's sake (nerve's Functions have one output)."""

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for PyTorch's sake (the upstream gradient is always an array)."""


def apply_node(fn: Function, tensors):
    """``type(fn).apply(*tensors)`` for a node ``fn`` that is already made (no options to pass)."""
    try:
        if len(tensors) == 1:
            out = fn.forward(tensors[0].data)
        else:
            out = fn.forward(*[t.data for t in tensors])
    except ValueError as exc:
        shapes = " and ".join(str(t.data.shape) for t in tensors)
        if len(tensors) > 1 and "could not be broadcast together with shapes" in str(exc):
            try:  # NumPy's words, said plainly, when the inputs' own shapes are the cause
                np.broadcast_shapes(*[t.data.shape for t in tensors])
            except ValueError:
                raise ValueError(f"{type(fn).__name__}: shapes {shapes} cannot be broadcast "
                                 "together (each trailing dimension must be equal or 1)") from None
        raise ValueError(f"{type(fn).__name__} on input shapes {shapes}: {exc}") from None
    if type(out) is not _ndarray:  # NumPy gives scalars for 0-d results; t.data is an array
        out = np.asarray(out)
    result = _new(_Tensor)
    result.data = out
    result.grad = None
    result._retain = False
    if _grad_enabled():
        for t in tensors:
            if t.requires_grad:
                fn.parents = tensors
                if _changed:
                    fn.versions = _versions(tensors)
                result.requires_grad = True
                result._ctx = fn
                result._seq = next_seq()  # only graph nodes are ordered by it
                return result
    result.requires_grad = False
    result._ctx = None
    result._seq = 0
    return result


def apply1(fn: Function, x):
    """``type(fn).apply(x)`` for a one-input op whose node ``fn`` is already made.

    The Tensor methods' fast path: the same result and graph as ``apply``, without
    packing arguments or keyword options (most ops of a model take one input).
    """
    try:
        out = fn.forward(x.data)
    except ValueError as exc:
        raise ValueError(f"{type(fn).__name__} on input shapes {x.data.shape}: {exc}") from None
    if type(out) is not _ndarray:  # as in apply_node
        out = np.asarray(out)
    result = _new(_Tensor)
    result.data = out
    result.grad = None
    result._retain = False
    if x.requires_grad and _grad_enabled():
        fn.parents = (x,)
        if _changed:
            fn.versions = _versions(fn.parents)
        result.requires_grad = True
        result._ctx = fn
        result._seq = next_seq()
    else:
        result.requires_grad = False
        result._ctx = None
        result._seq = 0
    return result


# ----------------------------------------------------------- in-place changes
#: id(tensor) -> how many times it was changed in place, for the tensors that ever were
#: (an entry leaves with its tensor). Empty in a program without in-place ops, so the
#: graph pays one dict check per op for the bookkeeping below.
_changed: dict[int, int] = {}


def track(table: dict, obj, first) -> int:
    """``id(obj)`` as a key of ``table`` that leaves with ``obj`` (ids are reused once an
    object is gone); a new entry starts at ``first``."""
    key = id(obj)
    if key not in table:
        weakref.finalize(obj, table.pop, key, None)
        table[key] = first
    return key


def mark_changed(t) -> None:
    """Count one in-place change of ``t`` (``t += x``, ``t[i] = v``, ``t.zero_()``...)."""
    _changed[track(_changed, t, 0)] += 1


def _version(t) -> int:
    """How many in-place changes ``t`` has seen: its own, plus its base's for a view (a
    change of ``w`` also changes ``w.detach()`` and ``w[0]``, which share its memory)."""
    count = _changed.get(id(t), 0)
    ref = getattr(t, "_base", None)
    if ref is not None:
        base = ref()
        if base is not None:
            count += _changed.get(id(base), 0)
    return count


def _versions(tensors) -> tuple:
    return tuple(_version(t) for t in tensors)


#: The creation number last given to parameters that an optimizer step or
#: load_state_dict changed (0: none yet). Only the graph nodes made before it need
#: :func:`_check_not_updated` at backward.
_updated = 0


def mark_updated(params) -> None:
    """Record that ``params`` (leaves) were changed in place by an optimizer step or
    ``load_state_dict``: each gets a new creation number, newer than every op recorded so
    far, so a backward through one of those ops (a kept graph, ``retain_graph=True``)
    refuses the stale values, as PyTorch's version check does. This costs one number per
    parameter, and nothing per op (unlike :func:`mark_changed`'s version bookkeeping);
    a leaf's creation number orders nothing else."""
    global _updated
    _updated = seq = next_seq()
    for p in params:
        p._seq = seq


def _check_not_updated(node, ctx, parents) -> None:
    """Refuse a backward through an op recorded before an optimizer step (or a
    load_state_dict) changed one of its parameters: the op may have kept the old values.
    (Stricter than PyTorch, which refuses only where the op saved that very tensor.)"""
    made = node._seq
    for i, p in enumerate(parents):
        if p._ctx is None and p.requires_grad and p._seq > made:
            raise RuntimeError(
                f"a parameter of shape {p.data.shape} used by {ctx.op or type(ctx).__name__} "
                f"(its input {i}) was changed in place by an optimizer step or "
                "load_state_dict after the op recorded it, so its gradient could be wrong; "
                "call backward() before optimizer.step(), or run the forward pass again "
                "after the step")


def _check_unchanged(node, ctx, parents) -> None:
    """Refuse a backward through an op whose input (or output) was changed in place after
    the op recorded it: its saved values no longer match (PyTorch's version check)."""
    saved = getattr(ctx, "versions", None) or (0,) * len(parents)
    for i, (p, then) in enumerate(zip(parents, saved)):
        if _version(p) != then:
            raise RuntimeError(
                f"a tensor of shape {p.data.shape} used by {type(ctx).__name__} (its input "
                f"{i}) was changed in place after the op recorded it, so its gradient would "
                "be wrong; change a copy instead (t = t + x, or t.clone()), or do the "
                "in-place change after backward()")
    if _version(node):
        raise RuntimeError(
            f"the output of {type(ctx).__name__} (shape {node.data.shape}) was changed in "
            "place after the op made it, so the gradient through it would be wrong; change "
            "a copy instead (t.clone()), or do the in-place change after backward()")


class _Freed:
    """Stands in for an op whose saved arrays a backward pass released.

    It keeps the op's name and inputs, so the graph can still be drawn, but a
    second backward through it is an error. Once the backward is over, an input that
    some op made (an intermediate result), or a constant, of RELEASE_BYTES or more is
    kept only as a :class:`_Ghost`, so that holding on to a loss after ``backward()``
    does not hold every activation of the forward pass (PyTorch's nodes, too, keep no
    outputs).
    """

    __slots__ = ("op", "_parents")

    def __init__(self, op: str, parents: tuple):
        self.op = op
        self._parents = parents

    @property
    def parents(self) -> tuple:
        """The op's inputs: each tensor itself while it is alive, else its ghost."""
        ps = self._parents
        if _Ghost not in map(type, ps):
            return ps
        return tuple(p.tensor() if type(p) is _Ghost else p for p in ps)


class _Ghost:
    """An intermediate result (or a constant) as a freed op remembers it: a weak reference
    to the tensor, and what draw_graph shows once the tensor is gone (the op that made
    it, its shape and dtype; ``data`` is a broadcast zero of that shape, taking no memory)."""

    __slots__ = ("ref", "_ctx", "shape", "dtype", "requires_grad", "_seq")
    grad = None
    _retain = False

    def __init__(self, t):
        self.ref = weakref.ref(t)
        self._ctx = t._ctx
        data = t.data
        self.shape, self.dtype = data.shape, data.dtype
        self.requires_grad, self._seq = t.requires_grad, t._seq

    @property
    def data(self) -> np.ndarray:
        return np.broadcast_to(np.zeros((), self.dtype), self.shape)

    @property
    def op(self) -> str:
        ctx = self._ctx
        if ctx is None:  # a constant (an input, a dropout mask)
            return ""
        return getattr(ctx, "op", None) or type(ctx).__name__

    def tensor(self):
        """The tensor while someone still holds it, else this ghost."""
        t = self.ref()
        return self if t is None else t


#: Intermediate results (and constants) smaller than this stay in a freed graph as they
#: are: they cost little, and draw_graph shows the values of the smallest (the course's
#: circuits are scalars). A check of this size per visited node decides whether a
#: backward looks for anything to release at all.
RELEASE_BYTES = 4096


def _release_intermediates(root) -> None:
    """After a backward without ``retain_graph``: walk the freed ops from ``root`` and
    replace, in each, every input that an op made or that is a constant (not a leaf that
    needs a gradient: a parameter stays itself), of RELEASE_BYTES or more and without
    retain_grad(), by its ghost (one per tensor, shared by all its consumers). Those
    nothing else holds are then freed with their arrays; the graph stays drawable."""
    ghosts: dict = {}
    seen: set = set()
    stack = [root._ctx]
    while stack:
        dead = stack.pop()
        if id(dead) in seen:
            continue
        seen.add(id(dead))
        ps = dead._parents
        new, changed = [], False
        for p in ps:
            ctx = p._ctx
            if type(ctx) is _Freed:
                stack.append(ctx)
            if type(p) is not _Ghost and (ctx is not None or not p.requires_grad) \
                    and p.data.nbytes >= RELEASE_BYTES and not p._retain:
                g = ghosts.get(id(p))
                if g is None:
                    g = ghosts[id(p)] = _Ghost(p)
                p, changed = g, True
            new.append(p)
        if changed:
            dead._parents = tuple(new)


def backward(root, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Backpropagate ``grad`` (dL/droot) to every leaf of root's graph.

    Nodes are visited in reverse topological order: every tensor carries its
    creation number, and a tensor is always created after its inputs, so taking
    nodes from a heap, newest first, visits each one only after all the nodes that
    consumed it have passed their gradient back (no recursion, deterministic).
    Shortcut, same order: when an op has one input and that input is newer than
    every pending node, it is the next node anyway, so a chain skips the heap.
    Gradients add up, out of place, where a value fans out. Leaves (tensors no op
    made, such as parameters) accumulate each contribution into ``.grad`` as it
    arrives (out of place, except into a parameter's flat gradient buffer, see
    ``nerve.optim.flat``); intermediate results keep theirs only after ``retain_grad()``.
    Unless ``retain_graph`` is set, the saved arrays of each op are freed as it goes.
    """
    handed_out: dict = {}  # id of the memory's owner -> the arrays stored in a .grad
    if root._ctx is None:  # backward on a leaf: its gradient is the upstream one
        _store_grad(root, grad, handed_out)
        return
    grads: dict = {}  # id(node) -> its gradient so far, for every node on the heap
    heap: list = []  # (-creation number, node) of the nodes waiting for their turn
    pop, push, freed, new = heappop, heappush, _Freed, _new  # locals: the loop runs per node
    updated = _updated
    big, release_bytes = False, RELEASE_BYTES  # big: an intermediate that size was freed
    node, g = root, grad
    while True:
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
        if _changed:
            _check_unchanged(node, ctx, parents)
        if node._seq < updated:  # recorded before the latest optimizer step or load
            _check_not_updated(node, ctx, parents)
        input_grads = ctx.backward(g)
        if not retain_graph:  # drop the saved arrays, keep the op's name and inputs
            dead = node._ctx = new(freed)  # _Freed(name, parents) without the __init__ call
            dead.op = ctx.op or op.__name__
            dead._parents = parents
            if not big and g.nbytes >= release_bytes:  # g has the node's shape
                big = True
        if len(parents) == 1 and input_grads:
            parent, pg = parents[0], input_grads[0]
            # The input is newer than every pending node: any consumer of it still
            # unvisited would be newer yet and lie behind a pending node at least as
            # new, so there is none. Its gradient is complete, it is not on the heap,
            # and the heap would hand it out next anyway: go straight to it.
            if pg is not None and parent.requires_grad and parent._ctx is not None \
                    and (not heap or parent._seq > -heap[0][0]):
                if not op.keeps_shape and pg.shape != parent.data.shape:
                    raise _shape_error(op, pg, parent)
                node, g = parent, pg
                continue
        for parent, pg in zip(parents, input_grads):
            if pg is None or not parent.requires_grad:
                continue
            if not op.keeps_shape and pg.shape != parent.data.shape:
                raise _shape_error(op, pg, parent)
            if parent._ctx is None:  # a leaf: nothing flows further, store it now
                _store_grad(parent, pg, handed_out)
                continue
            key = id(parent)
            prev = grads.get(key)
            if prev is None:
                grads[key] = pg
                push(heap, (-parent._seq, parent))
            else:
                pg = prev + pg  # out of place: pg may be shared with a sibling
                grads[key] = pg if type(pg) is _ndarray else np.asarray(pg)  # 0-d: a scalar
        if not heap:
            if big:
                _release_intermediates(root)
            return
        node = pop(heap)[1]
        g = grads.pop(id(node))


def _shape_error(op: type, pg: np.ndarray, parent) -> RuntimeError:
    return RuntimeError(f"{op.__name__}.backward returned a gradient of shape {pg.shape} "
                        f"for an input of shape {parent.data.shape}")


def _store_grad(node, g: np.ndarray, handed_out: dict) -> None:
    if g.dtype != node.data.dtype or not g.flags.writeable:
        g = np.array(g, dtype=node.data.dtype)  # a broadcast view or another dtype
    if node.grad is None:
        # The same memory may reach two leaves (an add passes its gradient to both, maybe
        # through a transpose or reshape view): the second gets a copy, so that changing
        # one .grad in place (clipping, say) never changes the other.
        owner = g
        while type(owner.base) is _ndarray:
            owner = owner.base
        stored = handed_out.get(id(owner))
        if stored is None:
            handed_out[id(owner)] = [g]
        elif any(np.may_share_memory(g, other) for other in stored):
            g = g.copy()
            handed_out[id(g)] = [g]
        else:
            stored.append(g)
        node.grad = g
    else:
        grad = node.grad
        if grad is getattr(node, "_grad_buffer", None):
            # its optimizer's flat gradient (nerve.optim.flat): add in place (the same
            # bits as grad + g), so .grad stays that view and the step copies nothing
            np.add(grad, g, out=grad)
        else:
            grad = grad + g  # out of place: an array the user holds is never changed
            node.grad = grad if type(grad) is _ndarray else np.asarray(grad)  # 0-d: a scalar
