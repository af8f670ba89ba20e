"""ONNX export: every supported layer runs in onnxruntime with nerve's outputs (1e-5)."""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import nerve as nv
from nerve import nn
from nerve._extras import MissingExtraError
from nerve.export_onnx import export_onnx

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _run(path, X):
    session = ort.InferenceSession(os.fspath(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": X})[0]


def _reference(model, X):
    model.eval()
    with nv.no_grad():
        return model(nv.tensor(X, dtype=X.dtype)).data


def _with_running_stats(net, n_in):
    """Train-mode passes so that BatchNorm's running statistics are not the identity."""
    rng = np.random.default_rng(1)
    for _ in range(3):
        net(rng.standard_normal((32, n_in)).astype(np.float32) * 3 + 1)
    return net


# One row per layer type: (id, a function building the network).
LAYER_ROWS = [
    ("Linear", lambda: nn.Sequential(nn.Linear(5, 3))),
    ("Linear-no-bias", lambda: nn.Sequential(nn.Linear(5, 3, bias=False))),
    ("Linear-square", lambda: nn.Sequential(nn.Linear(5, 5), nn.Tanh(), nn.Linear(5, 3))),
    ("ReLU", lambda: nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 3))),
    ("Sigmoid", lambda: nn.Sequential(nn.Linear(5, 6), nn.Sigmoid(), nn.Linear(6, 3))),
    ("Tanh", lambda: nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 3))),
    ("LeakyReLU", lambda: nn.Sequential(nn.Linear(5, 6), nn.LeakyReLU(0.2), nn.Linear(6, 3))),
    ("PReLU-shared", lambda: nn.Sequential(nn.Linear(5, 6), nn.PReLU(init=0.3),
                                           nn.Linear(6, 3))),
    ("PReLU-per-feature", lambda: nn.Sequential(nn.Linear(5, 6), nn.PReLU(6, init=0.1),
                                                nn.Linear(6, 3))),
    ("ELU", lambda: nn.Sequential(nn.Linear(5, 6), nn.ELU(0.7), nn.Linear(6, 3))),
    ("Softmax", lambda: nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 3),
                                      nn.Softmax())),
    ("Identity", lambda: nn.Sequential(nn.Linear(5, 6), nn.Identity(), nn.Linear(6, 3))),
    ("Step", lambda: nn.Sequential(nn.Linear(5, 6), nn.Step(), nn.Linear(6, 3))),
    ("Maxout", lambda: nn.Sequential(nn.Maxout(5, 4, pieces=3), nn.Linear(4, 3))),
    ("Maxout-square", lambda: nn.Sequential(nn.Linear(5, 6), nn.Maxout(6, 3, pieces=2))),
    ("BatchNorm1d", lambda: _with_running_stats(
        nn.Sequential(nn.Linear(5, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3)), 5)),
    ("Dropout", lambda: nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Dropout(0.5),
                                      nn.Linear(6, 3))),
    ("nested-Sequential", lambda: nn.Sequential(nn.Sequential(nn.Linear(5, 6), nn.Tanh()),
                                                nn.Linear(6, 3))),
]


@pytest.mark.parametrize("build", [b for _, b in LAYER_ROWS], ids=[i for i, _ in LAYER_ROWS])
def test_layer_matches_onnxruntime(build, tmp_path):
    nv.manual_seed(0)
    net = build()
    X = np.random.default_rng(0).standard_normal((9, 5)).astype(np.float32)
    path = tmp_path / "model.onnx"
    proto = export_onnx(net, path, X[:2])
    onnx.checker.check_model(onnx.load(os.fspath(path)), full_check=True)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    got = _run(path, X)                                 # 9 rows: the batch is symbolic
    want = _reference(net, X)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_layers_map_to_standard_operators(tmp_path):
    net = nn.Sequential(nn.Maxout(4, 3), nn.BatchNorm1d(3), nn.Dropout(0.1), nn.Step(),
                        nn.Linear(3, 2), nn.Softmax())
    proto = export_onnx(net, tmp_path / "m.onnx", np.ones((1, 4), dtype=np.float32))
    ops = [n.op_type for n in proto.graph.node]
    assert ops == ["Gemm", "Reshape", "ReduceMax", "BatchNormalization", "Identity",
                   "Greater", "Cast", "Gemm", "Softmax"]
    names = {t.name for t in proto.graph.initializer}
    assert {"0.weight", "0.bias", "1.running_mean", "1.running_var", "4.weight"} <= names
    assert proto.producer_name == "nerve"


def test_opset_18_reducemax_takes_axes_as_input(tmp_path):
    nv.manual_seed(1)
    net = nn.Sequential(nn.Maxout(5, 4, pieces=2))
    X = np.random.default_rng(2).standard_normal((6, 5)).astype(np.float32)
    proto = export_onnx(net, tmp_path / "m.onnx", X, opset=18)
    assert proto.opset_import[0].version == 18
    np.testing.assert_allclose(_run(tmp_path / "m.onnx", X), _reference(net, X), atol=1e-5)


