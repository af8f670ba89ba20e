"""The speed targets nerve set itself, checked against one run's results.

Each target is a ratio (or a time) taken within the run, so the machine's speed of
the moment cancels out. :func:`check` returns one row per target and config:
what was measured, the bound, and whether this run met it. A target whose columns
were not measured (torch or JAX not installed, a section skipped) is "not measured",
never "met".
"""
from __future__ import annotations

from typing import Any

#: (title, numerator column, denominator column, bound, configs): numerator/denominator
#: of the training throughputs must be at least ``bound`` on each config.
THROUGHPUT_TARGETS = [
    ("eager nerve / NumPy", "nerve", "numpy", 0.85, ("A", "B", "C", "D", "E")),
    ("eager nerve / PyTorch", "nerve", "torch", 1.2, ("A", "B", "C", "E")),
    ("captured / JAX step", "captured", "jax_step", 1.0, ("A", "B", "C", "E")),
    ("captured / GEMM floor", "captured", "gemm", 0.7, ("A", "D")),
]
MEMORY_BOUND = 1.3  # nerve's peak training memory on D over the NumPy reference's, at most
CHAIN_BOUND_S = 0.050  # the 10,000-op chain, forward and backward, under this
WALL_BOUND_S = 120.0  # a whole run without torch and JAX, under this


def _rate(results: dict, config: str, column: str) -> float | None:
    cell = results.get("training", {}).get(config, {}).get("columns", {}).get(column)
    if not cell or "unavailable" in cell:
        return None
    return cell.get("samples_per_s")


def _row(target: str, where: str, value: float | None, bound: str, met: bool | None,
         fmt: str, scale: float = 1.0) -> dict[str, Any]:
    shown = "not measured" if value is None else fmt.format(value * scale)
    return {"target": target, "where": where, "value": value, "bound": bound,
            "met": met, "shown": shown}


def check(results: dict) -> list[dict[str, Any]]:
    """One row per target (and config): ``target``, ``where``, ``value``, ``bound``,
    ``met`` (True, False, or None when not measured) and ``shown`` (the value as text)."""
    rows = []
    if results.get("training"):
        for title, num, den, bound, configs in THROUGHPUT_TARGETS:
            for config in configs:
                if config not in results["training"]:
                    continue
                a, b = _rate(results, config, num), _rate(results, config, den)
                ratio = a / b if a is not None and b else None
                rows.append(_row(title, config, ratio, f"≥ {bound:g}×",
                                 None if ratio is None else ratio >= bound, "{:.2f}×"))
    memory = results.get("memory") or {}
    for method, cells in memory.items():
        n, r = (cells.get(k) or {} for k in ("nerve", "numpy"))
        ratio = n["bytes"] / r["bytes"] if "bytes" in n and r.get("bytes") else None
        rows.append(_row("peak memory nerve / NumPy", f"D, {method}", ratio,
                         f"≤ {MEMORY_BOUND:g}×", None if ratio is None else ratio <= MEMORY_BOUND,
                         "{:.2f}×"))
    chain = (results.get("op_chain") or {}).get("results", {}).get("nerve")
    if chain is not None:
        seconds = chain.get("seconds")
        rows.append(_row("10,000-op chain, forward + backward", "nerve", seconds,
                         f"< {CHAIN_BOUND_S * 1e3:g} ms",
                         None if seconds is None else seconds < CHAIN_BOUND_S, "{:.1f} ms", 1e3))
    elapsed = results.get("elapsed_s")
    if elapsed is not None:
        without = _without_torch_and_jax(results)
        rows.append(_row("whole run without torch and JAX", "this run" if without else
                         "this run had torch or JAX", elapsed if without else None,
                         f"< {WALL_BOUND_S:g} s",
                         elapsed < WALL_BOUND_S if without else None, "{:.0f} s"))
    return rows


def _without_torch_and_jax(results: dict) -> bool:
    """Whether no torch or JAX figure was taken in this run."""
    for row in (results.get("training") or {}).values():
        for key in ("torch", "jax_step", "jax_scan"):
            cell = row.get("columns", {}).get(key)
            if cell and "unavailable" not in cell:
                return False
    chain = (results.get("op_chain") or {}).get("results", {})
    return not (chain.get("torch") and "unavailable" not in chain["torch"])


def markdown(results: dict) -> list[str]:
    """The targets as a Markdown table (no lines when nothing was measured)."""
    rows = check(results)
    if not rows:
        return []
    verdict = {True: "met", False: "**not met**", None: "—"}
    met = sum(r["met"] is True for r in rows)
    judged = sum(r["met"] is not None for r in rows)
    lines = ["", f"## Targets ({met} of {judged} measured met in this run)", "",
             "| target | where | this run | bound | verdict |", "|---|---|---:|---:|---|"]
    lines += [f"| {r['target']} | {r['where']} | {r['shown']} | {r['bound']} | "
              f"{verdict[r['met']]} |" for r in rows]
    return lines
