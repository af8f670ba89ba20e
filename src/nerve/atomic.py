"""Atomic file writes: write a temporary file beside the target, then rename it over.

An exception mid-write leaves the previous file intact and no temporary file
behind (os.replace is atomic on POSIX and Windows); the file's data and then the
folder's entry are flushed to disk (fsync) before the save returns, so a power
cut right after it cannot take the new file away. A process killed outright
(SIGKILL) mid-write leaves its temporary file, ``.<name>.<pid>.<random>.nerve.tmp``;
the next save to the same name removes such leftovers once their process is gone.
The dataset downloads and extractions name their temporary files the same way
(:func:`mkstemp_beside`), so the same cleanup covers them.

Before anything is written, an existing target is checked with one ``stat``: a
folder, a FIFO or a device is refused (a rename would replace it with a regular
file), and so is a file that may not be written (``chmod 444``: a rename needs only
the folder's permission, so it would replace a file that ``open(path, "wb")``
refuses).
"""
from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import time
from typing import Any, Iterator

#: A leftover temporary file is removed only once it is at least this old (seconds),
#: so that a save still running elsewhere (another machine on a shared folder) keeps it.
STALE_AFTER = 600.0


def check_path(path: Any) -> str:
    """``path`` as a str; a clear TypeError for anything but a str or os.PathLike
    (bytes and None included), before any work is done."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    text = os.fspath(path)
    if not isinstance(text, str):  # an os.PathLike whose __fspath__ gives bytes
        raise TypeError(f"path must be a str or os.PathLike, got {type(text).__name__}")
    return text


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words ("a FIFO (named pipe)", "a folder", ...)."""
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def check_readable_file(path: str, missing: str, expected: str,
                        folder: str | None = None) -> None:
    """Raise, naming ``path``, unless it is an existing regular file: ``missing`` for a
    path that does not exist, an OSError that names it for one that cannot be read,
    ``folder`` (default: the non-regular message) for a folder, and for a FIFO, device
    or socket that it is none of ``expected`` (reading a FIFO would block forever)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(missing) from None
    except OSError as exc:
        raise plain_error(type(exc), exc.errno,
                          f"cannot read {path!r}: {exc.strerror or exc}") from None
    if folder is not None and stat.S_ISDIR(info.st_mode):
        raise ValueError(folder)
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{path!r} is {file_kind(info.st_mode)}, not a regular file; "
                         f"expected {expected}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path in the target's folder; on success rename it to ``path``.

    >>> with atomic_path("model.npz") as tmp:   # doctest: +SKIP
    ...     np.savez(tmp, w=w)
    """
    target = check_path(path)
    if os.path.islink(target):  # write through the link, as open() would: keep the link
        target = os.path.realpath(target)
    try:
        info = os.stat(target)
    except OSError:
        info = None  # a new file (or one stat cannot see: the save will say why)
    if info is not None:
        _check_existing(target, info)
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        _missing_folder(target, folder)
    try:
        fd, tmp = mkstemp_beside(target)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise plain_error(type(exc), exc.errno,
                         f"cannot save to {target!r}: {exc.strerror or exc}: the folder "
                         f"{folder!r} must be writable (a save writes a temporary file "
                         "there, then renames it over the target); the previous file, "
                         "if any, is untouched") from None
        raise _named(exc, target) from None
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        # mkstemp makes the file private (0600): give it the mode an ordinary write would
        os.chmod(tmp, _mode_for(info, folder))
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        if isinstance(exc, OSError) and exc.errno is not None:
            raise _named(exc, target) from None
        raise
    _sync_folder(folder)


def _missing_folder(target: str, folder: str) -> None:
    """Raise for a target whose folder is not a folder: a file in the way (the folder
    itself or one above it is a file) or a folder that does not exist."""
    above = folder
    while not os.path.lexists(above):
        parent = os.path.dirname(above)
        if parent == above:
            break
        above = parent
    if os.path.lexists(above) and not os.path.isdir(above):
        what = "a file" if os.path.isfile(above) else "a broken symbolic link" \
            if os.path.islink(above) else "not a folder"
        raise plain_error(NotADirectoryError, errno.ENOTDIR,
                          f"cannot save to {target!r}: {above!r} is {what}; expected a folder")
    raise plain_error(FileNotFoundError, errno.ENOENT,
                      f"cannot save to {target!r}: folder {folder!r} does not exist")


def plain_error(kind: type[OSError], code: int | None, message: str) -> OSError:
    """An OSError of class ``kind`` with errno ``code`` whose text is ``message`` alone (no
    "[Errno 13]" in front of a sentence that already says what went wrong)."""
    new = kind(message)
    new.errno = code
    return new


