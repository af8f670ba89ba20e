"""PyTorch-style datasets: indexable collections of examples that a DataLoader batches.

A :class:`TensorDataset` holds arrays with a shared first axis (item i is
``(X[i], y[i])``); :func:`random_split` cuts a dataset into random, disjoint
:class:`Subset` parts (train / validation). ``DataLoader(dataset, batch_size=...)``
takes any of them, or any object with ``__len__`` and ``__getitem__`` returning
``(x, y, ...)`` tuples, single values or dicts (read item by item, again every epoch,
then batched as arrays, one per position or key, as PyTorch's ``default_collate``). A
:class:`Subset` behaves like its parent: array-backed when the parent is, else read
item by item. What was given as a nerve Tensor comes back as one (items and batches,
as PyTorch gives back the type it was given); what was given as an array, as an array.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nerve.random import get_rng

from ._checks import as_array

__all__ = ["TensorDataset", "Subset", "random_split", "dataset_arrays"]


_TENSOR_TYPE: Any = None  # nerve.tensor.Tensor, imported on first use (no import cycle)


def tensor_type() -> type:
    """The nerve Tensor class (imported once, then looked up: batches ask per part)."""
    global _TENSOR_TYPE
    if _TENSOR_TYPE is None:
        from nerve.tensor import Tensor

        _TENSOR_TYPE = Tensor
    return _TENSOR_TYPE


def is_tensor(value: Any) -> bool:
    """Whether ``value`` is a nerve Tensor (as opposed to an array or a list)."""
    return isinstance(value, _TENSOR_TYPE or tensor_type())


def as_tensor(array: np.ndarray):
    """``array`` as a constant nerve Tensor of the same dtype (int labels stay int),
    sharing its memory as ``nv.tensor`` does with a constant: an in-place change of the
    tensor copies the data first, so the array is never written through."""
    return (_TENSOR_TYPE or tensor_type())._wrap(array)


class TensorDataset:
    """Arrays (or tensors) sharing their first axis; ``dataset[i]`` is ``(X[i], y[i], ...)``.

    ``arrays`` holds them as NumPy arrays (a tensor's data, not copied); an item, and a
    DataLoader batch, gives back as a nerve Tensor (no gradient) what was given as one.
    """

    @classmethod
    def _of_arrays(cls, arrays: tuple[np.ndarray, ...], tensors: tuple[bool, ...]
                   ) -> "TensorDataset":
        """A TensorDataset over arrays already checked (DataLoader's ``dataset`` for
        ``DataLoader(X, y)``): no copy; ``tensors`` says which to give back as Tensors."""
        self = cls.__new__(cls)
        self.arrays = tuple(arrays)
        self._as_tensor = tuple(map(bool, tensors))
        return self

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


def random_split(dataset: Any, lengths: Sequence[float], seed: int | None = None,
                 generator: Any = None) -> list[Subset]:
    """Split ``dataset`` at random into disjoint parts of the given ``lengths``: non-negative
    counts that add up to ``len(dataset)``, or fractions in [0, 1] that add up to 1
    (PyTorch's rule: lengths whose sum is 1 are fractions; part i gets floor(n * f_i)
    items, the remainder going to the first parts in turn). ``generator`` is PyTorch's
    name for ``seed`` (an int or a NumPy Generator here)."""
    if generator is not None:
        if seed is not None:
            raise TypeError("random_split: pass seed= or generator=, not both")
        if type(generator).__module__.split(".")[0] == "torch":
            raise TypeError("random_split: pass seed=INT (or a numpy Generator) instead of a "
                            "torch.Generator, to fix the split")
        if isinstance(generator, bool) or not isinstance(
                generator, (numbers.Integral, np.random.Generator)):
            raise TypeError(f"random_split: generator must be an int seed or a numpy "
                            f"Generator, got {type(generator).__name__}")
        seed = generator
    n = len(dataset)
    if isinstance(lengths, (str, bytes)) or not hasattr(lengths, "__iter__") or \
            not len(lengths):
        raise TypeError(f"random_split: lengths must be a list of counts or fractions, got "
                        f"{lengths!r}")
    lengths = [v.item() if isinstance(v, np.generic) else v for v in lengths]
    numbers_given = all(isinstance(v, (int, float)) and not isinstance(v, bool)
                        for v in lengths)
    total = sum(lengths) if numbers_given else float("nan")
    # PyTorch: lengths adding up to 1 (and not more) are fractions, e.g. [0.8, 0.2], [1, 0.0]
    fractions = numbers_given and (math.isclose(total, 1.0) and total <= 1.0
                                   or all(isinstance(v, float) for v in lengths))
    if fractions and not (all(0.0 <= f <= 1.0 for f in lengths)  # also refuses NaN
                          and math.isclose(total, 1.0) and total <= 1.0 + 1e-9):
        # e.g. [1.5, -0.5] adds up to 1 but is no split; PyTorch refuses it too
        raise ValueError(f"random_split: fractions must each lie in [0, 1] and add up to 1, "
                         f"got {lengths}")
    if fractions:
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    elif numbers_given and all(isinstance(v, int) and v >= 0 for v in lengths):
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
    return collate_dataset(dataset)[:2]


def collate_dataset(dataset: Any) -> tuple[tuple[np.ndarray, ...], tuple[bool, ...], Any]:
    """``(arrays, tensor flags, layout)``: the dataset's arrays, one per position of an item
    (or per key of a dict item), which of them were nerve Tensors, and how an item was laid
    out: ``None`` for a single value, ``"tuple"`` for a tuple or list (also of length 1), or
    the tuple of keys of a dict item (PyTorch's ``default_collate``, one level deep)."""
    arrays = getattr(dataset, "arrays", None)
    if arrays is not None:
        return tuple(arrays), tensor_positions(dataset), "tuple"
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
    # The layout is decided once, from the types of all items (one C-level pass), so the
    # usual items (tuples of arrays and numbers) need no check per item.
    kinds = set(map(type, items))
    if isinstance(first, Mapping):  # {"x": ..., "y": ...}: batched key by key
        keys = tuple(first)
        if not keys:
            raise ValueError(f"the items of the dataset {name} are empty dicts")
        if kinds == {dict}:
            same = all(map(first.keys().__eq__, map(dict.keys, items)))
        else:
            wanted = set(keys)
            same = all(isinstance(item, Mapping) and set(item) == wanted for item in items)
        if not same:
            raise ValueError(f"every item of the dataset {name} must be a dict with the keys "
                             f"{list(keys)}, as item 0 is")
        columns = [[item[key] for item in items] for key in keys]
        return (*_stack_columns(columns, [first[k] for k in keys], name,
                                [f"key {k!r}" for k in keys]), keys)
    # A tuple or list item is (x, y, ...), one array per position (PyTorch's collate).
    if not isinstance(first, (tuple, list)):
        return (*_stack_columns([items], [first], name, ["item"]), None)
    if not all(issubclass(kind, (tuple, list)) for kind in kinds) or \
            set(map(len, items)) != {len(first)}:
        raise ValueError(f"every item of the dataset {name} must hold {len(first)} values, "
                         "as item 0 does")
    if not first:
        raise ValueError(f"the items of the dataset {name} are empty {type(first).__name__}s")
    columns = list(zip(*items))  # one tuple of values per position
    return (*_stack_columns(columns, list(first), name,
                            [f"position {k}" for k in range(len(first))]), "tuple")


def _stack_columns(columns: list[Sequence[Any]], firsts: list[Any], name: str,
                   where: list[str]) -> tuple[tuple[np.ndarray, ...], tuple[bool, ...]]:
    """Each column of item values stacked into one array (nerve Tensors unwrapped), and
    which columns were Tensors; with tensors in an item, its numbers become tensors too
    (as PyTorch's collate)."""
    Tensor = tensor_type()
    try:
        arrays = tuple(_stack_column(column, name, w, Tensor)
                       for column, w in zip(columns, where))
    except ValueError as exc:
        raise ValueError(f"the items of the dataset {name} do not stack into arrays (every "
                         f"example needs the same shape): {exc}") from None
    flags = tuple(isinstance(v, Tensor) for v in firsts)
    if any(flags):
        flags = tuple(f or a.dtype.kind in "biuf" for f, a in zip(flags, arrays))
    return arrays, flags


#: Value types stacked as they are, with no check per value: np.stack of the column gives
#: what np.stack of each value's np.asarray would (numbers of one type: np.asarray of it).
_NUMBER_TYPES = frozenset({float, bool, np.float16, np.float32, np.float64, np.longdouble,
                           np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
                           np.uint32, np.uint64, np.bool_, np.complex64, np.complex128})


def _stack_column(column: Sequence[Any], name: str, where: str, tensor_type: type
                  ) -> np.ndarray:
    """One column of item values (position k of every item) as one array: a column of
    plain ndarrays, of nerve Tensors or of numbers of one type is stacked at once (the
    usual ``(x, int(label))`` items); any other column value by value (:func:`_item_array`)."""
    kinds = set(map(type, column))
    if len(kinds) == 1:
        kind = kinds.pop()
        if kind is np.ndarray:
            return np.stack(column)
        if kind is tensor_type:
            return np.stack([v.data for v in column])
        if kind in _NUMBER_TYPES:
            return np.asarray(column)
        if kind is int:  # Python ints: int64 unless one is too large for it
            stacked = np.asarray(column)
            if stacked.dtype == np.asarray(0).dtype:
                return stacked
    return np.stack([_item_array(v, name, where) for v in column])


def _item_array(value: Any, name: str, where: str) -> np.ndarray:
    """One value of an item as an array: a nerve Tensor's data, a torch tensor's
    ``.numpy()``; a dict or a scipy.sparse matrix is refused (never read through ``.data``,
    which for a sparse row is only its non-zero values)."""
    if isinstance(value, np.ndarray):
        return value
    if is_tensor(value):
        return value.data
    if hasattr(value, "toarray") and hasattr(value, "nnz"):
        raise TypeError(f"the dataset {name} gives a {type(value).__name__} sparse matrix at "
                        f"{where} of its items; DataLoader batches dense arrays: return "
                        "row.toarray()[0] (or .toarray()) from __getitem__")
    if isinstance(value, Mapping):
        raise TypeError(f"the dataset {name} gives a dict at {where} of its items; DataLoader "
                        "batches dict items one level deep ({'x': array, 'y': label}); "
                        "flatten the nested dict")
    numpy = getattr(value, "numpy", None)
    if callable(numpy) and type(value).__module__.split(".")[0] == "torch":
        value = value.detach().cpu().numpy()
    return np.asarray(value)
