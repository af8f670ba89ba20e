"""The optimizer base class: parameter groups, the step loop and its state.

An optimizer holds *parameters*: any objects with a ``.data`` NumPy array of
floats (updated in place) and a ``.grad`` that is an array of the same shape or
``None`` (skipped). ``nerve.Tensor`` and ``nn.Parameter`` are such objects; so is
any two-attribute class, which is how the tests drive it.

The elementwise optimizers (SGD, Adam, AdamW, RMSProp, Adagrad) over one group of
nerve tensors gather them, when built, into one flat array: each ``p.data`` is
rebound once to its slice (same values), and every step then updates all
parameters with one call of the update rule (:mod:`nerve.optim.flat`). Read
``p.data`` after building the optimizer, not before.

Subclasses only say which hyperparameters they take, how to check them, and
which pure update function ``f(param, grad, state, **hyper)`` performs the
math; :class:`Optimizer` does everything else.
"""
from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from numbers import Real
from typing import Any

import numpy as np

from ..autograd import enable_grad, mark_updated
from .flat import FlatParameters

__all__ = ["Optimizer", "ParamsT"]

#: What an optimizer accepts as ``params``: parameters or PyTorch-style groups.
ParamsT = Iterable[Any] | Iterable[dict[str, Any]]

# Group keys that are not hyperparameters but may appear in a group.
_EXTRA_GROUP_KEYS = ("initial_lr",)


# ----------------------------------------------------------------------------
# Checks shared by the update functions and the classes
# ----------------------------------------------------------------------------
def check_number(owner: str, name: str, value: Any, low: float = 0.0,
                 high: float = math.inf, high_open: bool = False,
                 allow_inf: bool = False) -> float:
    """Return ``value`` as a Python float, raising if it is not in ``[low, high]``.

    ``high_open=True`` makes the interval ``[low, high)``. Infinity is refused
    unless ``allow_inf`` (a learning rate of inf is never meant). The message names
    the owner, the argument, the value and the valid range.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Real, np.ndarray)):
        raise TypeError(f"{owner}: {name} must be a number, got {type(value).__name__}")
    if isinstance(value, np.ndarray):
        if value.ndim != 0:
            raise TypeError(
                f"{owner}: {name} must be a scalar, got an array of shape {value.shape}"
            )
        value = value.item()
    value = float(value)
    above = value >= high if high_open else value > high
    if not value >= low or above or math.isnan(value):
        closing = ")" if high_open else "]"
        raise ValueError(
            f"{owner}: {name} must be in [{low:g}, {high:g}{closing}, got {value!r}"
        )
    if math.isinf(value) and not allow_inf:
        raise ValueError(f"{owner}: {name} must be a finite number, got {value!r}")
    return value


def check_flag(owner: str, name: str, value: Any) -> bool:
    """Return ``value`` as a bool, raising TypeError if it is not True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, got {value!r}")
    return bool(value)


def prepare_grad(param: np.ndarray, grad: Any) -> np.ndarray:
    """Check that ``grad`` matches ``param`` and return it in ``param``'s dtype (no copy if so)."""
    if type(grad) is np.ndarray and grad.dtype == param.dtype and grad.shape == param.shape:
        return grad  # the common case, kept cheap
    grad = np.asarray(grad)
    if grad.shape != param.shape:
        raise ValueError(
            f"gradient of shape {grad.shape} does not match its parameter of shape {param.shape}"
        )
    if grad.dtype != param.dtype:
        grad = grad.astype(param.dtype)
    return grad


def _used_up(params: Any) -> bool:
    """Whether ``params`` may be an iterator that was already consumed.

    A generator that has run to its end is used up, one never started is not;
    any other iterator (``model.parameters()`` returns a list iterator) may be.
    """
    if inspect.isgenerator(params):
        return inspect.getgeneratorstate(params) == inspect.GEN_CLOSED
    return isinstance(params, Iterator)


