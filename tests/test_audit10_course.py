"""Audit 10 (course formulas, tensor API): numerical_gradient's precision warning, the
symmetry-problem wording, PReLU/Maxout derivatives, PyTorch's F signatures, F.linear and
nn.Linear on (..., in), the perceptron's ConvergenceWarning, argument checks of
nn.derivatives, BCE gradients for a target that requires grad, F.batch_norm with
tensor running statistics."""
import warnings

import numpy as np
import pytest

import nerve as nv
import nerve.nn.functional as F
from nerve import losses, nn
from nerve.nn import derivatives as D
from nerve.perceptron import ConvergenceWarning, Perceptron

RNG = np.random.default_rng(10)


def f64(a, requires_grad=False):
    return nv.tensor(np.asarray(a, dtype=np.float64), dtype=nv.float64,
                     requires_grad=requires_grad)


def central(f, x, h=1e-6):
    """Elementwise central differences of an elementwise f (float64)."""
    return (f(x + h) - f(x - h)) / (2 * h)


# ----------------------------------------------------------- 1. numerical_gradient precision
def test_numerical_gradient_warns_when_f_computes_in_float32_and_only_then():
    S = np.array([[3.2, 5.1, -1.7]])            # the lecture's cat image, float64
    with pytest.warns(UserWarning, match=r"float32.*nv\.tensor\(W, dtype=nv\.float64\)"):
        nv.numerical_gradient(lambda s: losses.cross_entropy(s, [0]), S.copy())
    with pytest.warns(UserWarning, match="from_numpy"):
        nv.numerical_gradient(lambda s: nv.sigmoid(s).sum(), np.array([0.5, 2.0]))
    with pytest.warns(UserWarning, match="float32"):  # a float32 NumPy result too
        nv.numerical_gradient(lambda s: (s.astype(np.float32) ** 2).sum(), np.ones(2))
    with pytest.warns(UserWarning, match="float32 is too coarse to check gradients"):
        nv.numerical_gradient(lambda s: nv.sigmoid(s).sum(), np.array([0.5], np.float32),
                              h=1e-2)  # a float32 x: the estimate is float32 too (audit 11)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        num = nv.numerical_gradient(lambda s: losses.cross_entropy(nv.from_numpy(s), [0]),
                                    S.copy())
        # a float32 x whose f computes in float64: f is exact at those points, no warning
        nv.numerical_gradient(lambda s: nv.sigmoid(nv.from_numpy(s.astype(np.float64))).sum(),
                              np.array([0.5], np.float32), h=1e-2)
        # gradcheck keeps working, silently
        assert nv.gradcheck(lambda s: losses.cross_entropy(s, [0]), S)
    p = np.exp(S - S.max())
    p /= p.sum()
    p[0, 0] -= 1                                # softmax − onehot
    np.testing.assert_allclose(num, p, atol=1e-8)


# ----------------------------------------------------------- 2. the symmetry problem's wording
def test_init_docs_say_all_layers_and_zeroing_one_tanh_layer_learns():
    doc = nn.init.__doc__
    assert "all layers" in doc and "Σ_k W2[j, k] δ_k" in doc
    assert "every hidden unit computes the\nsame function" not in doc  # the wrong claim
    assert "all layers" in nn.init.zeros.__doc__
    # what the docs now say: a zeroed hidden layer with random outgoing weights separates
    X, y = nv.data.xor()
    nv.manual_seed(0)
    m = nn.Sequential(nn.Linear(2, 4, init="zeros"), nn.Tanh(), nn.Linear(4, 2))
    opt = nv.optim.SGD(m.parameters(), lr=0.5)
    for _ in range(50):
        opt.zero_grad()
        nn.CrossEntropyLoss()(m(X), y).backward()
        opt.step()
    W = m[0].weight.data
    assert np.unique(W.round(7), axis=1).shape[1] == 4


# ----------------------------------------------------------- 3. PReLU and Maxout derivatives
X = np.array([[-2.1, -0.7, -0.05, 0.3], [0.9, 1.7, -1.3, 2.4]])


