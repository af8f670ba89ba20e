"""HOG speed, nerve vs scikit-image: a thin wrapper over :mod:`nerve.bench.features`.

    python benchmarks/bench_features.py [--images 1000] [--size 32] [--repeats 5]
"""
from nerve.bench.features import main

if __name__ == "__main__":
    raise SystemExit(main())
