"""Audit 13 (data pipeline): the fixes for findings 1-12 of /tmp/audit13/report_data.md."""
import gzip
import os
import struct
import sys
import threading

import numpy as np
import pytest

import nerve as nv
from nerve.data import (DataLoader, TensorDataset, load_cifar10, load_fashion_mnist,
                        load_mnist, random_split, read_cifar10_batch, read_idx, standardize,
                        train_test_split)


def idx_bytes(array):
    """An IDX (uint8) file's bytes for ``array``."""
    head = struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(">" + "I" * array.ndim,
                                                                    *array.shape)
    return head + array.astype(np.uint8).tobytes()


def write_mnist(folder, n_train=20, n_test=10):
    """Tiny MNIST files under their published (gzipped) names; returns the train labels."""
    os.makedirs(folder, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        y = (np.arange(n) % 10).astype(np.uint8)
        images = np.zeros((n, 28, 28), np.uint8) + y[:, None, None]
        with open(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), "wb") as f:
            f.write(gzip.compress(idx_bytes(images)))
        with open(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), "wb") as f:
            f.write(gzip.compress(idx_bytes(y)))
    return (np.arange(n_train) % 10)


# ---- 1. items with a .data attribute are not read through it -------------------------

class _WithData:
    """An array-like whose ``.data`` is NOT its values (like a scipy.sparse row)."""

    def __init__(self, values):
        self.values = np.asarray(values, np.float32)
        self.data = self.values[self.values != 0]  # the non-zeros only

    def __array__(self, dtype=None, copy=None):
        return self.values if dtype is None else self.values.astype(dtype)


def test_items_with_a_data_attribute_are_read_as_arrays_not_through_data():
    rows = np.zeros((4, 6), np.float32)
    for i in range(4):
        rows[i, [i, i + 2]] = [1.0, 3.0]

    class Docs:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return _WithData(rows[i]), i

    xb, yb = next(iter(DataLoader(Docs(), batch_size=4, shuffle=False)))
    np.testing.assert_array_equal(xb, rows)
    np.testing.assert_array_equal(yb, np.arange(4))

    class T:  # nerve Tensors (whose .data is their array) are still unwrapped
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return nv.tensor(np.full(2, float(i), np.float32)), i

    xb, yb = next(iter(DataLoader(T(), batch_size=3, shuffle=False)))
    assert isinstance(xb, nv.Tensor) and isinstance(yb, nv.Tensor)
    np.testing.assert_array_equal(xb.numpy(), np.repeat(np.arange(3.0), 2).reshape(3, 2))


def test_datetime_labels_come_back_as_dates():
    class Dates:
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.ones(2), np.datetime64(f"2020-01-0{i + 1}")

    _, dates = next(iter(DataLoader(Dates(), batch_size=2, shuffle=False)))
    assert dates.dtype.kind == "M"
    np.testing.assert_array_equal(dates, np.array(["2020-01-01", "2020-01-02"],
                                                  dtype="datetime64[D]"))


def test_scipy_sparse_items_are_refused_with_a_toarray_hint():
    sp = pytest.importorskip("scipy.sparse")
    rows = sp.csr_matrix(np.eye(4, 6, dtype=np.float32))

    class Docs:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return rows[i], i

    with pytest.raises(TypeError, match="toarray"):
        DataLoader(Docs(), batch_size=4)


# ---- 2. unshuffled batches never write into the caller's data ------------------------

def test_changing_a_batch_in_place_never_changes_the_data():
    X = np.arange(8, dtype=np.float32).reshape(4, 2)
    y = np.arange(4)
    for shuffle in (False, True):
        A = X.copy()
        for _ in range(2):
            for xb, yb in DataLoader(A, y, batch_size=2, shuffle=shuffle, seed=0):
                try:
                    xb -= 1.0
                except ValueError as exc:  # the read-only view of shuffle=False
                    assert "read-only" in str(exc)
        np.testing.assert_array_equal(A, X)
        assert A.flags.writeable  # the caller's own array stays writable


