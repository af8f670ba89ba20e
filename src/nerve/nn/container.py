"""Containers: Sequential (a chain of layers), ModuleList (a plain list), ModuleDict
(modules by name) and Identity."""
from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..tensor import Tensor
from .fusion import fused_forward
from .module import Module, as_module_list


class ModuleList(Module):
    """A list of modules whose parameters are found and named ``"0.weight"``, ``"1.bias"``…

    PyTorch's list operations work: ``append``, ``extend``, ``insert``, ``pop``,
    ``ml[i] = m``, ``del ml[i]`` (negative indices and slices too), ``ml + other``.
    """

    def __init__(self, modules: Iterable[Module] = ()):
        super().__init__()
        self._modules = as_module_list(modules, type(self).__name__)

    #: The children's names when given by a dict (``Sequential(OrderedDict(...))``);
    #: None: their positions "0", "1", ...
    _names: list[str] | None = None

    # ------------------------------------------------ children by attribute name
    def _child_index(self, name: str) -> int | None:
        """The position of the child called ``name`` (a position "0", "1"... when the
        children have no names), or None."""
        d = self.__dict__
        modules = d.get("_modules")
        if modules is None:
            return None
        names = d.get("_names")
        if names is not None:
            return names.index(name) if name in names else None
        if name.isdigit() and str(int(name)) == name and int(name) < len(modules):
            return int(name)
        return None

    def __getattr__(self, name: str):
        # only for names not found the usual way: a child by name (``net.fc1``, ``net.0``)
        i = self._child_index(name)
        if i is not None:
            return self.__dict__["_modules"][i]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        # As PyTorch: ``seq.fc1 = layer`` replaces the child fc1 in place, and a module
        # under a new name becomes a child (at the end, so a Sequential runs it).
        i = self._child_index(name)
        if i is not None and name not in self.__dict__ and not hasattr(type(self), name):
            if not isinstance(value, Module):
                raise TypeError(f"cannot assign a {type(value).__name__} as child module "
                                f"{name!r} of {type(self).__name__} (a Module expected; "
                                f"`del model.{name}` removes it)")
            self._modules[i] = value
        elif isinstance(value, Module) and "_modules" in self.__dict__ \
                and not hasattr(type(self), name):
            self.__dict__.pop(name, None)
            self.add_module(name, value)
        else:
            super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        i = self._child_index(name)
        if i is None:
            super().__delattr__(name)
        else:
            del self[i]

    def _items(self) -> list[tuple[str, Any]]:
        names = self._names
        if names is None:
            return [(str(i), m) for i, m in enumerate(self._modules)] + super()._items()
        return list(zip(names, self._modules)) + super()._items()

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

    def _position(self, index, what: str = "index", end: bool = False) -> int:
        """``index`` (an int or NumPy integer, negative from the end) as a position in
        0..len-1 (0..len with ``end``, for insert); a clear error otherwise."""
        try:
            index = operator.index(index)  # ints and NumPy integers, as PyTorch
        except TypeError:
            need = f"{what} must be an integer" if end else "indices must be integers or slices"
            raise TypeError(f"{type(self).__name__} {need}, got {type(index).__name__}") \
                from None
        n = len(self._modules)
        top = n if end else n - 1
        if not -n <= index <= top:
            raise IndexError(f"{type(self).__name__} {what} {index!r} is out of range for "
                             f"{n} modules")
        return index + n if index < 0 else index

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(*self._modules[index]) if isinstance(self, Sequential) \
                else ModuleList(self._modules[index])
        return self._modules[self._position(index)]

    def __setitem__(self, index, module: Module) -> None:
        """``seq[i] = layer`` replaces the child at position i (its name stays)."""
        if isinstance(index, slice):
            raise TypeError(f"{type(self).__name__}[{index.start}:{index.stop}] = ...: "
                            "assigning to a slice is not supported; replace one child at a "
                            "time (seq[i] = layer), or build a new Sequential")
        i = self._position(index)
        self._modules[i] = as_module_list([module], f"{type(self).__name__}[{index!r}] =")[0]

    def __delitem__(self, index) -> None:
        """``del seq[i]`` or ``del seq[a:b]``: remove children; named ones keep their names
        (unnamed children are numbered by position, so the later ones move up)."""
        if isinstance(index, slice):
            doomed = sorted(range(len(self._modules))[index], reverse=True)
        else:
            doomed = [self._position(index)]
        names = self._names
        for i in doomed:
            del self._modules[i]
            if names is not None:
                names = names[:i] + names[i + 1:]
        if names is not None:
            self._names = names

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index`` (PyTorch's; negative counts from the end)."""
        module = as_module_list([module], f"{type(self).__name__}.insert")[0]
        i = self._position(index, "insert position", end=True)
        if self._names is not None:  # a named child: the newcomer is named by position
            self._names = self._names[:i] + [_free_name(self._names, str(i))] \
                + self._names[i:]
        self._modules.insert(i, module)

    def pop(self, index: int = -1) -> Module:
        """Remove the child at ``index`` (the last by default) and return it."""
        module = self[index]
        del self[index]
        return module

    def __add__(self, other: Iterable[Module]) -> "ModuleList":
        """A new ModuleList of this one's modules followed by ``other``'s (the same objects)."""
        if isinstance(other, Module) and not isinstance(other, ModuleList):
            raise TypeError(f"ModuleList + expects modules in a list, got a "
                            f"{type(other).__name__}")
        return ModuleList(list(self._modules) + as_module_list(other, "ModuleList +"))

    def __iadd__(self, other: Iterable[Module]) -> "ModuleList":
        return self.extend(other)

    def append(self, module: Module) -> "ModuleList":
        """Add a module at the end (returns self, so calls chain)."""
        self.extend([module], f"{type(self).__name__}.append")
        return self

    def add_module(self, name: str, module: Module) -> None:
        """Add ``module`` at the end under ``name`` (PyTorch's), or replace the child that
        already has that name (a position such as "0" works when children are unnamed)."""
        name = check_name(name, f"{type(self).__name__}.add_module")
        module = as_module_list([module], f"{type(self).__name__}.add_module")[0]
        names = self._names if self._names is not None else \
            [str(i) for i in range(len(self._modules))]
        if name in names:
            self._modules[names.index(name)] = module
            return
        if self._names is None and name != str(len(self._modules)):
            self._names = names  # from now on the children go by name
        self._modules.append(module)
        if self._names is not None:
            self._names = self._names + [name]

    def extend(self, modules: Iterable[Module], _owner: str | None = None) -> "ModuleList":
        new = as_module_list(modules, _owner or f"{type(self).__name__}.extend")
        if self._names is not None:  # named children: the newcomers are named by position
            start = len(self._modules)
            self._names = self._names + [_free_name(self._names, str(start + i))
                                         for i in range(len(new))]
        self._modules.extend(new)
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
        names = None
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = tuple(modules[0])
        elif len(modules) == 1 and isinstance(modules[0], Mapping):  # PyTorch's OrderedDict form
            names = [check_name(k, "Sequential") for k in modules[0]]
            modules = tuple(modules[0].values())
        super().__init__(modules)
        if names is not None:
            self._names = names

    def __getitem__(self, index):
        if isinstance(index, slice):  # the children keep their names, as in PyTorch
            from collections import OrderedDict

            names = self._names if self._names is not None else \
                [str(i) for i in range(len(self._modules))]
            return type(self)(OrderedDict(zip(names[index], self._modules[index])))
        return super().__getitem__(index)

    def __add__(self, other: "Sequential") -> "Sequential":
        """A new Sequential running this one's layers, then ``other``'s (the same objects)."""
        if not isinstance(other, Sequential):
            raise TypeError(f"Sequential + expects another Sequential, got "
                            f"{type(other).__name__}")
        return Sequential(*self._modules, *other._modules)

    def __iadd__(self, other: "Sequential") -> "Sequential":
        if not isinstance(other, Sequential):
            raise TypeError(f"Sequential += expects another Sequential, got "
                            f"{type(other).__name__}")
        return self.extend(list(other._modules))

    def get_config(self) -> dict[str, Any]:
        return {} if self._names is None else {"names": list(self._names)}

    def extra_repr(self) -> str:
        return ""  # the names show on the children's lines

    def forward(self, x: Tensor) -> Tensor:
        if self.fuse:
            out = fused_forward(self, x)
            if out is not None:
                return out
        for layer in self._modules:
            x = layer(x)
        return x


def check_name(key: Any, owner: str) -> str:
    """A child's name: a non-empty string without dots (they separate the levels of
    parameter names such as ``"block.fc1.weight"``)."""
    if not isinstance(key, str) or not key or "." in key:
        raise (TypeError if not isinstance(key, str) else ValueError)(
            f"{owner}: a module's name must be a non-empty string without '.', got {key!r}")
    if hasattr(Module, key) or key in _ATTRIBUTES:
        raise ValueError(f"{owner}: the name {key!r} is taken by an attribute every module "
                         "has (PyTorch refuses it too); choose another name")
    return key


#: Instance attributes of modules and containers that a child's name must not shadow.
_ATTRIBUTES = frozenset({"training", "stop_training", "fuse", "_modules", "_names", "_dict",
                         "_hooks", "_fusion_plan", "_buffer_names", "_dtype"})


def _free_name(taken: list[str], name: str) -> str:
    while name in taken:
        name = f"{name}_"
    return name


class ModuleDict(Module):
    """Sub-modules by name, as a dict (PyTorch's ``nn.ModuleDict``): their parameters are
    named ``"<name>.weight"``, … and ``train()``/``eval()``/``to()`` reach them.

    >>> import nerve.nn as nn
    >>> heads = nn.ModuleDict({"digit": nn.Linear(8, 10), "parity": nn.Linear(8, 2)})
    >>> [name for name, _ in heads.named_parameters()]
    ['digit.weight', 'digit.bias', 'parity.weight', 'parity.bias']
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None):
        super().__init__()
        self._dict: dict[str, Module] = {}
        if modules is not None:
            self.update(modules)

    def __getattr__(self, name: str):
        # only for names not found the usual way: ``heads.digit`` is ``heads["digit"]``
        d = self.__dict__.get("_dict")
        if d is not None and name in d:
            return d[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        # As PyTorch: ``heads.digit = layer`` replaces the entry, a module under a new
        # name is a new entry
        d = self.__dict__.get("_dict")
        if d is not None and name in d and name not in self.__dict__ \
                and not hasattr(type(self), name):
            if not isinstance(value, Module):
                raise TypeError(f"cannot assign a {type(value).__name__} as child module "
                                f"{name!r} of ModuleDict (a Module expected; "
                                f"`del heads.{name}` removes it)")
            d[name] = value
        elif d is not None and isinstance(value, Module) and not hasattr(type(self), name):
            self.__dict__.pop(name, None)
            self[name] = value
        else:
            super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        d = self.__dict__.get("_dict")
        if d is not None and name in d:
            del d[name]
        else:
            super().__delattr__(name)

    def _items(self) -> list[tuple[str, Any]]:
        return list(self._dict.items()) + super()._items()

    def __getitem__(self, key: str) -> Module:
        try:
            return self._dict[key]
        except (KeyError, TypeError):
            raise KeyError(f"ModuleDict has no module named {key!r}; names: "
                           f"{list(self._dict)}") from None

    def __setitem__(self, key: str, module: Module) -> None:
        key = check_name(key, "ModuleDict")
        self._dict[key] = as_module_list([module], f"ModuleDict[{key!r}]")[0]

    def add_module(self, name: str, module: Module) -> None:
        """``self[name] = module`` (PyTorch's name)."""
        self[name] = module

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018 - the clear KeyError
        del self._dict[key]

    def __len__(self) -> int:
        return len(self._dict)

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def keys(self):
        return self._dict.keys()

    def values(self):
        return self._dict.values()

    def items(self):
        return self._dict.items()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add (or replace) modules from a dict or from (name, module) pairs."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for i, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"ModuleDict.update expects a dict or (name, module) pairs, "
                                f"item {i} is {pair!r:.60}")
            self[pair[0]] = pair[1]

    def pop(self, key: str) -> Module:
        module = self[key]
        del self._dict[key]
        return module

    def clear(self) -> None:
        self._dict.clear()

    def get_config(self) -> dict[str, Any]:
        return {"names": list(self._dict)}

    def extra_repr(self) -> str:
        return ""

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward(); call its modules by name")


class Identity(Module):
    """y = x (the "linear" activation);  dy/dx = 1. Arguments are ignored, as PyTorch's
    ``nn.Identity(54, unused=0.1)`` (a placeholder that keeps a constructor call)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return x

    @staticmethod
    def derivative(x):
        from .derivatives import identity_prime
        return identity_prime(x)
