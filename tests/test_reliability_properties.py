"""Property-based tests of the engine (hypothesis): random shapes, broadcasting and values.

For every op: the forward pass equals NumPy's (float64, and float32 keeps float32),
and the backward pass equals central finite differences of Σ f(x) ⊙ R for a random
upstream R, in float64, for every input (so broadcast gradients are summed back to
each input's shape). Values are drawn away from kinks (relu at 0, ties in max)
and from the edges of each op's domain, where finite differences cannot decide.

Runs a modest number of examples per property (a few seconds in all);
``NERVE_FUZZ_LONG=1`` runs many more.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import nerve as nv  # noqa: E402
from nerve import losses  # noqa: E402

LONG = os.environ.get("NERVE_FUZZ_LONG") == "1"
SETTINGS = settings(max_examples=400 if LONG else 12, deadline=None, derandomize=not LONG,
                    database=None, print_blob=True)
SIDE = 4  # at most 4 per axis, 3 axes: every array has at most 64 elements
H = 1e-6


def floats(low: float, high: float):
    return st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)


def arrays(shape, low=-3.0, high=3.0, unique=False):
    return hnp.arrays(np.float64, shape, elements=floats(low, high), unique=unique)


def shapes(min_dims=0, max_dims=3):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=SIDE)


def check_gradients(fn, *xs: np.ndarray, atol=1e-6, rtol=1e-5) -> None:
    """Analytic gradients of Σ fn(*xs) ⊙ R against central differences, every input."""
    ts = [nv.tensor(x, dtype=nv.float64, requires_grad=True) for x in xs]
    out = fn(*ts)
    upstream = np.random.default_rng(0).standard_normal(out.shape)
    (out * nv.tensor(upstream, dtype=nv.float64)).sum().backward()

    def scalar() -> float:
        with nv.no_grad():
            return float((fn(*ts).data * upstream).sum())

    for i, t in enumerate(ts):
        assert t.grad is not None and t.grad.shape == t.shape, \
            f"input {i}: gradient shape {None if t.grad is None else t.grad.shape} != {t.shape}"
        numeric = np.zeros(t.shape)
        flat, nflat = t.data.reshape(-1), numeric.reshape(-1)
        for k in range(flat.size):
            old = flat[k]
            flat[k] = old + H
            plus = scalar()
            flat[k] = old - H
            minus = scalar()
            flat[k] = old
            nflat[k] = (plus - minus) / (2 * H)
        np.testing.assert_allclose(t.grad, numeric, atol=atol, rtol=rtol,
                                   err_msg=f"gradient of input {i}")


def check_forward(fn, reference, *xs: np.ndarray, rtol=1e-12) -> None:
    """float64 output equals NumPy's; float32 inputs give float32 outputs close to it."""
    expected = reference(*xs)
    got = fn(*[nv.tensor(x, dtype=nv.float64) for x in xs])
    assert got.dtype == np.float64 and got.shape == np.shape(expected)
    np.testing.assert_allclose(got.data, expected, rtol=rtol, atol=1e-12)
    got32 = fn(*[nv.tensor(x, dtype=nv.float32) for x in xs])
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32.data, expected, rtol=2e-4, atol=2e-5)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ------------------------------------------------------------------ elementwise, one input
# name: (nerve, NumPy, (low, high) of the values, kink to keep away from or None)
UNARY = {
    "neg": (lambda x: -x, np.negative, (-3, 3), None),
    "exp": (nv.exp, np.exp, (-3, 3), None),
    "log": (nv.log, np.log, (0.2, 5), None),
    "sqrt": (nv.sqrt, np.sqrt, (0.2, 5), None),
    "abs": (nv.abs, np.abs, (-3, 3), 0.0),
    "relu": (nv.relu, lambda x: np.maximum(x, 0), (-3, 3), 0.0),
    "sigmoid": (nv.sigmoid, lambda x: 1 / (1 + np.exp(-x)), (-6, 6), None),
    "tanh": (nv.tanh, np.tanh, (-3, 3), None),
    "leaky_relu": (lambda x: nv.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x),
                   (-3, 3), 0.0),
    "elu": (lambda x: nv.elu(x, 0.7), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x)),
            (-3, 3), 0.0),
    "clip": (lambda x: nv.clip(x, -1.0, 1.5), lambda x: np.clip(x, -1.0, 1.5), (-3, 3),
             (-1.0, 1.5)),
    "square": (lambda x: x ** 2, np.square, (-3, 3), None),
    "cube root": (lambda x: x ** (1 / 3), np.cbrt, (0.2, 5), None),
    "x + 2.5": (lambda x: x + 2.5, lambda x: x + 2.5, (-3, 3), None),
    "1.5 - x": (lambda x: 1.5 - x, lambda x: 1.5 - x, (-3, 3), None),
    "x * -2": (lambda x: x * -2.0, lambda x: x * -2.0, (-3, 3), None),
    "x / 4": (lambda x: x / 4.0, lambda x: x / 4.0, (-3, 3), None),
    "3 / x": (lambda x: 3.0 / x, lambda x: 3.0 / x, (0.3, 4), None),
    "step": (nv.step, lambda x: (x > 0).astype(x.dtype), (-3, 3), 0.0),
}


