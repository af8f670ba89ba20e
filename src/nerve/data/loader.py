"""Minibatches over in-memory arrays: one shuffled pass per epoch."""
from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from nerve.random import get_rng

from ._checks import as_array, check_bool, check_int
from .dataset import TensorDataset, collate_dataset, is_tensor, tensor_positions, tensor_type

__all__ = ["DataLoader"]


class DataLoader:
    """Iterate over minibatches, ``(X_batch, y_batch)`` for ``DataLoader(X, y)``, of the type
    the data were given in.

    What a batch is: each part keeps the type and dtype its data came in. From NumPy
    arrays (or lists) it is a NumPy array, ``X[idx]`` (this is what :func:`nerve.fit`
    batches): with ``shuffle=True`` a fresh array of the drawn rows, with ``shuffle=False``
    a read-only view of X (no copy; the data are never changed through a batch: to change
    a batch, make a new one, ``xb = (xb - mean) / std``, or ``xb = xb.copy()``). From nerve
    Tensors (``DataLoader(X_t, y_t)``, a :class:`~nerve.data.TensorDataset` or
    :func:`~nerve.data.random_split` part built from tensors, or a dataset whose items are
    tensors) it is a constant ``nv.Tensor`` (``requires_grad=False``, int labels stay
    int64), as PyTorch's DataLoader gives tensors: ``xb.size(0)``, ``xb.to(device)``,
    ``yb.long()``, ``xb.view(-1, 64)`` work. A tensor batch never shares writable memory
    with the dataset: it is a fresh copy of the rows (as PyTorch's collate makes one).

    The shape of a batch: ``DataLoader(X)`` yields the X batches alone, ``DataLoader(X, y)``
    ``(X_batch, y_batch)``. Over a dataset it follows the items, as PyTorch's
    ``default_collate``: an item ``(x, y, w, ...)`` (a :class:`~nerve.data.TensorDataset`
    of any number of arrays, also of one: ``for (xb,) in loader``) gives a tuple of one
    batch per position, a single value a single batch, a dict ``{"x": ..., "y": ...}`` a
    dict of batches. ``loader.dataset`` is the dataset (a TensorDataset view of the arrays
    for ``DataLoader(X, y)``, so ``len(loader.dataset)`` is N).

    Each ``for`` loop over the loader is one epoch: a pass over all N examples
    without replacement, in ``len(loader) = ceil(N / batch_size)`` batches (the
    last one smaller), or ``floor(N / batch_size)`` full batches with
    ``drop_last=True``.  With ``shuffle=True`` every epoch draws a fresh
    permutation: from a generator seeded once with ``seed`` (so epoch k's order
    is the same for two loaders built with the same seed), or, with
    ``seed=None``, from the library-wide generator that :func:`nerve.manual_seed`
    reseeds. X may also be a dataset (:class:`~nerve.data.TensorDataset`, a
    :func:`~nerve.data.random_split` part, or any object with ``__len__`` and
    ``__getitem__``); one that is not array-backed is read item by item again every epoch.

    X has shape (N, ...) and y shape (N, ...); batches keep their dtypes.

    PyTorch's ``num_workers``, ``pin_memory``, ``persistent_workers``, ``prefetch_factor``,
    ``timeout`` and ``worker_init_fn`` are accepted and change nothing: a batch is a slice
    of arrays already in memory, made in this process, with no device to pin for.
    ``collate_fn``, ``sampler`` and ``batch_sampler`` are refused with a hint.

    >>> X, y = np.zeros((10, 2), np.float32), np.arange(10)
    >>> loader = DataLoader(X, y, batch_size=4, seed=0)
    >>> len(loader), [len(yb) for _, yb in loader]
    (3, [4, 4, 2])
    """

    def __init__(self, X: np.ndarray | None = None, y: np.ndarray | None = None,
                 batch_size: int = 32, shuffle: bool = True, seed: int | None = None,
                 drop_last: bool = False, *, dataset=None, num_workers: int = 0,
                 pin_memory: bool = False, collate_fn=None, sampler=None,
                 batch_sampler=None, **worker_options) -> None:
        if worker_options or not (num_workers.__class__ is int and num_workers == 0 and
                                  pin_memory is False and collate_fn is None and
                                  sampler is None and batch_sampler is None):
            _check_torch_options(num_workers, pin_memory, collate_fn, sampler, batch_sampler,
                                 worker_options)
        if dataset is not None:  # PyTorch's keyword: DataLoader(dataset=ds, batch_size=...)
            if X is not None:
                raise TypeError("DataLoader: pass the data once, as X (and y) or as dataset=")
            X = dataset
        if X is None:
            raise TypeError("DataLoader needs the data: DataLoader(X, y, ...) or "
                            "DataLoader(dataset, ...)")
        self._reread = False
        self._epochs = 0
        if _is_dataset(X):  # DataLoader(TensorDataset(X, y)), a Subset or any map dataset
            if isinstance(y, int) and not isinstance(y, bool):  # PyTorch's DataLoader(ds, 64)
                raise TypeError(f"DataLoader(dataset, {y}, ...): the second argument is y here "
                                "(nerve's DataLoader also takes arrays X, y); pass the batch "
                                f"size by name: DataLoader(dataset, batch_size={y}, ...)")
            if y is not None:
                raise TypeError("DataLoader(dataset, ...) takes the labels from the dataset; "
                                "pass y only with an array X")
            self.dataset = X
            # Items computed in __getitem__ (random augmentation) are read again each epoch;
            # array-backed datasets (TensorDataset, a Subset of one) are taken as they are.
            # One getattr: a Subset's arrays property gathers rows, so it runs only once.
            backed = getattr(X, "arrays", None)
            self._reread = backed is None
            if backed is None:
                self._take(*collate_dataset(X))
            else:
                self._take(tuple(backed), tensor_positions(X), "tuple")
        else:
            tensors = (is_tensor(X),) if y is None else (is_tensor(X), is_tensor(y))
            X = as_array("X", X)
            if y is not None:
                y = as_array("y", y, numeric=False)
                if len(y) != len(X):
                    raise ValueError(f"X and y must hold the same number of samples: "
                                     f"X has {len(X)}, y has {len(y)}")
            self._hold((X,) if y is None else (X, y), tensors, None if y is None else "tuple")
            self.dataset = TensorDataset._of_arrays(self._parts, self._tensors)
        if len(self.X) == 0:
            raise ValueError("DataLoader needs at least one sample, X is empty")
        self.batch_size = check_int("batch_size", batch_size)
        self.shuffle = check_bool("shuffle", shuffle)
        self.drop_last = check_bool("drop_last", drop_last)
        # An int seed gets its own generator now, so successive epochs continue its
        # stream; seed=None looks the library-wide generator up at every epoch.
        self._rng = None if seed is None else get_rng(seed)

    def _take(self, arrays: tuple, tensors: tuple[bool, ...], layout) -> None:
        """Hold a dataset's arrays (checked), which to give as Tensors, and the layout of a
        batch: None (one array alone), "tuple", or a dict's keys."""
        numeric = not isinstance(layout, tuple)  # the inputs X come first, but not in a dict
        parts = tuple(_checked(a, layout, k, len(arrays), numeric and k == 0)
                      for k, a in enumerate(arrays))
        n = len(parts[0])
        for k, part in enumerate(parts[1:], start=1):
            if len(part) != n:
                raise ValueError(f"DataLoader: every array needs the same number of samples: "
                                 f"{_part_name(layout, 0, len(parts))} has {n}, "
                                 f"{_part_name(layout, k, len(parts))} has {len(part)}")
        self._hold(parts, tensors, layout)

    def _hold(self, parts: tuple[np.ndarray, ...], tensors: tuple[bool, ...], layout) -> None:
        """Hold arrays already checked (see :meth:`_take`)."""
        self._parts = parts
        self._tensors = tuple(map(bool, tensors))
        self._layout = layout
        self.X = parts[0]  # the first part (the inputs), as before
        self.y = parts[1] if len(parts) > 1 else None

    @property
    def num_samples(self) -> int:
        """N, the number of examples in one epoch (before ``drop_last``)."""
        return len(self.X)

    def __len__(self) -> int:
        if self.drop_last:
            return self.num_samples // self.batch_size
        return math.ceil(self.num_samples / self.batch_size)

    def _order(self) -> np.ndarray | None:
        if not self.shuffle:
            return None
        rng = self._rng if self._rng is not None else get_rng(None)
        return rng.permutation(self.num_samples)

    def __iter__(self) -> Iterator:
        return self._batches()

    def _batches(self) -> Iterator:
        """One epoch of batches: NumPy parts as read-only views (``shuffle=False``) or
        fresh gathered rows, tensor parts as constant Tensors of their own memory."""
        if self._reread and self._epochs:
            self._take(*collate_dataset(self.dataset))
        self._epochs += 1
        order = self._order()
        parts, tensors, layout = self._parts, self._tensors, self._layout
        if order is None:  # slices of a read-only view: never written through, no copy
            sources = tuple(_read_only(p) for p in parts)
        else:
            sources = parts
        size, n = self.batch_size, self.num_samples
        bounds = [(b * size, min(b * size + size, n)) for b in range(len(self))]
        if True not in tensors and len(parts) <= 2:  # the array path fit takes
            if len(parts) == 2 and layout == "tuple":
                X, y = sources
                for start, stop in bounds:
                    if order is None:
                        yield X[start:stop], y[start:stop]
                    else:
                        index = order[start:stop]
                        yield take_rows(X, index), y[index]
                return
            if layout is None:
                X = sources[0]
                for start, stop in bounds:
                    yield X[start:stop] if order is None else take_rows(X, order[start:stop])
                return
        # A tensor part gets memory of its own: a copy of the slice, or the gathered rows
        # (take makes them fresh), wrapped as a constant Tensor.
        wrap, columns = tensor_type()._wrap, tuple(zip(sources, tensors))
        for start, stop in bounds:
            if order is None:
                batch = [wrap(s[start:stop].copy()) if t else s[start:stop] for s, t in columns]
            else:
                index = order[start:stop]
                batch = [wrap(take_rows(s, index)) if t else take_rows(s, index)
                         for s, t in columns]
            if layout is None:
                yield batch[0]
            elif layout == "tuple":
                yield tuple(batch)
            else:
                yield dict(zip(layout, batch))

    def __repr__(self) -> str:
        return (f"DataLoader(num_samples={self.num_samples}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, batches={len(self)})")


