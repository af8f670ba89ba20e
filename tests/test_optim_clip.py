"""Gradient clipping by global norm and by value."""
import numpy as np
import pytest

from nerve.optim import clip_grad_norm_, clip_grad_value_


class Param:
    def __init__(self, grad, dtype=np.float64):
        self.data = np.zeros(np.shape(grad), dtype=dtype)
        self.grad = None if grad is None else np.array(grad, dtype=dtype)


def test_clip_grad_norm_scales_all_gradients_together():
    a, b, c = Param([3.0, 0.0]), Param([[0.0], [4.0]]), Param(None)
    total = clip_grad_norm_([a, b, c], max_norm=1.0)
    assert total == pytest.approx(5.0)  # sqrt(3^2 + 4^2)
    np.testing.assert_allclose(a.grad, [0.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(b.grad, [[0.0], [0.8]], rtol=1e-6)
    assert c.grad is None


def test_small_gradients_are_left_alone():
    a = Param([0.3, 0.4])
    assert clip_grad_norm_(a, max_norm=1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(a.grad, [0.3, 0.4])


def test_other_norms_and_dtype():
    a, b = Param([1.0, -6.0], np.float32), Param([2.0], np.float32)
    assert clip_grad_norm_([a, b], max_norm=3.0, norm_type=float("inf")) == pytest.approx(6.0)
    np.testing.assert_allclose(a.grad, [0.5, -3.0], rtol=1e-5)
    assert a.grad.dtype == np.float32
    c = Param([1.0, -2.0])
    assert clip_grad_norm_([c], max_norm=10.0, norm_type=1) == pytest.approx(3.0)


def test_nonfinite_norm():
    a = Param([np.inf, 1.0])
    with pytest.raises(ValueError, match="nan or inf"):
        clip_grad_norm_([a], 1.0, error_if_nonfinite=True)
    assert clip_grad_norm_([a], 1.0) == np.inf
    np.testing.assert_array_equal(a.grad, [np.inf, 1.0])


def test_clip_grad_value_():
    a = Param([-3.0, 0.5, 2.0])
    clip_grad_value_([a], 1.0)
    np.testing.assert_array_equal(a.grad, [-1.0, 0.5, 1.0])


@pytest.mark.parametrize("call, error, fragment", [
    (lambda: clip_grad_norm_([Param([1.0])], -1.0), ValueError, "max_norm must be in"),
    (lambda: clip_grad_norm_([Param([1.0])], 1.0, norm_type=0), ValueError, "norm_type"),
    (lambda: clip_grad_norm_([object()], 1.0), TypeError, "no .grad"),
    (lambda: clip_grad_norm_(5, 1.0), TypeError, "iterable of parameters"),
    (lambda: clip_grad_value_([Param([1.0])], -1.0), ValueError, "clip_value must be in"),
])
def test_bad_arguments(call, error, fragment):
    with pytest.raises(error, match=fragment):
        call()
