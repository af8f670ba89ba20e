"""The layer registry: name → class, and architecture ↔ JSON-able config.

A model file stores the architecture as data, never as code: each layer
becomes ``{"type": "Linear", "config": {...constructor arguments...}}`` and a
container also lists its ``"layers"``. Loading looks the type up in
:data:`LAYERS` (unknown names are an error) and calls the constructor, so no
file can make nerve run code. Register your own layers with
:func:`register_layer` (they need ``get_config()``).
"""
from __future__ import annotations

from typing import Any

from .activation import (
    ELU, LeakyReLU, LogSoftmax, PReLU, ReLU, Sigmoid, Softmax, Step, Tanh,
)
from .batchnorm import BatchNorm1d
from .container import Identity, ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .flatten import Flatten
from .linear import Linear
from .loss import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HingeLoss, HuberLoss, L1Loss, MSELoss, NLLLoss,
    SmoothL1Loss,
)
from .maxout import Maxout
from .module import Module

LAYERS: dict[str, type[Module]] = {}
_CONTAINERS = (Sequential, ModuleList, ModuleDict)


def register_layer(cls: type[Module]) -> type[Module]:
    """Make ``cls`` savable by ``nv.save``/``nv.load`` under its class name (a decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise TypeError(f"register_layer expects a Module subclass, got {cls!r}")
    LAYERS[cls.__name__] = cls
    return cls


for _cls in (Linear, Maxout, Sigmoid, Tanh, ReLU, LeakyReLU, PReLU, ELU, Softmax, LogSoftmax,
             Identity,
             Step, Dropout, Flatten, BatchNorm1d, Sequential, ModuleList, ModuleDict, MSELoss,
             L1Loss, SmoothL1Loss, HuberLoss, CrossEntropyLoss, HingeLoss, BCEWithLogitsLoss,
             BCELoss, NLLLoss):
    register_layer(_cls)


def to_config(module: Module, _seen: dict | None = None) -> dict[str, Any]:
    """The architecture of ``module`` as nested dicts of JSON types.

    A module that occurs twice (a layer reused: tied weights) is written once; its
    later occurrences are ``{"type": "same_as", "index": k}``, k counting the layers in
    the order they are written, so that loading ties them again.
    """
    seen = {} if _seen is None else _seen
    if id(module) in seen:
        return {"type": "same_as", "index": seen[id(module)]}
    name = type(module).__name__
    if LAYERS.get(name) is not type(module):
        raise ValueError(
            f"cannot save the architecture of {name}: it is not a registered layer "
            f"(known: {', '.join(sorted(LAYERS))}); decorate it with "
            "nerve.nn.register_layer and give it get_config(), or save only the weights "
            "with nv.save_state(model.state_dict(), path)")
    seen[id(module)] = len(seen)
    cfg: dict[str, Any] = {"type": name, "config": module.get_config()}
    if isinstance(module, _CONTAINERS):
        children = module.values() if isinstance(module, ModuleDict) else module
        cfg["layers"] = [to_config(m, seen) for m in children]
    elif any(True for _ in module.children()):
        raise ValueError(f"cannot save the architecture of {name}: it has sub-modules; "
                         "save its weights with nv.save_state(model.state_dict(), path)")
    return cfg


def from_config(cfg: Any, _built: list | None = None) -> Module:
    """Rebuild a module from :func:`to_config`'s output (weights freshly initialised);
    a ``same_as`` entry is the module built earlier at that index (tied weights)."""
    built = [] if _built is None else _built
    if not isinstance(cfg, dict) or not isinstance(cfg.get("type"), str):
        raise ValueError(f"a layer config must be a dict with a 'type' name, got {cfg!r:.80}")
    name = cfg["type"]
    if name == "same_as":
        index = cfg.get("index")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(built) \
                or built[index] is None:
            raise ValueError(f"a 'same_as' layer must name a layer written before it, got "
                             f"{cfg!r:.80}")
        return built[index]
    slot = len(built)
    built.append(None)  # this module's index, taken before its children's (as to_config)
    module = _build(cfg, name, built)
    built[slot] = module
    return module


def _build(cfg: dict, name: str, built: list) -> Module:
    if name not in LAYERS:
        raise ValueError(f"unknown layer type {name!r}; known layers: "
                         f"{', '.join(sorted(LAYERS))} (register custom layers with "
                         "nerve.nn.register_layer before loading)")
    cls = LAYERS[name]
    kwargs = cfg.get("config", {})
    if not isinstance(kwargs, dict):
        raise ValueError(f"the config of layer {name} must be a dict, got {kwargs!r:.80}")
    if issubclass(cls, _CONTAINERS):
        layers = cfg.get("layers", [])
        if not isinstance(layers, list):
            raise ValueError(f"the 'layers' of {name} must be a list, got {layers!r:.80}")
        children = [from_config(c, built) for c in layers]
        names = kwargs.get("names")
        if names is not None:
            if not isinstance(names, list) or len(names) != len(children) \
                    or len(set(map(str, names))) != len(names):
                raise ValueError(f"the 'names' of {name} must list one distinct name per "
                                 f"layer ({len(children)}), got {names!r:.80}")
            from collections import OrderedDict

            return cls(OrderedDict(zip(names, children)))
        if issubclass(cls, ModuleDict):
            raise ValueError(f"the config of {name} must list the modules' 'names'")
        return cls(*children) if cls is Sequential or issubclass(cls, Sequential) \
            else cls(children)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot build layer {name} from config {kwargs}: {exc}") from None
