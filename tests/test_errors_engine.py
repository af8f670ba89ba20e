"""Integer operands never upcast to float64, and bad arguments get clear errors.

PyTorch's rules where nerve would otherwise be silent: a float tensor with an integer
or bool operand computes in the float tensor's dtype; true division and float numbers
on integer tensors give the default float dtype (float32); int ⊕ int stays integer.
"""
import numpy as np
import pytest

import nerve as nv
from nerve import nn

# ------------------------------------------------------------------ integer operands


def w32():
    return nv.tensor([1.5, 2.0, 4.0], requires_grad=True)


INTS = np.array([1, 2, 3])

# (name, f(w, i), d f.sum() / dw as a function of w and the int values k)
MIXED = [
    ("w*i", lambda w, i: w * i, lambda w, k: k),
    ("i*w", lambda w, i: i * w, lambda w, k: k),
    ("w+i", lambda w, i: w + i, lambda w, k: np.ones_like(w)),
    ("i+w", lambda w, i: i + w, lambda w, k: np.ones_like(w)),
    ("w-i", lambda w, i: w - i, lambda w, k: np.ones_like(w)),
    ("i-w", lambda w, i: i - w, lambda w, k: -np.ones_like(w)),
    ("w/i", lambda w, i: w / i, lambda w, k: 1 / k),
    ("i/w", lambda w, i: i / w, lambda w, k: -k / w ** 2),
    ("w**i", lambda w, i: w ** i, lambda w, k: k * w ** (k - 1)),
    ("i**w", lambda w, i: i ** w, lambda w, k: k ** w * np.log(k)),
    ("maximum(w,i)", lambda w, i: nv.maximum(w, i), lambda w, k: (w > k) + 0.5 * (w == k)),
    ("maximum(i,w)", lambda w, i: nv.maximum(i, w), lambda w, k: (w > k) + 0.5 * (w == k)),
    ("minimum(i,w)", lambda w, i: nv.minimum(i, w), lambda w, k: (w < k) + 0.5 * (w == k)),
    ("where(c,w,i)", lambda w, i: nv.where([True, False, True], w, i),
     lambda w, k: np.array([1.0, 0.0, 1.0])),
    ("where(c,i,w)", lambda w, i: nv.where([True, False, True], i, w),
     lambda w, k: np.array([0.0, 1.0, 0.0])),
    ("stack([i,w])", lambda w, i: nv.stack([i, w]), lambda w, k: np.ones_like(w)),
]


@pytest.mark.parametrize("name,f,dfdw", MIXED, ids=[m[0] for m in MIXED])
def test_float_tensor_with_an_int_tensor_computes_in_the_float_dtype(name, f, dfdw):
    w, i = w32(), nv.tensor(INTS)
    y = f(w, i)
    assert y.dtype == np.float32, name
    wd, k = w.data.astype(np.float64), INTS.astype(np.float64)
    want = f(nv.tensor(wd, dtype=nv.float64), nv.tensor(k, dtype=nv.float64)).data
    np.testing.assert_allclose(y.data, want, rtol=1e-6)
    y.sum().backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_allclose(w.grad, dfdw(wd, k), rtol=1e-5)


