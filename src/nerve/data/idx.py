"""Read the IDX format that MNIST and Fashion-MNIST are published in.

An IDX file is a 4-byte magic number ``00 00 TT DD`` (TT the element type,
DD the number of dimensions), DD big-endian uint32 sizes, then the elements
in C order, big-endian.  MNIST images have magic 0x00000803 (uint8, 3-D:
N x 28 x 28) and labels 0x00000801 (uint8, 1-D: N).  Files may be gzipped;
that is detected from their first bytes, not their name.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

__all__ = ["read_idx", "read_bytes", "IDX_TYPES"]

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


def read_bytes(path: str | os.PathLike) -> bytes:
    """The contents of ``path``, gunzipped if it starts with the gzip magic bytes.

    A damaged or truncated gzip stream raises ValueError naming the file.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a data file")
    data = path.read_bytes()
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: damaged or truncated gzip file ({exc})") from exc


def parse_idx(data: bytes, name: str = "<bytes>") -> tuple[int, np.ndarray]:
    """Parse IDX bytes; return (magic number, native-endian array).

    Raises ValueError naming ``name`` when the header is not IDX or the size
    does not match the header (truncated or trailing bytes).
    """
    if len(data) < 4:
        raise ValueError(f"{name}: only {len(data)} bytes, too short for an IDX header "
                         f"(4-byte magic number expected)")
    zero0, zero1, type_code, ndim = data[0], data[1], data[2], data[3]
    magic = int.from_bytes(data[:4], "big")
    if zero0 != 0 or zero1 != 0 or type_code not in IDX_TYPES or ndim == 0:
        raise ValueError(
            f"{name}: not an IDX file (magic number 0x{magic:08X}; expected 0x0000TTDD with "
            f"type TT in {{08, 09, 0B, 0C, 0D, 0E}} and DD >= 1 dimensions)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name}: truncated IDX header: {ndim} dimensions need {header} "
                         f"header bytes, file has {len(data)}")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[type_code]
    expected = header + math.prod(shape) * dtype.itemsize  # exact, no overflow
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "has trailing bytes"
        raise ValueError(f"{name}: IDX file {problem}: header says shape {shape} of {dtype.name}, "
                         f"which needs {expected} bytes, but the file has {len(data)}")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return magic, array.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzipped or not) into a native-endian NumPy array.

    >>> # images = read_idx("train-images-idx3-ubyte.gz")   # uint8 (60000, 28, 28)
    """
    return parse_idx(read_bytes(path), str(path))[1]
