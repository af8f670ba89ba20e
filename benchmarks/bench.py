"""Run nerve's speed benchmark from a checkout: ``python benchmarks/bench.py [--quick|--full] ...``.

A thin wrapper over ``nerve bench`` (see ``python benchmarks/bench.py --help``) that writes
``benchmarks/results/latest.md`` and ``latest.json`` unless ``--out`` says otherwise.
"""
from __future__ import annotations

import sys
from pathlib import Path

from nerve.bench import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    if not any(a == "--out" or a.startswith("--out=") for a in argv):
        argv += ["--out", str(Path(__file__).resolve().parent / "results")]
    sys.exit(main(argv))