@pytest.mark.parametrize("name,f,want", [
    ("i/2", lambda i: i / 2, INTS / 2),
    ("i/2.0", lambda i: i / 2.0, INTS / 2),
    ("1/i", lambda i: 1 / i, 1 / INTS),
    ("i/i", lambda i: i / i, np.ones(3)),
    ("i*0.5", lambda i: i * 0.5, INTS * 0.5),
    ("0.5*i", lambda i: 0.5 * i, INTS * 0.5),
    ("i+0.5", lambda i: i + 0.5, INTS + 0.5),
    ("i-0.5", lambda i: i - 0.5, INTS - 0.5),
    ("0.5-i", lambda i: 0.5 - i, 0.5 - INTS),
    ("i**0.5", lambda i: i ** 0.5, INTS ** 0.5),
    ("i*np.float64", lambda i: i * np.float64(0.5), INTS * 0.5),
    ("np.float64*i", lambda i: np.float64(0.5) * i, INTS * 0.5),
    ("i*float array", lambda i: i * np.array([0.5, 1.0, 2.0]), INTS * [0.5, 1.0, 2.0]),
    ("float array*i", lambda i: np.array([0.5, 1.0, 2.0]) * i, INTS * [0.5, 1.0, 2.0]),
    ("float array-i", lambda i: np.array([0.5, 1.0, 2.0]) - i, [0.5, 1.0, 2.0] - INTS),
    ("list/i", lambda i: [3.0, 3.0, 3.0] / i, 3 / INTS),
    ("maximum(i,0.5)", lambda i: nv.maximum(i, 2.5), np.maximum(INTS, 2.5)),
    ("where(c,i,0.5)", lambda i: nv.where(INTS > 1, i, 0.5), np.where(INTS > 1, INTS, 0.5)),
    ("clip(i,1.5)", lambda i: i.clip(1.5), np.clip(INTS, 1.5, None)),
    ("clip(i,float array)", lambda i: i.clip(np.array([1.5, 1.5, 2.5])),
     np.clip(INTS, [1.5, 1.5, 2.5], None)),
])
def test_integer_tensor_with_a_float_or_a_division_gives_float32(name, f, want):
    y = f(nv.tensor(INTS))
    assert y.dtype == np.float32, name
    np.testing.assert_allclose(y.data, want, rtol=1e-6)


def test_bool_tensors_divide_and_scale_in_float32():
    mask = nv.tensor([True, False, True])
    assert (mask * 0.5).dtype == np.float32
    np.testing.assert_array_equal((mask * 0.5).data, [0.5, 0.0, 0.5])
    assert (mask / nv.tensor([True, True, True])).dtype == np.float32
    w = w32()
    y = mask * w
    assert y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_array_equal(w.grad, [1.0, 0.0, 1.0])


def test_integer_with_integer_stays_integer_but_divides_to_float32():
    i = nv.tensor(INTS)
    for y in (i * 2, i + i, i - 1, 3 - i, i ** 2, i * np.int32(2), nv.maximum(i, 2)):
        assert y.dtype == np.int64
    assert (i / i).dtype == np.float32 and (i / nv.tensor([2, 2, 2])).dtype == np.float32
    np.testing.assert_array_equal((i / nv.tensor([2, 2, 2])).data, [0.5, 1.0, 1.5])


def test_integer_division_follows_the_default_dtype():
    nv.set_default_dtype(nv.float64)
    try:
        i = nv.tensor(INTS)
        assert (i / 2).dtype == np.float64
        assert (i * 0.5).dtype == np.float64
        assert (i / i).dtype == np.float64
        # A float tensor's own dtype wins over the default: float32 stays float32.
        w = nv.tensor([1.5, 2.0, 4.0], dtype=nv.float32, requires_grad=True)
        assert (w * i).dtype == (i / w).dtype == nv.maximum(i, w).dtype == np.float32
        w64 = nv.tensor([1.5, 2.0, 4.0], dtype=nv.float64, requires_grad=True)
        y = i @ w64 + nv.tensor(INTS, dtype=np.int32) * w64
        assert y.dtype == np.float64
        y.sum().backward()
        assert w64.grad.dtype == np.float64
        np.testing.assert_allclose(w64.grad, 4 * INTS)  # (i·w) broadcast 3 times + i
    finally:
        nv.set_default_dtype(nv.float32)
    assert (nv.tensor(INTS) / 2).dtype == np.float32