def _part_name(layout, k: int, count: int) -> str:
    """How an error names part k of ``count``: X and y for a pair (or X alone), else the
    position or the dict key in the dataset's items."""
    if isinstance(layout, tuple):
        return f"the items' key {layout[k]!r}"
    if k == 0 or count == 2:
        return "X" if k == 0 else "y"
    return f"the items' position {k}"


#: PyTorch's worker keywords: accepted, and nothing to do for in-memory arrays.
_WORKER_OPTIONS = ("persistent_workers", "prefetch_factor", "timeout", "worker_init_fn",
                   "multiprocessing_context", "generator", "pin_memory_device", "in_order")


def _check_torch_options(num_workers, pin_memory, collate_fn, sampler, batch_sampler,
                         others: dict) -> None:
    """Accept PyTorch's DataLoader keywords that change nothing here; refuse the others."""
    check_int("DataLoader: num_workers", num_workers, minimum=0)
    check_bool("DataLoader: pin_memory", pin_memory)
    unknown = sorted(set(others) - set(_WORKER_OPTIONS))
    if unknown:
        raise TypeError(f"DataLoader got unexpected keyword argument(s) {unknown}; it takes "
                        "X, y, batch_size, shuffle, seed, drop_last, dataset (and PyTorch's "
                        "num_workers/pin_memory, which change nothing here)")
    if others.get("generator") is not None:
        raise TypeError("DataLoader: pass seed=INT (or a numpy Generator) instead of "
                        "generator=, to fix the shuffling order")
    if collate_fn is not None:
        raise TypeError("DataLoader: collate_fn is not supported: batches are already "
                        "arrays (X[idx], y[idx]); transform each batch inside the loop")
    if sampler is not None or batch_sampler is not None:
        what = "sampler" if sampler is not None else "batch_sampler"
        raise TypeError(f"DataLoader: {what}= is not supported: use shuffle=True/False "
                        "and seed=, or index the arrays yourself (X[idx], y[idx]) for "
                        "another order")


