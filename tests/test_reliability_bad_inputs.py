"""Bad inputs for every public entry point: one table row per mistake a user can make.

Each row calls one public function or class of API.md with a wrong shape, dtype,
type, range, an empty array, NaN/inf, an out-of-range label or a bad path, and
asserts (1) the exception type (ValueError, TypeError, FileNotFoundError, or a
nerve error deriving from them; IndexError for tensor indexing and KeyError for
a History lookup, as Python sequences and mappings do), (2) a fragment of the
message naming what was wrong or what was expected, and (3) that the error was
raised by nerve's own checks, not by NumPy deep inside (the innermost traceback
frame is not NumPy's).
The CLI rows assert the exit code and a one-line ``nerve: error:`` message.
``test_table_covers_every_public_name`` keeps the table complete.
"""
from __future__ import annotations

import os
import re
import traceback
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest

import nerve as nv
from nerve import data, features, losses, nn, optim, perceptron, regularizers

V, T, F, I = ValueError, TypeError, FileNotFoundError, IndexError
NAN = float("nan")


@dataclass
class Row:
    target: str                  # the public name under test, as API.md spells it
    what: str                    # the mistake
    call: Callable[[Any], Any]   # env -> raises
    exc: type | tuple
    fragment: str                # regex that the message must contain


class Env:
    """Shared, read-only fixtures for the rows (built once per module)."""

    def __init__(self, root) -> None:
        nv.manual_seed(0)
        self.root = root
        self.model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        self.X = np.random.default_rng(0).standard_normal((12, 4)).astype(np.float32)
        self.y = np.arange(12) % 3
        self.opt = optim.SGD(self.model.parameters(), lr=0.1)
        self.missing = str(root / "nope" / "model.npz")
        self.absent = str(root / "absent.npz")
        self.folder = str(root)
        self.garbage = str(root / "garbage.npz")
        with open(self.garbage, "wb") as fh:
            fh.write(b"\x00not a zip archive at all" * 10)
        self.model_file = str(root / "model.npz")
        nv.save(self.model, self.model_file)
        self.state_file = str(root / "state.npz")
        nv.save_state({"w": np.ones(3)}, self.state_file)
        self.images = np.random.default_rng(1).integers(0, 255, (2, 16, 16, 3)).astype(np.uint8)

    def t(self, *shape, **kw):
        return nv.tensor(np.ones(shape), **kw)

    def fit(self, **overrides):
        args = dict(loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=1, batch_size=4,
                    progress=False)
        args.update(overrides)
        X = args.pop("X", self.X)
        y = args.pop("y", self.y)
        model = args.pop("model", nn.Sequential(nn.Linear(4, 3)))
        return nv.fit(model, X, y, **args)


def _xnan(e):
    X = e.X.copy()
    X[3, 1] = np.nan
    return X


def _xinf(e):
    X = e.X.copy()
    X[0, 0] = np.inf
    return X


class _NoHooks:
    pass