def test_clip_bounds_never_upcast():
    x = nv.tensor([1.0, 5.0], requires_grad=True)
    for y in (x.clip(np.float64(2.0)), x.clip(np.array([2.0, 2.0])), x.clip(0, nv.tensor(3.0))):
        assert y.dtype == np.float32
    y = x.clip(np.float64(2.0), np.array([3.0, 4.0]))
    np.testing.assert_array_equal(y.data, [2.0, 4.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


# ------------------------------------------------------------------ iteration


def test_iterating_a_0d_tensor_raises_like_pytorch():
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(nv.tensor(1.0))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        a, = nv.tensor(1.0)


def test_iterating_a_tensor_gives_its_rows_with_gradients():
    x = nv.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert len(rows) == 2 and [r.shape for r in rows] == [(2,), (2,)]
    (rows[0] * 2 + rows[1]).sum().backward()
    np.testing.assert_array_equal(x.grad, [[2.0, 2.0], [1.0, 1.0]])
    with pytest.raises(TypeError, match="0-d"):
        list(rows[0][0])


# ------------------------------------------------------------------ real bools


@pytest.mark.parametrize("bad", ["no", "", "False", 1, 0, None, [True]])
def test_requires_grad_must_be_a_bool(bad):
    with pytest.raises(TypeError, match=r"requires_grad must be True or False, got "):
        nv.tensor([1.0], requires_grad=bad)
    with pytest.raises(TypeError, match="requires_grad must be True or False"):
        nv.tensor(np.ones(2, np.float32), requires_grad=bad)
    with pytest.raises(TypeError, match="requires_grad must be True or False"):
        nn.Parameter(np.ones(2), requires_grad=bad)
    with pytest.raises(TypeError, match="must be True or False"):
        nv.tensor([1.0]).requires_grad_(bad)


def test_requires_grad_message_quotes_the_value():
    with pytest.raises(TypeError, match=r"^requires_grad must be True or False, got 'no'$"):
        nv.tensor([1.0], requires_grad="no")
    # NumPy bools are real bools
    assert nv.tensor([1.0], requires_grad=np.bool_(True)).requires_grad is True
    assert nv.tensor([1.0], requires_grad=np.bool_(False)).requires_grad is False
    assert nv.zeros(2, requires_grad=np.True_).requires_grad is True
    assert nn.Linear(4, 3, bias=np.bool_(False)).bias is None




@pytest.mark.parametrize("bad", ["no", "", 1, None])
def test_linear_bias_must_be_a_bool(bad):
    with pytest.raises(TypeError, match="Linear: bias must be True or False"):
        nn.Linear(4, 3, bias=bad)


# ------------------------------------------------------------------ shape constructors


@pytest.mark.parametrize("make", [nv.zeros, nv.ones, nv.randn])
def test_constructors_reject_negative_sizes(make):
    name = make.__name__
    with pytest.raises(ValueError,
                       match=rf"^{name}: the shape must be non-negative integers, got \(-1, 3\)$"):
        make(-1, 3)
    with pytest.raises(ValueError, match=rf"{name}: the shape must be non-negative"):
        make((2, -4))


@pytest.mark.parametrize("make", [nv.zeros, nv.ones, nv.randn])
@pytest.mark.parametrize("bad", [(2.5,), ("a",), ((2, 3.0),), (None,), (True,)])
def test_constructors_reject_non_integer_sizes(make, bad):
    with pytest.raises(TypeError, match=rf"{make.__name__}: the shape must be ints, got"):
        make(*bad)


@pytest.mark.parametrize("make", [nv.zeros, nv.ones, nv.randn])
def test_constructors_reject_unknown_dtypes(make):
    with pytest.raises(TypeError, match="float32 or float64"):
        make(2, dtype="bogus")


@pytest.mark.parametrize("make", [nv.zeros, nv.ones, nv.randn])
def test_constructors_honour_the_dtype_asked_for(make):
    assert make(2, 3).dtype == np.float32
    t = make(2, 3, dtype=nv.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad
    # and every shape form still works
    assert make(2, 3).shape == make((2, 3)).shape == make([2, 3]).shape == (2, 3)
    assert make(np.int64(2)).shape == (2,) and make(0, 4).shape == (0, 4) and make().shape == ()


# ------------------------------------------------------------------ clip bounds


@pytest.mark.parametrize("args,which,shown", [
    (("a", 1), "min", "'a'"), ((0, "b"), "max", "'b'"), ((None, [1.0]), "max", r"\[1.0\]"),
    ((True, None), "min", "True"), ((1j, None), "min", r"1j"),
    ((np.array(["x"]), None), "min", "dtype <U1"),
])
def test_clip_bounds_must_be_numbers(args, which, shown):
    with pytest.raises(TypeError, match=rf"clip: {which} must be a number.*{shown}"):
        nv.tensor([1.0]).clip(*args)
    with pytest.raises(TypeError, match=rf"clip: {which} must be a number"):
        nv.clip(nv.tensor([1.0]), *args)


def test_clip_message_names_the_bound():
    with pytest.raises(TypeError, match=r"^clip: min must be a number, got 'a'$"):
        nv.tensor([1.0]).clip("a", 1)


# ------------------------------------------------------------------ gradcheck callables


def test_numerical_gradient_accepts_a_tensor_result():
    x = np.array([1.0, -2.0, 0.5])
    g = nv.numerical_gradient(lambda a: (nv.tensor(a, dtype=nv.float64) ** 2).sum(), x)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-6)
    g = nv.numerical_gradient(lambda a: np.array([(a ** 3).sum()]), x)  # one element
    np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-6)


@pytest.mark.parametrize("f,shown", [
    (lambda a: a, r"an array of shape \(3,\)"),
    (lambda a: nv.tensor(a * 2), r"an array of shape \(3,\)"),
    (lambda a: "a", "'a'"),
    (lambda a: None, "None"),
    (lambda a: [1.0, 2.0], r"\[1.0, 2.0\]"),
])
def test_numerical_gradient_needs_f_to_return_one_number(f, shown):
    with pytest.raises(TypeError, match=rf"numerical_gradient: f must return a single number, "
                                        rf"got {shown}"):
        nv.numerical_gradient(f, np.ones(3))


def test_numerical_gradient_and_gradcheck_need_a_callable():
    with pytest.raises(TypeError, match=r"^numerical_gradient: f must be callable, got 5$"):
        nv.numerical_gradient(5, np.ones(3))
    with pytest.raises(TypeError, match=r"^gradcheck: fn must be callable, got 5$"):
        nv.gradcheck(5, np.ones(3))


# ------------------------------------------------------------------ broadcast messages


def test_where_names_the_conditions_shape():
    with pytest.raises(ValueError, match=r"condition's shape \(3,\).*\(2,\) and \(2,\)"):
        nv.where(np.array([True, False, True]), nv.tensor([1.0, 2.0]), nv.tensor([0.0, 0.0]))
    with pytest.raises(ValueError, match=r"condition's shape \(2,\).*\(3,\) and \(4,\)"):
        nv.where(np.array([True, False]), nv.tensor(np.ones(3)), nv.tensor(np.ones(4)))


def test_broadcast_failures_are_said_plainly():
    with pytest.raises(ValueError, match=r"^Add: shapes \(2, 3\) and \(4,\) cannot be broadcast "
                                         r"together \(each trailing dimension must be equal "
                                         r"or 1\)$"):
        nv.tensor(np.ones((2, 3))) + nv.tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"^Maximum: shapes \(2,\) and \(3,\) cannot be"):
        nv.maximum(nv.tensor(np.ones(2)), nv.tensor(np.ones(3)))
    # Other forward errors keep the op's name and NumPy's words.
    with pytest.raises(ValueError, match=r"^MatMul on input shapes \(3, 4\) and \(5, 2\): "):
        nv.tensor(np.ones((3, 4))) @ nv.tensor(np.ones((5, 2)))
    # A clip bound that does not fit is not the inputs' own shapes: NumPy's detail is kept.
    with pytest.raises(ValueError, match=r"Clip on input shapes \(3,\): .*\(3,\) \(2,\)"):
        nv.tensor(np.ones(3)).clip(np.zeros(2))