@pytest.mark.parametrize("a", [0.25, np.array([0.1, -0.3, 0.5, 2.0])])
def test_prelu_functions_match_finite_differences_and_the_layer(a):
    np.testing.assert_allclose(D.prelu_prime(X, a), central(lambda v: D.prelu(v, a), X),
                               atol=1e-8)
    da = central(lambda s: D.prelu(X, s), a if np.ndim(a) else np.float64(a))
    np.testing.assert_allclose(D.prelu_prime_a(X, a), da * np.ones_like(X), atol=1e-8)
    if np.ndim(a) == 0:  # the layer's forward and backward (dy/dx and dy/da) agree
        layer = nn.PReLU(init=a, dtype=nv.float64)
        x = f64(X, requires_grad=True)
        out = layer(x)
        np.testing.assert_allclose(out.data, D.prelu(X, a), atol=1e-15)
        out.sum().backward()
        np.testing.assert_allclose(x.grad, D.prelu_prime(X, a), atol=1e-15)
        np.testing.assert_allclose(layer.alpha.grad, [D.prelu_prime_a(X, a).sum()],
                                   atol=1e-12)


def test_maxout_functions():
    z = RNG.standard_normal((5, 3, 4))
    np.testing.assert_array_equal(D.maxout(z, axis=1), z.max(axis=1))
    m = D.maxout_prime(z, axis=1)
    numeric = np.zeros_like(z)
    for k in range(3):  # ∂(Σ y)/∂z_k by central differences
        e = np.zeros_like(z)
        e[:, k] = 1e-6
        numeric[:, k] = (D.maxout(z + e, axis=1) - D.maxout(z - e, axis=1)) / 2e-6
    np.testing.assert_allclose(m, numeric, atol=1e-8)
    assert set(np.unique(m)) == {0.0, 1.0} and np.all(m.sum(axis=1) == 1)
    # ties share evenly, as the layer's backward
    np.testing.assert_array_equal(D.maxout_prime([[1.0, 3.0], [2.0, 2.0]]),
                                  [[0, 1], [0.5, 0.5]])


def test_maxout_layer_derivative_is_the_jacobian():
    nv.manual_seed(3)
    layer = nn.Maxout(3, 2, pieces=3, dtype=nv.float64)
    x = RNG.standard_normal((4, 3))
    J = layer.derivative(x)
    assert J.shape == (4, 2, 3)
    numeric = np.zeros_like(J)
    for i in range(3):
        e = np.zeros(3)
        e[i] = 1e-6
        numeric[:, :, i] = (layer(f64(x + e)).data - layer(f64(x - e)).data) / 2e-6
    np.testing.assert_allclose(J, numeric, atol=1e-8)
    xt = f64(x, requires_grad=True)
    layer(xt).sum().backward()
    np.testing.assert_allclose(xt.grad, J.sum(axis=1), atol=1e-14)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        layer.derivative(np.ones((4, 2)))


def test_get_derivative_accepts_every_activation_name():
    for name in list(nn.ACTIVATIONS) + ["Leaky-ReLU", "leakyrelu", "maxout"]:
        assert callable(nn.get_derivative(name))
    assert nn.get_derivative("linear") is D.identity_prime
    assert D.FUNCTIONS["linear"] is D.identity
    assert nn.get_derivative("prelu") is D.prelu_prime
    assert nn.get_derivative("maxout") is D.maxout_prime


# ----------------------------------------------------------- 4. PyTorch's F signatures
def test_functional_activations_take_torchs_keywords():
    x = f64([-1.0, 0.0, 2.0], requires_grad=True)
    np.testing.assert_allclose(F.leaky_relu(x, negative_slope=0.2).data, [-0.2, 0, 2])
    np.testing.assert_allclose(F.leaky_relu(x, 0.2, inplace=True).data, [-0.2, 0, 2])
    np.testing.assert_allclose(F.leaky_relu(x, alpha=0.2).data, [-0.2, 0, 2])
    np.testing.assert_allclose(F.relu(x, inplace=False).data, [0, 0, 2])
    np.testing.assert_allclose(F.elu(x, alpha=0.5, inplace=False).data,
                               [0.5 * np.expm1(-1), 0, 2])
    y = F.relu(x, inplace=True)          # as nn.ReLU(inplace=True): a new tensor
    assert y is not x and x.data[0] == -1.0
    assert nv.gradcheck(lambda v: F.leaky_relu(v, negative_slope=0.3), X)
    with pytest.raises(TypeError, match="both negative_slope and alpha"):
        F.leaky_relu(x, 0.3, alpha=0.2)
    with pytest.raises(TypeError, match="inplace must be True or False"):
        F.relu(x, inplace="yes")
    with pytest.raises(TypeError, match="negative_slope must be a finite number"):
        F.leaky_relu(x, negative_slope=float("nan"))