def _away_from(x: np.ndarray, kink) -> bool:
    if kink is None:
        return True
    kinks = kink if isinstance(kink, tuple) else (kink,)
    return all(np.all(np.abs(x - k) > 1e-3) for k in kinks)


@pytest.mark.parametrize("name", list(UNARY))
@SETTINGS
@given(data=st.data())
def test_unary_op_forward_and_backward(name, data):
    fn, ref, (low, high), kink = UNARY[name]
    x = data.draw(arrays(data.draw(shapes()), low, high))
    assume(_away_from(x, kink))
    check_forward(fn, ref, x)
    check_gradients(fn, x)


# ------------------------------------------------------------------ two inputs, broadcasting
BINARY = {
    "add": (lambda a, b: a + b, np.add, (-3, 3), (-3, 3)),
    "sub": (lambda a, b: a - b, np.subtract, (-3, 3), (-3, 3)),
    "mul": (lambda a, b: a * b, np.multiply, (-3, 3), (-3, 3)),
    "div": (lambda a, b: a / b, np.divide, (-3, 3), (0.5, 3)),
    "pow": (lambda a, b: a ** b, np.power, (0.3, 3), (-2, 2)),
    "maximum": (nv.maximum, np.maximum, (-3, 3), (-3, 3)),
    "minimum": (nv.minimum, np.minimum, (-3, 3), (-3, 3)),
}


@pytest.mark.parametrize("name", list(BINARY))
@SETTINGS
@given(data=st.data())
def test_binary_op_broadcasts_like_numpy(name, data):
    fn, ref, (la, ha), (lb, hb) = BINARY[name]
    shape_a, shape_b = data.draw(hnp.mutually_broadcastable_shapes(
        num_shapes=2, max_dims=3, max_side=SIDE)).input_shapes
    a = data.draw(arrays(shape_a, la, ha))
    b = data.draw(arrays(shape_b, lb, hb))
    if name in ("maximum", "minimum"):
        assume(np.all(np.abs(np.subtract(a, b)) > 1e-3))  # no ties: the kink
    check_forward(fn, ref, a, b)
    check_gradients(fn, a, b)


@SETTINGS
@given(data=st.data())
def test_where_broadcasts_like_numpy(data):
    shape_c, shape_a, shape_b = data.draw(hnp.mutually_broadcastable_shapes(
        num_shapes=3, max_dims=3, max_side=SIDE)).input_shapes
    cond = data.draw(hnp.arrays(np.bool_, shape_c))
    a, b = data.draw(arrays(shape_a)), data.draw(arrays(shape_b))
    check_forward(lambda p, q: nv.where(cond, p, q), lambda p, q: np.where(cond, p, q), a, b)
    check_gradients(lambda p, q: nv.where(cond, p, q), a, b)


