"""Machine description, number formatting, and the Markdown/JSON report."""
from __future__ import annotations

import importlib.util
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


#: The comparators whose columns (and rows) the report leaves out when their package is
#: not installed at all: group (as --skip names it) -> (the module, what installs it).
#: One that is installed but fails on a config keeps its column, with n/a in that cell.
COMPARATORS = {"torch": ("torch", "pip install torch"), "jax": ("jax", "pip install jax"),
               "sklearn": ("sklearn", "pip install 'nerve[bench]'")}


def _installed(module: str) -> bool:
    """Whether ``module`` can be found, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a module in sys.modules without a __spec__
        return sys.modules.get(module) is not None


def _group(key: str) -> str:
    """The comparator group of a column or implementation key ("jax_step" -> "jax")."""
    from nerve.bench.harness import COLUMNS
    return next((c.group for c in COLUMNS if c.key == key), key)


def absent_comparators(results: dict) -> set[str]:
    """The comparator groups not installed in the run (recorded by :func:`machine_info`)."""
    installed = (results.get("machine") or {}).get("installed") or {}
    return {group for group, present in installed.items() if not present}


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
        "installed": {group: _installed(module) for group, (module, _) in COMPARATORS.items()},
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


def training_table(training: dict, columns: list[tuple[str, str]],
                   absent: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Samples/s (best or median of repeats) per config and column, then the ratio table.
    The columns and ratios of the comparator groups in ``absent`` (not installed) are
    left out."""
    columns = [(k, t) for k, t in columns if _group(k) not in absent]
    ratios = [r for r in RATIOS if _group(r[1]) not in absent and _group(r[2]) not in absent]
    titles = [t for _, t in columns]
    lines = ["| config | layers, batch | " + " | ".join(titles) + " |",
             "|---|---|" + "---:|" * len(titles)]
    for name, row in training.items():
        cells = [_cell(row["columns"].get(k), format_rate, "samples_per_s") for k, _ in columns]
        lines.append(f"| {name} | {row['label']} | " + " | ".join(cells) + " |")
    lines += ["", "| config | " + " | ".join(t for t, _, _ in ratios) + " |",
              "|---|" + "---:|" * len(ratios)]
    for name, row in training.items():
        cols = row["columns"]
        cells = [format_ratio(_value(cols.get(a), "samples_per_s"),
                              _value(cols.get(b), "samples_per_s")) for _, a, b in ratios]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _unavailable_notes(results: dict) -> list[str]:
    """One bullet per (column, reason), listing the configs it applies to; a comparator
    that is not installed (its column left out) also says what installs it."""
    absent = absent_comparators(results)
    seen: dict[tuple[str, str], list[str]] = {}
    for name, row in results.get("training", {}).items():
        for key, cell in row["columns"].items():
            if "unavailable" in cell:
                seen.setdefault((key, cell["unavailable"]), []).append(name)
    return [f"- {key} ({', '.join(names)}): {reason}{_install_hint(key, absent)}"
            for (key, reason), names in seen.items()]


def _install_hint(key: str, absent: set[str]) -> str:
    """For a key of a comparator group not installed: that its column was left out, and
    what installs it ("pip install torch")."""
    group = _group(key)
    if group not in absent:
        return ""
    return f" (not installed, so left out of the table; {COMPARATORS[group][1]})"


def _impl_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)] + [
        "| " + " | ".join(r) + " |" for r in rows]


def _latency_lines(latency: dict, absent: set[str] | frozenset[str] = frozenset()
                   ) -> list[str]:
    """The latency table; without torch installed, no PyTorch columns."""
    impls = [("numpy", "NumPy"), ("nerve", "nerve"), ("torch", "PyTorch")]
    impls = [(k, t) for k, t in impls if _group(k) not in absent]
    ratios = [(b, f"nerve/{t} time") for b, t in impls if b != "nerve"]
    rows = []
    for batch, res in latency.items():
        rows.append([batch] + [_cell(res.get(k), format_seconds, "seconds") for k, _ in impls]
                    + [format_ratio(_value(res.get("nerve"), "seconds"),
                                    _value(res.get(b), "seconds")) for b, _ in ratios])
    return _impl_table(["input"] + [t for _, t in impls] + [t for _, t in ratios], rows)