def test_float64_model_exports_as_double(tmp_path):
    nv.manual_seed(2)
    net = nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 3)).double()
    X = np.random.default_rng(3).standard_normal((4, 5))
    proto = export_onnx(net, tmp_path / "m.onnx", X)
    assert proto.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    np.testing.assert_allclose(_run(tmp_path / "m.onnx", X), _reference(net, X), atol=1e-12)


def test_export_keeps_the_training_mode(tmp_path):
    net = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    export_onnx(net, tmp_path / "m.onnx", np.ones((1, 3), dtype=np.float32))
    assert net.training


def test_unsupported_layer_is_named_and_nothing_is_written(tmp_path):
    class Square(nn.Module):
        def forward(self, x):
            return x * x

    path = tmp_path / "m.onnx"
    with pytest.raises(ValueError, match=r"layer 1 \(Square\) has no ONNX mapping.*Linear"):
        export_onnx(nn.Sequential(nn.Linear(3, 3), Square()), path, np.ones((1, 3)))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("model, example, exc, match", [
    ("not a model", np.ones((1, 3)), TypeError, "expects a nerve.nn Module"),
    (None, np.ones(3), ValueError, r"shape \(N, n_features\)"),
    (None, np.ones((1, 4)), ValueError, "does not accept example_input of shape"),
    (None, np.array([["a", "b", "c"]]), TypeError, "must hold numbers"),
])
def test_bad_arguments(model, example, exc, match, tmp_path):
    model = nn.Sequential(nn.Linear(3, 2)) if model is None else model
    with pytest.raises(exc, match=match):
        export_onnx(model, tmp_path / "m.onnx", example)


def test_bad_opset_and_missing_folder(tmp_path):
    net = nn.Sequential(nn.Linear(3, 2))
    with pytest.raises(ValueError, match="opset must be an int from 13"):
        export_onnx(net, tmp_path / "m.onnx", np.ones((1, 3)), opset=9)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export_onnx(net, tmp_path / "missing" / "m.onnx", np.ones((1, 3)))


def test_overwrites_atomically(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")
    export_onnx(nn.Sequential(nn.Linear(3, 2)), path, np.ones((1, 3)))
    assert onnx.load(os.fspath(path)).producer_name == "nerve"
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_missing_onnx_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingExtraError, match=r"nerve\[onnx\]"):
        export_onnx(nn.Sequential(nn.Linear(3, 2)), tmp_path / "m.onnx", np.ones((1, 3)))


FLOAT64_ROWS = [
    ("ELU", lambda: nn.Sequential(nn.Linear(5, 6), nn.ELU(0.7), nn.Linear(6, 3))),
    ("LeakyReLU", lambda: nn.Sequential(nn.Linear(5, 6), nn.LeakyReLU(0.13), nn.Linear(6, 3))),
    ("LogSoftmax", lambda: nn.Sequential(nn.Linear(5, 3), nn.LogSoftmax())),
]


@pytest.mark.parametrize("build", [b for _, b in FLOAT64_ROWS], ids=[i for i, _ in FLOAT64_ROWS])
def test_float64_layers_run_in_onnxruntime_to_float64_precision(build, tmp_path):
    nv.manual_seed(4)
    net = build().double()
    X = np.random.default_rng(5).standard_normal((7, 5)) * 3
    export_onnx(net, tmp_path / "m.onnx", X[:2])  # ELU(6) has no float64 kernel: not used
    np.testing.assert_allclose(_run(tmp_path / "m.onnx", X), _reference(net, X),
                               rtol=1e-13, atol=1e-14)


def test_logsoftmax_and_flatten_export(tmp_path):
    nv.manual_seed(6)
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 4), nn.ReLU(), nn.Linear(4, 3),
                        nn.LogSoftmax())
    X = np.random.default_rng(7).standard_normal((5, 3, 4)).astype(np.float32)
    proto = export_onnx(net, tmp_path / "m.onnx", X[:1])
    assert [n.op_type for n in proto.graph.node][:1] == ["Reshape"]
    assert [d.dim_param or d.dim_value for d in
            proto.graph.input[0].type.tensor_type.shape.dim] == ["batch", 3, 4]
    np.testing.assert_allclose(_run(tmp_path / "m.onnx", X), _reference(net, X), atol=1e-5)
    deep = nn.Sequential(nn.Flatten(start_dim=2), nn.Identity())
    Y = np.random.default_rng(8).standard_normal((2, 3, 2, 2)).astype(np.float32)
    export_onnx(deep, tmp_path / "d.onnx", Y)
    assert _run(tmp_path / "d.onnx", Y).shape == (2, 3, 4)


def test_initializers_keep_the_state_dict_names_of_named_children(tmp_path):
    from collections import OrderedDict

    net = nn.Sequential(OrderedDict([("fc1", nn.Linear(4, 5)), ("head", nn.Sequential(
        nn.Linear(5, 3), nn.BatchNorm1d(3)))]))
    proto = export_onnx(net, tmp_path / "m.onnx", np.ones((2, 4), np.float32))
    assert {t.name for t in proto.graph.initializer} == set(net.state_dict())
