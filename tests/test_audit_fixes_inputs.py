"""Bad input and edge cases found by the eighth session's audits: each test fails on the
code as it was before the fix (a raw NumPy error, a silent wrong result, or a wrong bin)."""
import numpy as np
import pytest

import nerve as nv
from nerve import nn, optim
from nerve import features as Fe
from nerve.linear import SoftmaxClassifier, SVMClassifier
from nerve.perceptron import Gate, Perceptron


# ------------------------------------------------------------------ labels
@pytest.mark.parametrize("loss", [nn.CrossEntropyLoss(), nn.NLLLoss(), nn.HingeLoss()])
def test_an_infinite_float_label_is_named_not_an_index_error(loss):
    s = nv.tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(TypeError, match="non-integer value inf"):
        loss(s, np.array([0.0, np.inf]))


def test_a_huge_float_label_is_shown_as_it_was_given():
    s = nv.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"got label 1e\+20"):
        nn.CrossEntropyLoss()(s, np.array([0.0, 1e20]))
    X = np.zeros((4, 3), np.float32)
    with pytest.raises(ValueError, match=r"y\[3\] = 1e\+20 is not a valid label"):
        nv.fit(nn.Linear(3, 2), X, np.array([0.0, 1.0, 0.0, 1e20]), loss="cross_entropy",
               optimizer="sgd", lr=0.1, epochs=1, batch_size=2, progress=False)


# ------------------------------------------------------------------ hinge margin
@pytest.mark.parametrize("margin", [float("nan"), float("inf"), -1.0, "1"])
def test_hinge_margin_must_be_finite_and_non_negative(margin):
    with pytest.raises(ValueError, match="margin must be a finite number >= 0"):
        nn.HingeLoss(margin=margin)
    with pytest.raises(ValueError, match="margin must be a finite number >= 0"):
        nv.losses.hinge(nv.tensor(np.zeros((1, 3))), [0], margin=margin)


def test_hinge_margin_accepts_numpy_scalars():
    s = nv.tensor(np.array([[0.0, 0.5, -1.0]]))
    a = nn.HingeLoss(margin=np.float32(1.0))(s, [0])
    b = nn.HingeLoss(margin=1.0)(s, [0])
    assert float(a.data) == float(b.data) == pytest.approx(1.5)


# ------------------------------------------------------------------ fit's regularizer
def _fit_with(reg):
    X = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    return nv.fit(model, X, np.arange(20) % 2, loss="cross_entropy", optimizer="sgd", lr=0.1,
                  epochs=1, batch_size=5, progress=False, regularizer=reg)


@pytest.mark.parametrize("reg, words", [
    (lambda: nv.tensor([0.1, 0.2]), "regularizer returned a Tensor of shape"),
    (lambda: 0.01 * np.ones(3), "regularizer returned ndarray"),
    (lambda: nv.tensor(0.1, dtype=nv.float64), "regularizer returned a float64 Tensor"),
])
def test_a_bad_penalty_is_blamed_on_the_regularizer_not_the_loss(reg, words):
    with pytest.raises(TypeError, match=words):
        _fit_with(reg)


def test_a_good_penalty_still_trains():
    history = _fit_with(lambda: nv.tensor(0.5))
    assert history.history["loss"][0] > 0.5  # the constant penalty is in the logged loss


# ------------------------------------------------------------------ compiled step
def test_compiled_step_refuses_an_empty_batch_clearly():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    step = nv.compile(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="the batch is empty"):
        step(np.zeros((0, 3), np.float32), np.zeros(0, np.int64))


# ------------------------------------------------------------------ linear classifiers
@pytest.mark.parametrize("cls", [SoftmaxClassifier, SVMClassifier])
def test_linear_classifiers_refuse_a_regression_target(cls):
    X = np.random.default_rng(0).standard_normal((50, 4)).astype(np.float32)
    with pytest.raises(ValueError, match="continuous values"):
        cls(epochs=1).fit(X, X @ np.array([1.0, -2.0, 0.5, 3.0]))
    with pytest.raises(TypeError, match="mixes labels of types NoneType, int"):
        cls(epochs=1).fit(X[:5], np.array([0, 1, None, 1, 0], dtype=object))
    assert list(cls(epochs=1).fit(X[:6], np.array([0.0, 1.0] * 3)).classes_) == [0.0, 1.0]
    assert list(cls(epochs=1).fit(X[:6], np.array(["a", "b"] * 3)).classes_) == ["a", "b"]


# ------------------------------------------------------------------ features.extract
@pytest.mark.parametrize("images, feats, words", [
    (5, ["hog"], "images must be an array of N images"),
    (np.zeros((2, 8, 8)), None, "features must be a list"),
    (np.zeros((2, 8, 8)), 3, "features must be a list"),
])
def test_extract_names_what_is_wrong(images, feats, words):
    with pytest.raises(TypeError, match=words):
        Fe.extract(images, feats)


# ------------------------------------------------------------------ perceptron
@pytest.mark.parametrize("weights, bias", [([1, 1], "a"), ([1, 1], None), (["a", "b"], 0)])
def test_gate_arguments_are_checked_with_a_message(weights, bias):
    with pytest.raises(ValueError, match="Gate 'X': weights must be"):
        Gate("X", weights, bias)


def test_perceptron_dtype_typo_is_named():
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got 'floot'"):
        Perceptron(dtype="floot")


# ------------------------------------------------------------------ sklearn wrappers
@pytest.mark.parametrize("option", [dict(learning_rate_init=float("inf")),
                                    dict(epsilon=float("inf")), dict(alpha=float("inf")),
                                    dict(l1_ratio=7)])
