"""Parameters: the tensors a module learns, ``requires_grad=True`` from the start."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from ..tensor_torch import _OWNED, _writes_through, own

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A tensor that is a learnable parameter of a module: ``requires_grad=True`` by default.

    Data follow :func:`nerve.tensor`'s rule (floats become the default float32
    unless ``dtype`` says otherwise); a Tensor keeps its dtype. A parameter gets its own
    copy of a NumPy array's data, as ``nv.tensor(a, requires_grad=True)`` and PyTorch's
    ``nn.Parameter(torch.tensor(a))`` do: optimizers update it in place, which must not
    change the caller's array. It shares the data of a tensor that requires grad or
    whose data is nerve's (``nv.from_numpy`` included), as PyTorch's ``nn.Parameter(t)``.

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
        if isinstance(data, Tensor):  # a caller's array only behind a plain constant
            foreign = not (data.requires_grad or id(data) in _OWNED or _writes_through(data))
            data = data.data
        else:
            foreign = isinstance(data, np.ndarray)
        shared = foreign and np.may_share_memory(self.data, data)
        if self.requires_grad and shared and np.shares_memory(self.data, data):
            self.data = self.data.copy()
            shared = False
        if not shared:
            own(self)  # in-place changes, also through views, write into it

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