def test_functional_linear_on_leading_axes():
    x = RNG.standard_normal((2, 5, 4))
    w, b = RNG.standard_normal((4, 3)), RNG.standard_normal(3)
    y = F.linear(f64(x), f64(w), f64(b))
    assert y.shape == (2, 5, 3)
    np.testing.assert_allclose(y.data, x @ w + b, atol=1e-12)
    assert nv.gradcheck(lambda a, v, c: F.linear(a, v, c), x, w, b)
    assert F.linear(f64(x[0, 0]), f64(w)).shape == (3,)
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\)"):
        F.linear(f64(np.ones((2, 5, 3))), f64(w))


def test_linear_layer_on_leading_axes():
    nv.manual_seed(1)
    layer = nn.Linear(4, 3, dtype=nv.float64)
    x = RNG.standard_normal((2, 5, 4))
    y = layer(f64(x))
    assert y.shape == (2, 5, 3)
    np.testing.assert_allclose(y.data.reshape(10, 3), layer(f64(x.reshape(10, 4))).data,
                               atol=1e-14)
    assert nv.gradcheck(lambda a: layer(a), x)
    layer.zero_grad()
    xt = f64(x, requires_grad=True)
    layer(xt).sum().backward()        # dW = Σ over all leading axes of xᵀ G
    np.testing.assert_allclose(layer.weight.grad,
                               x.reshape(10, 4).T @ np.ones((10, 3)), atol=1e-12)
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\)"):
        layer(f64(np.ones((2, 5, 3))))


def test_linear_parity_with_torch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3, 4))
    w, b = RNG.standard_normal((4, 5)), RNG.standard_normal(5)
    expected = torch.nn.functional.linear(torch.tensor(x), torch.tensor(w.T), torch.tensor(b))
    np.testing.assert_allclose(F.linear(f64(x), f64(w), f64(b)).data, expected.numpy(),
                               atol=1e-12)


# ----------------------------------------------------------- 5. the perceptron's warning
def test_perceptron_warns_on_xor_and_not_on_and():
    Xg = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    assert issubclass(ConvergenceWarning, UserWarning)
    with pytest.warns(ConvergenceWarning, match="not be linearly separable"):
        model = Perceptron(2, seed=0, max_epochs=50).fit(Xg, [0, 1, 1, 0])
    assert not model.converged_
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Perceptron(2, seed=0).fit(Xg, [0, 0, 0, 1]).converged_


# ----------------------------------------------------------- 6. argument checks of nn.derivatives
BAD_X = [None, [1.0, None], np.array([1 + 2j]), ["a", "b"], np.array([object()])]


@pytest.mark.parametrize("x", BAD_X, ids=["None", "None-in-list", "complex", "str", "object"])
def test_derivative_functions_refuse_non_numeric_data(x):
    calls = [D.sigmoid, D.sigmoid_prime, D.tanh_prime, D.relu, D.relu_prime, D.step,
             D.identity_prime, D.leaky_relu, D.elu_prime, D.prelu_prime, D.softmax,
             D.maxout_prime, nn.Sigmoid.derivative, nn.LeakyReLU(0.1).derivative,
             nn.ELU().derivative, nn.Identity().derivative, nn.Maxout(1, 1).derivative]
    for f in calls:
        with pytest.raises(TypeError, match="real numbers"):
            f(x)


@pytest.mark.parametrize("alpha", [float("nan"), float("inf"), None, True, "0.1", 1j])
def test_derivative_functions_refuse_a_bad_alpha(alpha):
    for f in (D.leaky_relu, D.leaky_relu_prime, D.elu, D.elu_prime):
        with pytest.raises(TypeError, match="alpha must be a finite number"):
            f(np.ones(2), alpha=alpha)
    for f in (D.prelu, D.prelu_prime, D.prelu_prime_a):
        with pytest.raises(TypeError, match="a must be a finite number"):
            f(np.ones(2), alpha)


