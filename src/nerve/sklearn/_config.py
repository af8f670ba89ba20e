"""Turning an estimator's hyperparameters into nerve objects: network, optimizer, schedule.

Every hyperparameter is checked here, at ``fit`` time (scikit-learn's rule: the
constructor only stores), with a message naming the parameter, the value and
what was expected.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import nn, optim
from ..data._checks import check_bool

#: Hidden activations: every nerve activation, plus "maxout" (a Maxout layer with
#: two pieces replaces the hidden Linear layer and its activation).
HIDDEN_ACTIVATIONS = tuple(nn.ACTIVATIONS) + ("maxout", "logistic")
#: scikit-learn's names that differ from nerve's.
_SKLEARN_ACTIVATIONS = {"logistic": "sigmoid"}
SCHEDULES = ("constant", "step", "exponential", "cosine")
PENALTIES = ("l2", "l1", "elasticnet", None)
DTYPES = {"float32": np.float32, "float64": np.float64}
#: ``dtype="auto"``: float64 X trains in float64 (scikit-learn's rule), any other in float32.
AUTO_DTYPE = "auto"
#: Other accepted names of a loss (scikit-learn's), mapped to the name nerve trains with.
LOSS_ALIASES = {"log_loss": "cross_entropy"}


def _is_int(value: Any) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, (numbers.Real, np.floating)) and not isinstance(value, bool)


def check_int(name: str, value: Any, low: int) -> int:
    """``value`` as an int ≥ ``low``, or a TypeError/ValueError naming ``name``."""
    if not _is_int(value):
        raise TypeError(f"{name} must be an integer >= {low}, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value}")
    return int(value)


def check_real(name: str, value: Any, low: float, high: float = np.inf,
               low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite float in the interval, or an error naming ``name`` and the
    interval."""
    high_open = high_open or high == np.inf
    interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if not _is_real(value):
        raise TypeError(f"{name} must be a number in {interval}, got {value!r}")
    v = float(value)
    inside = (v > low if low_open else v >= low) and (v < high if high_open else v <= high) \
        and np.isfinite(v)
    if not inside:
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")
    return v


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    if isinstance(value, str):
        value = value.strip().lower()
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not valid; expected one of "
                         f"{', '.join(repr(c) for c in choices)}")
    return value


def canonical_loss(value: Any) -> Any:
    """``loss`` as training uses it: stripped, lower case, an alias mapped to nerve's name
    ("Log_Loss" -> "cross_entropy"). Every check of the loss goes through this one
    function, so that e.g. ``loss="Hinge"`` is hinge everywhere, not only in training.
    No validation (:func:`check_choice` does that); a non-string comes back unchanged."""
    if isinstance(value, str):
        value = value.strip().lower()
        return LOSS_ALIASES.get(value, value)
    return value


def hidden_sizes(value: Any) -> tuple[int, ...]:
    """``hidden_layer_sizes`` as a tuple of positive ints (an int means one hidden layer)."""
    if _is_int(value):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence | np.ndarray):
        raise TypeError(f"hidden_layer_sizes must be a tuple of positive ints such as "
                        f"(100,) or (64, 32), got {value!r}")
    return tuple(check_int(f"hidden_layer_sizes[{i}]", v, 1) for i, v in enumerate(value))


