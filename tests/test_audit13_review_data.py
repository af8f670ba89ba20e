"""Audit 13 (review): findings 1, 4 and 7 of /tmp/audit13/report_review.md.

1. train_test_split(stratify=..., train_size=..., test_size=...) stratifies the train part.
4. DataLoader: a custom dataset's usual items (arrays, numbers, tensors) are stacked column
   by column with no check per item; a DataLoader over arrays checks them once.
7. Stratifying on one-hot rows gives the split that the integer labels give.
"""
import numpy as np
import pytest

import nerve as nv
from nerve.data import DataLoader, TensorDataset, train_test_split
from nerve.data import dataset as dataset_module
from nerve.data import loader as loader_module


# ---- 1. both sizes given: the train part keeps every class's share -------------------

def test_both_sizes_stratify_the_train_part_too():
    y = np.repeat(np.arange(3), [10, 6, 4])
    X = np.arange(20)
    for seed in range(200):  # the report's case: a class was missing in 151 of 200 seeds
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, train_size=3, test_size=5,
                                                  stratify=y, seed=seed)
        assert sorted(y_tr.tolist()) == [0, 1, 2]
        assert len(X_te) == 5 and not set(X_tr) & set(X_te)
        np.testing.assert_array_equal(y[X_tr], y_tr)
        np.testing.assert_array_equal(y[X_te], y_te)
    y2 = np.repeat(np.arange(2), [50, 50])
    for seed in range(20):
        y_tr = train_test_split(np.arange(100), y2, train_size=10, test_size=20,
                                stratify=True, seed=seed)[2]
        assert np.bincount(y_tr, minlength=2).tolist() == [5, 5]


def test_both_sizes_give_each_class_its_share_of_the_whole():
    rng = np.random.default_rng(0)
    for it in range(300):
        C = int(rng.integers(2, 6))
        n = int(rng.integers(2 * C, 60))
        y = rng.permutation(np.concatenate([np.repeat(np.arange(C), 2),
                                            rng.integers(0, C, n - 2 * C)]))
        n_test = int(rng.integers(C, n - C + 1))
        n_train = int(rng.integers(C, n - n_test + 1))
        X = np.arange(n)
        X_tr, X_te, y_tr, _ = train_test_split(X, y, train_size=n_train, test_size=n_test,
                                               stratify=True, seed=it)
        assert len(X_tr) == n_train and len(set(X_tr)) == n_train
        assert not set(X_tr) & set(X_te)
        share = n_train * np.bincount(y, minlength=C) / n
        got = np.bincount(y_tr, minlength=C)
        assert np.all(got >= np.floor(share)) and np.all(got <= np.ceil(share)), (it, got, share)
        # the test part is the one that test_size alone gives (train_size only subsamples)
        np.testing.assert_array_equal(
            X_te, train_test_split(X, y, test_size=n_test, stratify=True, seed=it)[1])


def test_both_sizes_train_counts_match_scikit_learn():
    sk = pytest.importorskip("sklearn.model_selection")
    y = np.repeat(np.arange(4), [40, 30, 20, 10])
    X = np.arange(100)
    for seed in range(5):
        ours = train_test_split(X, y, train_size=20, test_size=30, stratify=y, seed=seed)
        theirs = sk.train_test_split(X, y, train_size=20, test_size=30, stratify=y,
                                     random_state=seed)
        for k in (2, 3):
            assert np.bincount(ours[k], minlength=4).tolist() == \
                np.bincount(theirs[k], minlength=4).tolist()


# ---- 7. one-hot rows split as their integer labels ------------------------------------

def _indices(y_or_rows, seed, **sizes):
    X = np.arange(len(y_or_rows))
    X_tr, X_te = train_test_split(X, y_or_rows, stratify=True, seed=seed, **sizes)[:2]
    return X_tr.tolist(), X_te.tolist()


@pytest.mark.parametrize("sizes", [{"test_size": 0.25}, {"test_size": 7},
                                   {"train_size": 0.6}, {"train_size": 9, "test_size": 6}])
