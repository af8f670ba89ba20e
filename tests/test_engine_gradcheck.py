"""Every differentiable op against central finite differences in float64 (one row per op)."""
import numpy as np
import pytest

import nerve as nv
from nerve import functional as F

rng = np.random.default_rng(1234)


def rand(*shape, positive=False, away_from_zero=False):
    x = rng.standard_normal(shape)
    if positive:
        x = np.abs(x) + 0.5
    if away_from_zero:
        x = np.where(np.abs(x) < 0.1, 0.5, x)  # keep kinks out of the finite differences
    return x


def distinct(*shape):
    """Values with no ties, so max/min have a unique winner."""
    return rng.permutation(np.arange(np.prod(shape), dtype=float)).reshape(shape) * 0.37


# (name, fn, inputs) — broadcast cases included.
CASES = [
    ("add", lambda a, b: a + b, [rand(3, 4), rand(3, 4)]),
    ("add_broadcast_row", lambda a, b: a + b, [rand(3, 4), rand(4)]),
    ("add_broadcast_both", lambda a, b: a + b, [rand(3, 1), rand(1, 4)]),
    ("sub_broadcast", lambda a, b: a - b, [rand(2, 3, 4), rand(3, 1)]),
    ("mul", lambda a, b: a * b, [rand(5), rand(5)]),
    ("mul_broadcast", lambda a, b: a * b, [rand(4, 1, 3), rand(2, 1)]),
    ("div", lambda a, b: a / b, [rand(3, 4), rand(3, 4, positive=True)]),
    ("div_broadcast", lambda a, b: a / b, [rand(3, 4), rand(1, 4, positive=True)]),
    ("pow_scalar", lambda a: a ** 3, [rand(3, 4)]),
    ("pow_tensor", lambda a, b: a ** b, [rand(3, 4, positive=True), rand(4)]),
    ("rpow", lambda a: 2.0 ** a, [rand(3)]),
    ("add_scalar", lambda a: 3.0 + a - 1.5, [rand(2, 3)]),
    ("mul_scalar", lambda a: 2.5 * a / 4.0, [rand(2, 3)]),
    ("rsub_rdiv", lambda a: 1.0 - 2.0 / a, [rand(2, 3, positive=True)]),
    ("neg", lambda a: -a, [rand(3, 2)]),
    ("exp", lambda a: a.exp(), [rand(3, 4)]),
    ("log", lambda a: a.log(), [rand(3, 4, positive=True)]),
    ("sqrt", lambda a: a.sqrt(), [rand(3, 4, positive=True)]),
    ("abs", lambda a: a.abs(), [rand(3, 4, away_from_zero=True)]),
    ("clip", lambda a: a.clip(-0.5, 0.5), [rand(4, 5, away_from_zero=True) * 0.9 + 0.03]),
    ("sum_all", lambda a: a.sum(), [rand(3, 4)]),
    ("sum_axis", lambda a: a.sum(axis=1), [rand(3, 4, 2)]),
    ("sum_keepdims", lambda a: a.sum(axis=(0, 2), keepdims=True), [rand(3, 4, 2)]),
    ("mean_all", lambda a: a.mean(), [rand(3, 4)]),
    ("mean_axis", lambda a: a.mean(axis=-1), [rand(3, 4)]),
    ("max_axis", lambda a: a.max(axis=1), [distinct(3, 5)]),
    ("max_all", lambda a: a.max(), [distinct(4, 3)]),
    ("min_axis_keepdims", lambda a: a.min(axis=0, keepdims=True), [distinct(3, 5)]),
    ("reshape", lambda a: a.reshape(6, 2) * np.arange(12.0).reshape(6, 2), [rand(3, 4)]),
    ("transpose", lambda a, c: a.transpose(2, 0, 1) * c, [rand(2, 3, 4), rand(4, 2, 3)]),
    ("T", lambda a: a.T @ a, [rand(3, 4)]),
    ("getitem_slice", lambda a: a[1:, ::2], [rand(4, 5)]),
    ("getitem_int_array", lambda a: a[np.array([0, 2, 2, 1])], [rand(3, 4)]),
    ("getitem_pairs", lambda a: a[np.arange(3), np.array([1, 0, 1])], [rand(3, 2)]),
    ("getitem_bool_mask", lambda a: a[np.array([True, False, True])], [rand(3, 2)]),
    ("matmul_2d", lambda a, b: a @ b, [rand(3, 4), rand(4, 5)]),
    ("matmul_vec_mat", lambda a, b: a @ b, [rand(4), rand(4, 5)]),
    ("matmul_mat_vec", lambda a, b: a @ b, [rand(3, 4), rand(4)]),
    ("matmul_vec_vec", lambda a, b: a @ b, [rand(4), rand(4)]),
    ("matmul_batched_broadcast", lambda a, b: a @ b, [rand(2, 3, 4), rand(4, 5)]),
    ("linear", lambda x, w, b: F.linear(x, w, b), [rand(5, 3), rand(3, 4), rand(4)]),
    ("linear_nobias", lambda x, w: F.linear(x, w), [rand(5, 3), rand(3, 4)]),
    ("relu", lambda a: a.relu(), [rand(4, 5, away_from_zero=True)]),
    ("leaky_relu", lambda a: a.leaky_relu(0.1), [rand(4, 5, away_from_zero=True)]),
    ("elu", lambda a: a.elu(1.3), [rand(4, 5, away_from_zero=True)]),
    ("sigmoid", lambda a: a.sigmoid(), [rand(4, 5)]),
    ("tanh", lambda a: a.tanh(), [rand(4, 5)]),
    ("softmax", lambda a: a.softmax(), [rand(4, 5)]),
    ("softmax_axis0", lambda a: a.softmax(axis=0), [rand(4, 5)]),
    ("log_softmax", lambda a: a.log_softmax(), [rand(4, 5)]),
    ("maximum", lambda a, b: nv.maximum(a, b), [distinct(3, 4), distinct(4) - 1.0]),
    ("minimum", lambda a, b: nv.minimum(a, b), [distinct(3, 4), distinct(1, 4)]),
    ("where", lambda a, b: nv.where(np.array([True, False, True]), a, b), [rand(2, 3), rand(3)]),
    ("concatenate", lambda a, b: nv.concatenate([a, b], axis=1), [rand(3, 2), rand(3, 4)]),
    ("stack", lambda a, b: nv.stack([a, b], axis=1), [rand(3, 2), rand(3, 2)]),
    ("fan_out", lambda a: a * a + a.exp() * a, [rand(3, 3)]),
    ("mlp", lambda x, w1, w2: ((x @ w1).tanh() @ w2).log_softmax().mean(),
     [rand(5, 3), rand(3, 4), rand(4, 2)]),
]


