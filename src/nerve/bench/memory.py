"""Peak memory while training config D (3072-1024-10, batch 256), each run in a fresh process.

Two methods, each in its own subprocess so neither disturbs the other:

* ``tracemalloc``: Python's allocation tracer, which also sees NumPy's array buffers.
  Reported: peak traced bytes while building the model and optimizer and training
  ``steps`` steps, minus the bytes traced once the data existed. Counts exactly the
  arrays training needs (parameters, momentum buffers, gradients, activations,
  temporaries), nothing from BLAS or the allocator.
* ``rss``: the process's peak resident set (``VmHWM``, reset through
  ``/proc/self/clear_refs`` once the data existed) minus its resident set at that point
  (``VmRSS``); Linux only. (``ru_maxrss`` would not do: Linux carries it across fork.)
  Includes allocator and BLAS workspace effects; a coarser, OS-level view.

The parameters alone of config D take 12.6 MB in float32.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from nerve.bench.common import Unavailable, describe_error

METHODS = ("tracemalloc", "rss")
IMPLS = ("numpy", "nerve")


def _status_kib(field: str) -> int | None:
    """A ``kB`` field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in bytes; None off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _reset_peak_rss() -> None:
    """Reset the kernel's peak-RSS mark ``VmHWM`` to the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def child(impl: str, method: str, steps: int) -> dict:
    """Body of the subprocess: build config D for ``impl``, train ``steps`` steps, measure."""
    import tracemalloc

    from nerve.bench.configs import CONFIGS, workload

    cfg = CONFIGS["D"]
    if method == "tracemalloc":
        tracemalloc.start()
    wl = workload(cfg, cfg.batch * steps)
    if impl == "numpy":
        from nerve.bench.reference_numpy import NumpyTrainer as make
    else:
        from nerve.bench.nerve_impl import NerveLoop as make
    if method == "tracemalloc":
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        make(wl).steps(steps)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return {"bytes": peak - before}
    _reset_peak_rss()
    before = _status_kib("VmRSS")
    if before is None or _status_kib("VmHWM") is None:
        raise Unavailable("the rss method needs /proc/self/status (Linux)")
    make(wl).steps(steps)
    return {"bytes": _status_kib("VmHWM") - before}


def _child_main(impl: str, method: str, steps: int) -> None:
    try:
        result = child(impl, method, steps)
    except Unavailable as exc:
        result = {"unavailable": str(exc)}
    except Exception as exc:
        result = {"unavailable": f"failed: {describe_error(exc)}"}
    print("RESULT " + json.dumps(result))


def peak_memory(steps: int = 4, skip: tuple[str, ...] = (), timeout: float = 120.0,
                threads: int | None = None) -> dict:
    """``{method: {impl: {"bytes": ...} | {"unavailable": ...}}}`` from fresh subprocesses.

    ``threads`` sets the BLAS thread count of the subprocesses (environment variables).
    """
    out: dict[str, dict] = {m: {} for m in METHODS}
    env = dict(os.environ)
    if threads is not None:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
    for method in METHODS:
        for impl in IMPLS:
            if impl in skip:
                continue
            code = ("from nerve.bench.memory import _child_main; "
                    f"_child_main({impl!r}, {method!r}, {int(steps)})")
            try:
                proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                      text=True, timeout=timeout, env=env)
                lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
                if not lines:
                    err = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                    out[method][impl] = {"unavailable": f"subprocess failed: {err}"}
                else:
                    out[method][impl] = json.loads(lines[-1][len("RESULT "):])
            except subprocess.TimeoutExpired:
                out[method][impl] = {"unavailable": f"subprocess timed out after {timeout:.0f}s"}
    return out
