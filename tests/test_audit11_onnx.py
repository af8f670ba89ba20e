"""Audit 11 (model persistence and export): each test fails without its fix.

The ONNX tests need onnx and onnxruntime (skipped one by one without them); the command
line tests run in-process through nerve.cli.main(argv), in a temporary folder, without.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import nerve as nv
from nerve import nn
from nerve.cli import main


@pytest.fixture
def ort():
    pytest.importorskip("onnx")
    return pytest.importorskip("onnxruntime")


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _export_and_run(ort, model, X, path):
    proto = nv.export_onnx(model, path, X[:1])
    session = ort.InferenceSession(os.fspath(path), providers=["CPUExecutionProvider"])
    return proto, session.run(None, {"input": X})[0]


def _reference(model, X):
    model.eval()
    with nv.no_grad():
        return model(nv.tensor(X, dtype=X.dtype)).data


# ------------------------------------------------------------ 1. PReLU(C) on (N, C, L)
@pytest.mark.parametrize("length", [3, 4], ids=["L==C", "L!=C"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prelu_per_channel_on_n_c_l_matches_nerve(ort, tmp_path, length, dtype):
    model = nn.Sequential(nn.PReLU(3, dtype=dtype))
    model[0].alpha.data[:] = [0.1, 0.5, 0.9]
    X = np.random.default_rng(0).standard_normal((5, 3, length)).astype(dtype)
    _, got = _export_and_run(ort, model, X, tmp_path / "m.onnx")
    np.testing.assert_allclose(got, _reference(model, X), rtol=1e-6, atol=0)


# ------------------------------------------------------------ 2. Sequential subclass, hooks
class _Scaled(nn.Sequential):
    def forward(self, x):
        return super().forward(x) * 2


def test_sequential_subclass_with_its_own_forward_is_refused(ort, tmp_path):
    path = tmp_path / "m.onnx"
    with pytest.raises(ValueError, match=r"the model \(_Scaled\) is a Sequential subclass "
                                         r"with a forward of its own"):
        nv.export_onnx(_Scaled(nn.Linear(3, 2)), path, np.ones((1, 3), np.float32))
    nested = nn.Sequential(nn.Linear(3, 3), _Scaled(nn.ReLU()))
    with pytest.raises(ValueError, match=r"layer 1 \(_Scaled\)"):
        nv.export_onnx(nested, path, np.ones((1, 3), np.float32))
    assert not path.exists()


@pytest.mark.parametrize("where", ["root", "leaf"])
@pytest.mark.parametrize("kind", ["post", "pre"])
def test_forward_hooks_are_refused_until_removed(ort, tmp_path, where, kind):
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    target = model if where == "root" else model[0]
    register = target.register_forward_hook if kind == "post" \
        else target.register_forward_pre_hook
    handle = register((lambda m, i, o: o * 10) if kind == "post" else (lambda m, i: i))
    label = "the model" if where == "root" else r"layer 0"
    with pytest.raises(ValueError, match=rf"{label} .*forward (pre-)?hooks"):
        nv.export_onnx(model, tmp_path / "m.onnx", np.ones((1, 3), np.float32))
    handle.remove()
    X = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    _, got = _export_and_run(ort, model, X, tmp_path / "m.onnx")
    np.testing.assert_allclose(got, _reference(model, X), rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------ 3. Linear on (N, L, in), names
@pytest.mark.parametrize("bias", [True, False])
def test_linear_on_rank_3_input_exports_matmul_add(ort, tmp_path, bias):
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2, bias=bias), nn.ReLU(), nn.Linear(2, 4))
    X = np.random.default_rng(2).standard_normal((6, 5, 3)).astype(np.float32)
    proto, got = _export_and_run(ort, model, X, tmp_path / "m.onnx")
    ops = [n.op_type for n in proto.graph.node]
    assert ops == (["MatMul", "Add"] if bias else ["MatMul"]) + ["Relu", "MatMul", "Add"]
    assert got.shape == (6, 5, 4)
    np.testing.assert_allclose(got, _reference(model, X), rtol=1e-5, atol=1e-6)
    flat = nv.export_onnx(model, tmp_path / "f.onnx", X[:1, 0])  # rank 2 keeps Gemm
    assert [n.op_type for n in flat.graph.node] == ["Gemm", "Relu", "Gemm"]


@pytest.mark.parametrize("names, match", [
    ({"input_name": "x", "output_name": "x"}, "input_name and output_name are both 'x'"),
    ({"input_name": "0.weight"}, r"input_name='0.weight' is already the name of a weight"),
    ({"output_name": "0.out"}, r"output_name='0.out' is already the name of an intermediate"),
])
def test_clashing_input_or_output_names_are_a_value_error(ort, tmp_path, names, match):
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    path = tmp_path / "m.onnx"
    with pytest.raises(ValueError, match=match):
        nv.export_onnx(model, path, np.ones((1, 3), np.float32), **names)
    assert not path.exists()


def test_onnx_checker_errors_become_value_errors_naming_the_layer(ort, tmp_path,
                                                                    monkeypatch):
    import onnx

    class InferenceError(Exception):  # as onnx's C++ errors: not a ValueError
        pass

    def reject(proto, full_check=False):
        raise InferenceError("[ShapeInferenceError] (op_type:Relu, node name: 1.Relu): bad")

    monkeypatch.setattr(onnx.checker, "check_model", reject)
    path = tmp_path / "m.onnx"
    with pytest.raises(ValueError, match=r"layer 1 \(ReLU\): the onnx checker rejected"):
        nv.export_onnx(nn.Sequential(nn.Linear(3, 2), nn.ReLU()), path,
                       np.ones((1, 3), np.float32))
    assert not path.exists()


# ------------------------------------------------------------ 4. float64 precision
def test_float64_batchnorm_keeps_epsilon_in_float64(ort, tmp_path):
    bn = nn.BatchNorm1d(3, eps=0.1, dtype=nv.float64)
    bn.running_mean = np.array([0.5, 0.0, 1.0])
    bn.running_var = np.array([1e-6, 1.0, 4.0])
    model = nn.Sequential(bn)
    X = np.random.default_rng(0).normal(size=(8, 3))
    proto, got = _export_and_run(ort, model, X, tmp_path / "m.onnx")
    want = _reference(model, X)
    assert np.max(np.abs(got - want) / np.abs(want)) < 1e-14
    from onnx import numpy_helper
    stored = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    np.testing.assert_array_equal(stored["0.running_var"], bn.running_var)  # state as saved


def test_float64_elu_is_accurate_near_zero_and_far_below(ort, tmp_path):
    model = nn.Sequential(nn.ELU(0.7)).to(nv.float64)
    X = -np.concatenate([np.logspace(-300, 3, 4000), np.linspace(0.5, 1.5, 1001),
                         [0.0, -0.0, -1.0, -745.0]]).reshape(1, -1)
    X = np.concatenate([X, -X])  # and the positive side
    _, got = _export_and_run(ort, model, X, tmp_path / "m.onnx")
    want = _reference(model, X)
    scale = np.where(want == 0, 1.0, np.abs(want))
    assert np.max(np.abs(got - want) / scale) < 1e-14


# ------------------------------------------------------------ 5. the real reason first
def test_batchnorm_without_running_stats_is_named_even_for_one_example_row(ort, tmp_path):
    model = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4, track_running_stats=False))
    with pytest.raises(ValueError, match=r"layer 1 \(BatchNorm1d\) keeps no running "
                                         r"statistics"):
        nv.export_onnx(model, tmp_path / "m.onnx", np.ones((1, 6), np.float32))


def test_flatten_precondition_is_checked_before_the_example(ort, tmp_path):
    model = nn.Sequential(nn.Flatten(start_dim=-1), nn.Linear(6, 2))
    with pytest.raises(ValueError, match=r"layer 0 \(Flatten\).*start_dim >= 0"):
        nv.export_onnx(model, tmp_path / "m.onnx", np.ones((1, 7), np.float32))


# ------------------------------------------------------------ 6. the CLI reads the last layer
def _one_line_error(capsys, code, expected_code):
    out, err = capsys.readouterr()
    assert code == expected_code, (code, err)
    assert err.startswith("nerve: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in out + err
    return err


def _moons(in_tmp):
    X, y = nv.data.moons(60, seed=0)
    X = X.astype(np.float32)
    np.save("x.npy", X)
    np.save("y.npy", y)
    return X, y


def _sigmoid_model(n_out=1):
    nv.manual_seed(3)
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, n_out), nn.Sigmoid())


def test_predict_thresholds_a_final_sigmoid_at_one_half(in_tmp, capsys):
    X, _ = _moons(in_tmp)
    model = _sigmoid_model()
    nv.save(model, "bin.npz")
    p = _reference(model, X)[:, 0]
    assert 0 < (p > 0.5).sum() < len(p)  # both classes predicted: the test can tell
    assert main(["predict", "bin.npz", "x.npy", "--out", "labels.npy"]) == 0
    np.testing.assert_array_equal(np.load("labels.npy"), (p > 0.5).astype(np.int64))
    assert main(["predict", "bin.npz", "x.npy", "--proba", "--out", "p.npy"]) == 0
    np.testing.assert_allclose(np.load("p.npy")[:, 0], p, rtol=1e-6)  # passed through


def test_predict_multi_label_sigmoid_gives_rows_of_0_1(in_tmp, capsys):
    X, _ = _moons(in_tmp)
    model = _sigmoid_model(3)
    nv.save(model, "ml.npz")
    p = _reference(model, X)
    assert main(["predict", "ml.npz", "x.npy", "--out", "labels.npy"]) == 0
    np.testing.assert_array_equal(np.load("labels.npy"), (p > 0.5).astype(np.int64))


def test_predict_proba_keeps_a_final_softmax(in_tmp, capsys):
    X, _ = _moons(in_tmp)
    nv.manual_seed(4)
    model = nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=1), nn.Dropout(0.2))
    nv.save(model, "m.npz")
    proba = _reference(model, X).astype(np.float64)
    assert main(["predict", "m.npz", "x.npy", "--proba", "--out", "p.npy"]) == 0
    np.testing.assert_allclose(np.load("p.npy"), proba, rtol=1e-6)  # not softmax(p)
    assert main(["predict", "m.npz", "x.npy", "--out", "l.npy"]) == 0
    np.testing.assert_array_equal(np.load("l.npy"), proba.argmax(axis=1))


def test_evaluate_a_final_sigmoid_matches_nv_evaluate(in_tmp, capsys):
    X, y = _moons(in_tmp)
    model = _sigmoid_model()
    nv.save(model, "bin.npz")
    want = nv.evaluate(model, X, y.reshape(-1, 1).astype(np.float32), loss="bce")
    assert main(["evaluate", "bin.npz", "--x", "x.npy", "--y", "y.npy"]) == 0
    assert capsys.readouterr().out.strip() == \
        f"x.npy: 60 samples - accuracy {want['accuracy']:.4f}"
    assert main(["evaluate", "bin.npz", "--x", "x.npy", "--y", "y.npy", "--loss", "bce"]) == 0
    assert capsys.readouterr().out.strip() == \
        f"x.npy: 60 samples - loss {want['loss']:.4f} - accuracy {want['accuracy']:.4f}"


def test_evaluate_accepts_the_registrys_loss_names(in_tmp, capsys):
    X, y = _moons(in_tmp)
    nv.manual_seed(5)
    model = nn.Sequential(nn.Linear(2, 2), nn.LogSoftmax(dim=1))
    nv.save(model, "m.npz")
    want = nv.evaluate(model, X, y, loss="nll")
    assert main(["evaluate", "m.npz", "--x", "x.npy", "--y", "y.npy", "--loss", "nll"]) == 0
    assert f"loss {want['loss']:.4f}" in capsys.readouterr().out


@pytest.mark.parametrize("build, loss, match", [
    (_sigmoid_model, "cross_entropy", "ends in Sigmoid.*use --loss bce"),
    (lambda: nn.Sequential(nn.Linear(2, 1)), "bce", "use bce_with_logits"),
    (lambda: nn.Sequential(nn.Linear(2, 2)), "nll", "use cross_entropy"),
    (lambda: nn.Sequential(nn.Linear(2, 2), nn.Softmax()), "cross_entropy",
     "ends in Softmax"),
])
def test_evaluate_refuses_a_loss_that_misreads_the_outputs(in_tmp, capsys, build, loss,
                                                          match):
    _moons(in_tmp)
    nv.save(build(), "m.npz")
    err = _one_line_error(capsys, main(["evaluate", "m.npz", "--x", "x.npy", "--y", "y.npy",
                                        "--loss", loss]), 2)
    assert __import__("re").search(match, err), err


def test_predict_on_a_1d_output_is_one_line(in_tmp, capsys):
    np.save("x.npy", np.ones((5, 2), np.float32))
    nv.save(nn.Sequential(nn.Linear(2, 1), nn.Flatten(0)), "flat.npz")
    err = _one_line_error(capsys, main(["predict", "flat.npz", "x.npy"]), 1)
    assert "output has shape (5,)" in err and "(N, classes)" in err
