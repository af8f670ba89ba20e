"""Audit 10, tensor API: clip's gradient with broadcasting bounds, var/std's positional
order, argmax/max/softmax on empty tensors, flatten(start, end), finite alpha, and the
PyTorch-named methods and functions added (values against NumPy, gradients against
float64 finite differences; extra parity tests against torch where it is installed)."""
import math

import numpy as np
import pytest

import nerve as nv
import nerve.functional as NF
from nerve import nn, optim

RNG = np.random.default_rng(10)
A = RNG.normal(size=(3, 4))
B = RNG.normal(size=(3, 4))


def f64(a, grad=False):
    return nv.tensor(np.asarray(a, dtype=np.float64), dtype=nv.float64, requires_grad=grad)


def pieces_sum(parts):
    """One tensor from a tuple of pieces, each weighted differently (for gradcheck)."""
    total = None
    for i, p in enumerate(parts):
        term = (p * float(i + 1)).sum()
        total = term if total is None else total + term
    return total


# ---------------------------------------------------------------- 1. clip broadcasting
def test_clip_with_a_bound_that_broadcasts_x_sums_the_gradient_back_to_x():
    lo = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    x = f64([-1.0, 0.5, 2.0], grad=True)
    x.clamp(min=lo).sum().backward()
    assert x.grad.shape == (3,)
    # y = max(x, lo) row by row: x passes through where x >= lo
    np.testing.assert_array_equal(x.grad, ((x.data >= lo).sum(axis=0)).astype(float))
    assert nv.gradcheck(lambda t: t.clip(np.full((2, 1, 4), -0.3), np.full((4,), 0.8)),
                        RNG.normal(size=(3, 1)))


def test_clip_broadcast_gradient_through_a_non_leaf_and_an_optimizer_step():
    w = nn.Parameter(nv.tensor([-1.0, 0.5, 2.0]))
    opt = optim.SGD([w], lr=0.1)
    w.clip(np.zeros((2, 3), np.float32), None).sum().backward()
    assert w.grad.shape == (3,)
    opt.step()  # refused before the fix: a (2, 3) gradient for a (3,) parameter
    a = nv.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    h = a * 1.0
    (h.clamp(min=np.zeros((2, 3), np.float32)).sum() + h.sum()).backward()
    np.testing.assert_array_equal(a.grad, [1.0, 3.0, 3.0])


# ------------------------------------------------------------ 2. var/std positional order
def test_var_and_std_second_positional_argument_is_unbiased_as_pytorch():
    a = np.array([[1.0, 2.0, 4.0], [0.0, 3.0, 9.0]])
    x = f64(a)
    np.testing.assert_allclose(x.var(1, False).data, np.var(a, axis=1))
    np.testing.assert_allclose(x.var(1, True).data, np.var(a, axis=1, ddof=1))
    assert x.std(0, True).shape == (3,)
    np.testing.assert_allclose(NF.std(x, 1, False).data, np.std(a, axis=1))
    np.testing.assert_allclose(nv.var(x, 0, False, True).data, np.var(a, axis=0, keepdims=True))
    np.testing.assert_allclose(x.var(False).item(), np.var(a))  # PyTorch's var(unbiased)
    # the keyword forms still work
    np.testing.assert_allclose(x.var(axis=1, keepdims=True, ddof=0).data,
                               np.var(a, axis=1, keepdims=True))
    np.testing.assert_allclose(x.std(dim=0, keepdim=True, correction=0).data,
                               np.std(a, axis=0, keepdims=True))
    np.testing.assert_allclose(x.std(1, unbiased=False).data, np.std(a, axis=1))


def test_var_positional_mistakes_get_clear_errors():
    x = f64(A)
    with pytest.raises(TypeError, match="second positional argument is PyTorch's unbiased"):
        x.var(0, True, ddof=0)
    with pytest.raises(TypeError, match="unbiased .*must be True or False"):
        x.std(0, 1)
    with pytest.raises(TypeError, match="unbiased twice"):
        x.var(True, False)