def per_layer(name: str, value: Any, n_hidden: int) -> list[Any]:
    """A scalar repeated for each hidden layer, or a sequence with one entry per hidden layer."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence | np.ndarray):
        return [value] * n_hidden
    value = list(value)
    if len(value) != n_hidden:
        raise ValueError(f"{name} has {len(value)} entries but there are {n_hidden} hidden "
                         f"layers (hidden_layer_sizes); give one per hidden layer or a "
                         "single value for all")
    return value


def model_dtype(value: Any) -> type | None:
    """The ``dtype`` hyperparameter checked: np.float32 or np.float64, or None for "auto"
    (decided by X at the first fit, see :func:`fit_dtype`)."""
    key = value
    if not isinstance(value, str) and value is not None:
        try:
            key = np.dtype(value).name
        except (TypeError, ValueError):
            pass  # not a dtype at all: check_choice names it
    key = check_choice("dtype", key, (AUTO_DTYPE, *DTYPES))
    return None if key == AUTO_DTYPE else DTYPES[key]


def accepted_dtypes(dtype: type | None) -> tuple[type, type]:
    """The ``dtype=`` for scikit-learn's ``validate_data``: float32 and float64 are kept as
    they are, anything else (integers, lists, float16) becomes the first of the pair: the
    model's dtype, or float32 (nerve's default) when it is not decided yet ("auto")."""
    return (np.float64, np.float32) if dtype is np.float64 else (np.float32, np.float64)


def fit_dtype(dtype: type | None, X: np.ndarray) -> type:
    """The dtype a first fit computes in: the one asked for, or for "auto" (None) X's own
    after :func:`accepted_dtypes`: float64 for float64 X (as scikit-learn's MLP, whose
    checks compare to 1e-7), float32 for anything else (float32, integer, bool, float16
    X, lists of numbers)."""
    if dtype is not None:
        return dtype
    return np.float32 if X.dtype == np.float32 else np.float64


def build_network(est: Any, n_in: int, n_out: int, dtype: type) -> nn.Sequential:
    """The network the estimator trains: per hidden layer Linear → [BatchNorm1d] →
    activation → [Dropout] (or Maxout → [BatchNorm1d] → [Dropout]), then a Linear output
    layer giving raw scores (classes) or predictions (regression targets)."""
    sizes = hidden_sizes(est.hidden_layer_sizes)
    acts = [check_choice(f"activation[{i}]" if len(sizes) > 1 else "activation", a,
                         HIDDEN_ACTIVATIONS)
            for i, a in enumerate(per_layer("activation", est.activation, len(sizes)))]
    acts = [_SKLEARN_ACTIVATIONS.get(a, a) for a in acts]
    drops = [check_real(f"dropout[{i}]" if len(sizes) > 1 else "dropout", p, 0.0, 1.0,
                        high_open=True)
             for i, p in enumerate(per_layer("dropout", est.dropout, len(sizes)))]
    batch_norm = check_bool("batch_norm", est.batch_norm)
    init = check_choice("init", est.init, tuple(nn.INITS))
    layers: list[nn.Module] = []
    fan_in = n_in
    for size, act, p in zip(sizes, acts, drops):
        if act == "maxout":
            layers.append(nn.Maxout(fan_in, size, pieces=2, init=init,
                                    dtype=dtype))
        else:
            layers.append(nn.Linear(fan_in, size, init=init, dtype=dtype))
        if batch_norm:
            layers.append(nn.BatchNorm1d(size, dtype=dtype))
        if act == "prelu":
            layers.append(nn.PReLU(dtype=dtype))
        elif act != "maxout":
            layers.append(nn.get_activation(act))
        if p > 0:
            layers.append(nn.Dropout(p))
        fan_in = size
    layers.append(nn.Linear(fan_in, n_out, init=init, dtype=dtype))
    return nn.Sequential(*layers)


def build_optimizer(est: Any, params: list[Any]) -> optim.Optimizer:
    """The nerve optimizer named by ``solver``, with scikit-learn's hyperparameter names."""
    solver = check_choice("solver", est.solver, tuple(optim.OPTIMIZERS))
    lr = check_real("learning_rate_init", est.learning_rate_init, 0.0, low_open=True)
    momentum = check_real("momentum", est.momentum, 0.0, 1.0)
    nesterov = check_bool("nesterovs_momentum", est.nesterovs_momentum)
    beta_1 = check_real("beta_1", est.beta_1, 0.0, 1.0, high_open=True)
    beta_2 = check_real("beta_2", est.beta_2, 0.0, 1.0, high_open=True)
    eps = check_real("epsilon", est.epsilon, 0.0, low_open=True)
    if solver == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov and momentum > 0)
    if solver == "momentum":
        return optim.SGD(params, lr=lr, momentum=momentum)
    if solver == "nesterov":
        if momentum == 0:
            raise ValueError("solver='nesterov' needs momentum > 0, got momentum=0")
        return optim.SGD(params, lr=lr, momentum=momentum, nesterov=True)
    if solver in ("adam", "adamw"):
        return optim.get_optimizer(solver, params, lr=lr, betas=(beta_1, beta_2), eps=eps)
    return optim.get_optimizer(solver, params, lr=lr, eps=eps)


def build_schedule(est: Any, optimizer: optim.Optimizer, max_iter: int
                   ) -> optim.LRScheduler | None:
    """The per-epoch learning-rate schedule named by ``learning_rate`` (None: constant).

    Defaults: "step" StepLR(step_size=max(1, max_iter // 3), gamma=0.1), "exponential"
    ExponentialLR(gamma=0.95), "cosine" CosineAnnealingLR(T_max=max_iter); override
    them with ``learning_rate_params`` (a dict of the scheduler's arguments).
    """
    kind = check_choice("learning_rate", est.learning_rate, SCHEDULES)
    extra = est.learning_rate_params
    if extra is None:
        extra = {}
    if not isinstance(extra, dict):
        raise TypeError(f"learning_rate_params must be a dict of scheduler arguments or None, "
                        f"got {type(extra).__name__}")
    if kind == "constant":
        if extra:
            raise ValueError("learning_rate_params is given but learning_rate='constant' "
                             "has no parameters; choose 'step', 'exponential' or 'cosine'")
        return None
    defaults = {"step": {"step_size": max(1, max_iter // 3), "gamma": 0.1},
                "exponential": {"gamma": 0.95},
                "cosine": {"T_max": max_iter}}[kind]
    cls = {"step": optim.StepLR, "exponential": optim.ExponentialLR,
           "cosine": optim.CosineAnnealingLR}[kind]
    try:
        return cls(optimizer, **{**defaults, **extra})
    except TypeError as exc:
        raise TypeError(f"learning_rate_params {extra} do not fit {cls.__name__}: {exc}") \
            from None


def penalty_terms(est: Any) -> tuple[float, float]:
    """(L2 weight, L1 weight) of the penalty: the gradient of every weight matrix gets
    ``alpha / n_batch · (l2 · W + l1 · sign(W))`` added."""
    alpha = check_real("alpha", est.alpha, 0.0)
    penalty = check_choice("penalty", est.penalty, PENALTIES)
    ratio = check_real("l1_ratio", est.l1_ratio, 0.0, 1.0)  # checked even where unused
    if penalty is None or alpha == 0:
        return 0.0, 0.0
    if penalty == "l2":
        return alpha, 0.0
    if penalty == "l1":
        return 0.0, alpha
    return alpha * (1.0 - ratio), alpha * ratio