def test_unshuffled_numpy_batches_are_read_only_views_and_shuffled_ones_fresh():
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.arange(6)
    for xb, yb in DataLoader(X, y, batch_size=4, shuffle=False):
        assert not xb.flags.writeable and not yb.flags.writeable
        assert np.shares_memory(xb, X)  # no copy
    for xb, yb in DataLoader(X, y, batch_size=4, shuffle=True, seed=0):
        assert not np.shares_memory(xb, X)
    for xb in DataLoader(X, batch_size=4, shuffle=False):
        assert not xb.flags.writeable
    # fit, which batches through DataLoader, still trains on read-only batches
    rng = np.random.default_rng(0)
    Xf = rng.normal(size=(32, 3)).astype(np.float32)
    yf = (Xf[:, 0] > 0).astype(np.int64)
    X0 = Xf.copy()
    model = nv.nn.Sequential(nv.nn.Linear(3, 2))
    history = nv.fit(model, Xf, yf, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=2,
                     batch_size=8, shuffle=False, progress=False)
    assert len(history.history["loss"]) == 2
    np.testing.assert_array_equal(Xf, X0)


# ---- 3. a dataset's items batch into one entry per position --------------------------

def test_a_one_array_tensor_dataset_yields_one_element_tuples():
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    batches = list(DataLoader(TensorDataset(nv.tensor(X)), batch_size=4, shuffle=False))
    assert all(isinstance(b, tuple) and len(b) == 1 for b in batches)
    np.testing.assert_array_equal(batches[0][0].numpy(), X[:4])
    seen = [xb for (xb,) in DataLoader(TensorDataset(X), batch_size=4, shuffle=False)]
    np.testing.assert_array_equal(np.concatenate(seen), X)
    # bare arrays and single-value items keep their shape
    X, y = np.ones((5, 2), np.float32), np.arange(5)
    assert isinstance(next(iter(DataLoader(X, batch_size=2))), np.ndarray)
    pair = next(iter(DataLoader(X, y, batch_size=2)))
    assert isinstance(pair, tuple) and len(pair) == 2

    class Single:
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return np.full(2, i, np.float32)

    batch = next(iter(DataLoader(Single(), batch_size=3, shuffle=False)))
    assert isinstance(batch, np.ndarray) and batch.shape == (3, 2)


def test_three_arrays_batch_into_triples():
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    y, w = np.arange(6), np.linspace(0, 1, 6)
    loader = DataLoader(TensorDataset(X, y, w), batch_size=4, shuffle=True, seed=0)
    rows = []
    for xb, yb, wb in loader:
        np.testing.assert_array_equal(xb, X[yb])  # the three parts stay aligned
        np.testing.assert_array_equal(wb, w[yb])
        rows.append(yb)
    assert sorted(np.concatenate(rows).tolist()) == list(range(6))


def test_a_dataset_of_one_tuples_is_read_again_every_epoch_as_one_tuples():
    class Aug:
        calls = 0

        def __len__(self):
            return 4

        def __getitem__(self, i):
            Aug.calls += 1
            return (np.full(2, Aug.calls, np.float32),)

    loader = DataLoader(Aug(), batch_size=4, shuffle=False)
    (first,) = next(iter(loader))
    (second,) = next(iter(loader))
    assert not np.array_equal(first, second)


# ---- 5. loader.dataset for arrays ----------------------------------------------------

def test_loader_dataset_of_arrays_has_a_length_and_items():
    X, y = np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10)
    loader = DataLoader(X, y, batch_size=4, shuffle=False)
    assert len(loader.dataset) == 10
    xi, yi = loader.dataset[3]
    np.testing.assert_array_equal(xi, X[3])
    assert yi == 3
    assert len(DataLoader(X, batch_size=4).dataset) == 10
    item = DataLoader(nv.tensor(X), nv.tensor(y), batch_size=4).dataset[0]
    assert isinstance(item[0], nv.Tensor) and isinstance(item[1], nv.Tensor)


# ---- 6. random_split: generator= and PyTorch's fraction rule -------------------------

