"""Audit 13 (the API contract): the sklearn estimators pass check_estimator with their
defaults (dtype="auto"), gradcheck names the worst element over all inputs, every listed
activation has a functional form (F.identity, F.maxout, nv.prelu/maxout/identity), and
summary() calls only a single Linear layer "a linear model"."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import nerve as nv
import nerve.nn.functional as F
from nerve import nn
from nerve.nn import derivatives as D

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "maxout", "softmax",
               "identity", "step"]


# ------------------------------------------------------------------ F1: dtype="auto"
@pytest.fixture
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning from the short fits
        yield


def _blobs(dtype, n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X.astype(dtype), y


def _param_dtypes(est):
    return {p.data.dtype for p in est.network_.parameters()}


def _small(cls, **kw):
    return cls(hidden_layer_sizes=(8,), max_iter=3, random_state=0, **kw)


@pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor"])
def test_check_estimator_passes_with_default_parameters(name, quiet):
    pytest.importorskip("sklearn")
    from sklearn.utils.estimator_checks import check_estimator

    import nerve.sklearn as ns

    est = getattr(ns, name)()
    assert est.get_params()["dtype"] == "auto"
    check_estimator(est)  # the contract's call, as a user makes it: raises on a failure


@pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor"])
def test_auto_dtype_follows_X_at_fit_and_predict_keeps_it(name, quiet):
    pytest.importorskip("sklearn")
    import nerve.sklearn as ns

    X, y = _blobs(np.float64)
    # float64 X trains in float64 (scikit-learn's rule); any other X in nerve's float32
    for x_dtype, expected in ((np.float64, np.float64), (np.int64, np.float32),
                              (np.float32, np.float32)):
        Xd = (X * 3).round().astype(x_dtype) if x_dtype is np.int64 else X.astype(x_dtype)
        est = _small(getattr(ns, name)).fit(Xd, y)
        assert _param_dtypes(est) == {np.dtype(expected)}, x_dtype
        other = X.astype(np.float64 if expected is np.float32 else np.float32)
        raw = est._raw(other)  # X of the other dtype is cast to the fitted one
        assert raw.dtype == expected
        np.testing.assert_array_equal(raw, est._raw(other.astype(expected)))


@pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor"])
def test_warm_start_and_partial_fit_keep_the_first_fits_dtype(name, quiet):
    pytest.importorskip("sklearn")
    import nerve.sklearn as ns

    cls = getattr(ns, name)
    X32, y = _blobs(np.float32)
    X64 = X32.astype(np.float64)
    warm = _small(cls, warm_start=True).fit(X32, y)
    first = warm.network_
    warm.fit(X64, y)
    assert warm.network_ is first and _param_dtypes(warm) == {np.dtype(np.float32)}
    extra = {"classes": np.unique(y)} if name == "MLPClassifier" else {}
    inc = _small(cls).partial_fit(X64, y, **extra)
    inc.partial_fit(X32, y)
    assert _param_dtypes(inc) == {np.dtype(np.float64)}
    # a fresh fit (no warm start) decides again from its X
    cold = _small(cls).fit(X32, y)
    assert _param_dtypes(cold) == {np.dtype(np.float32)}
    cold.fit(X64, y)
    assert _param_dtypes(cold) == {np.dtype(np.float64)}


def test_bad_dtype_names_the_choices_including_auto(quiet):
    pytest.importorskip("sklearn")
    from nerve.sklearn import MLPRegressor

    X, y = _blobs(np.float64)
    for bad in ("float16", "Auto32", 5):
        with pytest.raises(ValueError, match=r"dtype=.*'auto', 'float32', 'float64'"):
            _small(MLPRegressor, dtype=bad).fit(X, y)


def test_auto_matches_an_explicit_dtype_bitwise_and_explicit_dtypes_still_win(quiet):
    """auto is exactly the explicit dtype X has (same weights after the same fit); an
    explicit "float32"/"float64" is used whatever X is."""
    pytest.importorskip("sklearn")
    from nerve.sklearn import MLPClassifier

    for x_dtype, name, other in ((np.float32, "float32", "float64"),
                                 (np.float64, "float64", "float32")):
        X, y = _blobs(x_dtype)
        a = _small(MLPClassifier, dtype="auto").fit(X, y)
        b = _small(MLPClassifier, dtype=name).fit(X, y)
        sa, sb = a.network_.state_dict(), b.network_.state_dict()
        assert all(np.array_equal(sa[k], sb[k]) for k in sa)
        c = _small(MLPClassifier, dtype=other).fit(X, y)
        assert _param_dtypes(c) == {np.dtype(other)}
        assert c.predict_proba(X).dtype == np.dtype(other)


# ------------------------------------------------------- F2: gradcheck's worst element
class _Mul(nv.Function):
    """y = a·b with wrong gradients: a's off by 1e-3 (barely), b's by 50 %."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        return g * self.b + 1e-3, g * self.a * 1.5


def test_gradcheck_names_the_worst_input_and_lists_the_others():
    with pytest.raises(nv.GradcheckError) as info:
        nv.gradcheck(lambda a, b: _Mul.apply(a, b), np.ones(3), np.full(3, 2.0))
    msg = str(info.value)
    assert msg.startswith("gradient of input 1 (shape (3,)) is wrong at index")
    head, _, tail = msg.partition("Also wrong:")
    assert "input 0" not in head
    assert re.search(r"input 0 at index \(\d+,\) \(relative error [\d.e+-]+\)", tail)
    rel = float(re.search(r"relative error ([\d.e+-]+);", head).group(1))
    assert rel > 0.3  # b's 50 % error, not a's 0.4 %
    # with one failing input there is nothing else to list

    class Half(nv.Function):
        def forward(self, a, b):
            self.a, self.b = a, b
            return a * b

        def backward(self, g):
            return g * self.b, g * self.a * 1.5  # only b's is wrong

    with pytest.raises(nv.GradcheckError) as info:
        nv.gradcheck(lambda a, b: Half.apply(a, b), np.ones(3), np.full(3, 2.0))
    assert str(info.value).startswith("gradient of input 1") and "Also" not in str(info.value)


