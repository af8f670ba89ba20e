"""``nerve.nn``: layers, activations, losses and the Module machinery.

>>> import nerve.nn as nn
>>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
>>> net.num_parameters()            # (3·4 + 4) + (4·2 + 2)
26
"""
from __future__ import annotations

from . import derivatives, functional, init, utils
from .activation import (
    ACTIVATIONS, ELU, LeakyReLU, LogSoftmax, PReLU, ReLU, Sigmoid, Softmax, Step, Tanh,
    get_activation,
)
from .batchnorm import BatchNorm1d
from .container import Identity, ModuleDict, ModuleList, Sequential
from .derivatives import DERIVATIVES, get_derivative
from .dropout import Dropout
from .flatten import Flatten
from .init import INITS
from .linear import Linear
from .loss import (
    LOSSES, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HingeLoss, HuberLoss, L1Loss, MSELoss,
    NLLLoss, SmoothL1Loss, get_loss,
)
from .maxout import Maxout
from .module import Module, Parameter
from .registry import LAYERS, from_config, register_layer, to_config
from .summary import network_name

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "Identity",
    "Linear", "Maxout", "Dropout", "BatchNorm1d", "Flatten",
    "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "LogSoftmax", "Step",
    "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "CrossEntropyLoss", "HingeLoss", "BCEWithLogitsLoss", "BCELoss", "NLLLoss",
    "ACTIVATIONS", "DERIVATIVES", "INITS", "LOSSES", "LAYERS",
    "get_activation", "get_derivative", "get_loss", "register_layer", "to_config",
    "from_config", "network_name", "init", "derivatives", "functional", "utils",
]