def _check_param(p: Any, where: str) -> None:
    if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
        raise TypeError(
            f"{where} is a (name, parameter) pair; pass model.parameters(), "
            "not model.named_parameters()"
        )
    data = getattr(p, "data", None)
    if not hasattr(p, "grad") or not isinstance(data, np.ndarray):
        raise TypeError(
            f"{where} must have a .data NumPy array and a .grad attribute "
            f"(like nerve.Tensor), got {type(p).__name__}"
        )
    if not np.issubdtype(data.dtype, np.floating):
        raise TypeError(f"{where} must hold floating-point data, got dtype {data.dtype}")


# ----------------------------------------------------------------------------
# The per-parameter state
# ----------------------------------------------------------------------------
_ABSENT = object()
_dict_get = dict.get


class OptimizerState(dict):
    """``optimizer.state``: the per-parameter buffers, keyed by the parameter's position
    across all groups, in order (0, 1, ...; the keys ``state_dict()`` saves).

    As in PyTorch, a parameter of the optimizer is a key too: ``opt.state[p]`` (and
    ``.get(p)``, ``p in opt.state``, ``opt.state[p] = {...}``) reads its position's
    entry. Iterating still gives the positions. A key that is neither raises a short
    ``KeyError`` that names what is expected.
    """

    def __init__(self, groups: list[dict[str, Any]], *args: Any) -> None:
        super().__init__(*args)
        self._groups = groups  # the optimizer's param_groups (the same list object)

    def _position(self, key: Any) -> int | None:
        """The position of ``key`` if it is one of the optimizer's parameters, else None."""
        if not hasattr(key, "data"):
            return None
        index = 0
        for group in self._groups:
            for p in group["params"]:
                if p is key:
                    return index
                index += 1
        return None

    def _count(self) -> int:
        return sum(len(group["params"]) for group in self._groups)

    def _missing_message(self, key: Any) -> str:
        n = self._count()
        keys = f"a position 0..{n - 1} or one of its parameters"
        if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
            if 0 <= key < n:
                return (f"no optimizer state for parameter {int(key)} yet: it has not been "
                        "updated (no step() with a gradient for it)")
            return f"no parameter {key} in this optimizer: it has {n}; the key must be {keys}"
        if hasattr(key, "data"):
            shape = getattr(getattr(key, "data", None), "shape", "?")
            position = self._position(key)
            if position is not None:
                return (f"no optimizer state for this parameter (position {position}, shape "
                        f"{shape}) yet: it has not been updated (no step() with a gradient "
                        "for it)")
            return (f"this {type(key).__name__} (shape {shape}) is not one of the "
                    f"optimizer's parameters; the key must be {keys}")
        return f"optimizer.state has no key of type {type(key).__name__}; the key must be {keys}"

    def __missing__(self, key: Any) -> dict[str, Any]:
        # dict.__getitem__ calls this only for a key it does not hold: a position is
        # looked up at C speed, a parameter comes here
        position = self._position(key)
        if position is not None:
            value = _dict_get(self, position, _ABSENT)
            if value is not _ABSENT:
                return value
        raise KeyError(self._missing_message(key))

    def get(self, key: Any, default: Any = None) -> Any:
        """``self[key]`` (a position or a parameter), or ``default`` if it has no state."""
        value = _dict_get(self, key, _ABSENT)
        if value is not _ABSENT:  # a position: the common case (the flat step's checks)
            return value
        position = self._position(key)
        return default if position is None else _dict_get(self, position, default)

    def __contains__(self, key: Any) -> bool:
        if dict.__contains__(self, key):
            return True
        position = self._position(key)
        return position is not None and dict.__contains__(self, position)

    def __setitem__(self, key: Any, value: Any) -> None:
        if not isinstance(key, (int, np.integer)) or isinstance(key, (bool, np.bool_)):
            position = self._position(key)
            if position is None:
                raise KeyError(self._missing_message(key).replace(
                    "optimizer.state has no key", "optimizer.state takes no key"))
            key = position
        dict.__setitem__(self, int(key), value)


