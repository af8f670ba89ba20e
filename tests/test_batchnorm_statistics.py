"""BatchNormOp computes the batch statistics itself (one pass fewer than np.mean + np.var):
the numbers must stay those of np.mean/np.var and the textbook formulas, bit for bit."""
import numpy as np
import pytest

import nerve as nv


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(64, 5), (3, 2), (4, 3, 5)])
def test_training_forward_and_running_stats_match_numpy(dtype, shape):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 4 + 2).astype(dtype)
    bn = nv.nn.BatchNorm1d(shape[1], dtype=dtype)
    bn.gamma.data[...] = np.linspace(0.5, 2.0, shape[1])
    bn.beta.data[...] = np.linspace(-1.0, 1.0, shape[1])
    out = bn(nv.tensor(x, dtype=dtype)).data

    flat = x if x.ndim == 2 else x.transpose(0, 2, 1).reshape(-1, shape[1])
    mean, var = flat.mean(axis=0), flat.var(axis=0)
    inv_std = 1.0 / np.sqrt(var + np.asarray(bn.eps, dtype=dtype))
    want = ((flat - mean) * inv_std) * bn.gamma.data + bn.beta.data
    if x.ndim == 3:
        want = want.reshape(shape[0], shape[2], shape[1]).transpose(0, 2, 1)
    assert out.dtype == dtype
    assert np.array_equal(out, want)
    n = flat.shape[0]
    m = np.asarray(0.1, dtype=dtype)
    assert np.array_equal(bn.running_mean, (1 - m) * np.zeros(shape[1], dtype) + m * mean)
    assert np.array_equal(bn.running_var,
                          (1 - m) * np.ones(shape[1], dtype) + m * var * (n / (n - 1)))


def test_eval_forward_uses_running_statistics_and_leaves_input_alone():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    keep = x.copy()
    bn = nv.nn.BatchNorm1d(4)
    bn.running_mean[...] = [1.0, -1.0, 0.5, 0.0]
    bn.running_var[...] = [4.0, 1.0, 0.25, 2.0]
    bn.eval()
    out = bn(nv.tensor(x)).data
    want = (x - bn.running_mean) / np.sqrt(bn.running_var + np.float32(bn.eps))
    np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-6)
    assert np.array_equal(x, keep)


@pytest.mark.parametrize("training", [True, False])
def test_gradients_match_finite_differences_float64(training):
    rng = np.random.default_rng(2)
    bn = nv.nn.BatchNorm1d(3, dtype=np.float64)
    bn.running_mean[...] = [0.3, -0.2, 0.1]
    bn.running_var[...] = [1.5, 0.7, 2.0]
    bn.train(training)
    momentum = bn.momentum
    bn.momentum = 0.0  # keep the running statistics fixed across gradcheck's calls
    x = nv.tensor(rng.standard_normal((5, 3)), dtype=np.float64, requires_grad=True)
    assert nv.gradcheck(bn, x)
    bn.momentum = momentum


@pytest.mark.parametrize("training", [True, False])
def test_gamma_beta_gradients_match_finite_differences_float64(training):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 4))
    mean, var = rng.standard_normal(4), rng.uniform(0.5, 2.0, 4)
    gamma = nv.tensor(rng.uniform(0.5, 1.5, 4), dtype=np.float64, requires_grad=True)
    beta = nv.tensor(rng.standard_normal(4), dtype=np.float64, requires_grad=True)
    xt = nv.tensor(x, dtype=np.float64, requires_grad=True)

    def f(x, g, b):
        return nv.nn.functional.batch_norm(x, None if training else mean,
                                           None if training else var, g, b,
                                           training=training)
    assert nv.gradcheck(f, xt, gamma, beta)
