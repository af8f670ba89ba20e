"""CIFAR-10 from its published binary version (no pickle involved).

The archive ``cifar-10-binary.tar.gz`` unpacks to ``cifar-10-batches-bin/``
holding ``data_batch_1.bin`` .. ``data_batch_5.bin`` (training, 10,000 images
each) and ``test_batch.bin``.  Each record is 3073 bytes: one label byte (0..9)
then 3072 pixel bytes, the 32x32 red plane, then green, then blue, row-major.
"""
from __future__ import annotations

import os
import shutil
import tarfile
import zlib
from pathlib import Path

import numpy as np

from ..atomic import mkstemp_beside
from ._checks import as_root, check_bool, check_regular_file
from ._download import download as _download
from ._download import file_md5

__all__ = ["load_cifar10", "CIFAR10_CLASSES", "CIFAR10_URLS", "CIFAR10_MD5"]

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")
CIFAR10_URLS = ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",)
CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"  # published on the CIFAR page
ARCHIVE = "cifar-10-binary.tar.gz"
FOLDER = "cifar-10-batches-bin"
PYTHON_ARCHIVE = "cifar-10-python.tar.gz"  # the pickled version (torchvision, CS231n): not read
PYTHON_FOLDER = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILES = ("test_batch.bin",)
RECORD = 1 + 3 * 32 * 32


def _batch_folder(root: Path) -> Path:
    """root/cifar-10-batches-bin if it exists, else root itself."""
    nested = root / FOLDER
    return nested if nested.is_dir() else root


def _python_version_folder(root: Path, names: tuple[str, ...]) -> Path | None:
    """The folder of the pickled "Python version" near ``root``, if there is one.

    Looked for as ``root`` itself, ``root/cifar-10-batches-py`` and its sibling
    ``root/../cifar-10-batches-py``: a folder holding the split's batches without
    ``.bin`` (``data_batch_1``..., ``test_batch``).
    """
    for folder in (root, root / PYTHON_FOLDER, root.parent / PYTHON_FOLDER):
        if (folder / names[0][:-len(".bin")]).is_file():
            return folder
    return None


def _missing(folder: Path, names: tuple[str, ...]) -> list[str]:
    """The batch files not in ``folder``; a folder (or a FIFO, a device) under one of the
    names is an error, not "missing"."""
    missing = []
    for name in names:
        path = folder / name
        if path.exists() and not path.is_file():
            check_regular_file(path, f"the CIFAR-10 binary batch file {name}")
        if not path.is_file():
            missing.append(name)
    return missing


def read_cifar10_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 binary batch: images uint8 (N, 32, 32, 3), labels int64 (N,).

    Raises ValueError naming the file if its size is not a whole, non-zero number
    of 3073-byte records or a label is outside 0..9.
    """
    path = Path(path)
    check_regular_file(path, "a CIFAR-10 binary batch file")  # a FIFO would block for ever
    data = path.read_bytes()
    if len(data) == 0 or len(data) % RECORD != 0:
        raise ValueError(
            f"{path}: not a CIFAR-10 binary batch: expected a whole number of {RECORD}-byte "
            f"records (1 label byte + 3072 pixel bytes; 30,730,000 bytes for the official "
            f"10,000-image batches), got {len(data)} bytes")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() >= len(CIFAR10_CLASSES):
        raise ValueError(f"{path}: label byte {int(labels.max())} found; CIFAR-10 labels are "
                         f"0..9 (is this a CIFAR-100 or foreign file?)")
    planes = records[:, 1:].reshape(-1, 3, 32, 32)
    images = np.ascontiguousarray(planes.transpose(0, 2, 3, 1))
    return images, labels


def _extract_batches(archive: Path, folder: Path) -> None:
    """Extract only the expected regular files from the archive, each atomically (its
    temporary file named as :mod:`nerve.atomic` names its own, so that what a killed
    extraction leaves is removed by the next one, as are older versions' ``.cifar*.part``)."""
    wanted = {f"{FOLDER}/{name}" for name in TRAIN_FILES + TEST_FILES + ("batches.meta.txt",)}
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.name not in wanted or not member.isfile():
                continue  # never follow links or write outside the folder
            source = tar.extractfile(member)
            assert source is not None
            handle, tmp = mkstemp_beside(str(folder / Path(member.name).name),
                                         legacy=(".cifar", ".part"))
            try:
                with os.fdopen(handle, "wb") as out, source:
                    shutil.copyfileobj(source, out)
                os.replace(tmp, folder / Path(member.name).name)
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)


def load_cifar10(root: str | os.PathLike, train: bool = True,
                 download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10: images uint8 (N, 32, 32, 3) in 0..255 (height, width, RGB), labels int64 (N,).

    N is 50,000 for ``train=True`` (data_batch_1..5.bin, in order) and 10,000
    otherwise (test_batch.bin).  The .bin files are read from
    ``root/cifar-10-batches-bin/`` (or from ``root`` itself).  Class names are
    in ``CIFAR10_CLASSES``.  For a network, use
    ``images.reshape(N, -1).astype(np.float32)`` and :func:`nerve.data.standardize`.

    >>> # X, y = load_cifar10("~/data/cifar10", download=True)
    """
    root = as_root(root)
    check_bool("train", train)
    check_bool("download", download)
    names = TRAIN_FILES if train else TEST_FILES
    folder = _batch_folder(root)
    missing = _missing(folder, names)
    if missing and download:
        archive = root / ARCHIVE
        if not archive.is_file():
            _download(CIFAR10_URLS, archive, CIFAR10_MD5)
        elif file_md5(archive) != CIFAR10_MD5:
            raise ValueError(f"{archive}: MD5 differs from the published {CIFAR10_MD5}; "
                             f"delete the file and call again with download=True")
        folder = root / FOLDER
        try:
            _extract_batches(archive, folder)
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            raise ValueError(f"{archive}: damaged archive ({exc}); delete it and "
                             f"download again") from exc
        missing = _missing(folder, names)
        if missing:
            raise ValueError(f"{archive}: archive lacks {', '.join(missing)}; delete it and "
                             f"download again")
    if missing:
        python_folder = _python_version_folder(root, names)
        if python_folder is None:
            raise FileNotFoundError(
                f"CIFAR-10 files not found: put {', '.join(missing)} (from the binary version, "
                f"{ARCHIVE}) in {(root / FOLDER).resolve()}, or call with download=True "
                f"(--download on the command line) to fetch {CIFAR10_URLS[0]}")
        base = root.parent if python_folder == root else root
        raise FileNotFoundError(
            f"CIFAR-10 binary files not found, but {python_folder.resolve()} holds the Python "
            f"version ({PYTHON_ARCHIVE}, pickled batches such as {names[0][:-4]}); nerve reads "
            f"only the binary version, never pickles: put {', '.join(missing)} from {ARCHIVE} "
            f"in {(base / FOLDER).resolve()}"
            + (f" and pass root={str(base)!r}" if base != root else "") + ", or call with "
            f"download=True (--download on the command line) to fetch {CIFAR10_URLS[0]}")
    parts = [read_cifar10_batch(folder / name) for name in names]
    images = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
    labels = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
    return images, labels
