"""Helpers shared by the demos: the output stream and optional figures."""
from __future__ import annotations

import errno
import os
import sys
from typing import Any, Callable, TextIO


def stream_or_stdout(stream: TextIO | None) -> TextIO:
    return sys.stdout if stream is None else stream


def save_figure(out: str | os.PathLike | None, filename: str, draw: Callable[[str], Any],
                stream: TextIO) -> str | None:
    """Call ``draw(path)`` for ``out/filename`` if ``out`` is given and matplotlib exists.

    Returns the path written, or None (saying why when a figure was asked for).
    """
    if out is None:
        return None
    from .._extras import MissingExtraError
    make_folder(out)
    path = os.path.join(os.fspath(out), filename)
    try:
        draw(path)
    except MissingExtraError as exc:
        stream.write(f"plot skipped: {exc}\n")
        return None
    stream.write(f"wrote {path}\n")
    return path


def make_folder(out: str | os.PathLike) -> None:
    """Create the figure folder ``out`` (and its parents) if needed, or raise one clear
    error naming it: a file in the way, or a folder that may not be written."""
    from ..atomic import plain_error
    try:
        os.makedirs(out, exist_ok=True)
    except FileExistsError:  # out itself is a file
        raise plain_error(FileExistsError, errno.EEXIST, f"out {os.fspath(out)!r} is a file; "
                          "expected a folder for the figures") from None
    except OSError as exc:
        raise plain_error(type(exc), exc.errno, f"cannot create the figure folder "
                          f"{os.fspath(out)!r}: {exc.strerror or exc}; expected a writable "
                          "folder") from None