def _is_dataset(obj) -> bool:
    """A dataset object (items by index), as opposed to the arrays DataLoader also takes."""
    if isinstance(obj, (np.ndarray, list, tuple, str, bytes)) or hasattr(obj, "__array__"):
        return False
    if hasattr(obj, "__getitem__") and hasattr(obj, "__len__"):
        return True
    if hasattr(obj, "__iter__"):
        raise TypeError(f"DataLoader takes arrays X (and y) or a map-style dataset (with "
                        f"__len__ and __getitem__); got {type(obj).__name__}, which can only "
                        "be iterated: collect it first, e.g. X = np.stack(list(...))")
    return False


def _read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view of ``array`` (the array itself stays writable)."""
    view = array.view()
    view.flags.writeable = False
    return view


def _checked(array, layout, k: int, count: int, numeric: bool) -> np.ndarray:
    """Part k of ``count`` as a checked array (:func:`as_array`, numbers only where
    ``numeric``); a plain ndarray with a sample axis passes with no further work."""
    if type(array) is np.ndarray and array.ndim and (not numeric or array.dtype.kind in "biuf"):
        return array
    return as_array(_part_name(layout, k, count), array, numeric=numeric)


def take_rows(X: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``X[index]`` for an integer array ``index``: the same rows, gathered by ``take``,
    which skips the general fancy-indexing machinery (2-4 µs less a batch) for 2-D and up."""
    return X.take(index, axis=0) if X.ndim > 1 else X[index]