# ------------------------------------------------------------------ small messages


@pytest.mark.parametrize("bad,error", [("a", TypeError), ((2.5,), TypeError),
                                       ((3, "x"), TypeError), ((0,), ValueError),
                                       (-3, ValueError), ((True,), TypeError)])
def test_summary_input_shape_must_be_positive_ints(bad, error):
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises(error, match=rf"summary: input_shape must be a tuple of positive ints, "
                                    rf"got {re_escape(repr(bad))}"):
        net.summary(input_shape=bad)
    assert "(N, 2)" in str(net.summary(input_shape=3))
    assert "(N, 2)" in str(net.summary(input_shape=[np.int64(3)]))


def re_escape(text):
    import re
    return re.escape(text)


@pytest.mark.parametrize("container", [nn.Sequential, lambda *m: nn.ModuleList(m)])
@pytest.mark.parametrize("bad,kind", [("a", "str"), (1.0, "float"), (None, "NoneType")])
def test_container_indices_must_be_integers(container, bad, kind):
    net = container(nn.Linear(3, 4), nn.ReLU())
    name = type(net).__name__
    with pytest.raises(TypeError, match=rf"^{name} indices must be integers or slices, "
                                        rf"got {kind}$"):
        net[bad]
    assert isinstance(net[np.int64(1)], nn.ReLU) and isinstance(net[-2], nn.Linear)
    with pytest.raises(IndexError, match="out of range"):
        net[5]