# ------------------------------------------------------------------ 3. empty tensors
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_arg_extremes_along_a_non_empty_axis_of_an_empty_tensor_are_empty(name):
    e = nv.zeros(0, 3)
    assert getattr(e, name)(dim=1).shape == (0,)
    assert getattr(e, name)(1, True).shape == (0, 1)
    assert getattr(e, name)(dim=1).dtype == np.int64
    with pytest.raises(ValueError, match="empty tensor .* along axis 0 is undefined"):
        getattr(e, name)(0)
    with pytest.raises(ValueError, match="empty tensor"):
        getattr(e, name)()


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_dim_on_an_empty_tensor_give_empty_values_and_indices(name):
    values, indices = getattr(nv.zeros(0, 3), name)(dim=1)
    assert values.shape == (0,) and indices.shape == (0,) and indices.dtype == np.int64


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_of_an_empty_tensor_is_empty(name, dim):
    e = nv.zeros(0, 3, requires_grad=True)
    y = getattr(e, name)(dim=dim)
    assert y.shape == (0, 3)
    y.sum().backward()
    assert e.grad.shape == (0, 3)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        getattr(e, name)(dim=2)


# ------------------------------------------------------------------------ 4. flatten
def test_flatten_takes_end_dim():
    z = nv.zeros(2, 3, 4, 5)
    assert z.flatten(0, 1).shape == (6, 4, 5)
    assert z.flatten(end_dim=1).shape == (6, 4, 5)
    assert z.flatten(1, -2).shape == (2, 12, 5)
    assert z.flatten(2, 2).shape == (2, 3, 4, 5)
    assert z.flatten().shape == (120,) and nv.tensor(3.0).flatten().shape == (1,)
    assert NF.flatten(z, 1).shape == (2, 60)
    with pytest.raises(ValueError, match="start_dim 2 comes after end_dim 1"):
        z.flatten(2, 1)
    with pytest.raises(ValueError, match="end_dim must be an int"):
        z.flatten(0, 4)
    assert nv.gradcheck(lambda t: t.flatten(0, 1), RNG.normal(size=(2, 3, 2)))


# ------------------------------------------------------------------ 5. finite alpha
@pytest.mark.parametrize("alpha", [float("nan"), float("inf"), -float("inf")])
def test_leaky_relu_and_elu_refuse_non_finite_alpha_as_the_layers(alpha):
    x = nv.tensor([-1.0, 0.0, 2.0])
    for call in (lambda: x.leaky_relu(alpha), lambda: x.elu(alpha),
                 lambda: nv.leaky_relu(x, alpha=alpha), lambda: nv.elu(x, alpha=alpha)):
        with pytest.raises(TypeError, match="alpha must be a finite number"):
            call()
    with pytest.raises(TypeError, match="alpha must be a finite number"):
        nn.ELU(alpha=alpha)


# ------------------------------------------------------------- 6. arithmetic names
def test_add_sub_mul_div_neg_method_forms():
    x, y = f64(A), f64(B)
    np.testing.assert_allclose(x.add(y, alpha=2.5).data, A + 2.5 * B)
    np.testing.assert_allclose(x.sub(y, alpha=-3).data, A + 3 * B)
    np.testing.assert_allclose(x.add(2).data, A + 2)
    np.testing.assert_allclose(x.sub(B[0], alpha=2).data, A - 2 * B[0])
    np.testing.assert_allclose(x.mul(y).data, A * B)
    np.testing.assert_allclose(x.div(y).data, A / B)
    np.testing.assert_allclose(x.neg().data, -A)
    assert nv.gradcheck(lambda s, t: s.add(t, alpha=2.5), A, B[0])
    assert nv.gradcheck(lambda s, t: s.sub(t, alpha=-0.5), A, B)
    assert nv.gradcheck(lambda s, t: s.mul(t).div(t.mul(t) + 1).neg(), A, B)
    with pytest.raises(TypeError, match="alpha must be a number"):
        x.add(y, alpha="2")


