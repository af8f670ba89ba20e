"""The engine's fast paths: apply1, cached scalar constants, the chain shortcut of backward.

Each fast path must give exactly what the general path gives: the same values, the
same graph, bit-identical gradients, the same errors.
"""
import heapq
import warnings

import numpy as np
import pytest

import nerve as nv
from nerve import autograd
from nerve.autograd import Function, _Freed
from nerve.ops import activation as A
from nerve.ops import elementwise as E
from nerve.ops._util import constant


def reference_grads(root, grad):
    """dL/dleaf by the plain heap driver (newest node first, no shortcut), leaves by id.

    Gradients add up in the order they arrive, as the engine's do, so the result
    must match the engine bit for bit. The graph is read, not freed.
    """
    grads, heap, leaves = {id(root): grad}, [(-root._seq, root)], {}
    while heap:
        node = heapq.heappop(heap)[1]
        g = grads.pop(id(node))
        for parent, pg in zip(node._ctx.parents, node._ctx.backward(g)):
            if pg is None or not parent.requires_grad:
                continue
            acc = leaves if parent._ctx is None else grads
            if id(parent) in acc:
                acc[id(parent)] = acc[id(parent)] + pg
            else:
                acc[id(parent)] = pg
                if acc is grads:
                    heapq.heappush(heap, (-parent._seq, parent))
    return leaves


def random_graph(rng, leaves, n_ops):
    """A random DAG over ``leaves``: chains, fan-out, diamonds, x * x, unused branches."""
    unary = [lambda h: h.tanh(), lambda h: h * 0.5, lambda h: h + (-1.0), lambda h: h.exp(),
             lambda h: -h, lambda h: h.sigmoid(), lambda h: 1.5 - h, lambda h: h / 3.0]
    binary = [lambda a, b: (a + b).tanh(), lambda a, b: (a * b).tanh(), lambda a, b: (a - b).tanh()]
    nodes = list(leaves)
    for _ in range(n_ops):
        if rng.random() < 0.7:
            # Mostly extend the newest node (a chain), sometimes an older one (fan-out).
            h = nodes[-1] if rng.random() < 0.6 else nodes[rng.integers(len(nodes))]
            nodes.append(unary[rng.integers(len(unary))](h.tanh()))
        else:
            a, b = (nodes[rng.integers(len(nodes))] for _ in range(2))
            nodes.append(binary[rng.integers(len(binary))](a, b))
    picked = rng.choice(len(nodes), size=3, replace=False)
    out = nodes[-1].sum()
    for i in picked:
        out = out + nodes[i].sum() * 0.25
    return out


class CountingPush:
    """Stands in for heapq.heappush inside the driver and counts the pushes."""

    def __init__(self):
        self.calls = 0

    def __call__(self, heap, item):
        self.calls += 1
        heapq.heappush(heap, item)


# ---------------------------------------------------------------- the driver
@pytest.mark.parametrize("seed", range(12))
def test_random_graphs_match_the_plain_heap_driver_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    xs = [nv.tensor(rng.standard_normal(5), dtype=nv.float64, requires_grad=True) for _ in range(3)]
    out = random_graph(rng, xs, n_ops=60)
    expected = reference_grads(out, np.ones((), np.float64))
    out.backward()
    for x in xs:
        if id(x) in expected:
            assert x.grad.tobytes() == expected[id(x)].tobytes()
        else:
            assert x.grad is None


@pytest.mark.parametrize("seed", range(3))
def test_random_graphs_match_finite_differences(seed):
    def f(a, b):
        return random_graph(np.random.default_rng(seed), [a, b], n_ops=25)

    rng = np.random.default_rng(100 + seed)
    assert nv.gradcheck(f, rng.standard_normal(4), rng.standard_normal(4))


def test_a_chain_never_touches_the_heap(monkeypatch):
    push = CountingPush()
    monkeypatch.setattr(autograd, "heappush", push)
    x = nv.tensor([0.3, -0.2], dtype=nv.float64, requires_grad=True)
    h = x
    for _ in range(250):
        h = (h.tanh() * 0.5).exp() + (-1.0)
    out = h.sum()
    expected = reference_grads(out, np.ones((), np.float64))[id(x)]
    out.backward()
    assert push.calls == 0
    assert x.grad.tobytes() == expected.tobytes()
    # One step, y = e^(tanh(x)/2) − 1:  dy/dx = e^(tanh(x)/2) · (1 − tanh² x) / 2.
    y = nv.tensor([0.3, -0.2], dtype=nv.float64, requires_grad=True)
    ((y.tanh() * 0.5).exp() + (-1.0)).sum().backward()
    t = np.tanh([0.3, -0.2])
    np.testing.assert_allclose(y.grad, np.exp(t / 2) * (1 - t * t) / 2, rtol=1e-12)


