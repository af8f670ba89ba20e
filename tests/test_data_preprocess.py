"""train_test_split and standardize."""
import numpy as np
import pytest

from nerve.data import standardize, train_test_split


def test_split_partitions_and_keeps_pairs():
    X = np.arange(100, dtype=np.float32).reshape(50, 2)
    y = np.arange(50)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=0)
    assert X_tr.shape == (40, 2) and X_te.shape == (10, 2) and X_tr.dtype == np.float32
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(50))
    np.testing.assert_array_equal(X_tr, X[y_tr])
    np.testing.assert_array_equal(X_te, X[y_te])
    assert y_tr.tolist() != sorted(y_tr.tolist())  # shuffled


def test_split_sizes_seed_and_no_labels():
    X = np.arange(10)
    a = train_test_split(X, test_size=0.25, seed=3)
    b = train_test_split(X, test_size=0.25, seed=3)
    assert len(a) == 2 and len(a[1]) == 3  # ceil(0.25 * 10)
    np.testing.assert_array_equal(a[1], b[1])
    assert len(train_test_split(X, test_size=4, seed=0)[1]) == 4


def test_stratified_split_keeps_class_shares():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    X = np.arange(100)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=1, stratify=True)
    assert np.bincount(y_te).tolist() == [12, 6, 2]
    assert np.bincount(y_tr).tolist() == [48, 24, 8]
    np.testing.assert_array_equal(y[X_te], y_te)
    assert len(set(X_tr) & set(X_te)) == 0


def test_stratified_rounding_totals_match():
    y = np.repeat([0, 1, 2], [7, 7, 7])
    _, X_te, _, y_te = train_test_split(np.arange(21), y, test_size=0.5, seed=0, stratify=True)
    assert len(y_te) == 11  # ceil(10.5)
    assert sorted(np.bincount(y_te).tolist()) == [3, 4, 4]


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(test_size=1.5), ValueError, "test_size"),
    (dict(test_size=0), ValueError, "test_size"),
    (dict(test_size=10), ValueError, "between 1 and 9"),
    (dict(test_size="0.2"), TypeError, "test_size"),
    (dict(stratify="y"), TypeError, "stratify"),
])
def test_split_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        train_test_split(np.arange(10), np.arange(10), **kwargs)


def test_stratified_split_with_string_labels():
    y = np.array(["cat"] * 8 + ["dog"] * 4)
    _, _, y_tr, y_te = train_test_split(np.arange(12), y, test_size=0.25, seed=0, stratify=True)
    assert sorted(y_te.tolist()) == ["cat", "cat", "dog"]


def test_standardize_rejects_non_numeric():
    with pytest.raises(TypeError, match="dtype"):
        standardize(np.array([["a", "b"]]))


def test_split_length_mismatch():
    with pytest.raises(ValueError, match="X has 10, y has 8"):
        train_test_split(np.zeros((10, 2)), np.zeros(8))


def test_standardize_and_reuse_train_statistics():
    rng = np.random.default_rng(0)
    X_train = rng.standard_normal((200, 3)) * [1.0, 5.0, 0.1] + [10.0, -3.0, 0.0]
    X_train = X_train.astype(np.float32)
    X_train[:, 2] = 4.0  # a constant feature
    Xs, mean, std = standardize(X_train)
    assert Xs.dtype == np.float32 and mean.dtype == np.float32 and mean.shape == (3,)
    np.testing.assert_allclose(Xs[:, :2].mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(Xs[:, :2].std(axis=0), 1.0, atol=1e-5)
    assert std[2] == 1.0 and np.all(Xs[:, 2] == 0.0)
    X_test = X_train[:5] + 1.0
    Xt, mean2, std2 = standardize(X_test, mean, std)
    np.testing.assert_allclose(Xt, (X_test - mean) / std, rtol=1e-6)
    np.testing.assert_array_equal(mean2, mean)


def test_standardize_dtypes():
    pixels = np.array([[0, 255], [255, 255]], dtype=np.uint8)
    Xs, _, _ = standardize(pixels)
    assert Xs.dtype == np.float32
    np.testing.assert_allclose(Xs, [[-1.0, 0.0], [1.0, 0.0]])
    X64 = np.array([[1.0], [3.0]])
    assert standardize(X64)[0].dtype == np.float64


def test_standardize_images_per_pixel():
    X = np.random.default_rng(0).random((10, 4, 4)).astype(np.float32)
    Xs, mean, std = standardize(X)
    assert mean.shape == (4, 4)
    np.testing.assert_allclose(Xs.mean(axis=0), 0.0, atol=1e-6)


@pytest.mark.parametrize("mean,std,match", [
    (np.zeros(2), None, "both mean and std"),
    (np.zeros(3), np.ones(3), "shape"),
    (np.zeros(2), np.array([1.0, 0.0]), "positive"),
])
def test_standardize_bad_statistics(mean, std, match):
    with pytest.raises(ValueError, match=match):
        standardize(np.ones((4, 2)), mean, std)
