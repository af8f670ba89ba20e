"""Helpers shared by the demos: the output stream and optional figures."""
from __future__ import annotations

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
    os.makedirs(out, exist_ok=True)
    path = os.path.join(os.fspath(out), filename)
    try:
        draw(path)
    except MissingExtraError as exc:
        stream.write(f"plot skipped: {exc}\n")
        return None
    stream.write(f"wrote {path}\n")
    return path
