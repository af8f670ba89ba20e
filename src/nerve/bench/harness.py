"""Training throughput: every column on every config, interleaved, best or median of repeats."""
from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from nerve.bench import jax_ref, nerve_impl, sklearn_ref, torch_ref
from nerve.bench.common import Trainer, Unavailable, describe_error, interleave
from nerve.bench.configs import Config, workload
from nerve.bench.reference_numpy import GemmTrainer, NumpyTrainer


@dataclass(frozen=True)
class Column:
    """One implementation: a report key, a table title, the package group it needs."""

    key: str
    title: str
    group: str  # "numpy", "nerve", "torch", "jax" or "sklearn" (what --skip names)
    make: Callable[..., Trainer]


COLUMNS: list[Column] = [
    Column("gemm", "GEMM floor", "numpy", GemmTrainer),
    Column("numpy", "NumPy", "numpy", NumpyTrainer),
    Column("nerve", "nerve", "nerve", nerve_impl.NerveLoop),
    Column("nerve_fit", "nerve fit", "nerve", nerve_impl.NerveFit),
    Column("captured", "captured", "nerve", nerve_impl.NerveCaptured),
    Column("torch", "PyTorch", "torch", torch_ref.TorchEager),
    Column("jax_step", "JAX step", "jax", jax_ref.JaxStep),
    Column("jax_scan", "JAX scan", "jax", jax_ref.JaxScan),
    Column("sklearn", "scikit-learn", "sklearn", sklearn_ref.SklearnMLP),
]
GROUPS = ("numpy", "nerve", "torch", "jax", "sklearn")


def measure_config(
    config: Config,
    samples: int,
    repeats: int,
    columns: list[Column],
    seed: int = 0,
    log: Callable[[str], None] = lambda s: None,
    budget_s: float | None = None,
    stat: str = "best",
) -> dict:
    """Samples per second of each column on ``config``.

    Every column is built and warmed up first, then timed ``repeats`` times round-robin
    (fewer for a column whose measurements have used up ``budget_s`` seconds).
    Returns ``{"label", "samples", "columns": {key: result}}`` where a result is
    ``{"samples_per_s": best or median (``stat``), "best", "median", "times_s": [...]}`` or
    ``{"unavailable": reason}``.
    """
    wl = workload(config, samples, seed)
    results: dict[str, dict] = {}
    trainers: dict[str, Trainer] = {}
    for col in columns:
        try:
            trainer = col.make(wl, seed)
            trainer.warmup()
            trainers[col.key] = trainer
        except Unavailable as exc:
            results[col.key] = {"unavailable": str(exc)}
        except Exception as exc:
            results[col.key] = {"unavailable": f"failed: {describe_error(exc)}"}
    log(f"config {config.name} ({config.label}): {wl.samples} samples x {repeats} repeats, "
        f"columns {', '.join(trainers)}")
    times, errors = interleave({k: t.run for k, t in trainers.items()}, repeats,
                               budget_s=budget_s)
    for key in trainers:
        if key in errors:
            results[key] = {"unavailable": f"failed: {errors[key]}"}
            continue
        rates = [wl.samples / t for t in times[key]]
        best, median = max(rates), statistics.median(rates)
        results[key] = {"samples_per_s": best if stat == "best" else median, "best": best,
                        "median": median, "times_s": times[key]}
    ordered = {c.key: results[c.key] for c in columns}
    return {"label": config.label, "samples": wl.samples, "columns": ordered}
