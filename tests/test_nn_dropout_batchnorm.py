"""Dropout (inverted, train vs eval) and BatchNorm1d (fused op vs composed, running stats)."""
import numpy as np
import pytest

import nerve as nv
import nerve.nn as nn
from nerve.nn.batchnorm import BatchNormOp


# ---------------------------------------------------------------- Dropout
def test_dropout_scales_kept_units_and_keeps_the_mean():
    nv.manual_seed(0)
    x = np.ones((200, 100), dtype=np.float32)
    out = nn.Dropout(0.3)(x).data
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / 0.7, rtol=1e-6)
    assert kept.mean() == pytest.approx(0.7, abs=0.01)
    assert out.mean() == pytest.approx(1.0, abs=0.02)
    assert out.dtype == np.float32


def test_dropout_gradient_is_the_mask():
    nv.manual_seed(1)
    x = nv.tensor(np.ones((4, 5)), requires_grad=True)
    out = nn.Dropout(0.5)(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)      # dy/dx = m/(1−p) = y for x = 1


def test_dropout_is_identity_in_eval_and_reproducible():
    layer = nn.Dropout(0.5).eval()
    x = nv.tensor(np.arange(6.0))
    assert layer(x) is x
    layer.train()
    nv.manual_seed(5)
    a = layer(x).data
    nv.manual_seed(5)
    np.testing.assert_array_equal(a, layer(x).data)
    assert nn.Dropout(0.0)(x) is x


@pytest.mark.parametrize("p, exc", [(1.5, ValueError), (-0.1, ValueError), ("0.5", TypeError)])
def test_dropout_rejects_bad_p(p, exc):
    with pytest.raises(exc, match="p"):
        nn.Dropout(p)


# -------------------------------------------------------------- BatchNorm
def composed_batchnorm(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0, keepdims=True)
    var = ((x - mu) * (x - mu)).mean(axis=0, keepdims=True)
    return (x - mu) / (var + eps).sqrt() * gamma + beta


X = np.random.default_rng(0).normal(2.0, 3.0, size=(6, 4))
G = np.array([1.5, 0.5, -1.0, 2.0])
B = np.array([0.1, -0.2, 0.3, 0.0])


def fused(x, g, b):
    mean, var = x.data.mean(axis=0), x.data.var(axis=0)
    return BatchNormOp.apply(x, g, b, mean=mean, var=var, eps=1e-5, batch=True)


def test_batchnorm_op_gradcheck_in_float64():
    assert nv.gradcheck(fused, X, G, B)


def test_batchnorm_op_equals_the_composed_version():
    ts = [nv.tensor(a, dtype=nv.float64, requires_grad=True) for a in (X, G, B)]
    ref = [nv.tensor(a, dtype=nv.float64, requires_grad=True) for a in (X, G, B)]
    up = np.random.default_rng(1).normal(size=X.shape)
    out = fused(*ts)
    (out * up).sum().backward()
    expected = composed_batchnorm(*ref)
    (expected * up).sum().backward()
    np.testing.assert_allclose(out.data, expected.data, atol=1e-12)
    for a, b in zip(ts, ref):
        np.testing.assert_allclose(a.grad, b.grad, atol=1e-10)


def test_batchnorm_eval_mode_gradcheck():
    bn = nn.BatchNorm1d(4).double().eval()
    bn.running_mean[:] = [1.0, 2.0, 3.0, 4.0]
    bn.running_var[:] = [0.5, 1.0, 2.0, 4.0]
    assert nv.gradcheck(lambda x: bn(x), X)


def test_batchnorm_training_normalises_and_updates_running_stats():
    bn = nn.BatchNorm1d(4, momentum=0.1)
    x = X.astype(np.float32)
    out = bn(x).data
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-3)      # biased variance
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(axis=0), rtol=1e-5)
    unbiased = x.var(axis=0, ddof=1)                                  # as PyTorch
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * unbiased, rtol=1e-5)
    assert bn.running_mean.dtype == np.float32 and out.dtype == np.float32


def test_batchnorm_eval_uses_running_stats():
    bn = nn.BatchNorm1d(4)
    bn.gamma.data[:] = 2.0
    bn.beta.data[:] = 1.0
    bn.running_mean[:] = 1.0
    bn.running_var[:] = 4.0
    bn.eval()
    x = X.astype(np.float32)
    np.testing.assert_allclose(bn(x).data, 2 * (x - 1) / np.sqrt(4 + 1e-5) + 1, atol=1e-6)
    before = bn.running_mean.copy()
    bn(x)
    np.testing.assert_array_equal(bn.running_mean, before)            # eval changes nothing


def test_batchnorm_layer_gradients_match_composed():
    bn = nn.BatchNorm1d(4).double()
    bn.gamma.data[:] = G
    bn.beta.data[:] = B
    x = nv.tensor(X, dtype=nv.float64, requires_grad=True)
    bn(x).sum().backward()
    xr, gr, br = (nv.tensor(a, dtype=nv.float64, requires_grad=True) for a in (X, G, B))
    composed_batchnorm(xr, gr, br).sum().backward()
    np.testing.assert_allclose(bn.gamma.grad, gr.grad, atol=1e-10)
    np.testing.assert_allclose(x.grad, xr.grad, atol=1e-10)


def test_batchnorm_input_errors():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4\).*\(N, 4\).*\(3, 5\)"):
        nn.BatchNorm1d(4)(np.ones((3, 5)))
    with pytest.raises(ValueError, match="more than one example"):
        nn.BatchNorm1d(4)(np.ones((1, 4)))
    assert nn.BatchNorm1d(4).eval()(np.ones((1, 4))).shape == (1, 4)
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm1d(4, momentum=2.0)
