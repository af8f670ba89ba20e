"""Parameters: the tensors a module learns, ``requires_grad=True`` from the start."""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A tensor that is a learnable parameter of a module: ``requires_grad=True`` by default.

    Data follow :func:`nerve.tensor`'s rule (floats become the default float32
    unless ``dtype`` says otherwise); a Tensor keeps its dtype.

    >>> w = Parameter([[0.0, 1.0, 2.0]])
    >>> w.requires_grad, w.dtype
    (True, dtype('float32'))
    """

    #: The array backward may write this parameter's gradient into (its slice of an
    #: optimizer's flat gradient, see nerve.optim.flat), or None.
    __slots__ = ("_grad_buffer",)

    def __init__(self, data: Any, dtype=None, requires_grad: bool = True):
        if dtype is None and isinstance(data, Tensor) and data.data.dtype.kind == "f":
            dtype = data.data.dtype
        super().__init__(data, dtype=dtype, requires_grad=requires_grad)
        self._grad_buffer = None

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
