"""Tensor.var / Tensor.std (and nv.var / nv.std): values against NumPy, gradients
against finite differences in float64, PyTorch's default and argument names, errors."""
import numpy as np
import pytest

import nerve as nv

RNG = np.random.default_rng(7)
A = RNG.normal(size=(4, 5, 3)) * 3 + 1


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("ddof", [0, 1, 2])
def test_values_match_numpy(axis, keepdims, ddof):
    x = nv.tensor(A, dtype=nv.float64)
    for name in ("var", "std"):
        got = getattr(x, name)(axis, keepdims=keepdims, ddof=ddof)
        want = getattr(np, name)(A, axis=axis, keepdims=keepdims, ddof=ddof)
        assert got.shape == np.shape(want)
        np.testing.assert_allclose(got.data, want, rtol=1e-12)


@pytest.mark.parametrize("axis", [None, 1, (0, 2)])
@pytest.mark.parametrize("correction", [0, 1])
def test_gradients_match_finite_differences(axis, correction):
    x = nv.tensor(A[:3, :4, :2], dtype=nv.float64, requires_grad=True)
    weights = RNG.normal(size=np.var(A[:3, :4, :2], axis=axis).shape)
    assert nv.gradcheck(lambda t: t.var(axis, correction=correction) * weights, x)
    assert nv.gradcheck(lambda t: t.std(axis, correction=correction) * weights, x)


def test_the_gradient_is_the_formula():
    x = nv.tensor([1.0, 2.0, 4.0, 9.0], dtype=nv.float64, requires_grad=True)
    x.var().backward()  # unbiased: 2(x − x̄)/(n − 1), x̄ = 4
    np.testing.assert_allclose(x.grad, 2 * (np.array([1, 2, 4, 9]) - 4.0) / 3)


def test_pytorch_default_is_unbiased_and_its_names_work():
    x = nv.tensor(A, dtype=nv.float64)
    np.testing.assert_allclose(x.var().item(), np.var(A, ddof=1))
    np.testing.assert_allclose(x.std(unbiased=False).item(), np.std(A))
    np.testing.assert_allclose(x.var(dim=1, keepdim=True, correction=0).data,
                               np.var(A, axis=1, keepdims=True))
    np.testing.assert_allclose(nv.std(A, dim=0).data, np.std(A, axis=0, ddof=1), rtol=1e-6)
    np.testing.assert_allclose(nv.var(A.tolist(), ddof=0).item(), np.var(A), rtol=1e-6)


def test_float32_and_integers_give_float32():
    assert nv.tensor(A.astype(np.float32)).var().dtype == np.float32
    v = nv.tensor([1, 2, 3, 4]).var()
    assert v.dtype == np.float32 and v.item() == pytest.approx(5 / 3)


def test_batch_norm_statistics_by_hand():
    # the lecture's batch norm: x̂ = (x − μ) / √(σ² + ε) with the biased σ² of the batch
    x = nv.tensor(A[:, :, 0], dtype=nv.float64, requires_grad=True)
    xhat = (x - x.mean(0)) / (x.var(0, correction=0) + 1e-5).sqrt()
    np.testing.assert_allclose(xhat.data.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(xhat.data.std(0), 1, atol=1e-5)
    weights = RNG.normal(size=(4, 5))
    assert nv.gradcheck(lambda t: ((t - t.mean(0)) / (t.var(0, correction=0) + 1e-5).sqrt()
                                   * weights),
                        nv.tensor(A[:, :, 0], dtype=nv.float64, requires_grad=True))


@pytest.mark.parametrize("call,error,message", [
    (lambda x: x.var(ddof=1, unbiased=True), TypeError, "pass one of correction"),
    (lambda x: x.var(correction=-1), TypeError, "correction must be an integer >= 0"),
    (lambda x: x.std(ddof=0.5), TypeError, "ddof must be an integer"),
    (lambda x: x.var(unbiased="yes"), TypeError, "unbiased"),
    (lambda x: x[:1, 0, 0].var(), ValueError, "needs more than 1 element"),
    (lambda x: x.var(axis=3), ValueError, "axis 3 is out of range"),
    (lambda x: x.var(axis=1, dim=1), TypeError, "got both axis"),
])
def test_bad_arguments_get_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call(nv.tensor(A))


def test_matches_torch_when_installed():
    torch = pytest.importorskip("torch")
    for name in ("var", "std"):
        for kwargs in ({}, {"dim": 1}, {"dim": (0, 2), "keepdim": True, "correction": 0}):
            x = nv.tensor(A, dtype=nv.float64, requires_grad=True)
            out = getattr(x, name)(**kwargs)
            (out * out).sum().backward()
            xt = torch.tensor(A, requires_grad=True)
            ref = getattr(xt, name)(**kwargs)
            (ref * ref).sum().backward()
            np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12)
            np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-10)
