"""DataLoader: epochs cover every example once, in ceil(N/B) batches, reproducibly."""
import math

import numpy as np
import pytest

import nerve
from nerve.data import DataLoader


def make(n=23, d=3):
    X = np.arange(n * d, dtype=np.float32).reshape(n, d)
    y = np.arange(n, dtype=np.int64)
    return X, y


@pytest.mark.parametrize("n,batch", [(23, 5), (20, 5), (7, 1), (3, 10)])
def test_epoch_covers_each_example_once(n, batch):
    X, y = make(n)
    loader = DataLoader(X, y, batch_size=batch, seed=0)
    assert len(loader) == math.ceil(n / batch)
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == len(loader)
        assert all(len(yb) == batch for _, yb in batches[:-1])
        seen = np.concatenate([yb for _, yb in batches])
        assert sorted(seen.tolist()) == list(range(n))
        for Xb, yb in batches:  # rows stay paired with their labels
            np.testing.assert_array_equal(Xb, X[yb])
            assert Xb.dtype == np.float32 and yb.dtype == np.int64


def test_epochs_differ_and_seed_reproduces_each_epoch():
    X, y = make(50)
    a = DataLoader(X, y, batch_size=8, seed=7)
    b = DataLoader(X, y, batch_size=8, seed=7)
    orders_a = [np.concatenate([yb for _, yb in a]) for _ in range(3)]
    orders_b = [np.concatenate([yb for _, yb in b]) for _ in range(3)]
    for oa, ob in zip(orders_a, orders_b):
        np.testing.assert_array_equal(oa, ob)
    assert not np.array_equal(orders_a[0], orders_a[1])
    other = np.concatenate([yb for _, yb in DataLoader(X, y, batch_size=8, seed=8)])
    assert not np.array_equal(other, orders_a[0])


def test_seed_none_follows_manual_seed():
    X, y = make(30)
    loader = DataLoader(X, y, batch_size=4)
    nerve.random.manual_seed(5)
    first = np.concatenate([yb for _, yb in loader])
    nerve.random.manual_seed(5)
    again = np.concatenate([yb for _, yb in loader])
    np.testing.assert_array_equal(first, again)


def test_no_shuffle_keeps_order():
    X, y = make(10)
    loader = DataLoader(X, y, batch_size=4, shuffle=False)
    assert [yb.tolist() for _, yb in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_drop_last():
    X, y = make(10)
    loader = DataLoader(X, y, batch_size=4, drop_last=True, seed=0)
    assert len(loader) == 2
    sizes = [len(yb) for _, yb in loader]
    assert sizes == [4, 4]


def test_without_labels_yields_arrays():
    X, _ = make(9)
    batches = list(DataLoader(X, batch_size=4, shuffle=False))
    assert [b.shape for b in batches] == [(4, 3), (4, 3), (1, 3)]
    np.testing.assert_array_equal(np.concatenate(batches), X)


def test_multidimensional_inputs():
    X = np.arange(6 * 2 * 8 * 8, dtype=np.float64).reshape(6, 2, 8, 8)
    Xb, yb = next(iter(DataLoader(X, np.arange(6), batch_size=4, seed=1)))
    assert Xb.shape == (4, 2, 8, 8) and Xb.dtype == np.float64
    np.testing.assert_array_equal(Xb, X[yb])  # shuffled rows, each whole and with its label
    assert yb.tolist() != [0, 1, 2, 3]


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(y=np.zeros(9)), ValueError, "X has 10, y has 9"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(batch_size=2.0), TypeError, "batch_size"),
    (dict(shuffle="yes"), TypeError, "shuffle"),
    (dict(seed="abc"), TypeError, "seed"),
])
def test_bad_arguments(kwargs, error, match):
    X, _ = make(10)
    with pytest.raises(error, match=match):
        DataLoader(X, **kwargs)


def test_accepts_tensor_like_inputs():
    class TensorLike:  # anything with .numpy(), as nerve and torch tensors have
        def __init__(self, array):
            self.array = array

        def numpy(self):
            return self.array

    X, y = make(6)
    batches = list(DataLoader(TensorLike(X), TensorLike(y), batch_size=6, shuffle=False))
    np.testing.assert_array_equal(batches[0][0], X)
    with pytest.raises(TypeError, match="X must hold numbers"):
        DataLoader(np.array([object(), object()]))


def test_empty_dataset_rejected():
    with pytest.raises(ValueError, match="empty"):
        DataLoader(np.zeros((0, 3)))


def test_pytorch_worker_keywords_change_nothing():
    from nerve.data import DataLoader
    X, y = np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10)
    plain = list(DataLoader(X, y, batch_size=4, seed=3))
    torchy = list(DataLoader(X, y, batch_size=4, seed=3, num_workers=4, pin_memory=True,
                             persistent_workers=True, prefetch_factor=2, timeout=0))
    assert len(plain) == len(torchy) == 3
    for (xa, ya), (xb, yb) in zip(plain, torchy):
        assert np.array_equal(xa, xb) and np.array_equal(ya, yb)


@pytest.mark.parametrize("kwargs, match", [
    (dict(collate_fn=lambda batch: batch), "collate_fn is not supported"),
    (dict(sampler=[0, 1]), "sampler= is not supported"),
    (dict(batch_sampler=[[0, 1]]), "batch_sampler= is not supported"),
    (dict(generator=object()), "pass seed=INT"),
    (dict(num_workres=2), r"unexpected keyword argument\(s\) \['num_workres'\]"),
])
def test_pytorch_keywords_that_would_change_batches_are_refused(kwargs, match):
    from nerve.data import DataLoader
    with pytest.raises(TypeError, match=match):
        DataLoader(np.zeros((4, 2)), np.arange(4), **kwargs)


def test_num_workers_checked():
    from nerve.data import DataLoader
    with pytest.raises(ValueError, match="num_workers must be an integer >= 0"):
        DataLoader(np.zeros((4, 2)), np.arange(4), num_workers=-1)
