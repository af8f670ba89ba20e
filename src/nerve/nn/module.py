"""Modules: layers and networks that own parameters, found by walking attributes.

A :class:`Module` stores its :class:`Parameter` objects, sub-modules and lists
of sub-modules as ordinary attributes. One walk over them, in attribute order,
gives ``named_parameters()`` (dotted names such as ``"0.weight"``),
``state_dict()``, ``num_parameters()`` and the recursive ``train()``/``eval()``.
Names starting with ``_`` count too (``self._body = nn.Linear(...)``), as in
PyTorch; only a plain list or tuple of modules under such a name is left out (it
is taken for bookkeeping).
"""
from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from .. import autograd
from ..tensor import Tensor, _check_float_dtype, get_default_dtype
from ..tensor_torch import check_device, to_dtype
from .hooks import HookHandle, _call_with_hooks
from .parameter import Parameter

#: How many times an attribute of any module was set: a captured step (nerve.compile)
#: looks at its model again when this moved (a layer replaced, a slope changed).
changes = 0


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` returns (PyTorch's ``_IncompatibleKeys``):
    the model's keys missing from the state dict, and the dict's keys the model lacks."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and network.

    Subclasses call ``super().__init__()`` first, assign parameters and
    sub-modules as attributes and implement ``forward``. Buffers (arrays that
    are state but not learned, such as BatchNorm's running statistics) are
    declared with :meth:`register_buffer` so that ``state_dict()`` and ``to()``
    include them.
    """

    #: True for the layers that count in a network's name ("a 2-layer network"):
    #: those with a weight matrix. Activations, dropout and normalisation do not.
    counts_as_layer = False
    # Class-level defaults, so a subclass that forgets super().__init__() still works.
    training = True
    _buffer_names: list[str] = []
    _non_persistent: frozenset | set = frozenset()  # buffers left out of state_dict()
    _dtype = None
    #: PyTorch's state-dict key -> this layer's key (None: nerve does not keep it), for
    #: the layers that name their state differently; a failed load_state_dict says which
    #: keys to rename.
    _torch_keys: dict[str, str | None] = {}

    def __init__(self) -> None:
        self.training = True
        self._buffer_names: list[str] = []
        self._dtype = None  # used by modules without parameters after .to()

    def __setattr__(self, name: str, value: Any) -> None:
        # PyTorch's rule: a parameter's slot takes a Parameter or None. Anything else
        # would silently drop the parameter from parameters(), the optimizer and the
        # state dict (or crash the forward deep inside).
        if value is not None and not isinstance(value, Parameter) \
                and isinstance(self.__dict__.get(name), Parameter):
            raise TypeError(
                f"parameter {name!r} of {type(self).__name__} cannot be set to a "
                f"{type(value).__name__} (nn.Parameter or None expected): wrap it, "
                f"module.{name} = nn.Parameter(value), or change the values in place "
                f"with `with nv.no_grad(): module.{name}.copy_(value)`")
        global changes
        changes += 1
        object.__setattr__(self, name, value)

    # ----------------------------------------------------------------- calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, x, *args, **kwargs):
        """Run ``forward`` on ``x`` (and the other arguments, passed as they are).

        A float tensor is passed as it is; numeric data (an array, a list of numbers, a
        number, an integer tensor) becomes a float tensor of the module's dtype, as it
        always has (data that is not numeric is a clear error). A tuple or dict of inputs,
        a list of tensors, None or another object reaches ``forward`` unchanged, as in
        PyTorch.
        """
        if not isinstance(x, Tensor) or x.data.dtype.kind != "f":
            x = self._as_input(x)
        if self._hooks is not None:
            return _call_with_hooks(self, x, args, kwargs)
        return self.forward(x, *args, **kwargs)

    def _as_input(self, x):
        """The input ``forward`` gets for an ``x`` that is not a float tensor (see __call__)."""
        if isinstance(x, Tensor):
            return Tensor(x.data, dtype=self.dtype)
        if isinstance(x, list) and any(isinstance(v, Tensor) for v in x):
            return x  # a list of inputs: the forward's business
        if isinstance(x, (np.ndarray, np.generic, numbers.Number, list, str)) \
                and not isinstance(x, bool):
            return Tensor(x, dtype=self.dtype)  # data (or a clear error saying it is not)
        return x

    def add_module(self, name: str, module: "Module") -> None:
        """Register ``module`` as the child ``name`` (PyTorch's): ``self.<name> = module``.
        The name of an existing child replaces it; a name taken by anything else is refused."""
        from .container import check_name

        name = check_name(name, f"{type(self).__name__}.add_module")
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.add_module: expected a Module, got "
                            f"{type(module).__name__}")
        if hasattr(type(self), name) or (name in vars(self)
                                         and not isinstance(vars(self)[name], Module)):
            raise ValueError(f"{type(self).__name__}.add_module: the name {name!r} is taken "
                             "by another attribute of the module; choose another")
        setattr(self, name, module)

    # ------------------------------------------------------------------- hooks
    _hooks: dict | None = None  # "pre"/"post" -> {id: hook}, only on modules that have any

    def register_forward_pre_hook(self, hook) -> "HookHandle":
        """Call ``hook(module, inputs)`` before each forward (PyTorch's name); a tuple (or
        one value) it returns replaces the inputs. ``handle.remove()`` takes it off."""
        return self._add_hook("pre", hook)

    def register_forward_hook(self, hook) -> "HookHandle":
        """Call ``hook(module, inputs, output)`` after each forward (PyTorch's name); a value
        it returns replaces the output. ``handle.remove()`` takes it off.

        While any module has a hook, ``nn.Sequential`` runs its layers one by one (so each
        layer's hooks see its own call) and ``nv.compile`` refuses the model.
        """
        return self._add_hook("post", hook)

    def _add_hook(self, kind: str, hook) -> "HookHandle":
        if not callable(hook):
            raise TypeError(f"a forward hook must be callable, got {hook!r}")
        if self._hooks is None:
            object.__setattr__(self, "_hooks", {"pre": {}, "post": {}})
        handle = HookHandle(self, kind)
        self._hooks[kind][handle.id] = hook
        HookHandle.generation += 1
        return handle

    @property
    def dtype(self) -> np.dtype:
        """The float dtype of the first parameter (or float buffer); without any, the
        dtype last given by ``to()`` or assigned (``self.dtype = nv.float64``), else the
        default dtype."""
        p = self._first_parameter()
        if p is not None:
            return p.data.dtype
        for _, b in self.named_buffers():
            if b.dtype.kind == "f":
                return b.dtype
        return self._dtype or get_default_dtype()

    @dtype.setter
    def dtype(self, value) -> None:
        # ``self.dtype = dtype`` in a subclass's __init__ (common in PyTorch code): the
        # module's dtype while it has no parameters; its parameters' dtype wins after.
        self._dtype = None if value is None else _check_float_dtype(value)

    # ------------------------------------------------------------------- walk
    def _items(self) -> list[tuple[str, Any]]:
        """Parameters, sub-modules and lists of sub-modules, in attribute order (a list
        or tuple under a private name is bookkeeping, such as a container's own list)."""
        items = []
        for name, value in vars(self).items():
            if not isinstance(value, _HOLDERS):
                continue  # one check rejects the usual numbers, strings and flags
            if not isinstance(value, (list, tuple)):
                items.append((name, value))
            elif value and name[:1] != "_" and all(isinstance(v, Module) for v in value):
                items.extend((f"{name}.{i}", v) for i, v in enumerate(value))
        return items

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """Direct sub-modules with their names."""
        for name, value in self._items():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """This module and every descendant, depth first, each once."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, mod = stack.pop()
            if id(mod) in seen:
                continue
            seen.add(id(mod))
            yield name, mod
            kids = [(f"{name}.{n}" if name else n, m) for n, m in mod.named_children()]
            stack.extend(reversed(kids))

    def apply(self, fn) -> "Module":
        """Call ``fn(module)`` on every module, children before their parent and this
        module last, as PyTorch (``model.apply(init_weights)``); a module that occurs
        twice is visited once. Returns this module."""
        if not callable(fn):
            raise TypeError(f"apply needs a function of a module, got {fn!r}")
        order, seen = [], set()
        stack: list[tuple[Module, bool]] = [(self, False)]
        while stack:
            mod, done = stack.pop()
            if done:
                order.append(mod)
                continue
            if id(mod) in seen:
                continue
            seen.add(id(mod))
            stack.append((mod, True))
            stack.extend((m, False) for m in reversed(list(mod.children())))
        for m in order:
            fn(m)
        return self

    def get_submodule(self, target: str) -> "Module":
        """The sub-module at the dotted path ``target`` (``"body.0"``; ``""``: this module)."""
        if not isinstance(target, str):
            raise TypeError(f"get_submodule expects a dotted name, got {target!r}")
        mod, parts, i = self, target.split(".") if target else [], 0
        while i < len(parts):
            kids = dict(mod.named_children())
            # a child in a plain list attribute is named "blocks.0": try longer names too
            for j in range(i + 1, len(parts) + 1):
                key = ".".join(parts[i:j])
                if key in kids:
                    mod, i = kids[key], j
                    break
            else:
                raise AttributeError(f"{type(mod).__name__} has no sub-module {parts[i]!r} "
                                     f"(looking up {target!r}); its children: {list(kids)}")
        return mod

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target`` (``"body.0.weight"``)."""
        owner, _, name = target.rpartition(".")
        value = dict(self.get_submodule(owner)._items()).get(name)
        if not isinstance(value, Parameter):
            raise AttributeError(f"{target!r} is not a parameter of {type(self).__name__}")
        return value

    def get_buffer(self, target: str) -> np.ndarray:
        """The buffer at the dotted path ``target`` (``"bn.running_mean"``)."""
        owner, _, name = target.rpartition(".")
        mod = self.get_submodule(owner)
        if name not in mod._buffer_names:
            raise AttributeError(f"{target!r} is not a buffer of {type(self).__name__}")
        return getattr(mod, name)

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs in attribute order, each parameter once
        (``remove_duplicate=False``: under every name); ``recurse=False``: this module's
        own parameters only."""
        start = f"{prefix}." if prefix else ""
        if recurse:
            pairs = self._walk(start, False, [])
        else:
            pairs = [(start + n, v) for n, v in self._items() if isinstance(v, Parameter)]
        seen: set[int] = set()
        for name, p in pairs:
            if id(p) not in seen or not remove_duplicate:
                seen.add(id(p))
                yield name, p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once, in the order of :meth:`named_parameters`
        (``recurse=False``: this module's own only)."""
        if not recurse:
            return (p for _, p in self.named_parameters(recurse=False))
        return iter(self._collect_parameters([], set()))

    def _first_parameter(self) -> Parameter | None:
        """The first parameter of :meth:`parameters`, found without walking the rest."""
        for _, value in self._items():
            if isinstance(value, Parameter):
                return value
            first = value._first_parameter()
            if first is not None:
                return first
        return None

    def _collect_parameters(self, out: list, seen: set) -> list:
        """Append this module's parameters and its descendants' (not yet in ``seen``) to ``out``.

        The same walk as :meth:`named_parameters` without building names: a model's
        parameters are asked for each step by ``model.zero_grad()`` and the regularizers.
        """
        for _, value in self._items():
            if isinstance(value, Parameter):
                if id(value) not in seen:
                    seen.add(id(value))
                    out.append(value)
            else:
                value._collect_parameters(out, seen)
        return out

    def register_buffer(self, name: str, value: np.ndarray | None,
                        persistent: bool = True) -> None:
        """Store ``value`` as ``self.<name>``: state that ``to()`` converts, not learned.

        ``persistent=False`` leaves it out of ``state_dict()`` (PyTorch's option); a None
        value is an empty slot (left out of ``state_dict()`` and ``named_buffers()``)
        that a later ``self.<name> = array`` fills.
        """
        from .container import check_name

        name = check_name(name, f"{type(self).__name__}.register_buffer")
        if isinstance(value, Tensor):  # PyTorch's register_buffer(name, torch.zeros(n))
            value = value.data
        if value is not None and not isinstance(value, np.ndarray):
            raise TypeError(f"buffer {name!r} must be a NumPy array (or a tensor, or None), "
                            f"got {type(value).__name__}")
        if persistent is not True and persistent is not False:
            raise TypeError(f"register_buffer: persistent must be True or False, got "
                            f"{persistent!r}")
        if hasattr(type(self), name) or isinstance(vars(self).get(name), (Parameter, Module)):
            raise ValueError(f"{type(self).__name__}.register_buffer: the name {name!r} is "
                             "taken by another attribute of the module; choose another")
        if "_buffer_names" not in vars(self):
            self._buffer_names = []            # never append to the class-level default
        if name not in self._buffer_names:
            self._buffer_names.append(name)
        if not persistent or name in self._non_persistent:
            if "_non_persistent" not in vars(self):
                self._non_persistent = set()
            (self._non_persistent.discard if persistent else self._non_persistent.add)(name)
        setattr(self, name, value)

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, np.ndarray]]:
        """(dotted name, array) of every buffer (``recurse=False``: this module's own)."""
        start = f"{prefix}." if prefix else ""
        if recurse:
            pairs = self._walk(start, buffers=True)
        else:
            pairs = [(start + n, getattr(self, n)) for n in self._buffer_names]
        seen: set[int] = set()
        for name, value in pairs:
            if isinstance(value, np.ndarray) and (id(value) not in seen or not remove_duplicate):
                seen.add(id(value))
                yield name, value

    def buffers(self, recurse: bool = True) -> Iterator[np.ndarray]:
        """The arrays of :meth:`named_buffers`."""
        for _, value in self.named_buffers(recurse=recurse):
            yield value

    def _walk(self, prefix: str, buffers: bool, out: list | None = None,
              persistent: bool = False) -> list[tuple[str, Any]]:
        """``out`` plus (name, value) of the parameters (and buffers, if asked: only
        those ``state_dict()`` saves if ``persistent``) of this module and its
        descendants, in attribute order. Empty buffer slots (None) are left out."""
        if out is None:
            out = []
        for name, value in self._items():
            if isinstance(value, Parameter):
                out.append((prefix + name, value))
            else:
                value._walk(f"{prefix}{name}.", buffers, out, persistent)
        if buffers:
            skip = self._non_persistent if persistent else ()
            for name in self._buffer_names:
                value = getattr(self, name)
                if value is not None and name not in skip:
                    out.append((prefix + name, value))
        return out

    # --------------------------------------------------------------- training
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of all parameters (``set_to_none=False``: fill them with
        zeros instead, as PyTorch's option)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            elif p.grad.flags.writeable:
                p.grad.fill(0)
            else:
                p.grad = np.zeros_like(p.data)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Freeze (False) or unfreeze every parameter; returns this module."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def train(self, mode: bool = True) -> "Module":
        """Set training mode (dropout active, batch statistics) here and in all sub-modules."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode) expects True or False, got {mode!r}")
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> "Module":
        """Set evaluation mode (dropout off, running statistics): ``train(False)``."""
        return self.train(False)

    # ------------------------------------------------------------------ state
    def state_dict(self, *, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, np.ndarray]:
        """Name → copy of every parameter and (persistent) buffer array (BatchNorm running
        stats too). PyTorch's options: ``prefix`` goes before every name, ``destination``
        is the dict to fill, ``keep_vars=True`` gives the parameters and buffers themselves
        instead of copies."""
        sd = {} if destination is None else destination
        for name, value in self._walk(prefix, buffers=True, persistent=True):
            if keep_vars:
                sd[name] = value
            else:
                arr = value.data if isinstance(value, Tensor) else value
                sd[name] = np.array(arr, copy=True)
        return sd

    def load_state_dict(self, state_dict: Mapping[str, Any],
                        strict: bool = True) -> IncompatibleKeys:
        """Copy arrays from ``state_dict`` into the parameters and buffers, in place.

        With ``strict`` every key must match: missing keys, unexpected keys and
        shape mismatches are all listed in one ValueError, and nothing is changed.
        Without it, only the keys present in both are loaded (shapes must still match).

        Returns, as PyTorch does, ``IncompatibleKeys(missing_keys, unexpected_keys)``:
        the model's keys the dict lacked and the dict's keys the model lacks (both
        empty after a strict load), so a partial load can be checked with
        ``missing, unexpected = model.load_state_dict(sd, strict=False)``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict expects a dict of arrays, "
                            f"got {type(state_dict).__name__}")
        own = dict(self._walk("", buffers=True, persistent=True))
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched, arrays = [], {}
        for key, target in own.items():
            if key in state_dict:
                value = state_dict[key]
                value = np.asarray(value.data if isinstance(value, Tensor) else value)
                if value.dtype.kind not in "fiub":
                    raise TypeError(f"state dict entry {key!r} has dtype {value.dtype}; "
                                    "expected a numeric array")
                if value.shape != target.shape:
                    hint = ""
                    if value.ndim == 2 and value.shape[::-1] == target.shape:
                        hint = (" (transposed: nerve's Linear keeps weight as (in_features, "
                                "out_features) for x @ W; PyTorch keeps (out, in), so load "
                                "PyTorch's weight.T)")
                    mismatched.append(f"{key}: checkpoint has shape {value.shape}, "
                                      f"the model has {target.shape}{hint}")
                arrays[key] = value
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if mismatched:
            problems.append("shape mismatches: " + "; ".join(mismatched))
        if problems:
            if strict and missing and unexpected:
                problems.extend(self._torch_key_hints(missing, unexpected))
            raise ValueError(f"cannot load the state dict into {type(self).__name__}: "
                             + " | ".join(problems))
        changed = []
        for key, value in arrays.items():
            target = own[key]
            if isinstance(target, Tensor):
                np.copyto(target.data, value, casting="unsafe")
                if target._ctx is None:
                    changed.append(target)
            else:
                np.copyto(target, value, casting="unsafe")
        # An in-place change: a backward through a graph recorded with the old values
        # raises instead of using the new ones (as after an optimizer step).
        autograd.mark_updated(changed)
        return IncompatibleKeys(missing, unexpected)

    def _torch_key_hints(self, missing: list[str], unexpected: list[str]) -> list[str]:
        """What to rename for the layers that name their state otherwise than PyTorch."""
        hints, missing_set, unexpected_set = [], set(missing), set(unexpected)
        for path, mod in self.named_modules():
            if not mod._torch_keys:
                continue
            p = f"{path}." if path else ""
            renames = [f"{p + t!r} to {p + o!r}" for t, o in mod._torch_keys.items()
                       if o is not None and p + t in unexpected_set and p + o in missing_set]
            drops = [repr(p + t) for t, o in mod._torch_keys.items()
                     if o is None and p + t in unexpected_set]
            if renames or drops:
                what = "; ".join(filter(None, ["rename " + ", ".join(renames) if renames else "",
                                               "drop " + ", ".join(drops) if drops else ""]))
                where = f" {path!r}" if path else ""
                hints.append(f"{type(mod).__name__}{where} names its state otherwise than "
                             f"PyTorch: {what}")
        return hints

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Number of scalar parameters (only those with requires_grad if asked)."""
        return sum(p.data.size for p in self.parameters()
                   if p.requires_grad or not trainable_only)

    # ------------------------------------------------------------------ dtype
    def to(self, *args, device=None, dtype=None, non_blocking: bool = False) -> "Module":
        """Convert every parameter and float buffer to ``dtype`` (float32 or float64), in
        place; returns this module.

        PyTorch's forms work: ``to(nv.float64)``, ``to("cpu")``, ``to("cpu", nv.float64)``,
        ``to("cpu", dtype=nv.float64)``, ``to(device="cpu", dtype=...)``. The CPU is the
        one device (nerve computes with NumPy); any other is refused by name.
        """
        if len(args) > 2:
            raise TypeError(f"to() takes a dtype, a device, or a device and a dtype; got "
                            f"{len(args)} positional arguments")
        dtype = to_dtype(args, device, dtype)
        if dtype is None:
            return self
        dt = _check_float_dtype(dtype)
        for m in self.modules():
            m._dtype = dt
            for name in m._buffer_names:
                buf = getattr(m, name)
                if buf is not None and buf.dtype.kind == "f" and buf.dtype != dt:
                    setattr(m, name, buf.astype(dt))
        for p in self.parameters():
            if p.data.dtype != dt:
                p.data = p.data.astype(dt)
                p.grad = None if p.grad is None else p.grad.astype(dt)
        return self

    def cpu(self) -> "Module":
        return self

    def cuda(self, *args, **kwargs) -> "Module":
        check_device("cuda")  # always refused: nerve computes on the CPU

    def double(self) -> "Module":
        return self.to(np.float64)

    def half(self) -> "Module":
        """Refused with the reason: nerve computes in float32 or float64."""
        return self.to(np.float16)

    def float(self) -> "Module":
        return self.to(np.float32)

    # ---------------------------------------------------------------- display
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this module (JSON types only)."""
        return {}

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr."""
        return ", ".join(f"{k}={v!r}" for k, v in self.get_config().items()
                         if k != "dtype")

    def __repr__(self) -> str:
        kids = list(self.named_children())
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not kids:
            return head + ")"
        lines = [head]
        for name, m in kids:
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"

    def param_formula(self) -> str:
        """How the parameter count adds up, e.g. ``"3·4 + 4"`` (empty with no parameters)."""
        parts = []
        for _, p in self._walk("", buffers=False):
            parts.append("·".join(str(n) for n in p.shape) if p.ndim else "1")
        return " + ".join(parts)

    def summary(self, input_shape=None) -> "Summary":
        """A table of layers, output shapes and parameter counts, and the network's name.

        ``input_shape`` is one example's shape (e.g. ``(3,)`` or ``3``); when
        omitted it is read from the first layer with ``in_features``. Use
        ``print(model.summary())``.
        """
        from .summary import summarize
        return summarize(self, input_shape)


class Summary(str):
    """The text of :meth:`Module.summary`; shown as the table itself at the prompt."""

    def __repr__(self) -> str:
        return str(self)


#: The attribute types Module._items looks into: a parameter, a module, a list of modules.
_HOLDERS = (Parameter, Module, list, tuple)


def as_module_list(modules: Iterable[Any], owner: str) -> list[Module]:
    out = list(modules)
    for i, m in enumerate(out):
        if not isinstance(m, Module):
            raise TypeError(f"{owner} expects Modules, but item {i} is a "
                            f"{type(m).__name__}; wrap functions in a Module")
    return out
