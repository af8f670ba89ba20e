"""nerve.linear: softmax and SVM linear classifiers, their loss, training and templates."""
import math

import numpy as np
import pytest

import nerve as nv
from nerve.data import load_digits, standardize, train_test_split
from nerve.linear import NotFittedError, SoftmaxClassifier, SVMClassifier

CLASSIFIERS = [SoftmaxClassifier, SVMClassifier]


@pytest.fixture(scope="module")
def digits():
    """The digits, 80/20 split, standardised with the training statistics."""
    X, y = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=0)
    X_tr, mean, std = standardize(X_tr)
    X_te, _, _ = standardize(X_te, mean, std)
    return X_tr, X_te, y_tr, y_te


@pytest.fixture(scope="module")
def softmax_digits(digits):
    X_tr, _, y_tr, _ = digits
    return SoftmaxClassifier(lr=0.1, reg=1e-3, epochs=15, batch_size=64, seed=0).fit(X_tr, y_tr)


def _blobs(n=60, d=3, c=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((c, d)) * 4
    y = np.arange(n) % c
    return (centres[y] + rng.standard_normal((n, d))).astype(np.float32), y


# ------------------------------------------------------------------ acceptance on the digits
def test_softmax_reaches_90_percent_on_digits(digits, softmax_digits):
    _, X_te, _, y_te = digits
    assert softmax_digits.score(X_te, y_te) >= 0.90


def test_svm_learns_the_digits(digits):
    X_tr, X_te, y_tr, y_te = digits
    clf = SVMClassifier(lr=0.01, reg=1e-3, epochs=15, batch_size=64, seed=0).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) >= 0.90


def test_templates_are_ten_8x8_images(softmax_digits):
    templates = softmax_digits.templates((8, 8))
    assert templates.shape == (10, 8, 8)
    np.testing.assert_array_equal(templates.reshape(10, 64), softmax_digits.W_)
    templates[:] = 0  # a copy: the classifier's weights are untouched
    assert np.abs(softmax_digits.W_).sum() > 0


def test_templates_read_a_square_image_shape_off_the_feature_count(softmax_digits):
    np.testing.assert_array_equal(softmax_digits.templates(), softmax_digits.templates((8, 8)))
    rng = np.random.default_rng(0)
    rgb = SoftmaxClassifier(epochs=1, seed=0).fit(
        rng.standard_normal((20, 4 * 4 * 3)).astype(np.float32), np.arange(20) % 2)
    assert rgb.templates().shape == (2, 4, 4, 3)
    odd = SoftmaxClassifier(epochs=1, seed=0).fit(
        rng.standard_normal((20, 10)).astype(np.float32), np.arange(20) % 2)
    with pytest.raises(ValueError, match="10 features are not a square image"):
        odd.templates()