def test_floor_division_and_remainder_follow_python_and_pytorch():
    a, b = A * 3, B + np.sign(B)  # |b| >= 1: no division near 0
    x, y = f64(a, grad=True), f64(b, grad=True)
    np.testing.assert_array_equal((x // y).data, np.floor_divide(a, b))
    np.testing.assert_array_equal((x // 2).data, np.floor(a / 2))
    np.testing.assert_array_equal((5 // y).data, np.floor_divide(5, b))
    np.testing.assert_allclose((x % y).data, np.remainder(a, b))
    np.testing.assert_allclose((x % 0.7).data, np.remainder(a, 0.7))
    np.testing.assert_allclose((2.5 % y).data, np.remainder(2.5, b))
    np.testing.assert_array_equal(x.div(y, rounding_mode="trunc").data, np.trunc(a / b))
    np.testing.assert_array_equal(x.div(y, rounding_mode="floor").data, np.floor(a / b))
    # integers stay integers, with Python's signs; a float operand computes in float32
    i = nv.tensor([7, -7, 5, 0])
    assert (i // 2).tolist() == [3, -4, 2, 0] and (i // 2).dtype == np.int64
    assert (i % 3).tolist() == [1, 2, 2, 0]
    assert (i // 2.5).dtype == np.float32 and (i // 2.5).tolist() == [2.0, -3.0, 2.0, 0.0]
    assert (7 // (i + 10)).tolist() == [0, 2, 0, 0]
    with pytest.raises(ZeroDivisionError, match="integer division by zero in //"):
        i // nv.tensor([1, 0, 1, 1])
    with pytest.raises(ZeroDivisionError, match="integer division by zero in %"):
        5 % i
    # gradients: a // b is piecewise constant (0); a % b = a − b⌊a/b⌋ gives 1 and −⌊a/b⌋
    (x // y).sum().backward()
    assert not x.grad.any() and not y.grad.any()
    assert nv.gradcheck(lambda s, t: s % t, a, b)
    assert nv.gradcheck(lambda s: s % 0.7, a + 0.01)
    assert nv.gradcheck(lambda t: 2.5 % t, b)


def test_sign_square_and_where_method():
    x = f64(A)
    np.testing.assert_array_equal(x.sign().data, np.sign(A))
    np.testing.assert_allclose(x.square().data, A ** 2)
    cond = nv.tensor(A > 0)
    np.testing.assert_allclose(x.where(cond, f64(B)).data, np.where(A > 0, A, B))
    np.testing.assert_allclose(x.where(cond, 0.0).data, np.where(A > 0, A, 0))
    t = f64(A, grad=True)
    t.sign().sum().backward()
    assert not t.grad.any()
    assert nv.gradcheck(lambda s: s.square(), A)
    assert nv.gradcheck(lambda s, o: s.where(cond, o), A, B)


# --------------------------------------------------------------- 6. shape names
def test_expand_and_expand_as():
    x = f64(A.reshape(3, 1, 4))
    assert x.expand(2, -1, 5, 4).shape == (2, 3, 5, 4)
    np.testing.assert_array_equal(x.expand(2, 3, 5, 4).data,
                                  np.broadcast_to(A.reshape(3, 1, 4), (2, 3, 5, 4)))
    assert x.expand_as(nv.zeros(3, 2, 4)).shape == (3, 2, 4)
    assert nv.gradcheck(lambda t: t.expand((2, 3, 5, 4)), A.reshape(3, 1, 4))
    with pytest.raises(ValueError, match="cannot expand"):
        x.expand(3, 2, 5)
    with pytest.raises(ValueError, match="cannot expand"):
        x.expand(-1, 3, 1, 4)


def test_repeat_is_numpys_tile():
    x = f64(A)
    np.testing.assert_array_equal(x.repeat(2, 3).data, np.tile(A, (2, 3)))
    np.testing.assert_array_equal(x.repeat(2, 1, 3).data, np.tile(A, (2, 1, 3)))
    r = x.repeat(1, 1)
    assert r.data.flags.writeable and not np.shares_memory(r.data, x.data)
    assert nv.gradcheck(lambda t: t.repeat(2, 1, 3), A)
    with pytest.raises(ValueError, match="repeat: give a count"):
        x.repeat(2)


def test_split_and_chunk_and_their_functions():
    x = f64(A)
    parts = x.split(3, 1)
    assert [p.shape for p in parts] == [(3, 3), (3, 1)]
    np.testing.assert_array_equal(np.concatenate([p.data for p in parts], 1), A)
    assert [p.shape for p in x.split([1, 2], 0)] == [(1, 4), (2, 4)]
    assert [p.shape for p in x.chunk(3, 1)] == [(3, 2), (3, 2)]  # ⌈4/3⌉ = 2: two pieces
    assert [p.shape for p in x.chunk(2)] == [(2, 4), (1, 4)]
    assert [p.shape for p in nv.zeros(0, 3).chunk(2)] == [(0, 3), (0, 3)]
    assert [p.shape for p in NF.split(x, 2, 1)] == [(3, 2), (3, 2)]
    assert [p.shape for p in NF.chunk(x, 4, -1)] == [(3, 1)] * 4
    assert nv.gradcheck(lambda t: pieces_sum(t.split([1, 2], 0)), A)
    assert nv.gradcheck(lambda t: pieces_sum(t.chunk(3, 1)), A)
    with pytest.raises(ValueError, match="add up to 3, not to the length 4"):
        x.split([1, 2], 1)
    with pytest.raises(ValueError, match="chunks must be an int >= 1"):
        x.chunk(0)


def test_flip_mt_squeeze_tuple_and_the_shape_functions():
    x = f64(A)
    np.testing.assert_array_equal(x.flip(0, 1).data, A[::-1, ::-1])
    np.testing.assert_array_equal(x.flip([1]).data, A[:, ::-1])
    assert not np.shares_memory(x.flip(0).data, x.data)  # a copy, as PyTorch's
    assert nv.gradcheck(lambda t: t.flip(1), A)
    np.testing.assert_array_equal(f64(A.reshape(1, 3, 4)).mT.data, A.reshape(1, 3, 4).swapaxes(1, 2))
    z = nv.ones(1, 2, 1, 3)
    assert z.squeeze((0, 2)).shape == (2, 3) and z.squeeze((1, -1, 0)).shape == (2, 1, 3)
    assert NF.squeeze(z, (0, 2)).shape == (2, 3) and NF.squeeze(z).shape == (2, 3)
    assert NF.unsqueeze(x, 1).shape == (3, 1, 4)
    assert NF.permute(nv.zeros(2, 3, 4), (2, 0, 1)).shape == (4, 2, 3)
    assert NF.permute(nv.zeros(2, 3, 4), 1, 2, 0).shape == (3, 4, 2)
    np.testing.assert_array_equal(NF.clamp(x, -0.5, 0.5).data, np.clip(A, -0.5, 0.5))
    with pytest.raises(ValueError, match="name an axis twice"):
        x.flip(0, 0)
    with pytest.raises(ValueError, match="mT needs a tensor of at least 2 axes"):
        nv.zeros(3).mT


# -------------------------------------------------------- 6. reductions and scans
def test_amax_amin_share_the_gradient_among_ties():
    a = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]])
    x = f64(a, grad=True)
    np.testing.assert_array_equal(x.amax(1).data, a.max(1))
    np.testing.assert_array_equal(x.amin((0, 1), True).data, a.min(keepdims=True))
    assert x.amax().item() == 3.0
    x.amax().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [0, 0, 0]])
    assert nv.gradcheck(lambda t: t.amin(0), A)


def test_logsumexp_is_stable_and_its_gradient_is_softmax():
    x = f64(A * 300)  # e^(900) overflows: the shift by the max keeps it finite
    m = (A * 300).max(1, keepdims=True)
    want = (m + np.log(np.exp(A * 300 - m).sum(1, keepdims=True)))
    np.testing.assert_allclose(x.logsumexp(1, True).data, want)
    np.testing.assert_allclose(NF.logsumexp(x, 1).data, want[:, 0])
    np.testing.assert_allclose(f64(A).logsumexp().item(), np.log(np.exp(A).sum()))
    assert f64([-np.inf, -np.inf]).logsumexp(0).item() == -np.inf
    assert NF.logsumexp(nv.zeros(0, 3), 0).tolist() == [-np.inf] * 3
    t = f64(A, grad=True)
    t.logsumexp(1).sum().backward()
    np.testing.assert_allclose(t.grad, np.exp(A) / np.exp(A).sum(1, keepdims=True))
    assert nv.gradcheck(lambda s: s.logsumexp((0, 1), True), A)
    with pytest.raises(ValueError, match="logsumexp: axis 3"):
        t.logsumexp(3)


def _norm(a, q, axis=None, keepdims=False):
    """The p-norm by its definition, in NumPy."""
    if q == math.inf:
        return np.abs(a).max(axis, keepdims=keepdims)
    if q == -math.inf:
        return np.abs(a).min(axis, keepdims=keepdims)
    return (np.abs(a) ** q).sum(axis, keepdims=keepdims) ** (1 / q)


@pytest.mark.parametrize("p", [2, "fro", 1, 3, math.inf, -math.inf])
def test_norm_values_and_gradients(p):
    q = 2 if p == "fro" else p
    np.testing.assert_allclose(f64(A).norm(p).item(), _norm(A, q))
    for dim, keep in ((1, False), (0, True), ((0, 1), False)):
        np.testing.assert_allclose(f64(A).norm(p, dim, keep).data, _norm(A, q, dim, keep))
    assert nv.gradcheck(lambda t: t.norm(p, 1), A)
    assert nv.gradcheck(lambda t: t.norm(p, (0, 1), True), A)


def test_norm_default_is_euclidean_with_a_zero_gradient_at_the_origin():
    assert f64([3.0, 4.0]).norm().item() == 5.0
    z = f64(np.zeros(3), grad=True)
    z.norm().backward()
    np.testing.assert_array_equal(z.grad, 0.0)  # not NaN (0 · ∞)
    with pytest.raises(ValueError, match="p must be 'fro'"):
        z.norm(0.5)
    with pytest.raises(ValueError, match="p must be 'fro'"):
        z.norm("nuc")


def test_prod_values_and_exact_gradients_with_zeros():
    a = A.copy()
    a[0, 1] = 0.0
    a[2, 0] = a[2, 3] = 0.0
    x = f64(a, grad=True)
    np.testing.assert_allclose(x.prod(1).data, a.prod(1))
    np.testing.assert_allclose(x.prod(0, True).data, a.prod(0, keepdims=True))
    np.testing.assert_allclose(x.prod().item(), a.prod())
    x.prod(1).sum().backward()
    others = np.array([[np.prod(np.delete(row, j)) for j in range(4)] for row in a])
    np.testing.assert_allclose(x.grad, others)  # one zero: the others' product; two: 0
    assert nv.gradcheck(lambda t: t.prod(1), a)
    assert nv.gradcheck(lambda t: t.prod(), A[:2])
    assert nv.gradcheck(lambda t: t.prod(0, True), A)
    assert nv.tensor([1, 2, 3]).prod().item() == 6


def test_cumsum_values_dtype_and_gradient():
    x = f64(A)
    np.testing.assert_allclose(x.cumsum(1).data, np.cumsum(A, 1))
    np.testing.assert_allclose(x.cumsum(-2).data, np.cumsum(A, 0))
    assert nv.tensor([True, False, True]).cumsum(0).tolist() == [1, 1, 2]
    assert nv.tensor(3.0).cumsum(0).item() == 3.0
    assert nv.gradcheck(lambda t: t.cumsum(1), A)
    assert nv.gradcheck(lambda t: t.cumsum(0), A)
    with pytest.raises(ValueError, match="cumsum: dim must be"):
        x.cumsum(2)


# ------------------------------------------------------ 6. indexing and dtypes
def test_gather_picks_along_dim_and_adds_repeated_gradients():
    idx = np.array([[0, 2, 2, 1], [1, 1, 0, 0], [2, 2, 2, 2], [0, 0, 0, 0], [1, 0, 2, 1]])
    x = f64(A)
    np.testing.assert_array_equal(x.gather(0, nv.tensor(idx)).data,
                                  np.take_along_axis(A, idx, 0))
    idx1 = np.array([[3, 3, 0], [1, 2, 2]])
    np.testing.assert_array_equal(x.gather(1, nv.tensor(idx1)).data,
                                  np.take_along_axis(A[:2], idx1, 1))
    assert nv.gradcheck(lambda t: t.gather(0, idx), A)
    assert nv.gradcheck(lambda t: t.gather(1, idx1), A)
    with pytest.raises(IndexError, match=r"index values must be in \[0, 3\)"):
        x.gather(0, nv.tensor([[3]]))
    with pytest.raises(ValueError, match="does not fit"):
        x.gather(0, nv.tensor([1]))
    with pytest.raises(TypeError, match="integer tensor"):
        x.gather(0, nv.tensor([[0.0]]))


def test_to_with_device_and_dtype_or_another_tensor_and_type_as():
    x = nv.tensor([1.5, 2.0])
    assert x.to("cpu", nv.float64).dtype == np.float64
    assert x.to(nv.tensor([1.0], dtype=nv.float64)).dtype == np.float64
    assert x.to(nv.tensor([1])).tolist() == [1, 2] and x.to(nv.int64).dtype == np.int64
    assert x.type_as(nv.tensor([1.0], dtype=nv.float64)).dtype == np.float64
    assert x.type_as(nv.tensor([True])).dtype == np.bool_
    assert x.to("cpu") is x and x.to(nv.float32, copy=True) is not x
    g = nv.tensor([1.0, 2.0], requires_grad=True)
    g.to("cpu", nv.float64).sum().backward()
    np.testing.assert_array_equal(g.grad, [1.0, 1.0])
    with pytest.raises(TypeError, match="the other tensor gives the dtype"):
        x.to(nv.tensor([1.0]), nv.float64)
    with pytest.raises(ValueError, match="device 'cuda' is not available"):
        x.to("cuda", nv.float64)


# ------------------------------------------------------------------ 6. in place
@pytest.mark.parametrize("name,call,want", [
    ("clamp_", lambda t: t.clamp_(-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5)),
    ("clamp_", lambda t: t.clamp_(min=0.0), lambda a: np.maximum(a, 0)),
    ("masked_fill_", lambda t: t.masked_fill_(t > 0, 9.0), lambda a: np.where(a > 0, 9, a)),
])
def test_in_place_clamp_and_masked_fill_count_as_changes(name, call, want):
    w = nv.tensor(A, dtype=nv.float64, requires_grad=True)
    c = f64(A)
    loss = (w * c).sum()  # Mul saved c's values
    assert call(c) is c
    np.testing.assert_allclose(c.data, want(A))
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()
    with pytest.raises(RuntimeError, match="cannot be changed in place"):
        call(w)
    with nv.no_grad():
        call(w)
    np.testing.assert_allclose(w.data, want(A))


def test_in_place_ops_leave_the_callers_array_alone_and_name_bad_input():
    a = np.array([1.0, 5.0, -3.0], dtype=np.float32)
    t = nv.tensor(a)
    t.clamp_(0, 2)
    assert t.tolist() == [1.0, 2.0, 0.0] and a.tolist() == [1.0, 5.0, -3.0]
    i = nv.tensor([1, 2, 3])
    assert i.masked_fill_(i > 1, 0).tolist() == [1, 0, 0]
    with pytest.raises(TypeError, match="the mask must be a bool tensor"):
        nv.tensor([1.0, 2.0]).masked_fill_(nv.tensor([1, 0]), 0.0)
    with pytest.raises(TypeError, match="value must be a number"):
        nv.tensor([1.0, 2.0]).masked_fill_(nv.tensor([True, False]), [1.0])
    with pytest.raises(ValueError, match="does not broadcast"):
        nv.tensor([1.0, 2.0]).clamp_(min=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="at least one of min and max"):
        nv.tensor([1.0]).clamp_()


def test_masked_fill_out_of_place_passes_the_gradient_where_not_filled():
    m = A > 0
    x = f64(A)
    np.testing.assert_array_equal(x.masked_fill(nv.tensor(m), 2.0).data, np.where(m, 2.0, A))
    assert nv.gradcheck(lambda t: t.masked_fill(m, -1.0), A)


# --------------------------------------------------------------- torch parity (extra)
def test_parity_with_torch_values_and_gradients():
    torch = pytest.importorskip("torch")
    a, b = A * 3, B + np.sign(B)
    cases = [
        (lambda x, y: x.add(y, alpha=2.5), (a, b)), (lambda x, y: x % y, (a, b)),
        (lambda x: x.repeat(2, 1, 3), (a,)), (lambda x: x.flip(0, 1), (a,)),
        (lambda x: x.logsumexp(1), (a,)), (lambda x: x.norm(), (a,)),
        (lambda x: x.norm(1, 0, True), (a,)), (lambda x: x.norm(float("inf"), 1), (a,)),
        (lambda x: x.prod(1), (a,)), (lambda x: x.cumsum(0), (a,)),
        (lambda x: x.amax(0), (np.round(a),)), (lambda x: x.square(), (a,)),
        (lambda x: x.reshape(3, 1, 4).expand(2, -1, 5, 4), (a,)),
    ]
    for fn, arrays in cases:
        xs = [f64(v, grad=True) for v in arrays]
        ts = [torch.tensor(v, requires_grad=True) for v in arrays]
        out_t = fn(*ts)
        out = fn(*xs)
        np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-12)
        w = RNG.normal(size=out.shape)
        (out * w).sum().backward()
        (out_t * torch.tensor(w)).sum().backward()
        for x, t in zip(xs, ts):
            np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    t = torch.tensor([[1.0, 2.0, 4.0], [0.0, 3.0, 9.0]], dtype=torch.float64)
    x = f64(t.numpy())
    np.testing.assert_allclose(x.var(1, False).data, t.var(1, False).numpy())
    np.testing.assert_allclose(x.std(0, True, True).data, t.std(0, True, True).numpy())