# ----------------------------------------------------------------------------
# The base class
# ----------------------------------------------------------------------------
class Optimizer:
    """Base class: ``zero_grad()``, ``step()``, ``state_dict()``, ``load_state_dict()``.

    Attributes
    ----------
    param_groups : list of dict
        Each group has ``"params"`` (a list of parameters) and one value per
        hyperparameter (``"lr"``, ...). Schedulers change ``group["lr"]``.
    state : OptimizerState (a dict[int, dict])
        Per-parameter buffers (momentum, running averages, step counts), keyed
        by the parameter's position across all groups, in order; a parameter of
        the optimizer works as a key too (``opt.state[p]["exp_avg"]``, as PyTorch).
    """

    #: The pure update function ``f(param, grad, state, **hyperparameters)``.
    update_fn: Callable[..., None]
    #: True if ``update_fn`` is elementwise: then a single group of nerve tensors is
    #: gathered into flat arrays and updated with one call (see :mod:`nerve.optim.flat`).
    elementwise = False
    _flat: FlatParameters | None = None

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: OptimizerState = OptimizerState(self.param_groups)
        if callable(getattr(params, "parameters", None)):
            raise TypeError(
                f"{self._name}: params must be the model's parameters: pass "
                f"model.parameters(), not the {type(params).__name__} itself"
            )
        if isinstance(params, Mapping) or hasattr(params, "data"):
            raise TypeError(
                f"{self._name}: params must be an iterable of parameters or of dicts "
                f"(parameter groups), got {type(params).__name__}"
            )
        used_up = _used_up(params)
        try:
            items = list(params)
        except TypeError:
            raise TypeError(
                f"{self._name}: params must be an iterable of parameters or of dicts, "
                f"got {type(params).__name__}"
            ) from None
        if not items:
            hint = (" (a generator such as model.parameters() can be consumed only once; "
                    "call model.parameters() again, unless the model has no parameters)"
                    ) if used_up else ""
            raise ValueError(f"{self._name}: got an empty parameter list{hint}")
        groups = items if isinstance(items[0], Mapping) else [{"params": items}]
        for group in groups:
            self.add_param_group(group)
        if FlatParameters.eligible(self):
            self._flat = FlatParameters(self.param_groups[0]["params"], self)

    @property
    def _name(self) -> str:
        return type(self).__name__

    # -- groups ---------------------------------------------------------------
    def add_param_group(self, group: Mapping[str, Any]) -> None:
        """Add a group ``{"params": [...], **options}``; missing options take the defaults."""
        if not isinstance(group, Mapping) or "params" not in group:
            raise TypeError(
                f"{self._name}: a parameter group must be a dict with a 'params' key, "
                f"got {type(group).__name__}"
            )
        gi = len(self.param_groups)
        params = group["params"]
        params = [params] if hasattr(params, "data") else list(params)
        if not params:
            raise ValueError(f"{self._name}: parameter group {gi} is empty")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for k, p in enumerate(params):
            _check_param(p, f"{self._name}: parameter {k} of group {gi}")
            if id(p) in seen:
                raise ValueError(
                    f"{self._name}: parameter {k} of group {gi} appears more than once "
                    "(in this group or an earlier one)"
                )
            seen.add(id(p))
        unknown = set(group) - set(self.defaults) - {"params", *_EXTRA_GROUP_KEYS}
        if unknown:
            raise ValueError(
                f"{self._name}: unknown option(s) {sorted(unknown)} in parameter group {gi}; "
                f"valid options: {sorted(self.defaults)}"
            )
        new = {key: group.get(key, default) for key, default in self.defaults.items()}
        new = self._check_hyperparameters(new)
        for key in _EXTRA_GROUP_KEYS:
            if key in group:
                new[key] = group[key]
        new["params"] = params
        self.param_groups.append(new)
        self._flat = None  # a second group: per-parameter updates from now on

    def _check_hyperparameters(self, options: dict[str, Any]) -> dict[str, Any]:
        """Validate one group's options and return them normalised (subclasses override)."""
        return options

    def _hyperparameters(self, group: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments that ``update_fn`` takes, read from a group."""
        return {key: group[key] for key in self.defaults}

    def _indexed_params(self) -> Iterable[tuple[int, Any, dict[str, Any]]]:
        index = 0
        for group in self.param_groups:
            for p in group["params"]:
                yield index, p, group
                index += 1

    # -- the training-loop API ------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set ``p.grad = None`` or, if not ``set_to_none``, fill with 0."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad[...] = 0

    #: Every this many steps, optimizer state that decayed into the subnormal range (the
    #: momentum of a dead unit: 0.9ᵏ·v, stuck at the smallest subnormal in float32) is
    #: set to 0. Subnormal arithmetic is some 30× slower, and those entries never leave it.
    #: Buffers that divide the step (:attr:`denominator_state`) are flushed only where that
    #: cannot change a step beyond rounding (see :meth:`_may_flush_denominators`).
    FLUSH_EVERY = 64
    #: The state buffers s whose root divides the step, d = √s/c + eps (Adam's
    #: ``exp_avg_sq``, RMSProp's ``square_avg``, ...): a subclass names them. Setting such
    #: an entry to 0 is not harmless as for a momentum: with eps = 0 it changes the step
    #: from m/√s to m/0.
    denominator_state: tuple[str, ...] = ()
    _steps_taken = 0  # steps since the optimizer was built (saved in state_dict)
    #: The rates :meth:`load_state_dict` restored (or set by hand since), which the
    #: schedulers' load_state_dict keeps (None: never loaded; emptied by the first
    #: scheduler step after the load), and the rates as the last scheduler constructor
    #: left them (see ``nerve.optim.lr_scheduler``).
    _loaded_lrs: list | None = None
    _built_lrs: list | None = None

    def _denominator_scale(self, group: Mapping[str, Any]) -> float:
        """The smallest factor c in d = √s/c + eps over all steps (1 without a bias
        correction; Adam overrides it)."""
        return 1.0

    def _may_flush_denominators(self, group: Mapping[str, Any], dtype: np.dtype) -> bool:
        """Whether the :attr:`denominator_state` entries below ``finfo.tiny`` may be set to 0.

        Zeroing s < tiny moves d = √s/c + eps by at most √tiny/c, a relative change of at
        most √tiny/(c·eps); it is allowed when that is below the dtype's machine epsilon,
        √tiny < c·eps·finfo.eps (true for eps = 1e-8 in float32 and float64; never for
        eps = 0 or a tiny eps, whose steps do depend on subnormal s).
        """
        finfo = np.finfo(dtype)
        eps = float(group.get("eps", 0.0))
        return math.sqrt(float(finfo.tiny)) < (self._denominator_scale(group) * eps
                                               * float(finfo.eps))

    def _after_step(self) -> None:
        """Count a step; every FLUSH_EVERY steps, flush subnormal state entries to 0."""
        self._steps_taken += 1
        if self._steps_taken % self.FLUSH_EVERY == 0:
            self._flush_subnormal_state()

    def _flush_subnormal_state(self) -> None:
        """Set the state entries below ``finfo.tiny`` in magnitude to 0, except in the
        :attr:`denominator_state` buffers of a group where :meth:`_may_flush_denominators`
        says no."""
        denominators = self.denominator_state
        keep: dict[tuple[int, np.dtype], bool] = {}  # (group id, dtype) -> denominators kept

        def kept(group: Mapping[str, Any], dtype: np.dtype) -> bool:
            key = (id(group), dtype)
            if key not in keep:
                keep[key] = not self._may_flush_denominators(group, dtype)
            return keep[key]

        flat = self._flat
        arrays = []
        # the flat arrays at once, then the per-parameter ones that are not their views
        if flat is not None:
            group = self.param_groups[0]
            arrays = [v for k, v in flat.state.items() if isinstance(v, np.ndarray)
                      and v.dtype.kind == "f"
                      and not (k in denominators and kept(group, v.dtype))]
        flat_ids = {id(v) for v in flat.state.values() if isinstance(v, np.ndarray)} \
            if flat is not None else set()
        state = self.state
        for index, _, group in self._indexed_params():
            st = _dict_get(state, index)
            if not st:
                continue
            for k, v in st.items():
                if isinstance(v, np.ndarray) and v.dtype.kind == "f" \
                        and id(v.base) not in flat_ids \
                        and not (k in denominators and kept(group, v.dtype)):
                    arrays.append(v)
        for a in arrays:
            a[np.abs(a) < np.finfo(a.dtype).tiny] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, in place; return ``closure()`` if given.

        The closure (which recomputes the loss and calls ``backward()``) runs with the
        graph recorded even inside ``no_grad``, as PyTorch's optimizers run it."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        flat = self._flat
        if flat is not None:
            ready = flat.ready()
            if ready is None:  # something rebound a parameter's data: gather again
                flat = self._flat = FlatParameters(flat.params, self) \
                    if FlatParameters.eligible(self) else None
                ready = flat is not None and flat.ready()
            if ready and flat.usable_state():
                flat.step()
                self._after_step()
                mark_updated(flat.params)
                return loss
        update, state = self.update_fn, self.state
        index, updated = 0, []
        for group in self.param_groups:
            hyper = self._hyperparameters(group)
            for p in group["params"]:
                if p.grad is not None:
                    buffers = _dict_get(state, index)  # dict's own: a position, C speed
                    if buffers is None:
                        buffers = state[index] = {}
                    try:
                        update(p.data, p.grad, buffers, **hyper)
                    except ValueError as exc:
                        raise ValueError(f"{self._name}: parameter {index}: {exc}") from None
                    updated.append(p)
                index += 1
        self._after_step()
        mark_updated(updated)
        return loss

    # -- checkpoints -----------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A flat dict of NumPy arrays, numbers and strings (savable with ``np.savez``).

        Keys: ``"optimizer"`` (class name), ``"steps"`` (steps taken),
        ``"param_groups.<g>.params"`` (the parameter positions),
        ``"param_groups.<g>.<option>"`` and ``"state.<i>.<buffer>"``. Arrays are copies.
        """
        sd: dict[str, Any] = {"optimizer": self._name, "steps": self._steps_taken}
        start = 0
        for gi, group in enumerate(self.param_groups):
            count = len(group["params"])
            sd[f"param_groups.{gi}.params"] = np.arange(start, start + count, dtype=np.int64)
            start += count
            for key, value in group.items():
                if key == "params":
                    continue
                sd[f"param_groups.{gi}.{key}"] = (
                    np.array(value, dtype=np.float64) if isinstance(value, tuple) else value
                )
        for index in sorted(self.state):
            for key, value in self.state[index].items():
                sd[f"state.{index}.{key}"] = (
                    value.copy() if isinstance(value, np.ndarray) else value
                )
        return sd

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore hyperparameters and buffers saved by :meth:`state_dict` (also after ``np.load``).

        The parameters themselves are not part of it: the optimizer must have been
        built over parameters of the same number, grouping and shapes. Nothing
        changes if the dict does not fit.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"{self._name}.load_state_dict expects a dict, got {type(state_dict).__name__}"
            )
        sd = dict(state_dict)
        saved_for = sd.pop("optimizer", None)
        if saved_for is not None and str(np.asarray(saved_for)) != self._name:
            raise ValueError(
                f"this state dict belongs to {np.asarray(saved_for)}, "
                f"cannot load it into {self._name}"
            )
        steps = np.asarray(sd.pop("steps", 0))  # absent from files of older versions
        if steps.ndim or steps.dtype.kind not in "iu" or steps < 0:
            raise ValueError(f"{self._name}.load_state_dict: steps must be an integer >= 0, "
                             f"got {steps!r}")
        groups = self._load_groups(sd)
        state = self._load_state(sd)
        if sd:
            raise ValueError(
                f"{self._name}.load_state_dict: unexpected key(s) {sorted(sd)[:5]}"
            )
        for group, options in zip(self.param_groups, groups):
            group.update(options)
        self.state = OptimizerState(self.param_groups, state)
        self._steps_taken = int(steps)
        self._loaded_lrs = [group["lr"] for group in self.param_groups]
        self._built_lrs = list(self._loaded_lrs)
        if self._flat is not None:
            self._flat.gather_state()

    def _load_groups(self, sd: dict[str, Any]) -> list[dict[str, Any]]:
        saved = sorted({int(k.split(".")[1]) for k in sd
                        if k.startswith("param_groups.") and k.count(".") >= 2
                        and k.split(".")[1].isdigit()})
        if saved != list(range(len(self.param_groups))):
            raise ValueError(
                f"{self._name}.load_state_dict: the state dict has {len(saved)} parameter "
                f"group(s), this optimizer has {len(self.param_groups)}"
            )
        out = []
        start = 0
        for gi, group in enumerate(self.param_groups):
            count = len(group["params"])
            prefix = f"param_groups.{gi}."
            indices = np.asarray(sd.pop(prefix + "params", None))
            expected = np.arange(start, start + count)
            if indices.shape != expected.shape or not np.array_equal(indices, expected):
                raise ValueError(
                    f"{self._name}.load_state_dict: group {gi} has {count} parameter(s) "
                    f"at positions {start}..{start + count - 1}, the state dict lists "
                    f"{indices.tolist() if indices.ndim else 'none'}"
                )
            start += count
            options = {}
            for key in [k for k in sd if k.startswith(prefix)]:
                name = key[len(prefix):]
                if name not in self.defaults and name not in _EXTRA_GROUP_KEYS:
                    raise ValueError(
                        f"{self._name}.load_state_dict: unknown option {name!r} in group {gi}; "
                        f"valid options: {sorted(self.defaults)}"
                    )
                options[name] = _to_python(sd.pop(key), self.defaults.get(name, 0.0))
            merged = {key: options.get(key, group[key]) for key in self.defaults}
            checked = self._check_hyperparameters(merged)
            for key in _EXTRA_GROUP_KEYS:
                if key in options:
                    checked[key] = options[key]
            out.append(checked)
        return out

    def _load_state(self, sd: dict[str, Any]) -> dict[int, dict[str, Any]]:
        params = [p for _, p, _ in self._indexed_params()]
        state: dict[int, dict[str, Any]] = {}
        for key in [k for k in sd if k.startswith("state.")]:
            parts = key.split(".")
            if len(parts) != 3 or not parts[1].isdigit():
                raise ValueError(f"{self._name}.load_state_dict: malformed key {key!r}")
            index, name = int(parts[1]), parts[2]
            if index >= len(params):
                raise ValueError(
                    f"{self._name}.load_state_dict: state for parameter {index}, "
                    f"but this optimizer has only {len(params)} parameter(s)"
                )
            value = sd.pop(key)
            data = params[index].data
            if name == "step":
                value = int(np.asarray(value))
            else:
                value = np.asarray(value)
                if value.shape != data.shape:
                    raise ValueError(
                        f"{self._name}.load_state_dict: buffer {name!r} of parameter {index} "
                        f"has shape {value.shape}, the parameter has shape {data.shape}"
                    )
                value = value.astype(data.dtype, copy=True)
            state.setdefault(index, {})[name] = value
        return state

    def __repr__(self) -> str:
        lines = [f"{self._name} ("]
        for gi, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {gi}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _to_python(value: Any, like: Any) -> Any:
    """Turn a loaded value (maybe a 0-d array) back into the type of the default ``like``."""
    arr = np.asarray(value)
    if isinstance(like, tuple):
        return tuple(float(v) for v in arr.ravel())
    if isinstance(like, (bool, np.bool_)):
        return bool(arr)
    if arr.ndim != 0:
        raise ValueError(f"expected a number, got an array of shape {arr.shape}")
    return arr.item()