def test_random_split_takes_generator_as_its_seed():
    ds = TensorDataset(np.ones((10, 2)), np.arange(10))
    a = random_split(ds, [0.8, 0.2], generator=np.random.default_rng(0))
    b = random_split(ds, [0.8, 0.2], seed=np.random.default_rng(0))
    assert [len(s) for s in a] == [8, 2]
    np.testing.assert_array_equal(a[0].indices, b[0].indices)
    c, d = random_split(ds, [5, 5], generator=3), random_split(ds, [5, 5], seed=3)
    np.testing.assert_array_equal(c[1].indices, d[1].indices)
    with pytest.raises(TypeError, match="not both"):
        random_split(ds, [5, 5], seed=1, generator=2)
    with pytest.raises(TypeError, match="generator"):
        random_split(ds, [5, 5], generator="0")


def test_random_split_refuses_a_torch_generator_with_a_hint():
    torch = pytest.importorskip("torch")
    ds = TensorDataset(np.ones((10, 2)), np.arange(10))
    with pytest.raises(TypeError, match="seed="):
        random_split(ds, [5, 5], generator=torch.Generator().manual_seed(0))


def test_random_split_takes_lengths_adding_up_to_one_as_fractions():
    ds = TensorDataset(np.ones((10, 2)), np.arange(10))
    assert [len(s) for s in random_split(ds, [1, 0.0], seed=0)] == [10, 0]
    assert [len(s) for s in random_split(ds, [0, 1], seed=0)] == [0, 10]
    assert [len(s) for s in random_split(ds, [3, 7], seed=0)] == [3, 7]
    for bad in ([1.5, -0.5], [0.5, 0.4], [True, 9]):
        with pytest.raises(ValueError):
            random_split(ds, bad)


# ---- 7. standardize scales small-scale features --------------------------------------

def test_standardize_scales_features_of_a_tiny_scale():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3)) * np.array([1e-16, 1e-14, 1.0])
    X_std, _, std = standardize(X)
    np.testing.assert_allclose(X_std.std(0), 1.0, rtol=1e-6)
    np.testing.assert_allclose(std, X.std(0), rtol=1e-12)
    X32 = (rng.normal(size=(200, 2)) * 3e-30).astype(np.float32)
    np.testing.assert_allclose(standardize(X32)[0].std(0), 1.0, rtol=1e-4)
    # true constants still get std 1 and become (round-off) zeros
    C = np.column_stack([np.full(7, 0.1), np.zeros(7), np.full(7, 1e20), np.arange(7.0)])
    C_std, _, std = standardize(C)
    np.testing.assert_array_equal(std[:3], 1.0)
    np.testing.assert_allclose(C_std[:, :3], 0.0, atol=1e-12)


# ---- 8. FIFOs and folders under data file names --------------------------------------

