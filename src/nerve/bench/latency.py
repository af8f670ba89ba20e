"""Per-call overheads: inference latency and a long chain of tiny autodiff ops.

* Inference: config A's network (784-256-256-10) on one sample and on a batch of 1024,
  nerve under ``no_grad`` vs the NumPy reference's forward vs torch under ``no_grad``.
* Op chain: ``n`` elementwise ops on a 16-vector, forward then backward, nerve vs torch;
  reported as microseconds per op (the whole forward+backward divided by ``n``), each
  implementation in a fresh process of its own (:func:`op_chain` says why).

Inference is timed interleaved; each sample is the mean of enough calls to last ``target_s``,
and the table shows the best (or the median) sample.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Callable

import numpy as np

from nerve.bench import nerve_impl, torch_ref
from nerve.bench.common import Unavailable, calls_for, describe_error, interleave
from nerve.bench.configs import CONFIGS
from nerve.bench.reference_numpy import NumpyMLP
from nerve.random import get_rng


def _collect(makers: dict[str, Callable[[], Callable[[], object]]], repeats: int,
             target_s: float, stat: str = "best") -> dict[str, dict]:
    """Build each callable, calibrate its call count, time interleaved; seconds per call."""
    fns, number, out = {}, {}, {}
    for key, make in makers.items():
        try:
            fn = make()
            fn()  # warm-up (also checks that it works)
            fns[key] = fn
            number[key] = calls_for(fn, target_s)
        except Unavailable as exc:
            out[key] = {"unavailable": str(exc)}
        except Exception as exc:
            out[key] = {"unavailable": f"failed: {describe_error(exc)}"}
    times, errors = interleave(fns, repeats, number)
    for key in fns:
        if key in errors:
            out[key] = {"unavailable": f"failed: {errors[key]}"}
        else:
            best, median = min(times[key]), statistics.median(times[key])
            out[key] = {"seconds": best if stat == "best" else median, "best": best,
                        "median": median}
    return out


def inference_latency(batches: tuple[int, ...] = (1, 1024), repeats: int = 5,
                      target_s: float = 0.05, skip: tuple[str, ...] = (),
                      seed: int = 0, stat: str = "best") -> dict[str, dict]:
    """``{"batch N": {impl: {"seconds": per call, ...}}}`` for each batch size."""
    sizes = CONFIGS["A"].sizes
    rng = get_rng(seed)
    results = {}
    for n in batches:
        x = rng.standard_normal((n, sizes[0]), dtype=np.float32)
        net = NumpyMLP(sizes, seed=seed)
        makers = {"numpy": lambda: (lambda: net.forward(x))}
        if "nerve" not in skip:
            makers["nerve"] = lambda: nerve_impl.inference(sizes, x, seed)
        if "torch" not in skip:
            makers["torch"] = lambda: torch_ref.inference(sizes, x, seed)
        results[f"batch {n}"] = _collect(makers, repeats, target_s, stat)
    return results


def op_chain(n_ops: int = 10_000, repeats: int = 3, target_s: float = 0.2,
             skip: tuple[str, ...] = (), stat: str = "best", fresh: bool = True,
             timeout: float = 300.0) -> dict:
    """Seconds for forward+backward through ``n_ops`` elementwise ops, and per op.

    ``fresh`` (the default) times each implementation in a fresh Python process that
    imports only it: the chain allocates a graph object per op, and the garbage
    collector's full passes, triggered by those allocations, also scan every object
    already alive in the process. With torch, JAX and scikit-learn loaded side by side
    (about 290,000 objects) those passes alone add more than half to nerve's time: a
    cost of sharing the process with the comparators, not one a nerve user pays.
    ``fresh=False`` times them interleaved in this process.
    """
    keys = [k for k in ("nerve", "torch") if k not in skip]
    if fresh:
        out = {key: _chain_in_subprocess(key, n_ops, repeats, target_s, stat, timeout)
               for key in keys}
    else:
        out = _collect({key: _chain_maker(key, n_ops) for key in keys}, repeats, target_s,
                       stat)
    for res in out.values():
        if "seconds" in res:
            res["us_per_op"] = res["seconds"] / n_ops * 1e6
    return {"n_ops": n_ops, "fresh_process": fresh, "results": out}


def _chain_maker(key: str, n_ops: int) -> Callable[[], Callable[[], object]]:
    module = nerve_impl if key == "nerve" else torch_ref
    return lambda: module.op_chain(n_ops)


def _chain_in_subprocess(key: str, n_ops: int, repeats: int, target_s: float, stat: str,
                         timeout: float) -> dict:
    """One implementation's chain timing from a fresh process (see :func:`op_chain`)."""
    code = ("from nerve.bench.latency import _chain_child; "
            f"_chain_child({key!r}, {int(n_ops)}, {int(repeats)}, {float(target_s)!r}, "
            f"{stat!r})")
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"unavailable": f"subprocess timed out after {timeout:.0f}s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if not lines:
        err = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"unavailable": f"subprocess failed: {err}"}
    return json.loads(lines[-1][len("RESULT "):])


def _chain_child(key: str, n_ops: int, repeats: int, target_s: float, stat: str) -> None:
    """Body of the subprocess: print ``RESULT {json}`` with one implementation's timing."""
    result = _collect({key: _chain_maker(key, n_ops)}, repeats, target_s, stat)[key]
    print("RESULT " + json.dumps(result))
