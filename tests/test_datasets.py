"""TensorDataset, random_split and DataLoader over datasets, as PyTorch code uses them."""
import numpy as np
import pytest

from nerve.data import DataLoader, Subset, TensorDataset, random_split
import nerve as nv

X = np.arange(40, dtype=np.float32).reshape(20, 2)
Y = np.arange(20)


def test_tensor_dataset_items_and_checks():
    ds = TensorDataset(nv.tensor(X), Y)
    assert len(ds) == 20
    x3, y3 = ds[3]
    np.testing.assert_array_equal(x3, X[3])
    assert y3 == 3
    with pytest.raises(ValueError, match=r"same number of samples.*\[20, 19\]"):
        TensorDataset(X, Y[:-1])
    with pytest.raises(ValueError, match="at least one array"):
        TensorDataset()


def test_random_split_gives_disjoint_parts_covering_the_dataset():
    ds = TensorDataset(X, Y)
    train, val = random_split(ds, [0.75, 0.25], seed=0)
    assert (len(train), len(val)) == (15, 5)
    labels = np.concatenate([train.arrays[1], val.arrays[1]])
    assert sorted(labels.tolist()) == list(range(20))
    np.testing.assert_array_equal(train.arrays[0], X[train.arrays[1]])  # rows stay paired
    again = random_split(ds, [15, 5], seed=0)
    np.testing.assert_array_equal(again[0].indices, train.indices)  # counts = fractions
    parts = random_split(ds, [0.34, 0.33, 0.33], seed=1)
    assert [len(p) for p in parts] == [7, 7, 6]  # the remainder goes to the first parts
    with pytest.raises(ValueError, match=r"add up to 21, the dataset has 20"):
        random_split(ds, [15, 6])


def test_data_loader_batches_a_dataset_or_a_split_of_one():
    ds = TensorDataset(X, Y)
    loader = DataLoader(ds, batch_size=8, shuffle=False)
    assert loader.dataset is ds and len(loader) == 3
    xb, yb = next(iter(loader))
    np.testing.assert_array_equal(xb, X[:8])
    np.testing.assert_array_equal(yb, Y[:8])
    _, val = random_split(ds, [16, 4], seed=0)
    seen = np.concatenate([yb for _, yb in DataLoader(val, batch_size=3, shuffle=False)])
    np.testing.assert_array_equal(seen, val.indices)
    with pytest.raises(TypeError, match="takes the labels from the dataset"):
        DataLoader(ds, Y)


class _Squares:
    """A map-style dataset written the PyTorch way: __len__ and __getitem__."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return np.full(3, i, np.float32), i * i


def test_data_loader_reads_any_map_style_dataset_once():
    batches = list(DataLoader(_Squares(), batch_size=2, shuffle=False))
    assert [yb.tolist() for _, yb in batches] == [[0, 1], [4, 9], [16]]
    assert batches[1][0].shape == (2, 3) and batches[1][0][1, 0] == 3.0
    assert isinstance(random_split(_Squares(), [3, 2])[0], Subset)


class _ListItems:
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return [float(i), i % 2]  # a list (x, y), as PyTorch's collate reads it


class _Augmented:
    """A dataset that draws something new on every read (random augmentation)."""

    def __init__(self):
        self.reads = 0

    def __len__(self):
        return 3

    def __getitem__(self, i):
        self.reads += 1
        return np.full(2, self.reads, np.float32), 0


def test_list_items_are_pairs_and_items_are_read_again_each_epoch():
    (xb, yb), = list(DataLoader(_ListItems(), batch_size=4, shuffle=False))
    np.testing.assert_array_equal(xb, [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(yb, [0, 1, 0, 1])
    ds = _Augmented()
    loader = DataLoader(ds, batch_size=3, shuffle=False)
    firsts = [xb[0, 0] for _ in range(3) for xb, _ in loader]
    assert firsts == [1.0, 4.0, 7.0] and ds.reads == 9  # fresh items every epoch


def test_subsets_check_their_indices_and_slice():
    ds = TensorDataset(X, Y)
    with pytest.raises(TypeError, match="indices must be a 1-D sequence of integers"):
        Subset(ds, [1.5])
    with pytest.raises(IndexError, match=r"indices must lie in \[0, 20\).*got 3 to 25"):
        Subset(ds, [3, 25])
    part = Subset(ds, [0, 5, 9])[1:]
    assert isinstance(part, Subset) and part.arrays[1].tolist() == [5, 9]
    assert [len(p) for p in random_split(ds, np.array([12, 8]), seed=0)] == [12, 8]


def test_objects_that_are_not_map_datasets_get_a_clear_error():
    with pytest.raises(TypeError, match="must give its items by position.*KeyError"):
        DataLoader({"a": 1})
    with pytest.raises(TypeError, match="can only be iterated: collect it first"):
        DataLoader(i for i in range(3))


def test_data_loader_takes_pytorchs_dataset_keyword():
    ds = TensorDataset(X, Y)
    loader = DataLoader(dataset=ds, batch_size=5, shuffle=False)
    assert loader.dataset is ds and len(loader) == 4
    with pytest.raises(TypeError, match="pass the data once"):
        DataLoader(X, dataset=ds)
    with pytest.raises(TypeError, match="needs the data"):
        DataLoader(batch_size=4)