def _returns_within(fn, seconds=5.0):
    """Run fn in a daemon thread; (finished, exception)."""
    box = {}

    def target():
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["exc"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive(), box.get("exc")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("reader", [read_idx, read_cifar10_batch])
def test_readers_refuse_a_fifo_instead_of_blocking(tmp_path, reader):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    done, exc = _returns_within(lambda: reader(fifo))
    assert done, "the reader blocked on a FIFO"
    assert isinstance(exc, ValueError) and "not a regular file" in str(exc)


def test_load_cifar10_says_a_folder_under_a_batch_name_is_a_folder(tmp_path):
    (tmp_path / "cifar-10-batches-bin" / "test_batch.bin").mkdir(parents=True)
    with pytest.raises(ValueError, match="is a folder"):
        load_cifar10(tmp_path, train=False)


# ---- 9. mnist1d's train_split and seed -----------------------------------------------

def test_mnist1d_refuses_an_empty_part_and_takes_numpy_numbers_and_generators():
    pytest.importorskip("mnist1d")
    with pytest.raises(ValueError, match="both parts"):
        nv.data.mnist1d(20, train_split=0.01, seed=0)
    parts = nv.data.mnist1d(20, train_split=np.float32(0.5), seed=0)
    assert [len(p) for p in parts] == [10, 10, 10, 10]
    a = nv.data.mnist1d(20, seed=np.random.default_rng(1))
    b = nv.data.mnist1d(20, seed=np.random.default_rng(1))
    np.testing.assert_array_equal(a[0], b[0])


# ---- 10. dict items --------------------------------------------------------------------

def test_dict_items_batch_key_by_key():
    class D:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": np.full(2, i, np.float32), "y": i}

    batches = list(DataLoader(D(), batch_size=2, shuffle=False))
    assert [sorted(b) for b in batches] == [["x", "y"]] * 3
    np.testing.assert_array_equal(np.concatenate([b["y"] for b in batches]), np.arange(5))
    np.testing.assert_array_equal(batches[1]["x"], [[2, 2], [3, 3]])
    for b in DataLoader(D(), batch_size=2, shuffle=True, seed=0):
        np.testing.assert_array_equal(b["x"][:, 0], b["y"])


def test_dict_items_with_different_keys_are_refused_by_name():
    class D:
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return {"x": np.ones(2)} if i == 0 else {"x": np.ones(2), "z": 1}

    with pytest.raises(ValueError, match="keys"):
        DataLoader(D(), batch_size=2)


# ---- 11. stratified splits -------------------------------------------------------------

def test_stratify_refuses_a_part_smaller_than_the_number_of_classes():
    X, y = np.arange(12), np.array([0] * 6 + [1] * 3 + [2] * 3)
    with pytest.raises(ValueError, match="test part"):
        train_test_split(X, y, test_size=2, stratify=True, seed=0)
    with pytest.raises(ValueError, match="train part"):
        train_test_split(X, y, train_size=2, stratify=True, seed=0)
    parts = train_test_split(X, y, test_size=3, stratify=True, seed=0)
    assert sorted(parts[3].tolist()) == [0, 1, 2]


def test_stratify_by_one_hot_rows():
    Y = np.eye(3)[np.arange(90) % 3]
    X_tr, X_te, Y_tr, Y_te = train_test_split(np.arange(90), Y, test_size=30, stratify=True,
                                              seed=0)
    np.testing.assert_array_equal(Y_te.sum(0), [10, 10, 10])
    np.testing.assert_array_equal(Y_tr.sum(0), [20, 20, 20])
    np.testing.assert_array_equal(Y[X_te], Y_te)
    with pytest.raises(ValueError, match="only 1 member"):
        train_test_split(np.arange(5), np.array([[0, 1]] * 4 + [[1, 0]]), stratify=True)


# ---- 4. nerve train --data-root: ~ and --download --------------------------------------

def test_train_data_root_expands_home(tmp_path, monkeypatch):
    from nerve.train.build import load_dataset

    monkeypatch.setenv("HOME", str(tmp_path))
    if sys.platform == "win32":
        monkeypatch.setenv("USERPROFILE", str(tmp_path))
    write_mnist(tmp_path / "mn", n_train=100)
    ds = load_dataset("mnist", "~/mn", seed=0)
    assert len(ds.X_train) + len(ds.X_val) == 100 and ds.num_features == 784


def test_train_download_goes_on_into_a_folder_that_does_not_exist_yet(tmp_path,
                                                                       monkeypatch):
    from nerve import data
    from nerve.train.build import _raw

    seen = []

    def fake_load(root, train=True, download=False):
        seen.append((root, download))
        return np.zeros((4, 28, 28), np.uint8), np.arange(4)

    monkeypatch.setattr(data, "load_mnist", fake_load)
    fresh = tmp_path / "fresh"
    X, y, Xt, yt = _raw("mnist", str(fresh), 0, download=True)
    assert seen and seen[0] == (str(fresh), True) and X.shape == (4, 784)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        _raw("mnist", str(tmp_path / "other"), 0, download=False)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(FileNotFoundError, match="not a folder"):
        _raw("mnist", str(tmp_path / "afile"), 0, download=True)


# ---- 12. torchvision's MNIST layout -----------------------------------------------------

@pytest.mark.parametrize("loader, folder", [(load_mnist, "MNIST"),
                                            (load_fashion_mnist, "FashionMNIST")])
def test_torchvision_layout_is_read(tmp_path, loader, folder):
    labels = write_mnist(tmp_path / folder / "raw")
    images, y = loader(tmp_path)
    np.testing.assert_array_equal(y, labels)
    assert images.shape == (20, 28, 28)
    np.testing.assert_array_equal(loader(tmp_path / folder, train=False)[1], np.arange(10))