@pytest.mark.parametrize("name,fn,inputs", CASES, ids=[c[0] for c in CASES])
def test_op_matches_finite_differences(name, fn, inputs):
    assert nv.gradcheck(fn, *[np.array(x, dtype=np.float64) for x in inputs])


def test_gradcheck_reports_the_worst_element():
    class Wrong(nv.Function):
        def forward(self, x):
            return x * 2

        def backward(self, g):  # deliberately wrong: should be 2g
            return (g * 3,)

    with pytest.raises(nv.GradcheckError, match=r"index .*analytic .* vs numerical"):
        nv.gradcheck(lambda t: Wrong.apply(t), np.ones((2, 2)))


def test_numerical_gradient_on_plain_numpy():
    w = np.array([1.0, -2.0, 0.5])
    grad = nv.numerical_gradient(lambda v: float(np.sum(v ** 3)), w)
    np.testing.assert_allclose(grad, 3 * w ** 2, rtol=1e-6)
    np.testing.assert_array_equal(w, [1.0, -2.0, 0.5])  # restored after perturbation


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_shapes_broadcast(seed):
    r = np.random.default_rng(seed)
    shape = tuple(r.integers(1, 4, size=3))
    other = tuple(1 if r.random() < 0.5 else n for n in shape[1:])
    a, b = r.standard_normal(shape), r.standard_normal(other)
    assert nv.gradcheck(lambda x, y: (x * y + x / (y * y + 1)).tanh(), a, b)


class _TripledSquare(nv.Function):
    """x² with a wrong backward (3x instead of 2x): a gradient gradcheck must catch."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, g):
        return (g * 3 * self.x,)


def test_gradcheck_never_passes_a_nan_and_rejects_nan_tolerances():
    x = nv.tensor([1.0, 2.0, -1.0], dtype=nv.float64)
    # sqrt(-1) is NaN: every NaN comparison is False, so this used to "pass" the wrong op
    with pytest.raises(nv.GradcheckError, match="not finite at index"):
        nv.gradcheck(lambda t: _TripledSquare.apply(t) + t.sqrt(), x)
    with pytest.raises(nv.GradcheckError, match=r"not finite at index \(0,\)"):
        nv.gradcheck(lambda t: t.sqrt(), nv.tensor([0.0, 1.0], dtype=nv.float64))  # inf vs nan
    ok = nv.tensor([1.0, 2.0], dtype=nv.float64)
    for bad in (dict(atol=float("nan")), dict(rtol=float("nan")), dict(atol=-1.0)):
        with pytest.raises(ValueError, match="tolerance"):
            nv.gradcheck(lambda t: _TripledSquare.apply(t), ok, **bad)
    with pytest.raises(nv.GradcheckError, match="is wrong"):
        nv.gradcheck(lambda t: _TripledSquare.apply(t), ok)
    assert nv.gradcheck(lambda t: t * t, ok, atol=0, rtol=np.float64(1e-4)) is True
