"""Review of the session's fixes: gradcheck names the failing element of largest
relative error; clip_grad_norm_(error_if_nonfinite=True) raises when the total does not
fit the gradients' dtype, as PyTorch."""
import numpy as np
import pytest

import nerve as nv
from nerve.autograd import Function
from nerve.nn import Parameter
from nerve.optim.clip import NonFiniteNormError, clip_grad_norm_


class _Bad(Function):
    """y = x·w with wrong gradients: input 0 gets 1 (relative error > 1), input 1 gets 5."""

    def forward(self, x, w):
        self.x, self.w = x, w
        return x * w

    def backward(self, g):
        return g * 0 + 1, g * 0 + 5


def test_gradcheck_names_the_failing_element_of_largest_relative_error_first():
    with pytest.raises(nv.GradcheckError) as info:
        nv.gradcheck(lambda a, b: _Bad.apply(a, b), np.ones((2, 2)), np.full((2, 2), 2.0))
    msg = str(info.value)
    head, _, tail = msg.partition("Also wrong:")
    rels = [float(r) for r in __import__("re").findall(r"relative error ([0-9.e+-]+)", msg)]
    assert len(rels) == 2 and rels[0] >= rels[1]  # the worst comes first
    assert "input 0" in head and "input 1" in tail


def test_clip_raises_when_the_total_is_beyond_float32():
    p = Parameter(np.ones(2, np.float32))
    p.grad = np.array([3e38, 3e38], np.float32)
    with pytest.raises(NonFiniteNormError, match="beyond the largest float32"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert np.array_equal(p.grad, np.array([3e38, 3e38], np.float32))  # not clipped
    total = clip_grad_norm_([p], 1.0)  # without the flag: inf back, gradients clipped
    assert np.isinf(float(total)) and total.dtype == np.float32
    assert np.linalg.norm(p.grad.astype(np.float64)) == pytest.approx(1.0, rel=1e-5)


def test_clip_in_range_totals_still_pass_with_error_if_nonfinite():
    p = Parameter(np.ones(2, np.float32))
    p.grad = np.array([3.0, 4.0], np.float32)
    total = clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert float(total) == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad, [0.6, 0.8], rtol=1e-5)
