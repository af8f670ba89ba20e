"""Data for nerve: toy 2-D problems, real datasets read from their own formats, batching.

- Synthetic 2-D problems: :func:`spiral`, :func:`xor`, :func:`moons`,
  :func:`circles`, :func:`blobs`, and :func:`logic_gate` truth tables.
- Real data: :func:`load_digits` (shipped), :func:`mnist1d` (generated
  locally), :func:`load_mnist`, :func:`load_fashion_mnist`,
  :func:`load_cifar10` (published binary formats, optional checked download).
- :class:`DataLoader` for minibatch epochs, :func:`train_test_split`,
  :func:`standardize`; PyTorch's :class:`TensorDataset` and :func:`random_split`.

Every random choice draws from :func:`nerve.random.get_rng`.
"""
from __future__ import annotations

from .cifar10 import CIFAR10_CLASSES, load_cifar10, read_cifar10_batch
from .digits import load_digits
from .idx import read_idx
from .dataset import Subset, TensorDataset, random_split
from .loader import DataLoader
from .mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist
from .mnist1d_data import mnist1d
from .preprocess import standardize, train_test_split
from .synthetic import LOGIC_GATES, blobs, circles, logic_gate, moons, spiral, xor

__all__ = [
    "spiral", "xor", "moons", "circles", "blobs", "logic_gate", "LOGIC_GATES",
    "load_digits", "mnist1d",
    "load_mnist", "load_fashion_mnist", "FASHION_MNIST_CLASSES", "read_idx",
    "load_cifar10", "read_cifar10_batch", "CIFAR10_CLASSES",
    "DataLoader", "TensorDataset", "Subset", "random_split", "train_test_split", "standardize",
]
