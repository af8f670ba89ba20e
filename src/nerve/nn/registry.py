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


def to_config(module: Module) -> dict[str, Any]:
    """The architecture of ``module`` as nested dicts of JSON types."""
    name = type(module).__name__
    if LAYERS.get(name) is not type(module):
        raise ValueError(
            f"cannot save the architecture of {name}: it is not a registered layer "
            f"(known: {', '.join(sorted(LAYERS))}); decorate it with "
            "nerve.nn.register_layer and give it get_config(), or save only the weights "
            "with nv.save_state(model.state_dict(), path)")
    cfg: dict[str, Any] = {"type": name, "config": module.get_config()}
    if isinstance(module, _CONTAINERS):
        children = module.values() if isinstance(module, ModuleDict) else module
        cfg["layers"] = [to_config(m) for m in children]
    elif any(True for _ in module.children()):
        raise ValueError(f"cannot save the architecture of {name}: it has sub-modules; "
                         "save its weights with nv.save_state(model.state_dict(), path)")
    return cfg


def from_config(cfg: Any) -> Module:
    """Rebuild a module from :func:`to_config`'s output (weights freshly initialised)."""
    if not isinstance(cfg, dict) or not isinstance(cfg.get("type"), str):
        raise ValueError(f"a layer config must be a dict with a 'type' name, got {cfg!r:.80}")
    name = cfg["type"]
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
        children = [from_config(c) for c in layers]
        names = kwargs.get("names")
        if names is not None:
            if not isinstance(names, list) or len(names) != len(children):
                raise ValueError(f"the 'names' of {name} must list one name per layer "
                                 f"({len(children)}), got {names!r:.80}")
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