ROWS = [
    # ------------------------------------------------------------ tensor construction
    Row("nv.tensor", "string data", lambda e: nv.tensor("abc"), T, "expected numbers"),
    Row("nv.tensor", "ragged lists", lambda e: nv.tensor([[1, 2], [3]]), T, "expected numbers"),
    Row("nv.tensor", "None", lambda e: nv.tensor(None), T, "expected numbers"),
    Row("nv.tensor", "complex data", lambda e: nv.tensor([1j]), T, "complex"),
    Row("nv.tensor", "float16 dtype", lambda e: nv.tensor([1.0], dtype=np.float16), T,
        "float32 or float64"),
    Row("nv.tensor", "unknown dtype name", lambda e: nv.tensor([1.0], dtype="bogus"), T,
        "float32 or float64"),
    Row("nv.tensor", "int tensor requiring grad",
        lambda e: nv.tensor([1, 2], dtype=np.int64, requires_grad=True), T, "only float"),
    Row("nv.Tensor", "object array", lambda e: nv.Tensor(np.array([object()])), T,
        "expected numbers"),
    Row("Tensor.item", "more than one element", lambda e: e.t(2).item(), V, "one element"),
    Row("Tensor.backward", "grad of the wrong shape",
        lambda e: (e.t(2, 3, requires_grad=True) * 2).backward(np.ones(3)), V,
        r"grad has shape \(3,\).*\(2, 3\)"),
    Row("Tensor.backward", "non-scalar without grad",
        lambda e: (e.t(2, 3, requires_grad=True) * 2).backward(), RuntimeError, "scalar"),
    Row("Tensor.detach", "bool of a non-scalar", lambda e: bool(e.t(3).detach()), V,
        "ambiguous"),
    Row("Tensor.zero_grad", "requires_grad_ on ints",
        lambda e: nv.tensor([1, 2]).requires_grad_(), T, "only float"),
    # ------------------------------------------------------------ operators
    Row("+", "shapes that do not broadcast", lambda e: e.t(3, 4) + e.t(5), V,
        r"\(3, 4\) and \(5,\)"),
    Row("-", "shapes that do not broadcast", lambda e: e.t(2, 3) - e.t(4, 3), V,
        r"\(2, 3\) and \(4, 3\)"),
    Row("*", "float32 times float64", lambda e: e.t(2) * e.t(2, dtype=nv.float64), T,
        "does not upcast"),
    Row("/", "string operand", lambda e: e.t(2) / "x", T, "expected numbers"),
    Row("**", "shapes that do not broadcast", lambda e: e.t(2) ** e.t(3), V,
        r"\(2,\) and \(3,\)"),
    Row("@", "inner dimensions differ", lambda e: e.t(3, 4) @ e.t(5, 2), V,
        r"\(3, 4\) and \(5, 2\)"),
    Row("@", "scalar operand", lambda e: e.t() @ e.t(3), V, "at least one dimension"),
    Row("unary -", "float64 mixed after negation", lambda e: -e.t(2) + e.t(2, dtype=nv.float64),
        T, "float32 and float64"),
    Row("==", "shapes that do not broadcast", lambda e: e.t(2, 3) == e.t(4), V,
        r"shape \(2, 3\)"),
    Row("<", "shapes that do not broadcast", lambda e: e.t(2) < np.ones(3), V,
        r"shape \(2,\)"),
    Row("t[idx]", "index out of range", lambda e: e.t(2, 3)[5], I, r"shape \(2, 3\)"),
    Row("t[idx]", "too many indices", lambda e: e.t(2)[0, 1], I, r"shape \(2,\)"),
    # ------------------------------------------------------------ methods / nv. functions
    Row("sum", "axis out of range", lambda e: e.t(2, 3).sum(axis=2), V, "axis 2 is out of range"),
    Row("mean", "axis out of range", lambda e: nv.mean(e.t(2, 3), axis=-3), V,
        "axis -3 is out of range"),
    Row("max", "empty tensor", lambda e: nv.tensor(np.zeros((0, 3))).max(), V, "empty"),
    Row("min", "axis out of range", lambda e: e.t(3).min(axis=1), V, "axis 1 is out of range"),
    Row("exp", "string input", lambda e: nv.exp("x"), T, "expected numbers"),
    Row("log", "object input", lambda e: nv.log([None]), T, "expected numbers"),
    Row("sqrt", "dict input", lambda e: nv.sqrt({"a": 1}), T, "expected numbers"),
    Row("abs", "complex input", lambda e: nv.abs(np.array([1j])), T, "complex"),
    Row("reshape", "incompatible size", lambda e: e.t(2, 3).reshape(4, 2), V,
        r"\(2, 3\)"),
    Row("reshape", "shape a string", lambda e: e.t(2, 3).reshape("a"), T, "shape"),
    Row("transpose", "axes strings", lambda e: e.t(2, 3).transpose("a", "b"), T, "axes"),
    Row("sum", "axis a string", lambda e: e.t(2, 3).sum(axis="a"), T, "axis"),
    Row("mean", "axis a float", lambda e: e.t(2, 3).mean(axis=0.5), T, "axis"),
    Row("mean", "empty tensor", lambda e: nv.tensor(np.zeros((0, 3))).mean(), V, "empty"),
    Row("softmax", "axis a string", lambda e: e.t(2, 3).softmax(axis="a"), T, "axis"),
    Row("nv.concatenate", "axis out of range",
        lambda e: nv.concatenate([e.t(2), e.t(2)], axis=5), V, "axis 5"),
    Row("Tensor.backward", "grad a string",
        lambda e: (e.t(2, requires_grad=True) * 2).backward("a"), T, "grad"),
    Row("transpose", "axes not a permutation", lambda e: e.t(2, 3).transpose((0, 0)), V,
        "permutation"),
    Row("T", "float64 mixed after T", lambda e: e.t(2, 3).T @ e.t(2, 3, dtype=nv.float64), T,
        "float32 and float64"),
    Row("clip", "no bounds", lambda e: e.t(3).clip(), V, "at least one of min and max"),
    Row("relu", "string input", lambda e: nv.relu("x"), T, "expected numbers"),
    Row("sigmoid", "list with None", lambda e: nv.sigmoid([1.0, None]), T, "expected numbers"),
    Row("tanh", "complex input", lambda e: nv.tanh([1j]), T, "complex"),
    Row("leaky_relu", "alpha not a number", lambda e: nv.leaky_relu(e.t(3), alpha="x"), T,
        "alpha"),
    Row("elu", "alpha not a number", lambda e: nv.elu(e.t(3), alpha=None), T, "alpha"),
    Row("softmax", "axis out of range", lambda e: nv.softmax(e.t(2, 3), axis=2), V,
        "axis 2"),
    Row("log_softmax", "axis out of range", lambda e: e.t(2, 3).log_softmax(axis=-3), V,
        "axis -3"),
    Row("nv.concatenate", "empty list", lambda e: nv.concatenate([]), V, "non-empty"),
    Row("nv.concatenate", "mismatched shapes", lambda e: nv.concatenate([e.t(2, 3), e.t(2, 4)]),
        V, r"\(2, 3\) and \(2, 4\)"),
    Row("nv.stack", "mismatched shapes", lambda e: nv.stack([e.t(2), e.t(3)]), V,
        r"\(2,\) and \(3,\)"),
    Row("nv.stack", "a tensor instead of a list", lambda e: nv.stack(e.t(2)), V,
        "sequence of tensors"),
    Row("nv.where", "shapes that do not broadcast",
        lambda e: nv.where(np.ones(4, bool), e.t(2), e.t(2)), V, r"\(2,\)"),
    Row("nv.maximum", "shapes that do not broadcast", lambda e: nv.maximum(e.t(2), e.t(3)), V,
        r"\(2,\) and \(3,\)"),
    Row("nv.manual_seed", "float seed", lambda e: nv.manual_seed(1.5), T, "integer seed"),
    Row("nv.manual_seed", "negative seed", lambda e: nv.manual_seed(-1), V, "non-negative"),
    Row("nv.no_grad", "used as a decorator on a non-callable",
        lambda e: nv.no_grad()(3)(), T, "not callable"),
    Row("nv.gradcheck", "no float input", lambda e: nv.gradcheck(lambda a: a, np.arange(3)),
        V, "at least one float input"),
    Row("nv.gradcheck", "fn not returning a tensor",
        lambda e: nv.gradcheck(lambda a: 3.0, np.ones(2)), T, "must return a Tensor"),
    Row("nv.gradcheck", "eps zero", lambda e: nv.gradcheck(lambda a: a * 2, np.ones(2), eps=0),
        V, "eps must be a positive number"),
    Row("nv.numerical_gradient", "h zero",
        lambda e: nv.numerical_gradient(lambda w: 0.0, np.ones(2), h=0), V,
        "h must be a positive number"),
    Row("nv.numerical_gradient", "integer array",
        lambda e: nv.numerical_gradient(lambda w: 0.0, np.arange(3)), T, "float array"),
    Row("nv.draw_graph", "unknown format", lambda e: nv.draw_graph(e.t(2), format="bmpx"), V,
        "expected 'dot' or 'svg'"),
    Row("nv.draw_graph", "not a tensor", lambda e: nv.draw_graph([1, 2]), T, "Tensor"),
    # ------------------------------------------------------------ layers
    Row("nn.Module", "forward not implemented", lambda e: nn.Module()(e.t(2)),
        NotImplementedError, "forward"),
    Row("nn.Module.load_state_dict", "missing and wrong-shaped entries",
        lambda e: nn.Linear(2, 3).load_state_dict({"weight": np.ones((2, 2))}), V,
        "weight"),
    Row("nn.Module.load_state_dict", "not a dict",
        lambda e: nn.Linear(2, 3).load_state_dict([1, 2]), T, "dict"),
    Row("nn.Module.summary", "input shape of the wrong size",
        lambda e: e.model.summary(input_shape=(5,)), V,
        r"expected input of shape \(N, 4\)"),
    Row("nn.Parameter", "string data", lambda e: nn.Parameter("w"), T, "expected numbers"),
    Row("nn.Sequential", "a non-module entry", lambda e: nn.Sequential(nn.ReLU(), "relu"), T,
        "Module"),
    Row("nn.Sequential", "forward of the wrong width", lambda e: e.model(e.t(2, 5)), V,
        r"\(N, 4\)"),
    Row("nn.Linear", "zero in_features", lambda e: nn.Linear(0, 3), V, "in_features"),
    Row("nn.Linear", "float out_features", lambda e: nn.Linear(2, 3.5), T, "out_features"),
    Row("nn.Linear", "unknown init", lambda e: nn.Linear(2, 3, init="lecun"), V,
        "small.*xavier.*he"),
    Row("nn.Linear", "input of the wrong width", lambda e: nn.Linear(4, 2)(e.t(3, 5)), V,
        r"\(N, 4\)"),
    Row("nn.Linear", "3-D input, wrong last axis", lambda e: nn.Linear(4, 2)(e.t(2, 3, 5)), V, r"\(N, 4\)"),
    Row("nn.Linear", "float64 input to a float32 layer",
        lambda e: nn.Linear(4, 2)(e.t(3, 4, dtype=nv.float64)), T, "float64"),
    Row("nn.Sigmoid", "string input", lambda e: nn.Sigmoid()("x"), T, "expected numbers|Tensor"),
    Row("nn.Tanh", "list input with None", lambda e: nn.Tanh()([None]), T,
        "expected numbers|Tensor"),
    Row("nn.ReLU", "string input", lambda e: nn.ReLU()("x"), T, "expected numbers|Tensor"),
    Row("nn.LeakyReLU", "alpha not a number", lambda e: nn.LeakyReLU(alpha="big"), T, "alpha"),
    Row("nn.LeakyReLU", "alpha NaN", lambda e: nn.LeakyReLU(alpha=NAN), T, "alpha"),
    Row("nn.PReLU", "zero parameters", lambda e: nn.PReLU(num_parameters=0), V,
        "num_parameters"),
    Row("nn.PReLU", "input width differs from num_parameters",
        lambda e: nn.PReLU(num_parameters=3)(e.t(2, 4)), V, r"\(N, 3\)"),
    Row("nn.ELU", "alpha infinite", lambda e: nn.ELU(alpha=float("inf")), T, "alpha"),
    Row("nn.Maxout", "zero pieces", lambda e: nn.Maxout(4, 2, pieces=0), V, "pieces"),
    Row("nn.Maxout", "input of the wrong width", lambda e: nn.Maxout(4, 2)(e.t(3, 5)), V,
        r"\(N, 4\)"),
    Row("nn.Softmax", "axis not an int", lambda e: nn.Softmax(axis="rows"), T, "axis"),
    Row("nn.Identity", "string input", lambda e: nn.Sequential(nn.Identity(), nn.ReLU())("x"),
        T, "expected numbers|Tensor"),
    Row("nn.Step", "complex input", lambda e: nn.Step()(np.array([1j])), T, "complex|Tensor"),
    Row("nn.Dropout", "p = 1.5", lambda e: nn.Dropout(p=1.5), V, "probability"),
    Row("nn.Dropout", "p negative", lambda e: nn.Dropout(p=-0.1), V, "probability"),
    Row("nn.Dropout", "p a string", lambda e: nn.Dropout(p="half"), T, r"\[0, 1\)"),
    Row("nn.BatchNorm1d", "zero features", lambda e: nn.BatchNorm1d(0), V, "num_features"),
    Row("nn.BatchNorm1d", "momentum above 1", lambda e: nn.BatchNorm1d(3, momentum=2.0), V,
        "momentum"),
    Row("nn.BatchNorm1d", "eps zero", lambda e: nn.BatchNorm1d(3, eps=0), V, "eps"),
    Row("nn.BatchNorm1d", "input of the wrong width", lambda e: nn.BatchNorm1d(3)(e.t(4, 5)), V,
        r"\(N, 3\)"),
    Row("nn.BatchNorm1d", "one example in training mode", lambda e: nn.BatchNorm1d(3)(e.t(1, 3)),
        V, "more than one example"),
    # ------------------------------------------------------------ losses (modules and functions)
    Row("nn.MSELoss", "unknown reduction", lambda e: nn.MSELoss(reduction="avg"), V,
        "mean, sum, none"),
    Row("nn.MSELoss", "target of another shape", lambda e: nn.MSELoss()(e.t(4, 2), np.ones(3)),
        V, r"\(3,\).*\(4, 2\)"),
    Row("nn.CrossEntropyLoss", "label out of range",
        lambda e: nn.CrossEntropyLoss()(e.t(2, 3), [0, 3]), V, r"\[0, 3\).*label 3"),
    Row("nn.CrossEntropyLoss", "negative label",
        lambda e: nn.CrossEntropyLoss()(e.t(2, 3), [-1, 0]), V, "label -1"),
    Row("nn.CrossEntropyLoss", "fractional labels",
        lambda e: nn.CrossEntropyLoss()(e.t(2, 3), [0.5, 1.0]), T, "integer class"),
    Row("nn.CrossEntropyLoss", "NaN label",
        lambda e: nn.CrossEntropyLoss()(e.t(2, 3), [NAN, 1.0]), T, "integer class"),
    Row("nn.CrossEntropyLoss", "one label too many",
        lambda e: nn.CrossEntropyLoss()(e.t(2, 3), [0, 1, 2]), V, r"shape \(2,\)"),
    Row("nn.CrossEntropyLoss", "1-D scores", lambda e: nn.CrossEntropyLoss()(e.t(3), [0]), V,
        r"\(N, C\)"),
    Row("nn.CrossEntropyLoss", "string labels",
        lambda e: nn.CrossEntropyLoss()(e.t(2, 3), ["a", "b"]), T, "integer class"),
    Row("nn.CrossEntropyLoss", "no examples",
        lambda e: nn.CrossEntropyLoss()(np.zeros((0, 3)), np.zeros(0, int)), V,
        "at least one example"),
    Row("nn.HingeLoss", "negative margin", lambda e: nn.HingeLoss(margin=-1), V, "margin"),
    Row("nn.HingeLoss", "label out of range", lambda e: nn.HingeLoss()(e.t(2, 3), [0, 5]), V,
        "label 5"),
    Row("nn.BCEWithLogitsLoss", "targets outside [0, 1]",
        lambda e: nn.BCEWithLogitsLoss()(e.t(3), [0.0, 2.0, 1.0]), V, r"\[0, 1\]"),
    Row("nn.BCEWithLogitsLoss", "target of another shape",
        lambda e: nn.BCEWithLogitsLoss()(e.t(3), [0.0, 1.0]), V, "must match"),
    Row("nn.BCELoss", "input outside [0, 1]", lambda e: nn.BCELoss()(e.t(3) * 2, [0, 1, 1]), V,
        "sigmoid first"),
    Row("nn.MSELoss", "mean of an empty input",
        lambda e: nn.MSELoss()(np.zeros((0, 2)), np.zeros((0, 2))), V, "empty input"),
    Row("nn.BCEWithLogitsLoss", "mean of an empty input",
        lambda e: nn.BCEWithLogitsLoss()(np.zeros(0), np.zeros(0)), V, "empty input"),
    Row("nn.BCELoss", "unknown reduction", lambda e: nn.BCELoss(reduction="max"), V,
        "mean, sum, none"),
    Row("losses.cross_entropy", "label out of range",
        lambda e: losses.cross_entropy(e.t(2, 3), np.array([0, 7])), V, "label 7"),
    Row("losses.hinge", "margin a string", lambda e: losses.hinge(e.t(2, 3), [0, 1], margin="1"),
        V, "margin"),
    Row("losses.mse", "integer tensor input", lambda e: losses.mse(nv.tensor([1, 2]), [1, 2]), T,
        "float tensor"),
    Row("losses.binary_cross_entropy", "NaN target",
        lambda e: losses.binary_cross_entropy(e.t(2) * 0.5, [NAN, 1.0]), V, r"\[0, 1\]"),
    Row("losses.binary_cross_entropy_with_logits", "string target",
        lambda e: losses.binary_cross_entropy_with_logits(e.t(2), ["a", "b"]), T, "numeric"),
    # ------------------------------------------------------------ regularizers
    Row("regularizers.l2", "a string", lambda e: regularizers.l2("weights"), T,
        "Module, a tensor or an iterable"),
    Row("regularizers.l1", "a list with a number", lambda e: regularizers.l1([e.t(2), 3.0]), T,
        "item 1"),
    Row("regularizers.elastic_net", "negative beta",
        lambda e: regularizers.elastic_net(e.model, beta=-1), V, "beta"),
    # ------------------------------------------------------------ optimizers and schedules
    Row("optim.SGD", "negative lr", lambda e: optim.SGD(e.model.parameters(), lr=-0.1), V,
        "lr"),
    Row("optim.SGD", "momentum above 1",
        lambda e: optim.SGD(e.model.parameters(), lr=0.1, momentum=1.5), V, "momentum"),
    Row("optim.SGD", "nesterov without momentum",
        lambda e: optim.SGD(e.model.parameters(), lr=0.1, nesterov=True), V, "nesterov"),
    Row("optim.SGD", "negative weight decay",
        lambda e: optim.SGD(e.model.parameters(), lr=0.1, weight_decay=-1), V, "weight_decay"),
    Row("optim.SGD", "no parameters", lambda e: optim.SGD([], lr=0.1), V, "empty"),
    Row("optim.SGD", "named_parameters instead of parameters",
        lambda e: optim.SGD(e.model.named_parameters(), lr=0.1), T, "model.parameters()"),
    Row("optim.SGD", "a model instead of its parameters", lambda e: optim.SGD(e.model, lr=0.1),
        T, r"model\.parameters\(\)"),
    Row("optim.SGD", "lr infinite", lambda e: optim.SGD(e.model.parameters(), lr=float("inf")),
        V, "lr must be a finite number"),
    Row("optim.SGD", "lr NaN", lambda e: optim.SGD(e.model.parameters(), lr=NAN), V, "lr"),
    Row("Optimizer.step", "gradient of the wrong shape", lambda e: _bad_grad_step(), V,
        r"shape \(3,\).*\(2,\)"),
    Row("Optimizer.state_dict", "loaded into another optimizer",
        lambda e: optim.Adam(e.model.parameters()).load_state_dict(e.opt.state_dict()), V,
        "belongs to SGD"),
    Row("optim.RMSProp", "alpha above 1",
        lambda e: optim.RMSProp(e.model.parameters(), alpha=1.5), V, "alpha"),
    Row("optim.RMSProp", "negative eps", lambda e: optim.RMSProp(e.model.parameters(), eps=-1),
        V, "eps"),
    Row("optim.Adam", "beta1 = 1", lambda e: optim.Adam(e.model.parameters(), betas=(1.0, 0.9)),
        V, "beta"),
    Row("optim.Adam", "lr a string", lambda e: optim.Adam(e.model.parameters(), lr="fast"), T,
        "lr"),
    Row("optim.Adagrad", "negative lr", lambda e: optim.Adagrad(e.model.parameters(), lr=-1), V,
        "lr"),
    Row("optim.StepLR", "step_size zero", lambda e: optim.StepLR(e.opt, step_size=0), V,
        "step_size"),
    Row("optim.StepLR", "not an optimizer", lambda e: optim.StepLR("sgd", step_size=2), T,
        "Optimizer"),
    Row("optim.ExponentialLR", "negative gamma", lambda e: optim.ExponentialLR(e.opt, gamma=-1),
        V, "gamma"),
    Row("optim.CosineAnnealingLR", "T_max zero", lambda e: optim.CosineAnnealingLR(e.opt, 0), V,
        "T_max"),
    Row("optim.random_search", "zero tries",
        lambda e: optim.random_search(lambda w: 0.0, (2, 3), tries=0), V, "tries"),
    Row("optim.random_search", "loss_fn not callable",
        lambda e: optim.random_search(3.0, (2, 3), tries=2), T, "loss_fn"),
    Row("optim.random_search", "negative shape",
        lambda e: optim.random_search(lambda w: 0.0, (2, -3), tries=2), V, "shape"),
    Row("optim.random_search", "loss_fn returning an array",
        lambda e: optim.random_search(lambda w: w, (2, 3), tries=2), T, "single number"),
    # ------------------------------------------------------------ fit / evaluate / predict
    Row("nv.fit", "X of the wrong width", lambda e: e.fit(X=np.ones((12, 5))), V,
        r"\(N, 4\)"),
    Row("nv.fit", "1-D X", lambda e: e.fit(X=np.ones(12)), V, r"shape \(N, features\)"),
    Row("nv.fit", "empty X", lambda e: e.fit(X=np.ones((0, 4)), y=np.zeros(0, int)), V,
        "empty"),
    Row("nv.fit", "string X", lambda e: e.fit(X=np.full((12, 4), "a")), T, "numeric"),
    Row("nv.fit", "NaN in X", lambda e: e.fit(X=_xnan(e)), V, "non-finite.*row 3"),
    Row("nv.fit", "inf in X", lambda e: e.fit(X=_xinf(e)), V, "non-finite.*row 0"),
    Row("nv.fit", "X and y lengths differ", lambda e: e.fit(y=e.y[:5]), V,
        "same number of samples"),
    Row("nv.fit", "label out of range", lambda e: e.fit(y=np.r_[e.y[:-1], 3]), V,
        "labels must be in 0..2"),
    Row("nv.fit", "fractional labels", lambda e: e.fit(y=e.y + 0.5), T, "integer class labels"),
    Row("nv.fit", "2-D labels for cross-entropy", lambda e: e.fit(y=e.y[:, None]), V, "1-D"),
    Row("nv.fit", "epochs zero", lambda e: e.fit(epochs=0), V, "epochs"),
    Row("nv.fit", "batch_size a float", lambda e: e.fit(batch_size=2.5), T, "batch_size"),
    Row("nv.fit", "unknown loss name", lambda e: e.fit(loss="cross-entropyy"), V,
        "unknown loss"),
    Row("nv.fit", "loss not callable", lambda e: e.fit(loss=3), T, "loss"),
    Row("nv.fit", "unknown optimizer name", lambda e: e.fit(optimizer="adamax"), V,
        "unknown optimizer"),
    Row("nv.fit", "lr with an optimizer object",
        lambda e: e.fit(optimizer=e.opt, lr=0.1), T, "lr is only used"),
    Row("nv.fit", "validation_data not a pair", lambda e: e.fit(validation_data=e.X), T,
        "validation_data"),
    Row("nv.fit", "validation X of the wrong width",
        lambda e: e.fit(validation_data=(np.ones((3, 5)), [0, 1, 2])), V, "validation X"),
    Row("nv.fit", "a callback that is not one", lambda e: e.fit(callbacks=[_NoHooks()]), T,
        r"callbacks\[0\]"),
    Row("nv.fit", "progress not understood", lambda e: e.fit(progress="fancy"), V, "progress"),
    Row("nv.fit", "model not callable", lambda e: e.fit(model=object(), optimizer=e.opt, lr=None),
        T, "model"),
    Row("nv.fit", "negative seed", lambda e: e.fit(seed=-3), V, "non-negative"),
    Row("nv.evaluate", "label out of range", lambda e: nv.evaluate(e.model, e.X, e.y + 1), V,
        "not a valid label"),
    Row("nv.evaluate", "float targets without a loss",
        lambda e: nv.evaluate(e.model, e.X, e.y + 0.5), V, "integer labels"),
    Row("nv.evaluate", "NaN in X", lambda e: nv.evaluate(e.model, _xnan(e), e.y), V,
        "non-finite"),
    Row("nv.predict", "X of the wrong width", lambda e: nv.predict(e.model, np.ones((2, 3))), V,
        r"\(N, 4\)"),
    Row("nv.predict", "batch_size zero", lambda e: nv.predict(e.model, e.X, batch_size=0), V,
        "batch_size"),
    Row("nv.predict", "a scalar X", lambda e: nv.predict(e.model, 3.0), V, "one row per sample"),
    Row("nv.History", "best of a metric never logged", lambda e: e.fit().best("f1"), KeyError,
        "no metric 'f1' recorded; recorded: loss"),
    Row("nv.EarlyStopping", "negative patience", lambda e: nv.EarlyStopping(patience=-1), V,
        "patience"),
    Row("nv.EarlyStopping", "unknown mode", lambda e: nv.EarlyStopping(mode="up"), V,
        "'auto', 'min' or 'max'"),
    Row("nv.EarlyStopping", "monitoring a metric that is not logged",
        lambda e: e.fit(callbacks=[nv.EarlyStopping(monitor="val_loss")]), V,
        "pass validation_data"),
    Row("nv.ModelCheckpoint", "folder does not exist", lambda e: nv.ModelCheckpoint(e.missing), F,
        "does not exist"),
    Row("nv.ModelCheckpoint", "path is a folder", lambda e: nv.ModelCheckpoint(e.folder), V,
        "is a folder"),
    Row("nv.ModelCheckpoint", "path not a path", lambda e: nv.ModelCheckpoint(3), T, "path"),
    Row("nv.ModelCheckpoint", "path field not in the logs",
        lambda e: e.fit(callbacks=[nv.ModelCheckpoint(os.path.join(e.folder, "{f1}.npz"))]), V,
        "cannot fill the path"),
    # ------------------------------------------------------------ save / load
    Row("nv.save", "not a module", lambda e: nv.save({"w": 1}, e.absent), T, "nn.Module"),
    Row("nv.save", "folder does not exist", lambda e: nv.save(e.model, e.missing), F,
        "does not exist"),
    Row("nv.save", "path is a folder", lambda e: nv.save(e.model, e.folder), V, "it is a folder"),
    Row("nv.save_state", "path is a folder", lambda e: nv.save_state({"w": 1}, e.folder), V,
        "it is a folder"),
    Row("nv.draw_graph", "path is a folder", lambda e: nv.draw_graph(e.t(2), path=e.folder), V,
        "it is a folder"),
    Row("nv.save", "path not a path", lambda e: nv.save(e.model, 3), T, "str or os.PathLike"),
    Row("nv.save_state", "object entry", lambda e: nv.save_state({"w": object()}, e.absent), T,
        "never pickled"),
    Row("nv.save_state", "not a dict", lambda e: nv.save_state([1, 2], e.absent), T, "dict"),
    Row("nv.save_state", "non-string key", lambda e: nv.save_state({1: 2}, e.absent), T, "keys"),
    Row("nv.load", "file does not exist", lambda e: nv.load(e.absent), F, "no such file"),
    Row("nv.load", "a folder", lambda e: nv.load(e.folder), V, "is a folder"),
    Row("nv.load", "garbage bytes", lambda e: nv.load(e.garbage), V,
        "not a nerve model or state file"),
    Row("nv.load", "a state file", lambda e: nv.load(e.state_file), V, "holds a state dict"),
    Row("nv.load", "path not a path", lambda e: nv.load(None), T, "str or os.PathLike"),
    Row("nv.load_state", "file does not exist", lambda e: nv.load_state(e.missing), F,
        "no such file"),
    Row("nv.load_state", "garbage bytes", lambda e: nv.load_state(e.garbage), V,
        "not a nerve model or state file"),
    # ------------------------------------------------------------ data
    Row("data.spiral", "zero points per class", lambda e: data.spiral(n_per_class=0), V,
        "n_per_class"),
    Row("data.spiral", "negative noise", lambda e: data.spiral(noise=-0.1), V, "noise"),
    Row("data.spiral", "classes a float", lambda e: data.spiral(classes=2.5), T, "classes"),
    Row("data.xor", "n a string", lambda e: data.xor(n="many"), T, "n must be"),
    Row("data.spiral", "infinite noise", lambda e: data.spiral(noise=float("inf")), V,
        "finite"),
    Row("data.moons", "NaN noise", lambda e: data.moons(noise=NAN), V, "noise"),
    Row("data.circles", "factor outside (0, 1)", lambda e: data.circles(factor=1.5), V, "factor"),
    Row("data.blobs", "zero centers", lambda e: data.blobs(centers=0), V, "centers"),
    Row("data.blobs", "negative std", lambda e: data.blobs(std=-1), V, "std"),
    Row("data.blobs", "infinite std", lambda e: data.blobs(std=float("inf")), V, "finite"),
    Row("data.logic_gate", "unknown gate", lambda e: data.logic_gate("XNOR"), V,
        r"valid names.*AND.*NAND.*NOR.*OR.*XOR"),
    Row("data.load_digits", "return_images not a bool",
        lambda e: data.load_digits(return_images="yes"), T, "True or False"),
    Row("data.mnist1d", "zero samples", lambda e: data.mnist1d(num_samples=0), V,
        "num_samples"),
    Row("data.mnist1d", "train_split above 1", lambda e: data.mnist1d(train_split=1.5), V,
        "train_split"),
    Row("data.load_mnist", "folder without the files", lambda e: data.load_mnist(e.folder), F,
        "download=True"),
    Row("data.load_mnist", "root not a path", lambda e: data.load_mnist(42), T, "root"),
    Row("data.load_fashion_mnist", "missing folder", lambda e: data.load_fashion_mnist(e.missing),
        F, "not found"),
    Row("data.load_cifar10", "folder without the files", lambda e: data.load_cifar10(e.folder), F,
        "data_batch_1.bin"),
    Row("data.load_cifar10", "train not a bool", lambda e: data.load_cifar10(e.folder, train=1),
        T, "True or False"),
    Row("data.DataLoader", "batch_size zero", lambda e: data.DataLoader(e.X, e.y, batch_size=0),
        V, "batch_size"),
    Row("data.DataLoader", "X and y lengths differ", lambda e: data.DataLoader(e.X, e.y[:3]), V,
        "same number of samples"),
    Row("data.DataLoader", "empty X", lambda e: data.DataLoader(np.ones((0, 2))), V, "empty"),
    Row("data.DataLoader", "string X", lambda e: data.DataLoader(np.array(["a", "b"])), T,
        "numbers"),
    Row("data.DataLoader", "shuffle a string", lambda e: data.DataLoader(e.X, shuffle="yes"), T,
        "True or False"),
    Row("data.train_test_split", "test_size above 1",
        lambda e: data.train_test_split(e.X, e.y, test_size=1.5), V, "test_size"),
    Row("data.train_test_split", "X and y lengths differ",
        lambda e: data.train_test_split(e.X, e.y[:4]), V, "same number"),
    Row("data.standardize", "std of the wrong shape",
        lambda e: data.standardize(e.X, mean=np.zeros(4), std=np.ones(3)), V, "std"),
    Row("data.standardize", "NaN in X", lambda e: data.standardize(_xnan(e)), V,
        "NaN or inf.*row 3"),
    Row("data.standardize", "empty X", lambda e: data.standardize(np.ones((0, 3))), V,
        r"N >= 1"),
    Row("data.standardize", "zero std given", lambda e: data.standardize(
        e.X, mean=np.zeros(4), std=np.zeros(4)), V, "std must be positive"),
    Row("data.read_idx", "file does not exist", lambda e: data.read_idx(e.absent), F,
        "absent.npz"),
    Row("data.read_idx", "a folder", lambda e: data.read_idx(e.folder), V, "is a folder"),
    Row("data.read_cifar10_batch", "a folder", lambda e: data.read_cifar10_batch(e.folder), V,
        "is a folder"),
    Row("data.read_idx", "not an IDX file", lambda e: data.read_idx(e.garbage), V,
        "not an IDX file|truncated"),
    Row("data.read_cifar10_batch", "wrong size", lambda e: data.read_cifar10_batch(e.garbage), V,
        "3073-byte records"),
    # ------------------------------------------------------------ the lectures' classics
    Row("perceptron.Perceptron", "zero inputs", lambda e: perceptron.Perceptron(n_inputs=0), V,
        "n_inputs"),
    Row("perceptron.Perceptron", "negative lr", lambda e: perceptron.Perceptron(lr=-1), V, "lr"),
    Row("perceptron.Perceptron", "labels other than 0/1",
        lambda e: perceptron.Perceptron().fit(np.ones((4, 2)), [0, 1, 2, 1]), V,
        "labels 0 and 1"),
    Row("perceptron.Perceptron", "X of the wrong width",
        lambda e: perceptron.Perceptron().fit(np.ones((4, 3)), [0, 1, 0, 1]), V,
        r"shape \(N, 2\)"),
    Row("perceptron.AND", "X of the wrong width", lambda e: perceptron.AND.predict(np.ones((2, 3))),
        V, r"shape \(N, 2\)"),
    Row("perceptron.OR", "NaN input", lambda e: perceptron.OR.predict([[NAN, 1.0]]), V,
        "finite|NaN"),
    Row("perceptron.NAND", "string input", lambda e: perceptron.NAND.predict([["a", "b"]]), T,
        "numbers|numeric"),
    Row("perceptron.NOR", "1-D input", lambda e: perceptron.NOR.predict([0, 1, 1]), V,
        r"shape \(N, 2\)"),
    Row("perceptron.xor_network", "X of the wrong width",
        lambda e: perceptron.xor_network(np.ones((2, 3))), V, r"shape \(N, 2\)"),
    Row("linear.SoftmaxClassifier", "negative lr",
        lambda e: _linear().SoftmaxClassifier(lr=-1).fit(e.X, e.y), V, "lr"),
    Row("linear.SoftmaxClassifier", "NaN in X",
        lambda e: _linear().SoftmaxClassifier(epochs=1).fit(_xnan(e), e.y), V, "finite|NaN"),
    Row("linear.SoftmaxClassifier", "predict before fit",
        lambda e: _linear().SoftmaxClassifier().predict(e.X), V, "fit"),
    Row("linear.SVMClassifier", "negative margin",
        lambda e: _linear().SVMClassifier(margin=-1).fit(e.X, e.y), V, "margin"),
    Row("linear.SVMClassifier", "NaN labels",
        lambda e: _linear().SVMClassifier(epochs=1).fit(e.X, e.y + NAN), V, "NaN"),
    Row("linear.SVMClassifier", "2-D labels",
        lambda e: _linear().SVMClassifier(epochs=1).fit(e.X, e.y[:, None]), V, "1-D"),
    Row("linear.templates", "image shape of the wrong size",
        lambda e: _linear().SoftmaxClassifier(epochs=1).fit(e.X, e.y).templates((3, 3)), V,
        "the 4 weights"),
    Row("features.color_histogram", "zero bins",
        lambda e: features.color_histogram(e.images, bins=0), V, "bins"),
    Row("features.color_histogram", "grey images", lambda e: features.color_histogram(
        np.ones((2, 8, 8))), V, r"\(N, H, W, 3\)"),
    Row("features.hog", "cell larger than the image",
        lambda e: features.hog(e.images, pixels_per_cell=(32, 32)), V, "pixels_per_cell|cell"),
    Row("features.hog", "unknown block_norm", lambda e: features.hog(e.images, block_norm="L3"), V,
        "block_norm"),
    Row("features.extract", "unknown feature", lambda e: features.extract(e.images, ["sift"]), V,
        "unknown feature"),
    Row("features.extract", "no features", lambda e: features.extract(e.images, []), V,
        "at least one feature"),
    # ------------------------------------------------------------ scikit-learn estimators
    Row("sklearn.MLPClassifier", "zero hidden units",
        lambda e: _sk().MLPClassifier(hidden_layer_sizes=(0,)).fit(e.X, e.y), V,
        "hidden_layer_sizes"),
    Row("sklearn.MLPClassifier", "NaN in X",
        lambda e: _sk().MLPClassifier(max_iter=1).fit(_xnan(e), e.y), V, "NaN|finite"),
    Row("sklearn.MLPRegressor", "unknown activation",
        lambda e: _sk().MLPRegressor(activation="swish").fit(e.X, e.y * 1.0), V, "activation"),
]


