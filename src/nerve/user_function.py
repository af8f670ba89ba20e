"""Custom autograd functions written by users, in nerve's form or in PyTorch's ``ctx`` form.

nerve's form (the one nerve's own ops use): instance methods on NumPy arrays; forward
keeps on ``self`` what backward needs, backward returns one gradient per input::

    class Cube(nv.Function):                # y = x³,  dy/dx = 3x²
        def forward(self, x):
            self.x = x
            return x ** 3
        def backward(self, g):             # g = dL/dy
            return 3 * self.x ** 2 * g     # a tuple for several inputs (None: no gradient)

PyTorch's form (its "Defining new autograd Functions" tutorial runs as written):
static methods that take a context ``ctx`` and work on tensors::

    class Cube(nv.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3
        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * g

Either way ``Cube.apply(t)`` runs the op and records it in the graph. The classes nerve
defines itself are left as they are (their ``apply`` is the engine's hot path); only a
user's subclass gets the checks and conversions below, once, when the class is made.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import autograd

_MARK = "_nerve_user_function"


def install(cls: type) -> None:
    """Give a user's Function subclass its checked ``apply`` and (for the ctx form) the
    adapters between PyTorch's static methods and the engine's instance methods."""
    own = cls.__dict__
    ctx_form = isinstance(own.get("forward"), staticmethod) or \
        isinstance(own.get("backward"), staticmethod)
    if ctx_form:
        if not (isinstance(own.get("forward"), staticmethod)
                and isinstance(own.get("backward"), staticmethod)):
            raise TypeError(f"{cls.__name__}: in PyTorch's form both forward(ctx, ...) and "
                            "backward(ctx, grad) are @staticmethods; in nerve's form neither "
                            "is (forward(self, *arrays), backward(self, grad))")
        cls._user_forward = own["forward"]
        cls._user_backward = own["backward"]
        cls.forward = _ctx_forward
        cls.backward = _ctx_backward
        cls._ctx_form = True
    elif "backward" in own and not getattr(own["backward"], _MARK, False):
        cls.backward = _checked(own["backward"])
    if "apply" not in own:
        cls.apply = classmethod(_apply)


# ------------------------------------------------------------------- apply
def _apply(cls, *args, **options):
    """Run the op on ``args`` and record it in the graph if an input needs a gradient."""
    from .tensor import Tensor, tensor

    if getattr(cls, "_ctx_form", False):
        if options:
            raise TypeError(f"{cls.__name__}.apply takes its inputs by position only, as "
                            f"PyTorch's, got keywords {sorted(options)}")
        fn = cls()
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        fn._args, fn._positions = args, positions
        fn.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        fn.saved_tensors = ()
        return autograd.apply_node(fn, [args[i] for i in positions])
    fn = cls(**options) if options else cls()
    inputs = []
    for i, a in enumerate(args):
        if not isinstance(a, Tensor):
            try:
                a = tensor(a)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{cls.__name__}.apply: input {i} must be a tensor, a NumPy "
                                f"array or a number, got {type(a).__name__} ({exc})") from None
        inputs.append(a)
    return autograd.apply_node(fn, inputs)


# ------------------------------------------------------------- nerve's form
def _checked(backward):
    """``backward`` whose result is made what the engine takes: a tuple of arrays (or
    None), one per input; a bare array or tensor is fine for an op of one input."""
    def checked_backward(self, grad):
        return _gradients(type(self).__name__, backward(self, grad), len(self.parents))

    checked_backward.__doc__ = backward.__doc__
    setattr(checked_backward, _MARK, True)
    return checked_backward


def _gradients(name: str, result: Any, n_inputs: int) -> tuple:
    if not isinstance(result, (tuple, list)):
        result = (result,)
    if len(result) != n_inputs:
        raise TypeError(f"{name}.backward returned {len(result)} gradient(s) for "
                        f"{n_inputs} input(s); return one per input of forward, None "
                        "where an input needs none")
    return tuple(_as_gradient(name, g, i) for i, g in enumerate(result))


def _as_gradient(name: str, g: Any, i: int):
    if g is None:
        return None
    from .tensor import Tensor

    if isinstance(g, Tensor):
        return g.data
    if type(g) is np.ndarray:
        return g
    try:
        arr = np.asarray(g)
    except Exception:  # noqa: BLE001 - said in the message below
        arr = None
    if arr is None or arr.dtype.kind not in "fiub":
        raise TypeError(f"{name}.backward: the gradient for input {i} must be an array or a "
                        f"tensor (or None), got {type(g).__name__}")
    return arr


# ---------------------------------------------------------- PyTorch's form
def _wrap(arr: np.ndarray):
    """A tensor around ``arr`` (no copy) that needs no gradient, as PyTorch hands its
    static methods (they run with recording off)."""
    from .tensor import Tensor

    return Tensor._wrap(arr)


def _ctx_forward(self, *arrays):
    args = list(self._args)
    for i, arr in zip(self._positions, arrays):
        args[i] = _wrap(arr)
    with autograd.no_grad():
        out = type(self)._user_forward(self, *args)
    if isinstance(out, (tuple, list)):
        raise TypeError(f"{type(self).__name__}.forward returned {len(out)} outputs; nerve's "
                        "Functions have one output (return one tensor)")
    from .tensor import Tensor

    data = out.data if isinstance(out, Tensor) else np.asarray(out)
    if data.dtype.kind not in "fiub":
        raise TypeError(f"{type(self).__name__}.forward must return a tensor or an array, "
                        f"got {type(out).__name__}")
    return data


def _ctx_backward(self, grad):
    with autograd.no_grad():
        result = type(self)._user_backward(self, _wrap(grad))
    if not isinstance(result, (tuple, list)):
        result = (result,)
    positions, n_args = self._positions, len(self._args)
    name = type(self).__name__
    if len(result) == n_args:  # one per argument of forward, as PyTorch asks
        result = [result[i] for i in positions]
    elif len(result) != len(positions):
        raise TypeError(f"{name}.backward returned {len(result)} gradient(s) for a forward "
                        f"of {n_args} argument(s); return one per argument (None for those "
                        "that are not tensors or need no gradient)")
    return tuple(_as_gradient(name, g, i) for i, g in enumerate(result))