def test_a_value_consumed_twice_waits_for_both_consumers(monkeypatch):
    # a feeds b (made first) and c: from c, a is older than the pending b, so the
    # shortcut must not take it; its gradient is complete only after b.
    push = CountingPush()
    monkeypatch.setattr(autograd, "heappush", push)
    x = nv.tensor([0.5, -1.0], dtype=nv.float64, requires_grad=True)
    a = x.exp()
    b = a * 2.0
    c = a.tanh()
    (b + c).sum().backward()
    ea = np.exp([0.5, -1.0])
    np.testing.assert_allclose(x.grad, ea * (2.0 + (1 - np.tanh(ea) ** 2)), rtol=1e-12)
    assert push.calls >= 2  # b, c from the Add, then a


def test_diamond_graph():
    x = nv.tensor([0.2, 0.7, -0.4], dtype=nv.float64, requires_grad=True)
    h = x.tanh()
    top, bottom = h * 3.0, h.exp()
    (top * bottom).sum().backward()
    t = np.tanh([0.2, 0.7, -0.4])
    # d/dt (3t · e^t) = 3e^t (1 + t), times dt/dx = 1 − t².
    np.testing.assert_allclose(x.grad, 3 * np.exp(t) * (1 + t) * (1 - t * t), rtol=1e-12)


def test_same_input_twice_and_a_long_branch_beside_a_pending_node():
    x = nv.tensor([0.3, 1.1], dtype=nv.float64, requires_grad=True)
    early = x * 3.0            # pending on the heap while the chain below runs
    h = x
    for _ in range(50):
        h = h * 0.9 + 0.01
    ((h * h) + early).sum().backward()
    hv = np.array([0.3, 1.1])
    for _ in range(50):
        hv = hv * 0.9 + 0.01
    np.testing.assert_allclose(x.grad, 2 * hv * 0.9 ** 50 + 3.0, rtol=1e-12)


def test_retain_graph_twice_then_freed():
    x = nv.tensor([0.1, -0.6], dtype=nv.float64, requires_grad=True)
    y = (x.tanh() * 2.0).exp().sum()
    y.backward(retain_graph=True)
    first = x.grad.copy()
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad, 2 * first)
    y.backward()
    np.testing.assert_array_equal(x.grad, 3 * first)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_backward_frees_every_op_of_a_chain_and_keeps_the_graph_drawable():
    x = nv.tensor([1.0, 2.0], requires_grad=True)
    a = x.exp()
    b = a * 0.5
    c = b.tanh()
    c.sum().backward()
    assert [type(t._ctx) for t in (a, b, c)] == [_Freed] * 3
    assert [t.op for t in (a, b, c)] == ["Exp", "MulScalar", "Tanh"]
    assert c._ctx.parents == (b,) and b._ctx.parents == (a,) and a._ctx.parents == (x,)
    dot = nv.draw_graph(c, format="dot")
    assert all(name in dot for name in ("Exp", "MulScalar", "Tanh"))
    with pytest.raises(RuntimeError, match="second time.*Tanh"):
        c.backward(np.ones(2, np.float32))


def test_retain_grad_on_an_intermediate_of_a_chain():
    x = nv.tensor([0.4, -0.3], dtype=nv.float64, requires_grad=True)
    a = x * 2.0
    mid = a.tanh().retain_grad()
    other = mid.exp()
    other.sum().backward()
    np.testing.assert_allclose(mid.grad, np.exp(np.tanh([0.8, -0.6])), rtol=1e-12)
    assert a.grad is None and other.grad is None
    m = np.tanh([0.8, -0.6])
    np.testing.assert_allclose(x.grad, np.exp(m) * (1 - m * m) * 2.0, rtol=1e-12)


class WrongShape(Function):
    """A broken op: its gradient has the wrong shape."""

    def forward(self, x):
        return x * 1.0

    def backward(self, g):
        return (g[:1],)


def test_the_shape_check_still_runs_on_the_chain_shortcut():
    x = nv.tensor([1.0, 2.0], requires_grad=True)
    y = WrongShape.apply(x.exp())   # the input of the broken op is a chain node, not a leaf
    msg = r"WrongShape.backward returned a gradient of shape \(1,\) for an input of shape \(2,\)"
    with pytest.raises(RuntimeError, match=msg):
        y.tanh().sum().backward()


def test_only_one_input_elementwise_ops_skip_the_shape_check():
    assert not Function.keeps_shape and not WrongShape.keeps_shape
    for op in (E.Add, E.Mul, E.Sub, E.Div, E.Pow, E.Where, E.Maximum, A.Tanh, A.Softmax):
        assert not op.keeps_shape, op
    for op in (E.AddScalar, E.MulScalar, E.DivScalar, E.RSubScalar, E.RDivScalar, E.PowScalar,
               E.Neg, E.Exp, E.Log, E.Sqrt, E.Abs, E.Clip, E.Cast):
        assert op.keeps_shape, op


