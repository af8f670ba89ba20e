"""Compatibility fixes: NumPy 1's value-based promotion of 0-d results, 0-d fan-out
gradients, an optional extra that is installed but broken, and the packaging floors."""
import importlib
import pathlib

import numpy as np
import pytest

import nerve as nv
from nerve import _extras
from nerve.ops import _util

F = nv.nn.functional
ROOT = pathlib.Path(__file__).resolve().parents[1]


# ------------------------------------------------- 0-d float32 stays float32 (NumPy 1 too)
def _zero_d_ops():
    t = nv.tensor(1.0)
    return {
        "bce_with_logits": lambda x: F.binary_cross_entropy_with_logits(x, t),
        "bce_with_logits_pos_weight": lambda x: F.binary_cross_entropy_with_logits(
            x, t, pos_weight=nv.tensor(2.0)),
        "bce": lambda x: F.binary_cross_entropy(x, t),
        "elu": F.elu,
        "clamp": lambda x: x.clamp(min=0),
        "cube root": lambda x: x ** (1 / 3),
        "cube": lambda x: x ** 3,
    }


@pytest.mark.parametrize("name", sorted(_zero_d_ops()))
def test_zero_d_float32_results_and_grads_stay_float32(name):
    x = nv.tensor(0.7, requires_grad=True)
    y = _zero_d_ops()[name](x)
    y.backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("name", sorted(_zero_d_ops()))
def test_zero_d_results_are_cast_back_where_numpy_1_upcasts(monkeypatch, name):
    """NumPy 1's promotion simulated: every 0-d op output comes out float64 from NumPy;
    the ops that mix in Python numbers hand it back in the input's dtype."""
    monkeypatch.setattr(_util, "LEGACY_PROMOTION", True)
    x64 = np.asarray(0.25, dtype=np.float64)
    x32 = np.asarray(0.5, dtype=np.float32)
    out = _util.keep_float(x64, x32)
    assert out.dtype == np.float32 and out == np.float32(0.25)
    assert _util.keep_float(np.zeros(3), x32).dtype == np.float64  # only 0-d results
    assert _util.keep_float(x64, np.asarray(1)).dtype == np.float64  # only float inputs
    y = _zero_d_ops()[name](nv.tensor(0.7, requires_grad=True))
    assert y.dtype == np.float32


def test_keep_float_is_the_identity_on_numpy_2():
    if _util.LEGACY_PROMOTION:
        pytest.skip("NumPy 1: the cast is what keep_float does here")
    x64 = np.asarray(0.25)
    assert _util.keep_float(x64, np.asarray(0.5, dtype=np.float32)) is x64


# ------------------------------------------------------------ 0-d fan-out gradients
def test_a_zero_d_leaf_used_twice_gets_an_array_gradient():
    w = nv.tensor(1.5, requires_grad=True)
    (w * w).backward()
    assert type(w.grad) is np.ndarray and w.grad.shape == () and w.grad == np.float32(3.0)
    total = nv.optim.clip_grad_norm_([w], 1.0)
    assert float(total) == pytest.approx(3.0)
    assert float(w.grad) == pytest.approx(1.0, rel=1e-5)
    w.grad[...] = 0  # an array: writable in place, as PyTorch's .grad.zero_()
    assert float(w.grad) == 0.0


def test_a_zero_d_gradient_accumulated_over_two_backwards_stays_an_array():
    w = nv.tensor(2.0, requires_grad=True)
    (w * 3.0).backward()
    (w * w).backward()  # adds 4 into the 3 already there (w.grad is the user's array now)
    assert type(w.grad) is np.ndarray and float(w.grad) == 7.0


def test_a_zero_d_node_reached_twice_inside_the_graph_sums_to_an_array():
    a = nv.tensor(0.5, dtype=nv.float64, requires_grad=True)
    assert nv.gradcheck(lambda v: (v.exp() * v.exp()).sum(), a)
    b = a.exp()
    (b * b + b).backward()
    assert type(a.grad) is np.ndarray
    assert float(a.grad) == pytest.approx(2 * np.exp(1.0) + np.exp(0.5))


# ------------------------------------------------- an extra installed but failing to import
def test_an_extra_that_fails_to_import_is_not_called_missing(monkeypatch):
    real = importlib.import_module

    def broken(name, *args):
        if name == "matplotlib":
            raise ImportError("numpy.core.multiarray failed to import")
        return real(name, *args)

    monkeypatch.setattr(_extras.importlib, "import_module", broken)
    with pytest.raises(_extras.MissingExtraError) as info:
        _extras.require("matplotlib", "plot", "plotting")
    msg = str(info.value)
    assert "is installed and fails to import" in msg and "not installed" not in msg
    assert "numpy.core.multiarray failed to import" in msg and "nerve[plot]" in msg


def test_an_extra_that_is_absent_is_called_missing(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)
    with pytest.raises(_extras.MissingExtraError, match="is not installed; install it with: "
                                                        r"pip install 'nerve\[plot\]'"):
        _extras.require("matplotlib", "plot", "plotting")


# ------------------------------------------------------------------ packaging floors
def test_the_declared_floors_are_the_versions_that_work():
    text = (ROOT / "pyproject.toml").read_text()
    assert "tomli>=1.1; python_version < '3.11'" in text  # nerve train --config on 3.10
    for floor in ("matplotlib>=3.8.4", "safetensors>=0.4.4", "onnxruntime>=1.19",
                  "scikit-image>=0.24"):
        assert floor in text
    for old in ("matplotlib>=3.6\"", "safetensors>=0.4\"", "onnxruntime>=1.16",
                "scikit-image>=0.21"):
        assert old not in text
    manifest = (ROOT / "MANIFEST.in").read_text()
    assert "tests/conftest.py" in manifest and "tests/_procs.py" in manifest