@SETTINGS
@given(data=st.data())
def test_matmul_of_any_rank(data):
    m, k, n = (data.draw(st.integers(1, SIDE)) for _ in range(3))
    batch = data.draw(hnp.array_shapes(min_dims=0, max_dims=1, min_side=1, max_side=3))
    rank_a, rank_b = data.draw(st.sampled_from([(1, 1), (1, 2), (2, 1), (2, 2), (3, 2),
                                                (2, 3), (3, 3)]))
    shape_a = (k,) if rank_a == 1 else (batch if rank_a == 3 else ()) + (m, k)
    shape_b = (k,) if rank_b == 1 else (batch if rank_b == 3 else ()) + (k, n)
    a, b = data.draw(arrays(shape_a)), data.draw(arrays(shape_b))
    check_forward(lambda p, q: p @ q, np.matmul, a, b, rtol=1e-10)
    check_gradients(lambda p, q: p @ q, a, b)


# ------------------------------------------------------------------ reductions and axes
def _axis_args(data, ndim: int):
    axis = data.draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1))) if ndim else None
    return axis, data.draw(st.booleans())


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@SETTINGS
@given(data=st.data())
def test_reduction_over_any_axis(name, data):
    x = data.draw(arrays(data.draw(shapes())))
    if name in ("max", "min"):  # no near-ties: the kink
        assume(x.size < 2 or np.min(np.diff(np.sort(x.reshape(-1)))) > 1e-3)
    axis, keepdims = _axis_args(data, x.ndim)
    fn = lambda t: getattr(t, name)(axis=axis, keepdims=keepdims)  # noqa: E731
    ref = lambda a: getattr(np, name)(a, axis=axis, keepdims=keepdims)  # noqa: E731
    check_forward(fn, ref, x, rtol=1e-10)
    check_gradients(fn, x)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@SETTINGS
@given(data=st.data())
def test_softmax_over_any_axis(name, data):
    x = data.draw(arrays(data.draw(shapes(min_dims=1)), -5, 5))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    fn = lambda t: getattr(t, name)(axis=axis)  # noqa: E731
    ref = (lambda a: _softmax(a, axis)) if name == "softmax" else \
        (lambda a: np.log(_softmax(a, axis)))
    check_forward(fn, ref, x, rtol=1e-10)
    check_gradients(fn, x)


# ------------------------------------------------------------------ shape ops
@SETTINGS
@given(data=st.data())
def test_reshape_transpose_and_indexing(data):
    x = data.draw(arrays(data.draw(shapes(min_dims=1))))
    perm = data.draw(st.permutations(range(x.ndim)))
    # A whole order (a tuple, or permute): NumPy's permutation.
    check_forward(lambda t: t.transpose(tuple(perm)), lambda a: np.transpose(a, perm), x)
    check_forward(lambda t: t.permute(*perm), lambda a: np.transpose(a, perm), x)
    check_gradients(lambda t: t.transpose(tuple(perm)), x)
    # Two axes: PyTorch's swap of those two.
    a, b = data.draw(st.integers(0, x.ndim - 1)), data.draw(st.integers(0, x.ndim - 1))
    check_forward(lambda t: t.transpose(a, b), lambda arr: np.swapaxes(arr, a, b), x)
    check_gradients(lambda t: t.transpose(a, b), x)
    check_forward(lambda t: t.reshape(-1), lambda a: a.reshape(-1), x)
    check_gradients(lambda t: t.reshape(x.size, 1), x)
    check_forward(lambda t: t.T, lambda a: a.T, x)
    # fancy indexing with repeats: the gradient adds up where positions repeat
    index = data.draw(st.lists(st.integers(0, x.shape[0] - 1), min_size=1, max_size=6))
    check_forward(lambda t: t[index], lambda a: a[index], x)
    check_gradients(lambda t: t[index], x)
    stop = data.draw(st.integers(1, x.shape[0]))
    check_gradients(lambda t: t[:stop:2], x)