def test_one_hot_rows_split_as_the_integer_labels(sizes):
    y = np.repeat(np.arange(3), [10, 6, 4])  # the report's case: [8, 4, 3] against [7, 5, 3]
    for seed in range(10):
        want = _indices(y, seed, **sizes)
        for Y in (np.eye(3)[y], np.eye(3, dtype=np.float32)[y], np.eye(3, dtype=bool)[y],
                  np.eye(3, dtype=np.int64)[y]):
            assert _indices(Y, seed, **sizes) == want
        assert _indices(y[:, None], seed, **sizes) == want  # an (N, 1) column as well
    # a class with no member (column 1 all zero) and shuffled rows
    rng = np.random.default_rng(1)
    z = rng.permutation(np.repeat([0, 2, 3], [9, 5, 6]))
    for seed in range(10):
        assert _indices(np.eye(4)[z], seed, **sizes) == _indices(z, seed, **sizes)
    # stratify= given as an array, not True
    Y = np.eye(3)[y]
    a = train_test_split(np.arange(20), Y, stratify=Y, seed=3, **sizes)
    b = train_test_split(np.arange(20), y, stratify=y, seed=3, **sizes)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_multi_label_rows_group_as_distinct_rows_in_one_hot_order():
    rows = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1]])
    rng = np.random.default_rng(2)
    z = rng.permutation(np.repeat(np.arange(5), [8, 6, 5, 4, 3]))
    Y = rows[z]
    # each distinct row is one class (np.unique(axis=0)), numbered by the last column
    # first, so that the one-hot row e_k comes before e_j for k < j, as integer labels do
    order = sorted(range(5), key=lambda r: tuple(rows[r][::-1]))
    rank = np.empty(5, np.int64)
    rank[order] = np.arange(5)
    assert rank[0] < rank[1] < rank[2]  # e_0, e_1, e_2 in the order of 0, 1, 2
    for seed in range(10):
        assert _indices(Y, seed, test_size=0.3) == _indices(rank[z], seed, test_size=0.3)
        _, _, _, Y_te = train_test_split(np.arange(26), Y, test_size=0.5, stratify=True,
                                         seed=seed)
        counts = [int(np.all(Y_te == r, axis=1).sum()) for r in rows]
        share = 13 * np.array([8, 6, 5, 4, 3]) / 26
        assert np.all(counts >= np.floor(share)) and np.all(counts <= np.ceil(share))
    with pytest.raises(ValueError, match=r"label row \[0, 1, 1\] has only 1 member"):
        train_test_split(np.arange(5), np.array([[1, 0, 0]] * 2 + [[0, 1, 0]] * 2
                                                + [[0, 1, 1]]), stratify=True)


# ---- 4. a custom dataset's usual items are stacked with no check per item -------------

class _Items:
    """A map-style dataset over ``get(i)``."""

    def __init__(self, get, n):
        self.get, self.n = get, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.get(i)


def _reference(column):
    """What collating a column gave before: every value through np.asarray, then stacked."""
    return np.stack([v.data if isinstance(v, nv.Tensor) else np.asarray(v) for v in column])


