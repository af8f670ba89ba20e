"""Machine description, number formatting, and the Markdown/JSON report."""
from __future__ import annotations

import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

from nerve.atomic import atomic_write_bytes
from nerve.bench import targets, torch_ref

DASH = "—"  # a column not measured in this run (skipped or not installed)

# Ratio columns of the training table: (title, numerator key, denominator key).
RATIOS = [
    ("nerve/NumPy", "nerve", "numpy"),
    ("nerve/PyTorch", "nerve", "torch"),
    ("nerve/JAX", "nerve", "jax_step"),
    ("fit/nerve", "nerve_fit", "nerve"),
    ("captured/JAX", "captured", "jax_step"),
    ("captured/GEMM floor", "captured", "gemm"),
]


# ---------------------------------------------------------------- formatting
def _three_digits(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}"


def format_rate(value: float | None) -> str:
    """Samples per second to three significant digits: 91234 -> "91.2k", 3.31e6 -> "3.31M"."""
    if value is None:
        return DASH
    if value >= 999.5e3:
        return _three_digits(value / 1e6) + "M"
    if value >= 999.5:
        return _three_digits(value / 1e3) + "k"
    return f"{value:.0f}"


def format_ratio(numerator: float | None, denominator: float | None) -> str:
    """``numerator / denominator`` as "0.62×" (two decimals; no decimals from 100 up)."""
    if numerator is None or denominator is None or denominator == 0:
        return DASH
    r = numerator / denominator
    return f"{r:.0f}×" if r >= 99.5 else f"{r:.2f}×"


def format_seconds(seconds: float | None) -> str:
    """A duration with a fitting unit: "12.3 µs", "4.56 ms", "1.23 s"."""
    if seconds is None:
        return DASH
    if seconds < 1e-3:
        return _three_digits(seconds * 1e6) + " µs"
    if seconds < 1:
        return _three_digits(seconds * 1e3) + " ms"
    return _three_digits(seconds) + " s"


def format_bytes(n: float | None) -> str:
    """Bytes in MiB with one decimal: "38.1 MiB"."""
    return DASH if n is None else f"{n / 2**20:.1f} MiB"


def _value(cell: dict | None, key: str):
    return None if not cell or "unavailable" in cell else cell.get(key)


def _cell(cell: dict | None, fmt, key: str) -> str:
    if cell is None:
        return DASH
    return "n/a" if "unavailable" in cell else fmt(cell[key])


# ------------------------------------------------------------------ machine
def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> list[dict]:
    try:
        import threadpoolctl
    except ImportError:
        env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                           "MKL_NUM_THREADS") if k in os.environ}
        return [{"library": "unknown (install threadpoolctl to see it)", "env": env}]
    return [{"library": i.get("internal_api"), "version": i.get("version"),
             "threads": i.get("num_threads"), "user_api": i.get("user_api"),
             "path": i.get("filepath")}
            for i in threadpoolctl.threadpool_info()]


