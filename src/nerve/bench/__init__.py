"""``nerve bench``: nerve's training speed against a hand-written NumPy MLP and other frameworks.

Measures, in one run and interleaved (round-robin repeats, best or median reported), the
training throughput of nerve's ordinary loop, ``nv.fit`` and the captured step
(``nv.compile``, when it exists) against the GEMM floor, the hand-written NumPy
reference, PyTorch eager, JAX (jit step and whole-pass ``lax.scan``) and
scikit-learn's ``MLPClassifier`` on configs A-E; then inference latency, peak memory
on config D, digits time-to-97 % and a 10,000-op autodiff chain. Comparators that
are not installed are left out; nerve columns whose API is missing say why.

>>> from nerve.bench import run
>>> results = run(["--configs", "C", "--sections", "training"])  # doctest: +SKIP
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

from nerve.bench.configs import CONFIGS, parse_configs

SECTIONS = ("training", "latency", "memory", "digits", "chain", "estimators", "features")
# quick fits in about two minutes on 2 cores; full takes several. budget_s caps the timed
# seconds one column may spend on one config (a slow column then gets fewer repeats).
MODES = {
    "quick": {"divide": 8, "repeats": 3, "budget_s": 4.0, "latency_s": 0.02,
              "digits_seeds": (0, 1, 2), "memory_steps": 3, "chain_repeats": 3,
              "estimator_seeds": (0, 1, 2, 3, 4), "hog_repeats": 2},
    "full": {"divide": 1, "repeats": 5, "budget_s": 20.0, "latency_s": 0.1,
             "digits_seeds": (0, 1, 2, 3, 4), "memory_steps": 5, "chain_repeats": 5,
             "estimator_seeds": (0, 1, 2, 3, 4), "hog_repeats": 5},
}

__all__ = ["run", "main", "CONFIGS"]


class _UsageError(ValueError):
    """A bad flag, reported as one line like the other ``nerve`` subcommands."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="nerve bench",
        description="Benchmark nerve's MLP training against a hand-written NumPy MLP, "
                    "PyTorch, JAX and scikit-learn (those present), interleaved in one run.")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="short measurements (default): under two minutes in all without "
                           "torch and JAX, a few minutes with them")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="measurements of about 0.5-1 s each and more repeats")
    p.set_defaults(mode="quick")
    p.add_argument("--configs", default=None,
                   help=f"comma-separated configs from {','.join(CONFIGS)} (default: all)")
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"comma-separated parts to run from {','.join(SECTIONS)} (default: all)")
    p.add_argument("--skip", default="",
                   help="comma-separated comparators to leave out: nerve,torch,jax,sklearn")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats per measurement")
    p.add_argument("--samples", type=int, default=None,
                   help="training samples per measurement, for every config "
                        "(default: the config's own, divided by 8 in --quick)")
    p.add_argument("--stat", choices=("best", "median"), default="best",
                   help="which of the repeats to report: the best (default; robust to other "
                        "load on the machine, which only slows things down) or the median")
    p.add_argument("--threads", type=int, default=None,
                   help="limit BLAS (via threadpoolctl, from nerve[bench]) and torch to this "
                        "many threads")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the synthetic training data and the initial weights "
                        "(default 0)")
    p.add_argument("--out", default=None,
                   help="folder to write latest.md and latest.json into (default: print only)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return p


def _names(spec: str, valid: tuple[str, ...], what: str) -> tuple[str, ...]:
    names = tuple(s.strip().lower() for s in spec.split(",") if s.strip())
    bad = [n for n in names if n not in valid]
    if bad:
        raise ValueError(f"unknown {what} {bad}; valid names are {list(valid)}")
    return names


def _parse(argv: list[str] | None) -> argparse.Namespace:
    args = _parser().parse_args(argv)
    args.config_list = parse_configs(args.configs)
    args.section_list = _names(args.sections, SECTIONS, "section(s)")
    args.skip_list = _names(args.skip, ("nerve", "torch", "jax", "sklearn"), "comparator(s)")
    for name in ("repeats", "samples", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name} must be a positive integer, got {value}")
    if args.out is not None:
        _check_out_folder(args.out)
    if args.threads is not None:  # before any measuring: a limit not applied is no limit
        from nerve._extras import require
        require("threadpoolctl", "bench", "--threads (limiting the BLAS threads)")
    return args


def _check_out_folder(out: str) -> None:
    """Refuse, before any measuring, an --out that cannot be the report's folder: a file
    there or above it (the benchmark would run for minutes and only then fail)."""
    if not out:
        raise ValueError("--out must name a folder, got ''")
    if os.path.exists(out):
        if not os.path.isdir(out):
            raise ValueError(f"--out {out!r} is a file; expected a folder to write "
                             "latest.md and latest.json into")
        if not os.access(out, os.W_OK | os.X_OK):
            raise ValueError(f"--out {out!r}: the folder is not writable")
        return
    path = os.path.dirname(os.path.normpath(os.path.abspath(out)))
    while path and not os.path.exists(path):
        path = os.path.dirname(path)
    if path and not os.path.isdir(path):
        raise ValueError(f"--out {out!r}: {path!r} is a file, so the folder cannot be "
                         "created there; expected a folder to write latest.md and latest.json "
                         "into")


class _ThreadLimit:
    """Limit BLAS (threadpoolctl) and torch to ``n`` threads; :meth:`apply` again after new
    libraries load; :meth:`restore` undoes it all. ``limited`` names what was limited
    (``"BLAS"``, ``"torch"``), for the report, which claims no limit that was not applied.
    Without threadpoolctl, :meth:`apply` raises naming ``nerve[bench]``."""

    def __init__(self, n: int | None, skip: tuple[str, ...] = ()) -> None:
        self.n, self.skip, self.limits, self.torch_threads = n, skip, [], None
        self.limited: list[str] = []

    def apply(self) -> None:
        if self.n is None:
            return
        from nerve._extras import require

        threadpoolctl = require("threadpoolctl", "bench", "--threads (limiting the BLAS "
                                "threads)")
        if "torch" not in self.skip:
            try:  # load torch now so that its thread pool is limited too
                importlib.import_module("torch")
            except ImportError:
                pass
        self.limits.append(threadpoolctl.threadpool_limits(self.n))
        self._note("BLAS")
        torch = sys.modules.get("torch")
        if torch is not None and "torch" not in self.skip:
            if self.torch_threads is None:
                self.torch_threads = torch.get_num_threads()
            torch.set_num_threads(self.n)
            self._note("torch")

    def _note(self, what: str) -> None:
        if what not in self.limited:
            self.limited.append(what)

    def restore(self) -> None:
        for limit in reversed(self.limits):
            limit.restore_original_limits()
        self.limits.clear()
        torch = sys.modules.get("torch")
        if torch is not None and self.torch_threads is not None:
            torch.set_num_threads(self.torch_threads)


def run(argv: list[str] | None = None) -> dict:
    """Run the benchmark with command-line style arguments; return the results dict.

    Prints the Markdown report to stdout (progress to stderr) and, with ``--out DIR``,
    writes ``DIR/latest.md`` and ``DIR/latest.json``.
    """
    args = _parse(argv)
    settings = dict(MODES[args.mode])
    settings["repeats"] = args.repeats or settings["repeats"]
    log = (lambda s: None) if args.quiet else (lambda s: print(f"[bench] {s}", file=sys.stderr,
                                                                flush=True))
    threads = _ThreadLimit(args.threads, args.skip_list)
    try:
        return _run(args, settings, log, threads)
    finally:
        threads.restore()


def _run(args: argparse.Namespace, settings: dict, log, threads: _ThreadLimit) -> dict:
    from nerve.bench import (digits, features, harness, latency, memory, report,
                             sklearn_compare, targets)

    t_start, load = time.perf_counter(), report.load_average()
    columns = [c for c in harness.COLUMNS if c.group not in args.skip_list]
    results: dict = {
        "mode": args.mode, "machine": {},
        "settings": {"repeats": settings["repeats"], "stat": args.stat, "seed": args.seed,
                     "skip": args.skip_list,
                     "threads": args.threads, "configs": [c.name for c in args.config_list]},
        "columns": [(c.key, c.title) for c in columns],
    }
    skip = args.skip_list
    if "training" in args.section_list:
        results["training"] = {}
        for cfg in args.config_list:
            threads.apply()
            samples = args.samples or max(cfg.batch, cfg.samples // settings["divide"])
            results["training"][cfg.name] = harness.measure_config(
                cfg, samples, settings["repeats"], columns, args.seed, log,
                budget_s=settings["budget_s"], stat=args.stat)
    threads.apply()
    if "latency" in args.section_list:
        log("inference latency")
        results["latency"] = latency.inference_latency(
            repeats=settings["repeats"], target_s=settings["latency_s"], skip=skip,
            seed=args.seed, stat=args.stat)
    if "memory" in args.section_list:
        log("peak memory (subprocesses)")
        results["memory"] = memory.peak_memory(settings["memory_steps"], skip=skip,
                                               threads=args.threads)
    if "digits" in args.section_list:
        log("digits time to 97%")
        results["digits"] = digits.time_to_accuracy(settings["digits_seeds"], skip=skip)
    if "chain" in args.section_list:
        log("op chain")
        results["op_chain"] = latency.op_chain(repeats=settings["chain_repeats"], skip=skip,
                                               stat=args.stat)
    if "estimators" in args.section_list and "sklearn" not in skip:
        log("nerve.sklearn.MLPClassifier vs scikit-learn's on the digits")
        results["estimators"] = _optional(lambda: sklearn_compare.compare_digits(
            seeds=settings["estimator_seeds"]))
    if "features" in args.section_list:
        log("HOG on 1,000 32x32 images, nerve vs scikit-image")
        results["features"] = _optional(lambda: features.run(repeats=settings["hog_repeats"]))
    results["settings"]["threads_limited"] = list(threads.limited)
    results["machine"] = report.machine_info(skip, load)
    results["elapsed_s"] = time.perf_counter() - t_start
    results["targets"] = targets.check(results)
    text = report.to_markdown(results)
    print(text)
    if args.out:
        try:
            md, js = report.write(results, args.out)
        except OSError as exc:  # checked up front; this is a change since (or a full disk)
            raise ValueError(f"--out {args.out!r}: cannot write the report there ({exc}); "
                             "the results are in the report printed above") from None
        log(f"wrote {md} and {js}")
    log(f"done in {results['elapsed_s']:.0f} s")
    return results


def _optional(measure):
    """Run a measurement that needs an optional package; say which one if it is missing."""
    try:
        return measure()
    except ImportError as exc:
        return {"unavailable": str(exc)}


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``nerve bench``; returns the exit status (2 on bad arguments)."""
    from nerve._extras import MissingExtraError
    try:
        run(argv)
    except ValueError as exc:
        print(f"nerve: error: {exc}", file=sys.stderr)
        return 2
    except MissingExtraError as exc:  # --threads without threadpoolctl
        print(f"nerve: error: {exc}", file=sys.stderr)
        return 2
    return 0
