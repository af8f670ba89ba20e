"""PyTorch-style datasets: indexable collections of examples that a DataLoader batches.

A :class:`TensorDataset` holds arrays with a shared first axis (item i is
``(X[i], y[i])``); :func:`random_split` cuts a dataset into random, disjoint
:class:`Subset` parts (train / validation). ``DataLoader(dataset, batch_size=...)``
takes any of them, or any object with ``__len__`` and ``__getitem__`` returning
``(x, y)`` pairs (read item by item, again every epoch, then batched as arrays). A
:class:`Subset` behaves like its parent: array-backed when the parent is, else read
item by item. What was given as a nerve Tensor comes back as one (items and batches,
as PyTorch gives back the type it was given); what was given as an array, as an array.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nerve.random import get_rng

from ._checks import as_array

__all__ = ["TensorDataset", "Subset", "random_split", "dataset_arrays"]


def is_tensor(value: Any) -> bool:
    """Whether ``value`` is a nerve Tensor (as opposed to an array or a list)."""
    from nerve.tensor import Tensor

    return isinstance(value, Tensor)


def as_tensor(array: np.ndarray):
    """``array`` as a constant nerve Tensor of the same dtype (int labels stay int),
    sharing its memory as ``nv.tensor`` does with a constant: an in-place change of the
    tensor copies the data first, so the array is never written through."""
    from nerve.tensor import Tensor

    return Tensor._wrap(array)


class TensorDataset:
    """Arrays (or tensors) sharing their first axis; ``dataset[i]`` is ``(X[i], y[i], ...)``.

    ``arrays`` holds them as NumPy arrays (a tensor's data, not copied); an item, and a
    DataLoader batch, gives back as a nerve Tensor (no gradient) what was given as one.
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self._as_tensor = tuple(is_tensor(a) for a in arrays)  # which were nerve Tensors
        self.arrays = tuple(as_array(f"TensorDataset array {k}", a, numeric=False)
                            for k, a in enumerate(arrays))
        n = len(self.arrays[0])
        lengths = [len(a) for a in self.arrays]
        if any(m != n for m in lengths):
            raise ValueError(f"TensorDataset: every array needs the same number of samples "
                             f"(first axis), got {lengths}")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(as_tensor(np.asarray(a[index])) if wrap else a[index]
                     for a, wrap in zip(self.arrays, self._as_tensor))

    def __repr__(self) -> str:
        shapes = ", ".join(str(a.shape) for a in self.arrays)
        return f"TensorDataset({shapes})"


class Subset:
    """The items ``indices`` of ``dataset`` (what :func:`random_split` returns)."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        index = np.asarray(indices)
        if index.ndim != 1 or index.size and index.dtype.kind not in "iu":
            raise TypeError(f"Subset: indices must be a 1-D sequence of integers, got "
                            f"{index.dtype} of shape {index.shape}")
        n = len(dataset)
        if index.size and (index.min() < 0 or index.max() >= n):
            raise IndexError(f"Subset: indices must lie in [0, {n}) for a dataset of {n} "
                             f"items, got {index.min()} to {index.max()}")
        self.indices = index.astype(np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Subset(self.dataset, self.indices[index])
        if isinstance(index, (list, np.ndarray)):  # several items: the parent's own batch
            return self.dataset[self.indices[np.asarray(index)]]
        return self.dataset[int(self.indices[index])]

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        """The parent's arrays, these rows only (for a TensorDataset or a Subset of one).

        Only an array-backed parent has them: for any other dataset this raises
        AttributeError (so ``hasattr(subset, "arrays")`` is False), because reading its
        items here would read the whole parent and freeze what ``__getitem__`` computes
        (random augmentation) instead of reading this Subset's items every epoch.
        """
        if not _array_backed(self.dataset):
            raise AttributeError(f"Subset.arrays: the parent dataset "
                                 f"{type(self.dataset).__name__} is not array-backed; read "
                                 "the items with subset[i]")
        return tuple(a[self.indices] for a in dataset_arrays(self.dataset))

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {self.dataset!r})"


def random_split(dataset: Any, lengths: Sequence[float], seed: int | None = None
                 ) -> list[Subset]:
    """Split ``dataset`` at random into disjoint parts of the given ``lengths``: non-negative
    counts that add up to ``len(dataset)``, or fractions in [0, 1] that add up to 1
    (rounded, any remainder going to the first parts in turn, as PyTorch)."""
    n = len(dataset)
    if isinstance(lengths, (str, bytes)) or not hasattr(lengths, "__iter__") or \
            not len(lengths):
        raise TypeError(f"random_split: lengths must be a list of counts or fractions, got "
                        f"{lengths!r}")
    lengths = [v.item() if isinstance(v, np.generic) else v for v in lengths]
    fractions = all(isinstance(v, float) for v in lengths)
    if fractions and not (all(0.0 <= f <= 1.0 for f in lengths)  # also refuses NaN
                          and abs(sum(lengths) - 1.0) < 1e-6):
        # e.g. [1.5, -0.5] adds up to 1 but is no split; PyTorch refuses it too
        raise ValueError(f"random_split: fractions must each lie in [0, 1] and add up to 1, "
                         f"got {lengths}")
    if fractions:
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    elif all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0
             for v in lengths):
        counts = [int(v) for v in lengths]
        if sum(counts) != n:
            raise ValueError(f"random_split: the lengths {counts} add up to {sum(counts)}, "
                             f"the dataset has {n} items")
    else:
        raise ValueError(f"random_split: lengths must be non-negative integer counts adding up "
                         f"to {n} or fractions in [0, 1] adding up to 1, got {lengths}")
    order = get_rng(seed).permutation(n)
    bounds = np.cumsum([0] + counts)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def _array_backed(dataset: Any) -> bool:
    """Whether ``dataset`` holds arrays (a TensorDataset, any object with an ``arrays``
    attribute, or a Subset of one), decided without reading any item."""
    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    return getattr(dataset, "arrays", None) is not None


def tensor_positions(dataset: Any) -> tuple[bool, ...]:
    """For an array-backed dataset (a TensorDataset, or a Subset of one), which of its
    arrays were given as nerve Tensors (all False for another object with ``arrays``)."""
    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    flags = getattr(dataset, "_as_tensor", None)
    if isinstance(flags, tuple) and all(isinstance(f, bool) for f in flags):
        return flags
    return (False,) * len(getattr(dataset, "arrays", ()))


def dataset_arrays(dataset: Any) -> tuple[np.ndarray, ...]:
    """The arrays behind ``dataset``: a TensorDataset's (or Subset's) own, or, for any other
    object with ``__len__``/``__getitem__``, every item read once and stacked."""
    return read_dataset(dataset)[0]


def read_dataset(dataset: Any) -> tuple[tuple[np.ndarray, ...], tuple[bool, ...]]:
    """:func:`dataset_arrays`, and which of them were nerve Tensors (in a TensorDataset,
    or in the items that ``__getitem__`` returns: item 0 decides)."""
    arrays = getattr(dataset, "arrays", None)
    if arrays is not None:
        return tuple(arrays), tensor_positions(dataset)
    name = type(dataset).__name__
    n = len(dataset)
    if n == 0:
        raise ValueError(f"the dataset {name} is empty")
    try:
        items = [dataset[i] for i in range(n)]
    except (KeyError, IndexError) as exc:
        raise TypeError(f"the dataset {name} must give its items by position, dataset[0] to "
                        f"dataset[{n - 1}] (a map-style dataset); reading them failed with "
                        f"{type(exc).__name__}: {exc}") from None
    first = items[0]
    # A tuple or list item is (x, y, ...), one array per position (PyTorch's collate).
    if not isinstance(first, (tuple, list)):
        return (np.stack([np.asarray(getattr(x, "data", x)) for x in items]),), \
            (is_tensor(first),)
    if any(not isinstance(item, (tuple, list)) or len(item) != len(first) for item in items):
        raise ValueError(f"every item of the dataset {name} must hold {len(first)} values, "
                         "as item 0 does")
    try:
        arrays = tuple(np.stack([np.asarray(getattr(item[k], "data", item[k]))
                                 for item in items]) for k in range(len(first)))
        flags = tuple(is_tensor(v) for v in first)
        if any(flags):  # as PyTorch's collate: with tensors in an item, its numbers too
            flags = tuple(f or a.dtype.kind in "biuf" for f, a in zip(flags, arrays))
        return arrays, flags
    except ValueError as exc:
        raise ValueError(f"the items of the dataset {type(dataset).__name__} do not stack "
                         f"into arrays (every example needs the same shape): {exc}") from None