def test_estimators_refuse_infinite_or_out_of_range_options_up_front(option):
    pytest.importorskip("sklearn")
    from nerve.sklearn import MLPClassifier

    X = np.random.default_rng(0).standard_normal((40, 3))
    name = next(iter(option))
    with pytest.raises(ValueError, match=f"{name} must be a number in"):
        MLPClassifier(max_iter=2, **option).fit(X, np.arange(40) % 2)


# ------------------------------------------------------------------ numerical gradient
def test_numerical_gradient_divides_by_the_step_taken_in_float32():
    x = np.array([1.0, -2.0, 0.3], np.float32)
    g = nv.numerical_gradient(lambda w: (w.astype(np.float64) ** 2).sum(), x)
    np.testing.assert_allclose(g, 2 * x.astype(np.float64), rtol=1e-6)  # was 1.4e-3 off
    assert nv.numerical_gradient(lambda w: 0.0, np.array([])).shape == (0,)
    with pytest.raises(ValueError, match="lost in rounding"):
        nv.numerical_gradient(lambda w: float(w.sum()), np.array([1e8], np.float32))


# ------------------------------------------------------------------ colour histogram
def _exact_bin(rgb, bins):
    from fractions import Fraction

    r, g, b = (int(v) for v in rgb)
    d = max(r, g, b) - min(r, g, b)
    if d == 0:
        return 0
    if max(r, g, b) == r:
        h = Fraction(g - b, d) % 6
    elif max(r, g, b) == g:
        h = Fraction(b - r, d) + 2
    else:
        h = Fraction(r - g, d) + 4
    return int(h / 6 * bins) % bins


def test_a_hue_exactly_on_a_bin_edge_goes_to_the_bin_above():
    px = np.array([171, 181, 196], np.uint8)[None, None, None, :]  # hue 0.6 exactly
    for image in (px, px / 255.0, (px / 255.0).astype(np.float32), px.astype(np.float64)):
        for dt in (np.float32, np.float64):
            assert int(np.argmax(Fe.color_histogram(image, 10, dtype=dt)[0])) == 6


@pytest.mark.parametrize("bins", [10, 36])
def test_color_histogram_matches_exact_rational_hue_bins(bins):
    imgs = np.random.default_rng(0).integers(0, 256, (2, 40, 50, 3)).astype(np.uint8)
    want = np.array([np.bincount([_exact_bin(p, bins) for p in im.reshape(-1, 3)],
                                 minlength=bins) for im in imgs]) / (40 * 50)
    for image in (imgs, imgs / 255.0, imgs.astype(np.float32)):
        np.testing.assert_allclose(Fe.color_histogram(image, bins, dtype=np.float64), want,
                                   atol=1e-12)
    # arbitrary float pixels (not 8-bit levels) still sum to one per image
    noise = np.random.default_rng(1).random((3, 7, 9, 3))
    assert np.allclose(Fe.color_histogram(noise, bins).sum(axis=1), 1.0)


# ------------------------------------------------------------------ minor ones
def test_a_dataset_root_that_is_a_file_is_named(tmp_path):
    from nerve.data import load_cifar10, load_mnist

    f = tmp_path / "train-images-idx3-ubyte.gz"
    f.write_bytes(b"")
    for loader in (load_mnist, load_cifar10):
        with pytest.raises(ValueError, match="root must be the folder"):
            loader(f)


def test_standardize_with_non_numeric_statistics_is_a_clear_error():
    from nerve.data import standardize

    with pytest.raises(TypeError, match="mean and std must be arrays of numbers"):
        standardize(np.zeros((3, 2)), mean=np.array(["a", "b"]), std=np.ones(2))


def test_a_model_file_with_repeated_layer_names_is_refused(tmp_path):
    import json
    from collections import OrderedDict

    model = nn.Sequential(OrderedDict([("a", nn.Linear(2, 2)), ("b", nn.Linear(2, 2))]))
    path = tmp_path / "m.npz"
    nv.save(model, path)
    with np.load(path) as f:
        arrays = dict(f)
    cfg = json.loads(str(arrays["__config__"]))
    cfg["config"]["names"] = ["a", "a"]  # would silently keep only one of the two layers
    arrays["__config__"] = np.array(json.dumps(cfg))
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="one distinct name per layer"):
        nv.load(path)


def test_l2_penalty_trains_exactly_as_weight_decay_twice_lambda():
    X = np.random.default_rng(0).standard_normal((16, 3)).astype(np.float64)
    y = np.arange(16) % 2
    lam = 0.05
    finals = []
    for use_penalty in (True, False):
        nv.manual_seed(0)
        model = nn.Linear(3, 2, bias=False).double()
        opt = optim.SGD(model.parameters(), lr=0.1,
                        weight_decay=0.0 if use_penalty else 2 * lam)
        for _ in range(5):
            opt.zero_grad()
            loss = nn.CrossEntropyLoss()(model(nv.tensor(X, dtype=nv.float64)), y)
            if use_penalty:
                loss = loss + lam * nv.regularizers.l2(model)
            loss.backward()
            opt.step()
        finals.append(model.weight.data.copy())
    np.testing.assert_allclose(finals[0], finals[1], rtol=1e-12, atol=1e-14)


def test_color_histogram_of_0_255_floats_with_many_bins_matches_uint8():
    imgs = np.random.default_rng(3).integers(0, 256, (2, 20, 20, 3)).astype(np.uint8)
    for bins in (360, 6000, 100000):
        want = Fe.color_histogram(imgs, bins, dtype=np.float64)
        np.testing.assert_array_equal(Fe.color_histogram(imgs.astype(np.float64), bins,
                                                         dtype=np.float64), want)