def test_a_list_of_tensors_points_to_stack():
    with pytest.raises(TypeError, match=r"to combine tensors use nv\.stack\(\[\.\.\.\]\)"):
        nv.tensor([nv.tensor(1.0), nv.tensor(2.0)])
    assert nv.zeros(2, dtype=nv.int64).dtype == np.int64  # labels and masks keep their dtype
    with pytest.raises(TypeError, match=r"nv\.stack"):
        nv.tensor((nv.tensor([1.0, 2.0]), nv.tensor([3.0, 4.0])))
    with pytest.raises(TypeError) as info:
        nv.tensor(["a", "b"])
    assert "nv.stack" not in str(info.value)


def test_sigmoid_of_integer_data_is_the_float32_sigmoid():
    x = nv.tensor([1, 2, -3])
    y = x.sigmoid()
    assert y.data.dtype == np.float32
    np.testing.assert_allclose(y.data, 1 / (1 + np.exp(-np.array([1.0, 2.0, -3.0]))), rtol=1e-6)


_FRACTIONAL_OF_INTEGERS = [
    ("exp", lambda t: t.exp(), np.exp),
    ("log", lambda t: t.log(), np.log),
    ("sqrt", lambda t: t.sqrt(), np.sqrt),
    ("tanh", lambda t: t.tanh(), np.tanh),
    ("mean", lambda t: t.mean(), np.mean),
    ("softmax", lambda t: t.softmax(), lambda a: np.exp(a) / np.exp(a).sum()),
    ("log_softmax", lambda t: t.log_softmax(), lambda a: a - np.log(np.exp(a).sum())),
    ("nv.exp", lambda t: nv.exp(t), np.exp),
]


@pytest.mark.parametrize("name, op, reference", _FRACTIONAL_OF_INTEGERS,
                         ids=[c[0] for c in _FRACTIONAL_OF_INTEGERS])
def test_fractional_ops_on_integer_data_compute_in_float32(name, op, reference):
    # As PyTorch: e^x, √x, a mean of integer data is float32 — not NumPy's float64, and
    # not rounded back to an integer (the mean of [1, 2, 4] is 2.33, not 2).
    values = [1, 2, 4]
    y = op(nv.tensor(values))
    assert y.data.dtype == np.float32
    np.testing.assert_allclose(y.data, reference(np.array(values, dtype=np.float64)), rtol=1e-6)


def test_leaky_relu_and_elu_of_negative_integers_keep_their_slope():
    x = nv.tensor([-2, 0, 3])
    np.testing.assert_allclose(x.leaky_relu(0.1).data, [-0.2, 0.0, 3.0], rtol=1e-6)
    np.testing.assert_allclose(x.elu(1.0).data, [np.expm1(-2.0), 0.0, 3.0], rtol=1e-6)
    assert x.leaky_relu(0.1).data.dtype == np.float32 and x.elu().data.dtype == np.float32


def test_integer_mean_follows_the_default_dtype():
    nv.set_default_dtype(nv.float64)
    try:
        assert nv.tensor([1, 2]).mean().data.dtype == np.float64
        assert nv.tensor([1, 2]).exp().data.dtype == np.float64
    finally:
        nv.set_default_dtype(nv.float32)
