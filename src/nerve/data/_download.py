"""Fetch a dataset file over HTTP(S), verify its published checksum, store it atomically.

The file is streamed into a temporary file beside its destination, its MD5 is
compared with the value the dataset's authors publish, and only then is it
renamed into place with ``os.replace``.  An interrupted or corrupted download
therefore never leaves a file under the final name.  The temporary file is named as
:mod:`nerve.atomic` names its own (``.<name>.<pid>.<random>.nerve.tmp``), so that
what a killed download leaves behind is removed by the next download to that name
(once its process is gone and the file is :data:`nerve.atomic.STALE_AFTER` old),
as are the ``.<name>.<random>.part`` files of older nerve versions.  Each attempt is
announced on stderr, a silent connection is given up after :data:`TIMEOUT` seconds,
and a whole call after :data:`DEADLINE` seconds, so a network that drops packets
fails with a message rather than hanging.
"""
from __future__ import annotations

import hashlib
import http.client
import math
import os
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from ..atomic import mkstemp_beside

__all__ = ["download", "file_md5"]

_CHUNK = 1 << 20
TIMEOUT = 15.0  # seconds one socket operation (connect, response, a read) may stay silent
DEADLINE = 1800.0  # seconds for one download() call, all mirrors together


def file_md5(path: str | os.PathLike) -> str:
    """Hex MD5 digest of a file, read in 1 MiB chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch_one(url: str, dest: Path, md5: str, timeout: float, deadline_at: float,
               deadline: float) -> None:
    """Download ``url`` to ``dest`` if its MD5 equals ``md5``; raise otherwise.

    Every socket operation (connecting, waiting for the response, each read) may
    take ``timeout`` seconds, and the whole transfer must end by ``deadline_at``
    (a ``time.monotonic()`` value; checked between reads, so it can be overrun by
    at most one ``timeout``).
    """
    remaining = deadline_at - time.monotonic()
    if remaining <= 0:
        raise TimeoutError(f"{url}: not tried, the download deadline of {deadline:g} s "
                           "had already passed")
    handle, tmp_name = mkstemp_beside(str(dest), legacy=(f".{dest.name}.", ".part"))
    try:
        digest = hashlib.md5(usedforsecurity=False)
        received = 0
        with os.fdopen(handle, "wb") as out, \
                urllib.request.urlopen(url, timeout=min(timeout, remaining)) as resp:
            read = getattr(resp, "read1", resp.read)  # read1: what has arrived, one recv
            for chunk in iter(lambda: read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
                received += len(chunk)
                if time.monotonic() > deadline_at:
                    raise TimeoutError(
                        f"{url}: gave up at the download deadline of {deadline:g} s with "
                        f"{received} bytes received (the network is too slow or stalls)")
        if digest.hexdigest() != md5.lower():
            raise ValueError(
                f"checksum mismatch for {url}: expected MD5 {md5}, got {digest.hexdigest()}")
        os.replace(tmp_name, dest)
    finally:
        if os.path.exists(tmp_name):
            os.remove(tmp_name)


def _check_seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"download: {name} must be a positive number of seconds, got {value!r}")
    return float(value)


def download(urls: str | Sequence[str], dest: str | os.PathLike, md5: str,
             timeout: float | None = None, deadline: float | None = None) -> Path:
    """Download the first mirror in ``urls`` whose bytes match ``md5`` to ``dest``.

    Mirrors are tried in order, each announced on stderr; a network error, a
    silence longer than ``timeout`` seconds (one connect, response or read;
    default :data:`TIMEOUT`), or a checksum mismatch moves on to the next one.
    All mirrors together get ``deadline`` seconds (default :data:`DEADLINE`), so a
    network that drops or trickles packets cannot keep the caller waiting for
    ever. Raises OSError (network, deadline) or ValueError (checksum) naming every
    mirror tried if none works. Returns ``dest`` as a Path.
    """
    timeout = _check_seconds("timeout", TIMEOUT if timeout is None else timeout)
    deadline = _check_seconds("deadline", DEADLINE if deadline is None else deadline)
    deadline_at = time.monotonic() + deadline
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(urls, str):
        urls = [urls]
    failures: list[str] = []
    checksum_failed = False
    for url in urls:
        print(f"nerve: downloading {dest.name} from {url} ...", file=sys.stderr, flush=True)
        try:
            _fetch_one(url, dest, md5, timeout, deadline_at, deadline)
            return dest
        except ValueError as exc:
            checksum_failed = True
            failures.append(str(exc))
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, HTTP errors
            failures.append(str(exc) if isinstance(exc, TimeoutError) and str(exc).startswith(url)
                            else f"{url}: {exc}")
    detail = "; ".join(failures)
    message = f"could not download {dest.name} from any mirror ({detail})"
    if checksum_failed:
        raise ValueError(message)
    raise OSError(f"{message}; on a slow network or behind a proxy, fetch one of these URLs "
                  f"yourself and save it as {dest}")