def _check_existing(target: str, info: os.stat_result) -> None:
    """Refuse to replace what an ordinary ``open(target, "wb")`` would not overwrite as a
    file: a folder, a FIFO or device (a rename would swap it for a regular file), or a
    file that may not be written."""
    if stat.S_ISDIR(info.st_mode):
        raise ValueError(f"cannot save to {target!r}: it is a folder; give a file name "
                         "inside it (e.g. model.npz)")
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"cannot save to {target!r}: it is {file_kind(info.st_mode)}, not "
                         "a regular file; nerve saves only to regular files (a save replaces "
                         "the whole file), so it is left as it is")
    if not os.access(target, os.W_OK):
        raise plain_error(PermissionError, errno.EACCES, f"cannot save to {target!r}: the "
                          "file is read-only; the previous file is untouched")


def _named(exc: OSError, target: str) -> OSError:
    """The same kind of OSError, saying which save failed rather than naming the hidden
    temporary file (or nothing): "cannot save to 'm.npz': No space left on device"."""
    reason = exc.strerror or str(exc)
    return plain_error(type(exc), exc.errno, f"cannot save to {target!r}: {reason}; the "
                       "previous file, if any, is untouched")


_SUFFIX = ".nerve.tmp"


def mkstemp_beside(target: str, legacy: tuple[str, str] | None = None) -> tuple[int, str]:
    """``tempfile.mkstemp`` in ``target``'s folder, named ``.<name>.<pid>.<random>.nerve.tmp``
    (``<name>`` the target's file name cut to 100 characters, within NAME_MAX), after
    removing the leftovers of killed processes that wrote to the same name.

    ``legacy = (prefix, suffix)`` also removes stale files named ``prefix + <8 random
    characters> + suffix``, the temporary names of older nerve versions (by age only).
    """
    folder = os.path.dirname(os.path.abspath(target))
    name = os.path.basename(target)[:100]
    _remove_leftovers(folder, name, legacy)
    return tempfile.mkstemp(prefix=f".{name}.{os.getpid()}.", suffix=_SUFFIX, dir=folder)


#: (folder, name) pairs this process already cleaned: leftovers come only from a killed
#: process, so one look per target and process is enough (bounded: cleared when large).
_CLEANED: set[tuple[str, str]] = set()

#: The characters of the random part of tempfile's names.
_RANDOM_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


def _remove_leftovers(folder: str, name: str,
                      legacy: tuple[str, str] | None = None) -> None:
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
        if legacy is not None and _is_legacy(file, *legacy):
            pass  # no process id in the name: its age alone says it was abandoned
        elif not (file.startswith(prefix) and file.endswith(_SUFFIX)):
            continue
        else:
            pid, _, rest = file[len(prefix):-len(_SUFFIX)].partition(".")  # "<pid>.<random>"
            if not (pid.isdigit() and rest and "." not in rest) or _running(int(pid)):
                continue  # not ours (another name's, ".a.5.<pid>..."), or its writer runs
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False) \
                    and now - entry.stat(follow_symlinks=False).st_mtime >= STALE_AFTER:
                os.remove(entry.path)


def _is_legacy(file: str, prefix: str, suffix: str) -> bool:
    middle = file[len(prefix):len(file) - len(suffix)]
    return (file.startswith(prefix) and file.endswith(suffix) and len(middle) == 8
            and set(middle) <= _RANDOM_CHARS)


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


def _mode_for(info: os.stat_result | None, folder: str = ".") -> int:
    """The permission bits of the file being replaced, or 0666 less the umask for a new one
    (what ``open(path, "wb")`` would give), the umask read without changing it: setting
    it (``os.umask(0)`` then back) would leave it 0 for a moment for every thread, and
    for good when two such reads overlap, so other threads' files came out 0666."""
    if info is not None:
        return info.st_mode & 0o7777
    mask = _umask_from_proc()
    if mask is not None:
        return 0o666 & ~mask
    # elsewhere: create a probe file with mode 0666 and let the kernel apply the umask
    probe = os.path.join(folder, f".umask.{os.getpid()}.{os.urandom(6).hex()}{_SUFFIX}")
    fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
    try:
        return os.fstat(fd).st_mode & 0o666
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.remove(probe)


def _umask_from_proc() -> int | None:
    """The process umask from the ``Umask:`` line of /proc/self/status (Linux 4.7+), or
    None where there is no such line."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return None


def atomic_write_bytes(path: str | os.PathLike, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(payload)
