"""Per-call overheads: inference latency and a long chain of tiny autodiff ops.

* Inference: config A's network (784-256-256-10) on one sample and on a batch of 1024,
  nerve under ``no_grad`` vs the NumPy reference's forward vs torch under ``no_grad``.
* Op chain: ``n`` elementwise ops on a 16-vector, forward then backward, nerve vs torch;
  reported as microseconds per op (the whole forward+backward divided by ``n``).

Both are timed interleaved; each sample is the mean of enough calls to last ``target_s``,
and the table shows the best (or the median) sample.
"""
from __future__ import annotations

import statistics
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
             skip: tuple[str, ...] = (), stat: str = "best") -> dict:
    """Seconds for forward+backward through ``n_ops`` elementwise ops, and per op."""
    makers = {}
    if "nerve" not in skip:
        makers["nerve"] = lambda: nerve_impl.op_chain(n_ops)
    if "torch" not in skip:
        makers["torch"] = lambda: torch_ref.op_chain(n_ops)
    out = _collect(makers, repeats, target_s, stat)
    for res in out.values():
        if "seconds" in res:
            res["us_per_op"] = res["seconds"] / n_ops * 1e6
    return {"n_ops": n_ops, "results": out}