def _dist_version(name: str) -> str | None:
    """Installed version of a distribution, without importing it (None when absent)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load averages (None where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def machine_info(skip: tuple[str, ...] = (), load: list[float] | None = None) -> dict:
    """CPU, cores, load, library versions and thread counts, for the report header.

    Versions come from package metadata; torch is imported (for its thread count) only
    when it is installed and not skipped. Call it after the run so that every BLAS the
    comparators loaded is listed; pass the load average taken at the start.
    """
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    torch_version = _dist_version("torch")
    return {
        "cpu": _cpu_model(), "cores": os.cpu_count(), "usable_cores": usable,
        "load_average_at_start": load, "platform": platform.platform(),
        "python": sys.version.split()[0], "numpy": np.__version__,
        "nerve": _dist_version("nerve"), "torch": torch_version,
        "torch_threads": torch_ref.threads() if torch_version and "torch" not in skip else None,
        "jax": _dist_version("jax"), "sklearn": _dist_version("scikit-learn"),
        "blas": _blas(),
    }


def busy_warning(m: dict) -> str | None:
    """A warning when the machine was already loaded at the start (figures then unreliable)."""
    load, cores = m.get("load_average_at_start"), m.get("usable_cores") or 1
    if load and load[0] > 0.5 * cores:
        return (f"**Warning: the machine was busy at the start (1-minute load {load[0]} on "
                f"{cores} cores); absolute figures and ratios involving multithreaded BLAS "
                "or torch are unreliable. Re-run on an idle machine.**")
    return None


# ------------------------------------------------------------------- report
def _blas_owner(path: str | None) -> str:
    """Which package shipped a BLAS, guessed from its file path ("numpy", "torch", ...)."""
    if not path:
        return "?"
    parts = Path(path).parts
    for i, part in enumerate(parts):
        if part in ("site-packages", "dist-packages") and i + 1 < len(parts):
            return parts[i + 1].split(".")[0]
    return Path(path).name


def _blas_line(b: dict) -> str:
    """One BLAS for the header: library, version, owner and threads, or what is known."""
    if "path" not in b:  # threadpoolctl missing: only the thread variables that are set
        env = ", ".join(f"{k}={v}" for k, v in b.get("env", {}).items())
        return f"{b.get('library')}" + (f" ({env})" if env else "")
    version = f" {b['version']}" if b.get("version") else ""
    return f"{b.get('library')}{version} from {_blas_owner(b.get('path'))} " \
           f"({b.get('threads')} threads)"


def _machine_lines(m: dict) -> list[str]:
    blas = "; ".join(_blas_line(b) for b in m["blas"]
                     if b.get("user_api", "blas") == "blas") or "unknown"
    versions = ", ".join(f"{k} {m[k]}" for k in ("numpy", "torch", "jax", "sklearn") if m[k])
    return [f"- CPU: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), "
            f"load average at start {m['load_average_at_start']}",
            f"- Python {m['python']}; {versions}",
            f"- BLAS: {blas}; torch threads: {m['torch_threads'] or DASH}"]


def training_table(training: dict, columns: list[tuple[str, str]]) -> list[str]:
    """Samples/s (best or median of repeats) per config and column, then the ratio table."""
    titles = [t for _, t in columns]
    lines = ["| config | layers, batch | " + " | ".join(titles) + " |",
             "|---|---|" + "---:|" * len(titles)]
    for name, row in training.items():
        cells = [_cell(row["columns"].get(k), format_rate, "samples_per_s") for k, _ in columns]
        lines.append(f"| {name} | {row['label']} | " + " | ".join(cells) + " |")
    lines += ["", "| config | " + " | ".join(t for t, _, _ in RATIOS) + " |",
              "|---|" + "---:|" * len(RATIOS)]
    for name, row in training.items():
        cols = row["columns"]
        cells = [format_ratio(_value(cols.get(a), "samples_per_s"),
                              _value(cols.get(b), "samples_per_s")) for _, a, b in RATIOS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _unavailable_notes(results: dict) -> list[str]:
    """One bullet per (column, reason), listing the configs it applies to."""
    seen: dict[tuple[str, str], list[str]] = {}
    for name, row in results.get("training", {}).items():
        for key, cell in row["columns"].items():
            if "unavailable" in cell:
                seen.setdefault((key, cell["unavailable"]), []).append(name)
    return [f"- {key} ({', '.join(names)}): {reason}" for (key, reason), names in seen.items()]


def _impl_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)] + [
        "| " + " | ".join(r) + " |" for r in rows]


def _latency_lines(latency: dict) -> list[str]:
    impls = [("numpy", "NumPy"), ("nerve", "nerve"), ("torch", "PyTorch")]
    rows = []
    for batch, res in latency.items():
        rows.append([batch] + [_cell(res.get(k), format_seconds, "seconds") for k, _ in impls]
                    + [format_ratio(_value(res.get("nerve"), "seconds"),
                                    _value(res.get("numpy"), "seconds")),
                       format_ratio(_value(res.get("nerve"), "seconds"),
                                    _value(res.get("torch"), "seconds"))])
    return _impl_table(["input", "NumPy", "nerve", "PyTorch", "nerve/NumPy time",
                        "nerve/PyTorch time"], rows)


def to_markdown(results: dict) -> str:
    """The whole report as Markdown."""
    lines = [f"# nerve benchmark ({results['mode']})", ""] + _machine_lines(results["machine"])
    threads = results.get("settings", {}).get("threads")
    if threads:
        lines.append(f"- Threads limited to {threads} for every BLAS and for torch "
                     "(not for JAX: XLA's CPU pool cannot be resized at run time)")
    warning = busy_warning(results["machine"])
    if warning:
        lines += ["", warning]
    if results.get("training"):
        lines += ["", f"## Training throughput (samples/s, {_stat(results)} of up to "
                  f"{results['settings']['repeats']} interleaved repeats)", ""]
        lines += training_table(results["training"], results["columns"])
        lines += ["", "Ratios are throughput ratios (above 1× = the first is faster), taken "
                  "within this run. n/a = not measurable here (below); — = not run. A column "
                  "that used up its time budget got fewer repeats (latest.json has them all)."]
        notes = _unavailable_notes(results)
        if notes:
            lines += ["", "Unavailable:"] + notes
    if results.get("latency"):
        lines += ["", f"## Inference latency (784-256-256-10, {_stat(results)} per call)", ""]
        lines += _latency_lines(results["latency"])
    if results.get("memory"):
        mem = results["memory"]
        lines += ["", "## Peak training memory, config D (fresh subprocess each)", ""]
        rows = [[m, _cell(r.get("numpy"), format_bytes, "bytes"),
                 _cell(r.get("nerve"), format_bytes, "bytes"),
                 format_ratio(_value(r.get("nerve"), "bytes"), _value(r.get("numpy"), "bytes"))]
                for m, r in mem.items()]
        lines += _impl_table(["method", "NumPy", "nerve", "nerve/NumPy"], rows)
        lines += ["", "tracemalloc: peak traced bytes (NumPy buffers included) while building "
                  "model + optimizer and training, above the data. rss: peak RSS growth over "
                  "the same span. Parameters alone: 12.6 MiB."]
    if results.get("digits"):
        lines += _digits_lines(results["digits"])
    if results.get("op_chain"):
        oc = results["op_chain"]
        res = oc["results"]
        lines += ["", f"## Chain of {oc['n_ops']:,} elementwise ops, forward + backward", ""]
        rows = [[k, _cell(r, format_seconds, "seconds"),
                 "n/a" if "unavailable" in r else f"{r['us_per_op']:.2f} µs"]
                for k, r in res.items()]
        lines += _impl_table(["implementation", "total", "per op"], rows)
        lines += ["", "nerve/PyTorch time: " + format_ratio(
            _value(res.get("nerve"), "seconds"), _value(res.get("torch"), "seconds"))]
        if oc.get("fresh_process"):
            lines += ["", "Each implementation ran in a fresh process that imported only it, "
                      "so the garbage collector's passes over nerve's graph objects do not also "
                      "scan torch's and JAX's objects."]
    est = results.get("estimators")
    if est:
        lines += ["", "## nerve.sklearn.MLPClassifier vs scikit-learn's MLPClassifier (digits)", ""]
        if "unavailable" in est:
            lines.append(f"n/a: {est['unavailable']}")
        else:
            from nerve.bench.sklearn_compare import format_comparison
            lines += ["```", format_comparison(est), "```"]
    feats = results.get("features")
    if feats:
        lines += ["", "## HOG features: nerve (batched) vs scikit-image (per image)", ""]
        if isinstance(feats, dict) and "unavailable" in feats:
            lines.append(f"n/a: {feats['unavailable']}")
        else:
            from nerve.bench.features import format_rows
            lines.append(format_rows(feats))
    lines += targets.markdown(results)
    extra = _other_unavailable(results)
    if extra:
        lines += ["", "Other unavailable measurements:"] + extra
    return "\n".join(lines) + "\n"


def _stat(results: dict) -> str:
    return results.get("settings", {}).get("stat", "best")


def _other_unavailable(results: dict) -> list[str]:
    """Bullets for the latency, memory and op-chain cells that could not be measured."""
    tables = {f"latency {k}": row for k, row in (results.get("latency") or {}).items()}
    tables.update({f"memory {k}": row for k, row in (results.get("memory") or {}).items()})
    if results.get("op_chain"):
        tables["op chain"] = results["op_chain"]["results"]
    return [f"- {where}, {impl}: {cell['unavailable']}" for where, row in tables.items()
            for impl, cell in row.items() if "unavailable" in cell]


def _digits_lines(d: dict) -> list[str]:
    if "unavailable" in d:
        return ["", "## Digits time to 97 % test accuracy", "", f"n/a: {d['unavailable']}"]
    lines = ["", f"## Digits time to {d['target']:.0%} test accuracy "
             f"(64-100-10, median over seeds {d['seeds']}; data: {d['source']})", ""]
    rows = []
    for k, r in d["results"].items():
        if "unavailable" in r:
            rows.append([k, "n/a", r["unavailable"]])
        else:
            rows.append([k, format_seconds(r["seconds"]), f"{r['epochs']:g}"])
    return lines + _impl_table(["implementation", "time", "epochs"], rows)


def write(results: dict, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``latest.md`` and ``latest.json`` into ``out_dir`` (created if needed)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md, js = out / "latest.md", out / "latest.json"
    atomic_write_bytes(md, to_markdown(results).encode("utf-8"))  # the old report survives a failed write
    atomic_write_bytes(js, (json.dumps(results, indent=2, default=str) + "\n").encode())
    return md, js