# ------------------------------------------------------------------ apply1
UNARY_METHODS = [
    ("exp", E.Exp, {}), ("log", E.Log, {}), ("sqrt", E.Sqrt, {}), ("abs", E.Abs, {}),
    ("__neg__", E.Neg, {}), ("tanh", A.Tanh, {}), ("sigmoid", A.Sigmoid, {}), ("relu", A.ReLU, {}),
    ("step", A.Step, {}),
]


@pytest.mark.parametrize("method,op,options", UNARY_METHODS)
@pytest.mark.parametrize("requires_grad", [True, False])
def test_tensor_methods_make_the_same_node_as_function_apply(method, op, options, requires_grad):
    x = nv.tensor([0.5, 2.0, 1.5], requires_grad=requires_grad)
    fast = getattr(x, method)()
    slow = op.apply(x, **options)
    np.testing.assert_array_equal(fast.data, slow.data)
    assert fast.data.dtype == slow.data.dtype
    assert fast.requires_grad == slow.requires_grad == requires_grad
    assert fast.grad is None and not fast._retain
    if requires_grad:
        assert type(fast._ctx) is op and fast._ctx.parents == (x,)
        assert fast._seq > x._seq
    else:
        assert fast._ctx is None and fast.is_leaf


def test_apply1_records_nothing_under_no_grad():
    x = nv.tensor([1.0], requires_grad=True)
    with nv.no_grad():
        y = x.exp() * 2.0 + 1.0
    assert y.is_leaf and not y.requires_grad
    np.testing.assert_allclose(y.data, [2 * np.e + 1], rtol=1e-6)


def test_apply1_names_the_op_when_forward_fails():
    class Picky(Function):
        def forward(self, x):
            raise ValueError("no thanks")

    with pytest.raises(ValueError, match=r"Picky on input shapes \(2,\): no thanks"):
        autograd.apply1(Picky(), nv.tensor([1.0, 2.0]))


# ------------------------------------------------------------ scalar constants
@pytest.mark.parametrize("c", [0.5, 0.1, -1.0, 3, 2 ** 70, 1e-50, -0.0, 0.0, float("inf"),
                               float("nan"), 1 / 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scalar_ops_equal_numpy_with_a_python_number_bit_for_bit(c, dtype):
    x = np.array([-1.5, -0.0, 0.0, 0.25, 3.0], dtype=dtype)
    t = nv.tensor(x, dtype=dtype, requires_grad=True)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        # t - c is t + (-c) (one op, AddScalar): the same but for the sign of a NaN.
        r = float(c) if isinstance(c, int) and abs(c) >= 2 ** 63 else c  # NumPy 1: no object array
        pairs = [(t + c, x + r), (c + t, r + x), (t - c, x + -r), (c - t, r - x), (t * c, x * r),
                 (c * t, r * x), (t / c, x / r), (c / t, r / x)]
        for got, want in pairs:
            assert got.data.dtype == want.dtype == dtype
            assert got.data.tobytes() == want.tobytes()
        y = t * c
        y.backward(np.ones(5))
        assert t.grad.tobytes() == (np.ones(5, dtype) * r).tobytes()


def test_scalar_ops_on_integer_data_give_the_default_float_not_float64():
    # The cached constant is for float dtypes only; integer data with a float number (or
    # a true division) computes in the default float dtype, as PyTorch: never float64.
    labels = nv.tensor([1, 2, 3])
    np.testing.assert_array_equal((labels * 0.5).data, [0.5, 1.0, 1.5])
    assert (labels * 0.5).data.dtype == np.float32 and (labels + 1).data.dtype == np.int64
    assert constant(0.5, np.dtype(np.int64)) == 0.5


def test_constant_is_cached_read_only_and_bounded():
    k = constant(0.75, np.dtype(np.float32))
    assert k is constant(0.75, np.dtype(np.float32)) and k.dtype == np.float32 and k.ndim == 0
    assert not k.flags.writeable
    assert constant(0.75, np.dtype(np.float64)).dtype == np.float64
    # Signed zeros are equal dict keys with different values: never shared.
    assert np.signbit(constant(-0.0, np.dtype(np.float32)))
    assert not np.signbit(constant(0.0, np.dtype(np.float32)))
    for i in range(1000):
        constant(1.0 + i / 7, np.dtype(np.float64))
    from nerve.ops import _util
    assert all(len(table) <= 256 for table in _util._constants.values())


def test_an_integer_too_large_for_a_float_is_still_an_error():
    with pytest.raises(OverflowError):
        nv.tensor([1.0]) * 10 ** 400
