"""Atomic file writes: write a temporary file beside the target, then rename it over.

An exception mid-write leaves the previous file intact and no temporary file
behind (os.replace is atomic on POSIX and Windows); the file's data and then the
folder's entry are flushed to disk (fsync) before the save returns, so a power
cut right after it cannot take the new file away. A process killed outright
(SIGKILL) mid-write leaves its temporary file, ``.<name>.<pid>.<random>.nerve.tmp``;
the next save to the same name removes such leftovers once their process is gone.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import time
from typing import Iterator

#: A leftover temporary file is removed only once it is at least this old (seconds),
#: so that a save still running elsewhere (another machine on a shared folder) keeps it.
STALE_AFTER = 600.0


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path in the target's folder; on success rename it to ``path``.

    >>> with atomic_path("model.npz") as tmp:   # doctest: +SKIP
    ...     np.savez(tmp, w=w)
    """
    target = os.fspath(path)
    if os.path.islink(target):  # write through the link, as open() would: keep the link
        target = os.path.realpath(target)
    if os.path.isdir(target):
        raise ValueError(f"cannot save to {target!r}: it is a folder; give a file name "
                         "inside it (e.g. model.npz)")
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save to {target!r}: folder {folder!r} does not exist")
    name = os.path.basename(target)[:100]  # the temporary name must stay within NAME_MAX
    _remove_leftovers(folder, name)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.{os.getpid()}.", suffix=_SUFFIX, dir=folder)
    except OSError as exc:
        raise _named(exc, target) from None
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        # mkstemp makes the file private (0600): give it the mode an ordinary write would
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        if isinstance(exc, OSError) and exc.errno is not None:
            raise _named(exc, target) from None
        raise
    _sync_folder(folder)


def _named(exc: OSError, target: str) -> OSError:
    """The same kind of OSError, saying which save failed rather than naming the hidden
    temporary file (or nothing): "cannot save to 'm.npz': No space left on device"."""
    reason = exc.strerror or str(exc)
    return type(exc)(exc.errno, f"cannot save to {target!r}: {reason}; the previous "
                                "file, if any, is untouched")


_SUFFIX = ".nerve.tmp"


#: (folder, name) pairs this process already cleaned: leftovers come only from a killed
#: process, so one look per target and process is enough (bounded: cleared when large).
_CLEANED: set[tuple[str, str]] = set()


def _remove_leftovers(folder: str, name: str) -> None:
    """Delete the temporary files of earlier saves to ``name`` (the target's file name, cut
    to 100 characters) whose process no longer runs and that are older than
    :data:`STALE_AFTER`: what a save killed with SIGKILL leaves behind. One pass over the
    folder, the first time this process saves to that name."""
    key = (folder, name)
    if key in _CLEANED:
        return
    if len(_CLEANED) >= 4096:
        _CLEANED.clear()
    _CLEANED.add(key)
    prefix = f".{name}."
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        file = entry.name
        if not (file.startswith(prefix) and file.endswith(_SUFFIX)):
            continue
        pid, _, rest = file[len(prefix):-len(_SUFFIX)].partition(".")  # "<pid>.<random>"
        if not (pid.isdigit() and rest and "." not in rest) or _running(int(pid)):
            continue  # not ours (another name's, ".a.5.<pid>..."), or its writer still runs
        with contextlib.suppress(OSError):
            if now - entry.stat().st_mtime >= STALE_AFTER:
                os.remove(entry.path)


def _running(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (True when unsure)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, ValueError, OverflowError):
        return True  # it exists but is someone else's, or this platform cannot tell
    return True


def _sync_folder(folder: str) -> None:
    """fsync the folder so the rename itself survives a power cut (POSIX; a no-op elsewhere)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
