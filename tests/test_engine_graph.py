"""The backward driver: order, depth, fan-out, broadcasting, freed state, no_grad."""
import numpy as np
import pytest

import nerve as nv


def test_chain_ten_thousand_ops_deep():
    x = nv.tensor([1.0, 2.0], dtype=nv.float64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001 ** 10_000] * 2, rtol=1e-9)


def test_fan_out_accumulates_every_use():
    x = nv.tensor(3.0, requires_grad=True)
    y = x * 2.0
    z = y * y + y          # y used three times
    z.backward()
    assert x.grad == pytest.approx(2 * (2 * 6.0 + 1))


def test_shared_gradient_array_is_not_aliased_between_leaves():
    a = nv.tensor([1.0, 2.0], requires_grad=True)
    b = nv.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()      # Add hands the same upstream array to both
    a.grad *= 10
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_gradients_accumulate_across_backward_calls_until_zeroed():
    w = nv.tensor([1.0, -1.0], requires_grad=True)
    (w * 3.0).sum().backward()
    (w * 3.0).sum().backward()
    np.testing.assert_array_equal(w.grad, [6.0, 6.0])
    w.zero_grad()
    assert w.grad is None


@pytest.mark.parametrize("shape_a,shape_b", [((4, 3), (3,)), ((4, 1), (1, 5)), ((2, 3, 4), (1, 4)),
                                             ((5,), ())])
def test_broadcast_gradients_reduce_to_input_shapes(shape_a, shape_b):
    a = nv.tensor(np.ones(shape_a), requires_grad=True)
    b = nv.tensor(np.ones(shape_b), requires_grad=True)
    out = a * b
    out.sum().backward()
    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    # Each element of b was used prod(out.shape)/prod(b.shape) times.
    assert np.all(b.grad == out.size / max(b.data.size, 1))


def test_backward_without_grad_on_non_scalar_is_an_error():
    x = nv.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="needs a scalar.*shape \\(2,\\)"):
        (x * 2.0).backward()


def test_backward_with_explicit_upstream_gradient():
    x = nv.tensor([1.0, 2.0], requires_grad=True)
    (x * x).backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 40.0])
    with pytest.raises(ValueError, match="grad has shape"):
        (x * x).backward(np.ones(3))


def test_second_backward_through_freed_graph_is_a_clear_error():
    x = nv.tensor(2.0, requires_grad=True)
    y = x.exp() * 3.0
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = nv.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad == 8.0


def test_no_grad_records_nothing():
    w = nv.tensor([1.0], requires_grad=True)
    with nv.no_grad():
        y = w * 2.0
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()
    assert nv.is_grad_enabled()


def test_no_grad_as_decorator_and_enable_grad_inside():
    w = nv.tensor([1.0], requires_grad=True)

    @nv.no_grad()
    def f():
        with nv.enable_grad():
            return w * 2.0

    assert f().requires_grad


def test_constants_are_not_recorded():
    a = nv.tensor([1.0, 2.0])
    b = a * 2.0 + a
    assert b.is_leaf and not b.requires_grad


def test_detach_cuts_the_graph():
    x = nv.tensor(3.0, requires_grad=True)
    y = x * x.detach()
    y.backward()
    assert x.grad == 3.0


def test_comparisons_give_boolean_tensors_without_gradient():
    x = nv.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad
    np.testing.assert_array_equal(m.data, [False, True, True])
    np.testing.assert_array_equal((x == x).data, [True] * 3)


def test_relu_at_zero_has_zero_gradient_and_max_ties_share():
    x = nv.tensor([0.0, 1.0], requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])
    y = nv.tensor([2.0, 2.0, 1.0], requires_grad=True)
    y.max().backward()
    np.testing.assert_array_equal(y.grad, [0.5, 0.5, 0.0])
    s = nv.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    s.step().sum().backward()
    np.testing.assert_array_equal(s.grad, [0.0, 0.0, 0.0])


def test_numpy_array_on_the_left_defers_to_tensor():
    x = nv.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, nv.Tensor) and y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_manual_seed_makes_random_draws_reproducible():
    nv.manual_seed(7)
    a = nv.randn(3, 4).data
    nv.manual_seed(7)
    b = nv.randn(3, 4).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, nv.randn(3, 4).data)