def _bad_grad_step():
    p = nv.tensor(np.ones(2), requires_grad=True)
    p.grad = np.ones(3, dtype=np.float32)
    optim.SGD([p], lr=0.1).step()


def _linear():
    from nerve import linear
    return linear


def _sk():
    pytest.importorskip("sklearn")
    import nerve.sklearn as sk
    return sk


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return Env(tmp_path_factory.mktemp("bad-inputs"))


def _raised_inside_numpy(exc: BaseException) -> bool:
    """Whether the innermost frame that raised ``exc`` belongs to NumPy (a raw NumPy error)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and f"{os.sep}numpy{os.sep}" in frames[-1].filename


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.target}: {r.what}" for r in ROWS])
def test_bad_input_raises_a_clear_error(row: Row, env: Env) -> None:
    with pytest.raises(row.exc) as info:
        row.call(env)
    message = str(info.value)
    assert re.search(row.fragment, message, re.S), \
        f"{row.target} ({row.what}): message {message!r} lacks {row.fragment!r}"
    assert not _raised_inside_numpy(info.value), \
        f"{row.target} ({row.what}): a raw NumPy error escaped: {message!r}"


# ---------------------------------------------------------------- the command line
CLI_ROWS = [
    (["train", "--epochs", "0"], "epochs"),
    (["train", "--dataset", "imagenet"], "imagenet"),
    (["train", "--lr", "fast"], "fast"),
    (["train", "--hidden", "10,-3"], "layer sizes"),
    (["train", "--activation", "swish", "--epochs", "1"], "swish"),
    (["train", "--config", "{missing}"], "does not exist"),
    (["evaluate", "{missing}", "--dataset", "spiral"], "does not exist"),
    (["evaluate", "{garbage}", "--dataset", "spiral"], "not a nerve model or state file"),
    (["predict", "{model}", "{missing}"], "does not exist"),
    (["predict", "{model}", "{garbage}"], "not a valid .npy|must be a .npy or .csv"),
    (["predict", "{model}", "{wide}"], "4"),
    (["demo", "nonsense"], "nonsense"),
    (["frobnicate"], "frobnicate"),
]


@pytest.mark.parametrize("argv,fragment", CLI_ROWS, ids=[" ".join(a) for a, _ in CLI_ROWS])
def test_cli_rejects_bad_input_with_one_line(argv, fragment, env, capsys, monkeypatch, tmp_path):
    from nerve.cli import main
    monkeypatch.chdir(tmp_path)
    wide = tmp_path / "wide.npy"
    np.save(wide, np.ones((3, 7), np.float32))
    paths = {"missing": env.missing, "garbage": env.garbage, "model": env.model_file,
             "wide": str(wide)}
    code = main([a.format(**paths) for a in argv])
    err = capsys.readouterr().err
    assert code in (1, 2), f"exit code {code}, stderr {err!r}"
    assert err.startswith("nerve: error:") or "error:" in err, err
    assert "Traceback" not in err
    assert re.search(fragment, err), f"{err!r} lacks {fragment!r}"


# ---------------------------------------------------------------- coverage of API.md
API_NAMES = [
    "nv.tensor", "nv.Tensor", "Tensor.item", "Tensor.backward", "Tensor.detach",
    "Tensor.zero_grad", "+", "-", "*", "/", "**", "@", "unary -", "==", "<", "t[idx]",
    "sum", "mean", "max", "min", "exp", "log", "sqrt", "abs", "reshape", "transpose", "T",
    "clip", "relu", "sigmoid", "tanh", "leaky_relu", "elu", "softmax", "log_softmax",
    "nv.concatenate", "nv.stack", "nv.where", "nv.maximum", "nv.no_grad", "nv.manual_seed",
    "nv.gradcheck", "nv.numerical_gradient", "nv.draw_graph",
    "nn.Module", "nn.Module.load_state_dict", "nn.Module.summary", "nn.Parameter",
    "nn.Sequential", "nn.Linear", "nn.Sigmoid", "nn.Tanh", "nn.ReLU", "nn.LeakyReLU",
    "nn.PReLU", "nn.ELU", "nn.Maxout", "nn.Softmax", "nn.Identity", "nn.Step", "nn.Dropout",
    "nn.BatchNorm1d", "nn.MSELoss", "nn.CrossEntropyLoss", "nn.HingeLoss",
    "nn.BCEWithLogitsLoss", "nn.BCELoss", "losses.cross_entropy", "losses.hinge", "losses.mse",
    "losses.binary_cross_entropy", "losses.binary_cross_entropy_with_logits",
    "regularizers.l2", "regularizers.l1", "regularizers.elastic_net",
    "optim.SGD", "optim.RMSProp", "optim.Adam", "optim.Adagrad", "Optimizer.step",
    "Optimizer.state_dict", "optim.StepLR", "optim.ExponentialLR", "optim.CosineAnnealingLR",
    "optim.random_search", "nv.fit", "nv.evaluate", "nv.predict", "nv.History",
    "nv.EarlyStopping", "nv.ModelCheckpoint", "nv.save", "nv.load", "nv.save_state",
    "nv.load_state", "data.spiral", "data.xor", "data.moons", "data.circles", "data.blobs",
    "data.logic_gate", "data.load_digits", "data.mnist1d", "data.load_mnist",
    "data.load_fashion_mnist", "data.load_cifar10", "data.DataLoader", "data.train_test_split",
    "data.standardize", "perceptron.Perceptron", "perceptron.AND", "perceptron.OR",
    "perceptron.NAND", "perceptron.NOR", "perceptron.xor_network", "linear.SoftmaxClassifier",
    "linear.SVMClassifier", "linear.templates", "features.color_histogram", "features.hog",
    "features.extract", "sklearn.MLPClassifier", "sklearn.MLPRegressor",
]


def test_table_covers_every_public_name():
    covered = {r.target for r in ROWS}
    missing = [name for name in API_NAMES if name not in covered]
    assert not missing, f"API names without a bad-input row: {missing}"
    assert len(CLI_ROWS) >= 10  # the CLI: train, evaluate, predict, demo, unknown command
