"""Regression tests for the audit of datasets, data utilities, HOG and the sklearn estimators.

Each test fails on the code before the fix: hog overwrote float64 (N, H, W, 1) input with
its square root, loss="log_loss" fell through to MSE and loss="Hinge" kept predict_proba,
partial_fit with early_stopping=True hit a TypeError, a Subset of a custom dataset was read
once (frozen augmentation, the whole parent read twice), and bad split fractions, NaN
standardize statistics and NaN blob centres were accepted.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import nerve.data as nd
from nerve import features
from nerve.sklearn import MLPClassifier, MLPRegressor


# ---------------------------------------------------------------- 1. hog transform_sqrt
def test_hog_transform_sqrt_leaves_float64_one_channel_input_unchanged():
    images = np.random.default_rng(0).random((2, 16, 16, 1)) * 255
    before = images.copy()
    a = features.hog(images, transform_sqrt=True)
    assert np.array_equal(images.view(np.uint64), before.view(np.uint64))  # bitwise
    b = features.hog(images, transform_sqrt=True)
    assert np.array_equal(a, b)


def test_hog_transform_sqrt_one_channel_matches_grayscale_on_every_call():
    images = np.random.default_rng(1).random((3, 16, 24)) * 255
    gray = features.hog(images, transform_sqrt=True)
    one_channel = images[..., None].copy()
    for _ in range(2):  # the second call used to see sqrt(images)
        np.testing.assert_allclose(features.hog(one_channel, transform_sqrt=True), gray,
                                   rtol=0, atol=1e-12)


# ----------------------------------------------------------- 2. loss names, normalised
def _xy():
    X = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    return X, np.arange(60) % 3


def test_log_loss_alias_trains_like_cross_entropy():
    X, y = _xy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ce = MLPClassifier((8,), loss="cross_entropy", max_iter=3, random_state=0).fit(X, y)
        ll = MLPClassifier((8,), loss="log_loss", max_iter=3, random_state=0).fit(X, y)
    assert ll.loss_curve_ == ce.loss_curve_
    assert ll.out_activation_ == "softmax"
    np.testing.assert_array_equal(ll.predict_proba(X), ce.predict_proba(X))
    assert ll.get_params()["loss"] == "log_loss"  # the parameter itself is left as given


@pytest.mark.parametrize("name", ["Hinge", " HINGE "])
def test_hinge_in_any_case_has_no_predict_proba(name):
    X, y = _xy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = MLPClassifier((8,), loss=name, max_iter=3, random_state=0).fit(X, y)
        ref = MLPClassifier((8,), loss="hinge", max_iter=3, random_state=0).fit(X, y)
    assert clf.loss_curve_ == ref.loss_curve_
    assert clf.out_activation_ == "identity"
    assert not hasattr(clf, "predict_proba")
    assert not hasattr(clf, "predict_log_proba")
    with pytest.raises(AttributeError) as info:
        clf.predict_proba(X)
    assert "not available with loss='hinge'" in str(info.value.__cause__)


def test_trainer_refuses_an_unknown_loss_instead_of_mse():
    from nerve import nn
    from nerve.sklearn._loop import Trainer
    with pytest.raises(ValueError, match=r"loss='log_loss' is not valid; expected one of "
                                         r"'cross_entropy', 'hinge', 'squared_error'"):
        Trainer(nn.Sequential(nn.Linear(2, 2)), "log_loss", None, 0.0, 0.0)


# -------------------------------------------------- 3. partial_fit with early stopping
X3 = np.random.default_rng(0).normal(size=(40, 3))
y3 = np.arange(40) % 2


@pytest.mark.parametrize("call", [
    lambda: MLPClassifier(early_stopping=True).partial_fit(X3, y3, classes=[0, 1]),
    lambda: MLPRegressor(early_stopping=True).partial_fit(X3, y3.astype(float)),
], ids=["classifier", "regressor"])
def test_partial_fit_with_early_stopping_is_a_clear_value_error(call):
    # scikit-learn 1.9: ValueError("partial_fit does not support early_stopping=True")
    with pytest.raises(ValueError, match=r"^partial_fit does not support early_stopping=True"):
        call()


def test_partial_fit_after_fit_with_early_stopping_refuses_and_keeps_the_model():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = MLPClassifier((4,), early_stopping=True, max_iter=5, random_state=0).fit(X3, y3)
    n_iter, curve = clf.n_iter_, list(clf.loss_curve_)
    weights = [w.copy() for w in clf.coefs_]
    with pytest.raises(ValueError, match=r"^partial_fit does not support early_stopping=True"):
        clf.partial_fit(X3, y3)
    assert clf.n_iter_ == n_iter and clf.loss_curve_ == curve
    for w, w0 in zip(clf.coefs_, weights):
        np.testing.assert_array_equal(w, w0)
    # switching early stopping off makes incremental training work again
    clf.set_params(early_stopping=False).partial_fit(X3, y3)
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == len(curve) + 1  # per call, as sklearn


# ------------------------------------------------ 4. Subset of a custom dataset
class Augmented:
    """A map-style dataset whose items are random on every read (augmentation)."""

    def __init__(self, n=6):
        self.n, self.reads = n, 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.reads += 1
        return np.random.default_rng().normal(size=2).astype(np.float32), i % 2


def test_split_of_custom_dataset_reads_only_its_items_and_rereads_each_epoch():
    ds = Augmented()
    train, _ = nd.random_split(ds, [4, 2], seed=0)
    ds.reads = 0
    loader = nd.DataLoader(train, batch_size=4, shuffle=False)
    assert ds.reads == 4  # was 12: the whole parent, twice
    a, ya = next(iter(loader))
    b, yb = next(iter(loader))
    assert ds.reads == 8  # epoch 2 read the 4 items again (epoch 1 used the build's read)
    assert a.shape == (4, 2) and not np.array_equal(a, b)
    np.testing.assert_array_equal(ya, train.indices % 2)
    np.testing.assert_array_equal(yb, ya)


def test_subset_exposes_arrays_only_for_an_array_backed_parent():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    part = nd.Subset(nd.Subset(nd.TensorDataset(X, y), [9, 1, 5, 3]), [3, 0])
    Xs, ys = part.arrays
    np.testing.assert_array_equal(ys, [3, 9])
    np.testing.assert_array_equal(Xs, X[[3, 9]])
    ds = Augmented()
    sub = nd.Subset(ds, [0, 2])
    assert not hasattr(sub, "arrays") and ds.reads == 0
    with pytest.raises(AttributeError, match="parent dataset Augmented is not array-backed"):
        sub.arrays
    # a split of a TensorDataset keeps the array fast path: taken once, never re-read
    train, _ = nd.random_split(nd.TensorDataset(X, y), [0.6, 0.4], seed=0)
    loader = nd.DataLoader(train, batch_size=6, shuffle=False)
    assert loader._reread is False
    xb, yb = next(iter(loader))
    np.testing.assert_array_equal(xb, X[train.indices])
    np.testing.assert_array_equal(yb, train.indices)


# ------------------------------------------------------------ 5. bad inputs refused
@pytest.mark.parametrize("lengths", [[1.5, -0.5], [-0.25, 1.25], [0.5, float("nan")]])
def test_random_split_refuses_fractions_outside_unit_interval(lengths):
    ds = nd.TensorDataset(np.zeros((10, 2)), np.arange(10))
    with pytest.raises(ValueError, match=r"fractions must each lie in \[0, 1\] and add up to 1"):
        nd.random_split(ds, lengths, seed=0)


def test_random_split_negative_count_message_says_non_negative():
    ds = nd.TensorDataset(np.zeros((10, 2)))
    with pytest.raises(ValueError, match=r"non-negative integer counts adding up to 10"):
        nd.random_split(ds, [-1, 11], seed=0)
    assert [len(p) for p in nd.random_split(ds, [0.7, 0.3], seed=0)] == [7, 3]


@pytest.mark.parametrize("mean, std, message", [
    (np.array([np.nan, 0.0]), np.ones(2), r"mean must be finite, got NaN at index \(0,\)"),
    (np.array([0.0, np.inf]), np.ones(2), r"mean must be finite, got inf at index \(1,\)"),
    (0.0, np.inf, r"std must be finite, got inf"),
])
def test_standardize_refuses_non_finite_statistics(mean, std, message):
    X = np.arange(6.0).reshape(3, 2)
    with pytest.raises(ValueError, match=message):
        nd.standardize(X, mean=mean, std=std)


def test_blobs_refuses_non_finite_centers():
    with pytest.raises(ValueError, match=r"centers must be finite, got NaN at index \(0, 0\)"):
        nd.blobs(4, centers=np.array([[np.nan, 0.0], [1.0, 1.0]]), seed=0)
    with pytest.raises(ValueError, match=r"centers must be finite, got -inf at index \(1, 1\)"):
        nd.blobs(4, centers=np.array([[0.0, 0.0], [1.0, -np.inf]]), seed=0)