def test_one_shared_alpha_check_that_takes_every_real_number():
    assert D.check_alpha("w", np.float32(0.5)) == 0.5 and D.check_alpha("w", 2) == 2.0
    with pytest.raises(TypeError, match="w: alpha must be a finite number, got 10000"):
        D.check_alpha("w", 10 ** 400)
    np.testing.assert_array_equal(D.relu_prime([-1, 2]), [0.0, 1.0])       # ints
    np.testing.assert_array_equal(D.step([True, False]), [1.0, 0.0])       # bools
    assert D.leaky_relu_prime(np.float32(-1.0), alpha=np.float32(0.5)) == 0.5


# ----------------------------------------------------------- 7. BCE: gradient for the target
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_gives_a_target_that_requires_grad_its_gradient(reduction):
    p = np.array([[0.2, 0.7, 0.9], [0.5, 0.35, 0.6]])
    t = np.array([[0.3, 0.6, 0.95], [0.1, 0.8, 0.5]])
    logits = np.log(p / (1 - p))
    assert nv.gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction), p, t)
    assert nv.gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction),
                        logits, t)
    n = p.size if reduction == "mean" else 1
    for loss, inp, slope in ((F.binary_cross_entropy, p, np.log1p(-p) - np.log(p)),
                             (F.binary_cross_entropy_with_logits, logits, -logits)):
        a, b = f64(inp, requires_grad=True), f64(t, requires_grad=True)
        out = loss(a, b, reduction)
        plain = loss(f64(inp), t, reduction)       # a constant target: the value is the same
        np.testing.assert_array_equal(out.data, plain.data)
        out.sum().backward()
        np.testing.assert_allclose(b.grad, slope / n, atol=1e-12)


def test_bce_target_gradient_parity_with_torch():
    torch = pytest.importorskip("torch")
    p, t = np.array([0.2, 0.7, 0.9]), np.array([0.3, 0.6, 1.0])
    for ours, theirs, inp in ((F.binary_cross_entropy,
                               torch.nn.functional.binary_cross_entropy, p),
                              (F.binary_cross_entropy_with_logits,
                               torch.nn.functional.binary_cross_entropy_with_logits,
                               np.log(p / (1 - p)))):
        b = f64(t, requires_grad=True)
        ours(f64(inp, requires_grad=True), b).backward()
        tb = torch.tensor(t, requires_grad=True)
        theirs(torch.tensor(inp, requires_grad=True), tb).backward()
        np.testing.assert_allclose(b.grad, tb.grad.numpy(), atol=1e-12)


# ----------------------------------------------------------- 8. F.batch_norm with tensor stats
def test_batch_norm_with_tensor_running_statistics():
    x = RNG.standard_normal((6, 3))
    rm_t, rv_t = nv.zeros(3, dtype=nv.float64), nv.ones(3, dtype=nv.float64)
    rm_a, rv_a = np.zeros(3), np.ones(3)
    F.batch_norm(f64(x), rm_t, rv_t, training=True)     # updated in place, both kinds
    F.batch_norm(f64(x), rm_a, rv_a, training=True)
    np.testing.assert_array_equal(rm_t.data, rm_a)
    np.testing.assert_array_equal(rv_t.data, rv_a)
    assert np.any(rm_a != 0)
    xt = f64(x, requires_grad=True)
    out = F.batch_norm(xt, rm_t, rv_t, training=False)  # eval: the running statistics
    np.testing.assert_allclose(out.data, (x - rm_a) / np.sqrt(rv_a + 1e-5), atol=1e-12)
    assert nv.gradcheck(lambda v: F.batch_norm(v, rm_t, rv_t, training=False), x)
    with pytest.raises(TypeError, match=r"running_var must be None or a float array"):
        F.batch_norm(f64(x), rm_t, [1.0, 1.0], training=False)
    with pytest.raises(ValueError, match="both running_mean and running_var"):
        F.batch_norm(f64(x), rm_t, None, training=False)
