"""Containers: Sequential (a chain of layers), ModuleList (a plain list) and Identity."""
from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator
from typing import Any

from ..tensor import Tensor
from .fusion import fused_forward
from .module import Module, as_module_list


class ModuleList(Module):
    """A list of modules whose parameters are found and named ``"0.weight"``, ``"1.bias"``…"""

    def __init__(self, modules: Iterable[Module] = ()):
        super().__init__()
        self._modules = as_module_list(modules, type(self).__name__)

    def _items(self) -> list[tuple[str, Any]]:
        return [(str(i), m) for i, m in enumerate(self._modules)] + super()._items()

    def _first_parameter(self):
        for m in self._modules:  # without listing every layer first
            first = m._first_parameter()
            if first is not None:
                return first
        return super()._first_parameter()

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(*self._modules[index]) if isinstance(self, Sequential) \
                else ModuleList(self._modules[index])
        try:
            index = operator.index(index)  # ints and NumPy integers, as PyTorch
        except TypeError:
            raise TypeError(f"{type(self).__name__} indices must be integers or slices, "
                            f"got {type(index).__name__}") from None
        try:
            return self._modules[index]
        except IndexError:
            raise IndexError(f"{type(self).__name__} index {index!r} is out of range for "
                             f"{len(self._modules)} modules") from None

    def append(self, module: Module) -> "ModuleList":
        """Add a module at the end (returns self, so calls chain)."""
        self._modules.extend(as_module_list([module], f"{type(self).__name__}.append"))
        return self

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        self._modules.extend(as_module_list(modules, f"{type(self).__name__}.extend"))
        return self

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward(); iterate over it instead")


class Sequential(ModuleList):
    """Layers applied in order: ``Sequential(f, g, h)(x) = h(g(f(x)))``.

    >>> import nerve.nn as nn
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    >>> [name for name, _ in net.named_parameters()]
    ['0.weight', '0.bias', '2.weight', '2.bias']
    """

    #: Run a stack of Linear layers and activations as one fused graph node (same
    #: numbers, far less overhead for small networks). Set ``net.fuse = False`` to
    #: record one node per layer, e.g. to see every layer in ``draw_graph``.
    fuse = True

    def __init__(self, *modules: Module):
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = tuple(modules[0])
        super().__init__(modules)

    def forward(self, x: Tensor) -> Tensor:
        if self.fuse:
            out = fused_forward(self, x)
            if out is not None:
                return out
        for layer in self._modules:
            x = layer(x)
        return x


class Identity(Module):
    """y = x (the "linear" activation);  dy/dx = 1."""

    def forward(self, x: Tensor) -> Tensor:
        return x

    @staticmethod
    def derivative(x):
        from .derivatives import identity_prime
        return identity_prime(x)
