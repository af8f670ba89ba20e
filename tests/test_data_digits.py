"""The shipped 8x8 digits and the locally generated MNIST-1D."""
import random
from importlib import resources

import numpy as np
import pytest

from nerve.data import load_digits, mnist1d


def test_digits_shapes_values_and_classes():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16
    np.testing.assert_array_equal(X, np.rint(X))
    counts = np.bincount(y)
    assert len(counts) == 10 and counts.min() >= 170  # 174..183 of each digit


def test_digits_known_values():
    # the first image is a zero; its top row in the UCI data is 0 0 5 13 9 1 0 0
    X, y = load_digits()
    assert y[:10].tolist() == list(range(10))
    assert X[0, :8].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]
    # known class sizes of the 1,797 UCI test digits
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_digits_return_images_matches_flat():
    X, y = load_digits()
    images, y2 = load_digits(return_images=True)
    assert images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(images.reshape(1797, 64), X)
    np.testing.assert_array_equal(y, y2)
    with pytest.raises(TypeError, match="return_images"):
        load_digits(return_images="yes")


def test_digits_file_is_plain_arrays_with_licence():
    folder = resources.files("nerve.data")
    with folder.joinpath("digits.npz").open("rb") as handle:
        with np.load(handle, allow_pickle=False) as archive:
            assert sorted(archive.files) == ["images", "labels"]
            assert archive["images"].dtype == np.uint8
    licence = folder.joinpath("DIGITS_LICENSE.txt").read_text()
    assert "CC BY 4.0" in licence and "Alpaydin" in licence


def test_mnist1d_generates_locally_and_reproducibly(monkeypatch):
    pytest.importorskip("mnist1d")
    import urllib.request

    def no_network(*args, **kwargs):
        raise AssertionError("mnist1d must not download anything")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    np.random.seed(7)
    random.seed(7)
    numpy_before, python_before = np.random.get_state()[1].copy(), random.getstate()
    X_tr, y_tr, X_te, y_te = mnist1d(100, seed=1)
    # the global generators the package uses are left as they were
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_before)
    assert random.getstate() == python_before
    assert X_tr.shape == (80, 40) and X_te.shape == (20, 40)
    assert X_tr.dtype == np.float32 and y_tr.dtype == np.int64
    assert set(np.concatenate([y_tr, y_te]).tolist()) <= set(range(10))
    assert np.bincount(np.concatenate([y_tr, y_te])).tolist() == [10] * 10
    again = mnist1d(100, seed=1)
    other = mnist1d(100, seed=2)
    np.testing.assert_array_equal(again[0], X_tr)
    assert not np.array_equal(other[0], X_tr)


def test_mnist1d_bad_arguments():
    with pytest.raises(ValueError, match="multiple of 10"):
        mnist1d(105)
    with pytest.raises(ValueError, match="train_split"):
        mnist1d(100, train_split=1.0)


def test_mnist1d_missing_package_names_the_extra(monkeypatch):
    import sys

    for name in ("mnist1d", "mnist1d.data", "mnist1d.utils"):
        monkeypatch.setitem(sys.modules, name, None)  # makes the import fail
    with pytest.raises(ImportError, match=r"nerve\[mnist1d\]"):
        mnist1d(100, seed=0)
