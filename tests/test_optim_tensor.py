"""The optimizers drive nerve's own Tensors: backward fills .grad, step updates .data in place."""
import numpy as np
import pytest

import nerve as nv
from nerve import optim


@pytest.mark.parametrize("name, options", [("sgd", dict(lr=0.1)), ("adam", dict(lr=0.05))])
def test_fits_a_linear_regression(name, options):
    rng = nv.get_rng(0)
    X = rng.standard_normal((64, 3)).astype(np.float32)
    y = X @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32) + 0.3
    W = nv.tensor(np.zeros((3, 1)), requires_grad=True)
    b = nv.tensor(np.zeros(1), requires_grad=True)
    opt = optim.get_optimizer(name, [W, b], **options)
    # Building the optimizer gathers the parameters into one flat array (same values);
    # from then on every step updates that memory in place.
    arrays = (W.data, b.data)
    assert np.shares_memory(W.data, opt._flat.data) and not W.data.any()
    for _ in range(300):
        opt.zero_grad()
        assert W.grad is None
        loss = ((nv.tensor(X) @ W + b - nv.tensor(y)) ** 2).mean()
        loss.backward()
        opt.step()
    assert W.data is arrays[0] and b.data is arrays[1]  # updated in place
    assert W.data.dtype == np.float32
    np.testing.assert_allclose(W.data.ravel(), [1.0, -2.0, 0.5], atol=1e-3)
    np.testing.assert_allclose(b.data, [0.3], atol=1e-3)