def to_markdown(results: dict) -> str:
    """The whole report as Markdown."""
    lines = [f"# nerve benchmark ({results['mode']})", ""] + _machine_lines(results["machine"])
    absent = absent_comparators(results)
    lines += _threads_lines(results.get("settings", {}))
    warning = busy_warning(results["machine"])
    if warning:
        lines += ["", warning]
    if results.get("training"):
        lines += ["", f"## Training throughput (samples/s, {_stat(results)} of up to "
                  f"{results['settings']['repeats']} interleaved repeats)", ""]
        lines += training_table(results["training"], results["columns"], absent)
        lines += ["", "Ratios are throughput ratios (above 1× = the first is faster), taken "
                  "within this run. n/a = not measurable here (below); — = not run. A "
                  "comparator that is not installed has no column (below). A column that "
                  "used up its time budget got fewer repeats (latest.json has them all)."]
        notes = _unavailable_notes(results)
        if notes:
            lines += ["", "Unavailable:"] + notes
    if results.get("latency"):
        lines += ["", f"## Inference latency (784-256-256-10, {_stat(results)} per call)", ""]
        lines += _latency_lines(results["latency"], absent)
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
        lines += _digits_lines(results["digits"], absent)
    if results.get("op_chain"):
        oc = results["op_chain"]
        res = oc["results"]
        lines += ["", f"## Chain of {oc['n_ops']:,} elementwise ops, forward + backward", ""]
        rows = [[k, _cell(r, format_seconds, "seconds"),
                 "n/a" if "unavailable" in r else f"{r['us_per_op']:.2f} µs"]
                for k, r in res.items() if _group(k) not in absent]
        lines += _impl_table(["implementation", "total", "per op"], rows)
        if "torch" not in absent:
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


def _threads_lines(settings: dict) -> list[str]:
    """What --threads limited; never a limit that was not applied."""
    threads = settings.get("threads")
    if not threads:
        return []
    limited = settings.get("threads_limited")
    if limited is None:  # a report written before this was recorded
        limited = ["BLAS", "torch"]
    if "BLAS" not in limited:
        return [f"- **--threads {threads} was not applied to BLAS (threadpoolctl missing: "
                "pip install 'nerve[bench]'); the BLAS used its default thread count**"]
    what = "every BLAS and torch" if "torch" in limited else "every BLAS"
    return [f"- Threads limited to {threads} for {what} (not for JAX: XLA's CPU pool cannot "
            "be resized at run time)"]


def _other_unavailable(results: dict) -> list[str]:
    """Bullets for the latency, memory, op-chain and digits cells that could not be
    measured (a digits row is listed here only when its comparator, not installed, has no
    row in the table; the table gives the others' reasons)."""
    absent = absent_comparators(results)
    tables = {f"latency {k}": row for k, row in (results.get("latency") or {}).items()}
    tables.update({f"memory {k}": row for k, row in (results.get("memory") or {}).items()})
    if results.get("op_chain"):
        tables["op chain"] = results["op_chain"]["results"]
    digits = (results.get("digits") or {}).get("results") or {}
    tables["digits"] = {k: r for k, r in digits.items() if _group(k) in absent}
    return [f"- {where}, {impl}: {cell['unavailable']}{_install_hint(impl, absent)}"
            for where, row in tables.items() for impl, cell in row.items()
            if "unavailable" in cell]


def _digits_lines(d: dict, absent: set[str] | frozenset[str] = frozenset()) -> list[str]:
    if "unavailable" in d:
        return ["", "## Digits time to 97 % test accuracy", "", f"n/a: {d['unavailable']}"]
    lines = ["", f"## Digits time to {d['target']:.0%} test accuracy "
             f"(64-100-10, median over seeds {d['seeds']}; data: {d['source']})", ""]
    rows = []
    for k, r in d["results"].items():
        if _group(k) in absent:
            continue  # listed under "Other unavailable measurements"
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
