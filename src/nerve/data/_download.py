"""Fetch a dataset file over HTTP(S), verify its published checksum, store it atomically.

The file is streamed into a temporary file beside its destination, its MD5 is
compared with the value the dataset's authors publish, and only then is it
renamed into place with ``os.replace``.  An interrupted or corrupted download
therefore never leaves a file under the final name.  The temporary file is named as
:mod:`nerve.atomic` names its own (``.<name>.<pid>.<random>.nerve.tmp``), so that
what a killed download leaves behind is removed by the next download to that name
(once its process is gone and the file is :data:`nerve.atomic.STALE_AFTER` old),
as are the ``.<name>.<random>.part`` files of older nerve versions.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from ..atomic import mkstemp_beside

__all__ = ["download", "file_md5"]

_CHUNK = 1 << 20


def file_md5(path: str | os.PathLike) -> str:
    """Hex MD5 digest of a file, read in 1 MiB chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch_one(url: str, dest: Path, md5: str, timeout: float) -> None:
    """Download ``url`` to ``dest`` if its MD5 equals ``md5``; raise otherwise."""
    handle, tmp_name = mkstemp_beside(str(dest), legacy=(f".{dest.name}.", ".part"))
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            for chunk in iter(lambda: resp.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != md5.lower():
            raise ValueError(
                f"checksum mismatch for {url}: expected MD5 {md5}, got {digest.hexdigest()}")
        os.replace(tmp_name, dest)
    finally:
        if os.path.exists(tmp_name):
            os.remove(tmp_name)


def download(urls: str | Sequence[str], dest: str | os.PathLike, md5: str,
             timeout: float = 60.0) -> Path:
    """Download the first mirror in ``urls`` whose bytes match ``md5`` to ``dest``.

    Mirrors are tried in order; a network error or a checksum mismatch moves on
    to the next one.  Raises OSError (network) or ValueError (checksum) naming
    every mirror tried if none works.  Returns ``dest`` as a Path.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(urls, str):
        urls = [urls]
    failures: list[str] = []
    checksum_failed = False
    for url in urls:
        try:
            _fetch_one(url, dest, md5, timeout)
            return dest
        except ValueError as exc:
            checksum_failed = True
            failures.append(str(exc))
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, HTTP errors
            failures.append(f"{url}: {exc}")
    detail = "; ".join(failures)
    message = f"could not download {dest.name} from any mirror ({detail})"
    if checksum_failed:
        raise ValueError(message)
    raise OSError(message)
