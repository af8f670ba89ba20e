"""Read the IDX format that MNIST and Fashion-MNIST are published in.

An IDX file is a 4-byte magic number ``00 00 TT DD`` (TT the element type,
DD the number of dimensions), DD big-endian uint32 sizes, then the elements
in C order, big-endian.  MNIST images have magic 0x00000803 (uint8, 3-D:
N x 28 x 28) and labels 0x00000801 (uint8, 1-D: N).  Files may be gzipped;
that is detected from their first bytes, not their name.

A file is read as a stream: the header comes first and says how many bytes
follow, so exactly that many are unpacked (one more shows trailing bytes), and a
header asking for more than the machine's memory is refused before anything is
unpacked (a gzip bomb, or a corrupt header).
"""
from __future__ import annotations

import gzip
import io
import math
import os
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ._checks import check_regular_file

__all__ = ["read_idx", "parse_idx", "IDX_TYPES"]

# type byte -> big-endian NumPy dtype
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"


def parse_idx(data: bytes, name: str = "<bytes>") -> tuple[int, np.ndarray]:
    """Parse IDX bytes; return (magic number, native-endian array).

    Raises ValueError naming ``name`` when the header is not IDX or the size
    does not match the header (truncated or trailing bytes).
    """
    return _read_stream(io.BytesIO(data), name, len(data))


def read_idx_file(path: str | os.PathLike) -> tuple[int, np.ndarray]:
    """(magic number, native-endian array) of an IDX file, gzipped or not.

    A damaged or truncated gzip stream raises ValueError naming the file.
    """
    path = Path(path)
    check_regular_file(path, "an IDX data file")  # a FIFO would block for ever
    with open(path, "rb") as raw:
        if raw.read(2) != _GZIP_MAGIC:
            raw.seek(0)
            return _read_stream(raw, str(path), os.fstat(raw.fileno()).st_size)
        raw.seek(0)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as unpacked:
                return _read_stream(unpacked, str(path), None)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: damaged or truncated gzip file ({exc})") from exc


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzipped or not) into a native-endian NumPy array.

    >>> # images = read_idx("train-images-idx3-ubyte.gz")   # uint8 (60000, 28, 28)
    """
    return read_idx_file(path)[1]


def _read_stream(stream: BinaryIO, name: str, size: int | None) -> tuple[int, np.ndarray]:
    """Header, then exactly the bytes it announces; ``size`` is the stream's length
    where known (a plain file), None for a gzip stream, whose length shows only as
    it is unpacked."""
    head = stream.read(4)
    if len(head) < 4:
        raise ValueError(f"{name}: only {len(head)} bytes, too short for an IDX header "
                         f"(4-byte magic number expected)")
    zero0, zero1, type_code, ndim = head
    magic = int.from_bytes(head, "big")
    if zero0 != 0 or zero1 != 0 or type_code not in IDX_TYPES or ndim == 0:
        raise ValueError(
            f"{name}: not an IDX file (magic number 0x{magic:08X}; expected 0x0000TTDD with "
            f"type TT in {{08, 09, 0B, 0C, 0D, 0E}} and DD >= 1 dimensions)")
    dims = stream.read(4 * ndim)
    header = 4 + 4 * ndim
    if len(dims) < 4 * ndim:
        raise ValueError(f"{name}: truncated IDX header: {ndim} dimensions need {header} "
                         f"header bytes, file has {4 + len(dims)}")
    shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))
    dtype = IDX_TYPES[type_code]
    body = math.prod(shape) * dtype.itemsize  # exact, no overflow
    needs = (f"header says shape {shape} of {dtype.name}, which needs {header + body} bytes")
    if size is not None and size != header + body:
        problem = "truncated" if size < header + body else "has trailing bytes"
        raise ValueError(f"{name}: IDX file {problem}: {needs}, but the file has {size}")
    _check_fits_memory(name, needs, body)
    data = stream.read(body)
    if len(data) < body:
        raise ValueError(f"{name}: IDX file truncated: {needs}, but the file has "
                         f"{header + len(data)}")
    if size is None and stream.read(1):
        raise ValueError(f"{name}: IDX file has trailing bytes: {needs}, but the file "
                         "has more")
    array = np.frombuffer(data, dtype=dtype).reshape(shape)
    return magic, array.astype(dtype.newbyteorder("="))


def _check_fits_memory(name: str, needs: str, body: int) -> None:
    """Refuse to unpack a body larger than the machine's memory."""
    from ..io import memory_limit

    limit = memory_limit()
    if limit is not None and body > limit:
        raise ValueError(f"{name}: {needs} ({body / 2**30:.1f} GiB), more than this machine's "
                         f"memory ({limit / 2**30:.1f} GiB); refusing to unpack it (a corrupt "
                         "or malicious file?)")