# ------------------------------------------------------- F3: functional activations
def test_every_listed_activation_has_a_function_in_F_and_nv():
    assert [n for n in ACTIVATIONS if not hasattr(F, n)] == []
    assert [n for n in ACTIVATIONS if not hasattr(nv, n)] == []
    assert {"identity", "maxout", "prelu"} <= set(F.__all__) & set(nv.__all__)
    assert nv.maxout is F.maxout and nv.identity is F.identity and nv.prelu is F.prelu


def test_identity_passes_values_and_gradient_through():
    x = nv.tensor(np.array([-1.5, 0.0, 2.0]), dtype=nv.float64, requires_grad=True)
    assert F.identity(x) is x
    assert nv.gradcheck(lambda t: F.identity(t) * 3.0, x)
    y = F.identity(np.array([1.0, 2.0]))
    assert isinstance(y, nv.Tensor) and y.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("pieces, out", [(2, 3), (3, 4), (1, 2)])
def test_maxout_equals_the_layer_on_its_pre_activation(pieces, out):
    nv.manual_seed(3)
    layer = nn.Maxout(5, out, pieces=pieces, dtype=nv.float64)
    with nv.no_grad():
        layer.bias.data[...] = np.random.default_rng(1).standard_normal(layer.bias.shape)
    x = np.random.default_rng(2).standard_normal((7, 5))
    expected = layer(nv.tensor(x, dtype=nv.float64)).numpy()
    z = F.linear(nv.tensor(x, dtype=nv.float64), layer.weight, layer.bias)
    got = F.maxout(z, pieces).numpy()
    np.testing.assert_array_equal(got, expected)
    # and the NumPy form with the documented layout (piece k in columns k·out ...)
    np.testing.assert_array_equal(got, D.maxout(z.numpy().reshape(7, pieces, out), axis=1))


def test_maxout_gradient_matches_finite_differences_in_float64():
    z = np.random.default_rng(0).standard_normal((4, 6))  # no ties
    assert nv.gradcheck(lambda t: F.maxout(t, 3), z)
    assert nv.gradcheck(lambda t: nv.maxout(t, 2), z.reshape(2, 2, 6))  # any leading axes


def test_maxout_ties_share_the_gradient_as_the_layer_does():
    z = nv.tensor(np.array([[1.0, 3.0, 1.0, 3.0, 0.0, 3.0]]), dtype=nv.float64,
                  requires_grad=True)
    upstream = np.array([[2.0, -4.0]])
    (F.maxout(z, 3) * nv.tensor(upstream, dtype=nv.float64)).sum().backward()
    won = D.maxout_prime(z.numpy().reshape(1, 3, 2), axis=1)  # 1/k for k tied winners
    np.testing.assert_allclose(z.grad, (won * upstream[:, None, :]).reshape(1, 6))
    # the layer with tied pieces (equal weights) sends the same gradient to x
    layer = nn.Maxout(3, 2, pieces=2, dtype=nv.float64)
    with nv.no_grad():
        w = np.random.default_rng(4).standard_normal((3, 2))
        layer.weight.data[...] = np.concatenate([w, w], axis=1)
    x1 = nv.tensor(np.ones((1, 3)), dtype=nv.float64, requires_grad=True)
    x2 = nv.tensor(np.ones((1, 3)), dtype=nv.float64, requires_grad=True)
    layer(x1).sum().backward()
    F.maxout(F.linear(x2, layer.weight, layer.bias), 2).sum().backward()
    np.testing.assert_allclose(x2.grad, x1.grad)


@pytest.mark.parametrize("z, pieces, error, match", [
    (np.zeros((2, 5)), 2, ValueError, r"pieces·out entries on its last axis.*\(2, 5\)"),
    (np.zeros((2, 4)), 0, ValueError, "pieces must be a positive int"),
    (np.zeros((2, 4)), 2.0, TypeError, "pieces must be a positive int.*float 2.0"),
    (np.zeros((2, 4)), True, TypeError, "pieces must be a positive int.*bool True"),
    (np.float64(1.0), 1, ValueError, "pieces·out entries"),
])
def test_maxout_bad_arguments_are_named(z, pieces, error, match):
    with pytest.raises(error, match=match):
        F.maxout(z, pieces)


def test_nv_prelu_matches_the_layer():
    layer = nn.PReLU(dtype=nv.float64)
    x = nv.tensor(np.linspace(-2, 2, 5), dtype=nv.float64)
    np.testing.assert_array_equal(nv.prelu(x, layer.alpha).numpy(), layer(x).numpy())


# ------------------------------------------------------------ F4: summary's wording
def test_summary_calls_only_a_single_linear_layer_a_linear_model():
    nv.manual_seed(0)
    maxout = str(nn.Sequential(nn.Maxout(2, 1, pieces=2)).summary()).splitlines()[0]
    assert maxout.endswith("1-layer neural network (no hidden layer)")
    linear = str(nn.Sequential(nn.Linear(2, 1), nn.Sigmoid()).summary()).splitlines()[0]
    assert linear.endswith("1-layer neural network (no hidden layer: a linear model)")
    assert "linear model" not in nn.network_name(1, linear=False)
    assert nn.network_name(1) == "1-layer neural network (no hidden layer: a linear model)"