def test_plot_templates(softmax_digits, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    path = tmp_path / "templates.png"
    fig = softmax_digits.plot_templates(path=str(path))  # (8, 8) read off the 64 features
    assert len([ax for ax in fig.axes if ax.images]) == 10
    assert path.stat().st_size > 1000
    plt.close(fig)


# ------------------------------------------------------------------ the loss and its gradient
@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_objective_gradient_matches_finite_differences(cls):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((7, 5))
    labels = rng.integers(0, 4, size=7)
    W, b = rng.standard_normal((4, 5)) * 0.5, rng.standard_normal(4) * 0.1
    clf = cls(reg=0.3, dtype=np.float64)
    assert nv.gradcheck(lambda W_, b_: clf.objective(W_, b_, X, labels), W, b)


def test_softmax_loss_known_answer():
    """Three classes, scores (3.2, 5.1, -1.7) for an example of class 0: L = 2.04 (lecture)."""
    clf = SoftmaxClassifier(reg=0.0, dtype=np.float64)
    X = np.array([[1.0]])
    W = nv.tensor([[3.2], [5.1], [-1.7]], dtype=nv.float64)
    b = nv.tensor([0.0, 0.0, 0.0], dtype=nv.float64)
    loss = clf.objective(W, b, X, np.array([0])).item()
    assert loss == pytest.approx(2.0404, abs=1e-3)


def test_svm_loss_known_answer():
    """The lecture's three images: losses 2.9, 0 and 12.9, mean 5.27."""
    scores = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
    clf = SVMClassifier(reg=0.0, dtype=np.float64)
    # X = I and b = 0 make the scores S = X Wᵀ equal Wᵀ, so W = scoresᵀ.
    W = nv.tensor(scores.T.copy(), dtype=nv.float64)
    b = nv.tensor(np.zeros(3), dtype=nv.float64)
    loss = clf.objective(W, b, np.eye(3), np.array([0, 1, 2])).item()
    assert loss == pytest.approx((2.9 + 0 + 12.9) / 3, abs=1e-9)


def test_regularisation_term_is_lambda_sum_of_squares():
    clf = SoftmaxClassifier(reg=0.5, dtype=np.float64)
    W = nv.tensor(np.zeros((2, 2)) + 2.0, dtype=nv.float64)
    b = nv.tensor(np.zeros(2), dtype=nv.float64)
    X = np.zeros((1, 2))
    # zero scores -> data loss ln 2; penalty 0.5 * (4 * 2²) = 8
    assert clf.objective(W, b, X, np.array([1])).item() == pytest.approx(math.log(2) + 8)


@pytest.mark.parametrize("cls, first", [(SoftmaxClassifier, math.log(10)), (SVMClassifier, 9.0)])
def test_first_loss_at_small_weights(digits, cls, first):
    """Small initial weights: softmax starts at ln C, the SVM at C − 1 (margin 1)."""
    X_tr, _, y_tr, _ = digits
    clf = cls(lr=1e-6, reg=0.0, epochs=1, batch_size=len(X_tr), weight_scale=1e-4, seed=0)
    clf.fit(X_tr, y_tr)
    assert clf.loss_history_[0] == pytest.approx(first, rel=1e-2)


# ------------------------------------------------------------------ training behaviour
def test_loss_history_counts_steps_and_decreases():
    X, y = _blobs(n=50)
    clf = SoftmaxClassifier(lr=0.1, epochs=4, batch_size=16, seed=0).fit(X, y)
    assert len(clf.loss_history_) == 4 * math.ceil(50 / 16) == clf.n_iter_
    assert clf.loss_history_.dtype == np.float64
    assert clf.loss_history_[-3:].mean() < clf.loss_history_[:3].mean()


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_seed_makes_training_reproducible(cls):
    X, y = _blobs()
    a = cls(epochs=3, batch_size=8, seed=5).fit(X, y)
    b = cls(epochs=3, batch_size=8, seed=5).fit(X, y)
    np.testing.assert_array_equal(a.W_, b.W_)
    nv.manual_seed(3)
    c = cls(epochs=3, batch_size=8).fit(X, y)
    nv.manual_seed(3)
    d = cls(epochs=3, batch_size=8).fit(X, y)
    np.testing.assert_array_equal(c.W_, d.W_)


def test_stronger_regularisation_gives_smaller_weights():
    X, y = _blobs()
    weak = SoftmaxClassifier(lr=0.1, reg=0.0, epochs=30, seed=0).fit(X, y)
    strong = SoftmaxClassifier(lr=0.1, reg=0.5, epochs=30, seed=0).fit(X, y)
    assert np.linalg.norm(strong.W_) < 0.5 * np.linalg.norm(weak.W_)


def test_momentum_trains_too():
    X, y = _blobs()
    clf = SVMClassifier(lr=0.01, momentum=0.9, epochs=10, seed=0).fit(X, y)
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    X, y = _blobs()
    clf = SoftmaxClassifier(epochs=1, seed=0, dtype=dtype).fit(X.astype(np.float64), y)
    assert clf.W_.dtype == dtype and clf.b_.dtype == dtype
    assert clf.decision_function(X).dtype == dtype
    assert clf.predict_proba(X).dtype == dtype


def test_arbitrary_labels_and_probabilities():
    X, y = _blobs()
    names = np.array(["cat", "dog", "emu"])[y]
    clf = SoftmaxClassifier(lr=0.1, epochs=20, seed=0).fit(X, names)
    assert clf.classes_.tolist() == ["cat", "dog", "emu"]
    assert set(clf.predict(X)) <= {"cat", "dog", "emu"}
    assert clf.score(X, names) > 0.9
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    assert clf.loss(X, names) < math.log(3)
    with pytest.raises(ValueError, match="not seen in fit"):
        clf.loss(X, y)  # integer labels for a classifier fitted on names


def test_rgb_templates_keep_channel_order():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 4 * 4 * 3)).astype(np.float32)
    clf = SoftmaxClassifier(epochs=1, seed=0).fit(X, np.arange(20) % 2)
    t = clf.templates((4, 4, 3))
    assert t.shape == (2, 4, 4, 3)
    assert t[1, 2, 3, 1] == clf.W_[1, (2 * 4 + 3) * 3 + 1]


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("kwargs, error, words", [
    ({"lr": 0}, ValueError, "lr"),
    ({"lr": "fast"}, TypeError, "lr"),
    ({"reg": -1}, ValueError, "reg"),
    ({"epochs": 0}, ValueError, "epochs"),
    ({"epochs": 2.5}, TypeError, "epochs"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"momentum": 1.0}, ValueError, "momentum"),
    ({"dtype": np.int32}, TypeError, "dtype"),
    ({"seed": -1}, ValueError, "seed"),
])
def test_bad_constructor_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        SoftmaxClassifier(**kwargs)


def test_bad_margin():
    with pytest.raises(ValueError, match="margin"):
        SVMClassifier(margin=0)


@pytest.mark.parametrize("X, y, error, words", [
    (np.zeros((4, 2, 2)), np.zeros(4), ValueError, "n_samples, n_features"),
    (np.zeros((4, 2)), np.zeros(3), ValueError, "4 samples but y has 3"),
    (np.zeros((4, 2)), np.zeros((4, 1)), ValueError, "1-D"),
    (np.zeros((4, 2)), np.zeros(4), ValueError, "at least 2 classes"),
    (np.array([["a", "b"]] * 4), np.arange(4) % 2, TypeError, "numeric"),
    (np.full((4, 2), np.nan), np.arange(4) % 2, ValueError, "NaN"),
])
def test_bad_fit_data(X, y, error, words):
    with pytest.raises(error, match=words):
        SoftmaxClassifier(epochs=1).fit(X, y)


def test_errors_after_fit():
    X, y = _blobs()
    with pytest.raises(NotFittedError, match="fit"):
        SVMClassifier().predict(X)
    clf = SVMClassifier(epochs=1, seed=0).fit(X, y)
    with pytest.raises(ValueError, match="2 features but the classifier was fitted on 3"):
        clf.predict(X[:, :2])
    with pytest.raises(ValueError, match="not seen in fit"):
        clf.loss(X, y + 5)
    with pytest.raises(ValueError, match="multiply to 3"):
        clf.templates((2, 2))
    with pytest.raises(TypeError, match="image_shape"):
        clf.templates(3)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_diverging_training_says_what_to_try():
    X, y = _blobs()
    with pytest.raises(ValueError, match="learning rate"):
        SVMClassifier(lr=1e38, epochs=3, seed=0).fit(X * 1e3, y)