def test_usual_items_are_stacked_without_a_check_per_item(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4)).astype(np.float32)
    y = rng.integers(0, 3, 50)
    w = rng.random(50)
    calls = []
    real = dataset_module._item_array

    def counting(value, name, where):
        calls.append(type(value))
        return real(value, name, where)

    monkeypatch.setattr(dataset_module, "_item_array", counting)
    cases = {
        "int labels": lambda i: (X[i], int(y[i])),
        "numpy labels": lambda i: (X[i], y[i]),
        "float and bool": lambda i: [X[i], float(w[i]), bool(y[i] > 1)],
        "float32 scalars": lambda i: (X[i], np.float32(w[i])),
        "single arrays": lambda i: X[i],
        "tensors": lambda i: (nv.tensor(X[i]), int(y[i])),
        "dicts": lambda i: {"x": X[i], "y": y[i], "w": float(w[i])},
    }
    for name, get in cases.items():
        items = [get(i) for i in range(50)]
        arrays, flags = dataset_module.read_dataset(_Items(get, 50))
        if isinstance(items[0], dict):
            columns = [[item[k] for item in items] for k in items[0]]
        elif isinstance(items[0], (tuple, list)):
            columns = list(zip(*items))
        else:
            columns = [items]
        assert len(arrays) == len(columns), name
        for got, column in zip(arrays, columns):
            want = _reference(column)
            assert got.dtype == want.dtype and got.shape == want.shape, name
            np.testing.assert_array_equal(got, want)
    assert calls == []  # before: two calls per item (one per position)

    # Mixed or unusual columns still go value by value, and give what they gave before.
    mixed = {
        "int and float": lambda i: (X[i], 1 if i % 2 else 2.5),
        "int and numpy int": lambda i: (X[i], 1 if i % 2 else np.int32(2)),
        "ints beyond int64": lambda i: (X[i], 2 ** 63 + i),
        "one int beyond int64": lambda i: (X[i], 2 ** 70 if i == 3 else i),
        "0-d arrays": lambda i: (X[i], np.asarray(y[i])),
        "strings": lambda i: (X[i], "ab"[i % 2] * (1 + i % 3)),
        "dates": lambda i: (X[i], np.datetime64("2020-01-01") + i),
    }
    for name, get in mixed.items():
        items = [get(i) for i in range(50)]
        arrays, _ = dataset_module.read_dataset(_Items(get, 50))
        want = _reference([item[1] for item in items])
        assert arrays[1].dtype == want.dtype, name
        assert arrays[1].tolist() == want.tolist(), name

    # and what a check per item refused is still refused, with the same message
    X = np.zeros((6, 3), np.float32)
    bad = {
        "nested dict": (lambda i: (X[i], {"a": 1}), TypeError, "dict at position 1"),
        "a dict in one item": (lambda i: (X[i], {"a": 1} if i == 4 else 1), TypeError,
                               "dict at position 1"),
        "shapes": (lambda i: (X[i, :1 + i % 2], 1), ValueError, "do not stack"),
        "lengths": (lambda i: (X[i], 1) if i % 5 else (X[i], 1, 2), ValueError,
                    "must hold 3 values"),
        "an array among tuples": (lambda i: (X[i], 1) if i != 3 else X[i], ValueError,
                                  "must hold 2 values"),
        "keys": (lambda i: {"x": X[i], "y": 1} if i % 5 else {"x": X[i]}, ValueError,
                 "with the keys"),
    }
    for name, (get, error, match) in bad.items():
        with pytest.raises(error, match=match):
            DataLoader(_Items(get, 6), batch_size=2)


def test_dataloader_checks_arrays_once_and_tensor_batches_own_their_memory(monkeypatch):
    X, y = np.zeros((10, 2), np.float32), np.arange(10)
    calls = []
    real = loader_module.as_array

    def counting(name, value, numeric=True):
        calls.append(name)
        return real(name, value, numeric=numeric)

    monkeypatch.setattr(loader_module, "as_array", counting)
    loader = DataLoader(X, y, batch_size=4)
    assert calls == ["X", "y"]  # before: X and y checked twice
    assert loader.X is X and loader.y is y and len(loader.dataset) == 10
    calls.clear()
    DataLoader(TensorDataset(X, y), batch_size=4)
    assert calls == []  # plain arrays with a sample axis need no conversion
    # what the checks refuse is still refused, naming the part
    with pytest.raises(TypeError, match="complex"):
        DataLoader(TensorDataset(X.astype(np.complex64), y), batch_size=4)
    with pytest.raises(TypeError, match="num_workers"):
        DataLoader(X, y, num_workers=0.0)
    with pytest.raises(TypeError, match="pin_memory"):
        DataLoader(X, y, pin_memory=0)

    # tensor batches (now wrapped with no may_share_memory test) own their memory
    Xt = nv.tensor(np.arange(24, dtype=np.float32).reshape(12, 2))
    yt = nv.Tensor(np.arange(12))
    keep = Xt.data.copy()
    for shuffle in (False, True):
        for loader in (DataLoader(Xt, yt, batch_size=5, shuffle=shuffle, seed=0),
                       DataLoader(TensorDataset(Xt, yt.data, yt), batch_size=5,
                                  shuffle=shuffle, seed=0)):
            seen = []
            for batch in loader:
                xb, yb = batch[0], batch[-1]
                assert isinstance(xb, nv.Tensor) and not xb.requires_grad
                assert isinstance(yb, nv.Tensor) and yb.dtype == np.int64
                for part, source in ((xb, Xt), (yb, yt)):
                    assert part.data.flags.writeable
                    assert not np.may_share_memory(part.data, source.data)
                seen += xb.data[:, 0].tolist()
                xb.data[...] = -1
                yb.data[...] = -1
            assert sorted(seen) == keep[:, 0].tolist()
            np.testing.assert_array_equal(Xt.data, keep)
            np.testing.assert_array_equal(yt.data, np.arange(12))
