"""Atomic file writes: write a temporary file beside the target, then rename it over.

A crash or an exception mid-write leaves the previous file intact and no
temporary file behind (os.replace is atomic on POSIX and Windows).
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path in the target's folder; on success rename it to ``path``.

    >>> with atomic_path("model.npz") as tmp:   # doctest: +SKIP
    ...     np.savez(tmp, w=w)
    """
    target = os.fspath(path)
    if os.path.isdir(target):
        raise ValueError(f"cannot save to {target!r}: it is a folder; give a file name "
                         "inside it (e.g. model.npz)")
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save to {target!r}: folder {folder!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".nerve-", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        # mkstemp makes the file private (0600): give it the mode an ordinary write would
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def _mode_for(target: str) -> int:
    """The permission bits of the file being replaced, or 0666 less the umask for a new one."""
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def atomic_write_bytes(path: str | os.PathLike, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(payload)
