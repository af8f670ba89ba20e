"""nerve: neural networks from first principles on NumPy.

>>> import nerve as nv
>>> x = nv.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x * x + x).sum().backward()
>>> x.grad                      # d(x² + x)/dx = 2x + 1
array([3., 5., 7.], dtype=float32)
"""
from __future__ import annotations

from . import data, features, linear, losses, nn, ops, optim, perceptron, regularizers  # noqa: F401
from .compile import CompiledStep, compile
from .autograd import (
    Function, enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled,
)
from .functional import (
    abs, arange, argmax, argmin, cat, chunk, clamp, clip, concatenate, elu, exp, eye, flatten,
    from_numpy, full, identity, leaky_relu, log, log_softmax, logsumexp, matmul, max, maximum,
    maxout, mean, min, minimum, ones, ones_like, permute, rand, randn, relu, reshape, sigmoid,
    softmax, split, sqrt, squeeze, stack, std, step, sum, tanh, transpose, unsqueeze, var, where,
    zeros, zeros_like,
)
from .nn.activation import prelu
from .export_onnx import export_onnx
from .gradcheck import GradcheckError, gradcheck, numerical_gradient
from .graph import draw_graph
from .io import load, load_state, save, save_state
from .train import (
    Callback, EarlyStopping, History, LambdaCallback, ModelCheckpoint, TrainingDivergedError,
    evaluate, fit, predict,
)
from .random import get_rng, get_rng_state, manual_seed, set_rng_state, using_generator
from .tensor import (
    Tensor, bool_, float32, float64, get_default_dtype, int32, int64, set_default_dtype, tensor,
)

# PyTorch's dtype names, for ported code such as ``(pred.argmax(1) == y).type(nv.float)``:
# torch.float is float32, torch.double float64, torch.long int64, torch.int int32. (No
# nv.half: nerve computes in float32 or float64.) Left out of __all__, so that
# ``from nerve import *`` does not hide Python's float, int and bool.
float = float32
double = float64
long = int64
int = int32
bool = bool_

__version__ = "0.1.0"

__all__ = [
    # subpackages and modules
    "data", "features", "linear", "losses", "nn", "ops", "optim", "perceptron", "regularizers",
    # tensors and autodiff
    "Tensor", "tensor", "Function", "no_grad", "enable_grad", "is_grad_enabled",
    "set_grad_enabled", "inference_mode",
    "float32", "float64", "int32", "int64", "bool_", "get_default_dtype", "set_default_dtype",
    "abs", "arange", "argmax", "argmin", "cat", "clip", "concatenate", "elu", "exp", "eye",
    "from_numpy", "full", "leaky_relu", "log", "log_softmax", "matmul", "max", "maximum",
    "mean", "min", "minimum", "ones", "ones_like", "rand", "randn", "relu", "reshape",
    "sigmoid", "softmax", "sqrt", "stack", "std", "step", "sum", "tanh", "transpose", "var",
    "where", "zeros", "zeros_like", "chunk", "clamp", "flatten", "logsumexp", "permute",
    "split", "squeeze", "unsqueeze", "identity", "maxout", "prelu",
    "gradcheck", "numerical_gradient", "GradcheckError", "draw_graph",
    "manual_seed", "get_rng", "get_rng_state", "set_rng_state", "using_generator",
    # training, files, speed, export
    "fit", "evaluate", "predict", "History", "Callback", "LambdaCallback", "EarlyStopping",
    "ModelCheckpoint", "TrainingDivergedError",
    "save", "load", "save_state", "load_state",
    "compile", "CompiledStep", "export_onnx",
]
