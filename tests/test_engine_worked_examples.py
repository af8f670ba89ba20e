"""The lectures' worked backpropagation examples, with their exact numbers."""
import numpy as np
import pytest

import nerve as nv


def test_circuit_x_plus_y_times_z():
    x = nv.tensor(-2.0, requires_grad=True)
    y = nv.tensor(5.0, requires_grad=True)
    z = nv.tensor(-4.0, requires_grad=True)
    q = (x + y).retain_grad()
    f = q * z
    f.backward()
    assert f.item() == -12.0
    assert q.grad == -4.0          # df/dq = z
    assert (x.grad, y.grad, z.grad) == (-4.0, -4.0, 3.0)


def test_sigmoid_neuron():
    w = nv.tensor([2.0, -3.0, -3.0], dtype=nv.float64, requires_grad=True)
    x = nv.tensor([-1.0, -2.0], dtype=nv.float64, requires_grad=True)
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1.0 + (-dot).exp())         # the sigmoid gate by its primitives
    f.backward()
    assert f.item() == pytest.approx(0.7311, abs=1e-4)
    np.testing.assert_allclose(w.grad, [-0.1966, -0.3932, 0.1966], atol=1e-4)
    np.testing.assert_allclose(x.grad, [0.3932, -0.5898], atol=1e-4)
    # Rounded as the lecture prints them.
    assert np.round(f.item(), 2) == 0.73
    np.testing.assert_array_equal(np.round(w.grad, 2), [-0.20, -0.39, 0.20])
    np.testing.assert_array_equal(np.round(x.grad, 2), [0.39, -0.59])


def test_sigmoid_neuron_with_fused_sigmoid_matches():
    w = nv.tensor([2.0, -3.0], dtype=nv.float64, requires_grad=True)
    b = nv.tensor(-3.0, dtype=nv.float64, requires_grad=True)
    x = nv.tensor([-1.0, -2.0], dtype=nv.float64, requires_grad=True)
    f = (w @ x + b).sigmoid()
    f.backward()
    s = f.item()
    np.testing.assert_allclose(w.grad, np.array([-1.0, -2.0]) * s * (1 - s))
    np.testing.assert_allclose(x.grad, np.array([2.0, -3.0]) * s * (1 - s))
    assert b.grad == pytest.approx(s * (1 - s))


def test_x_times_x_plus_x_gives_2x_plus_1():
    x = nv.tensor([-3.0, 0.0, 0.5, 4.0], requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data + 1)