@pytest.mark.parametrize("join", ["concatenate", "stack"])
@SETTINGS
@given(data=st.data())
def test_concatenate_and_stack(join, data):
    base = data.draw(shapes(min_dims=1))
    count = data.draw(st.integers(1, 3))
    axis = data.draw(st.integers(0, len(base) - (1 if join == "concatenate" else 0)))
    parts = []
    for _ in range(count):
        shape = list(base)
        if join == "concatenate":
            shape[axis] = data.draw(st.integers(1, SIDE))
        parts.append(data.draw(arrays(tuple(shape))))
    fn = lambda *ts: getattr(nv, join)(list(ts), axis=axis)  # noqa: E731
    check_forward(fn, lambda *xs: getattr(np, join)(xs, axis=axis), *parts)
    check_gradients(fn, *parts)


# ------------------------------------------------------------------ fused losses
@pytest.mark.parametrize("name", ["cross_entropy", "hinge", "bce_with_logits", "bce", "mse"])
@SETTINGS
@given(data=st.data())
def test_fused_losses_match_their_formula(name, data):
    n, c = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    labels = np.asarray(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    target = data.draw(hnp.arrays(np.float64, (n, c), elements=st.sampled_from([0.0, 1.0])))
    if name == "cross_entropy":
        fn = lambda s: losses.cross_entropy(s, labels)  # noqa: E731
        ref = lambda s: -np.log(_softmax(s)[np.arange(n), labels]).mean()  # noqa: E731
    elif name == "hinge":
        fn = lambda s: losses.hinge(s, labels)  # noqa: E731

        def ref(s):
            margins = np.maximum(0, s - s[np.arange(n), labels][:, None] + 1.0)
            margins[np.arange(n), labels] = 0
            return margins.sum(axis=1).mean()
    elif name == "bce_with_logits":
        fn = lambda s: losses.binary_cross_entropy_with_logits(s, target)  # noqa: E731
        ref = lambda s: np.mean(  # noqa: E731
            -target * np.log(1 / (1 + np.exp(-s)))
            - (1 - target) * np.log(1 - 1 / (1 + np.exp(-s))))
    elif name == "bce":
        fn = lambda p: losses.binary_cross_entropy(p, target)  # noqa: E731
        ref = lambda p: np.mean(-target * np.log(p) - (1 - target) * np.log(1 - p))  # noqa: E731
    else:
        fn = lambda s: losses.mse(s, target)  # noqa: E731
        ref = lambda s: np.mean((s - target) ** 2)  # noqa: E731
    low, high = (0.05, 0.95) if name == "bce" else (-3, 3)
    scores = data.draw(arrays((n, c), low, high))
    if name == "hinge":  # keep every margin away from its kink at 0
        m = scores - scores[np.arange(n), labels][:, None] + 1.0
        m[np.arange(n), labels] = 1.0
        assume(np.all(np.abs(m) > 1e-3))
    check_forward(fn, ref, scores, rtol=1e-10)
    check_gradients(fn, scores)


# ------------------------------------------------------------------ graph properties
@SETTINGS
@given(data=st.data())
def test_fan_out_accumulates_and_matches_the_expanded_formula(data):
    x = data.draw(arrays(data.draw(shapes())))
    fn = lambda t: t * t.exp() + t.sigmoid() * t - t.tanh()  # noqa: E731
    check_forward(fn, lambda a: a * np.exp(a) + a / (1 + np.exp(-a)) - np.tanh(a), x,
                  rtol=1e-10)
    check_gradients(fn, x)
