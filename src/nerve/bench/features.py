"""HOG speed: ``nerve.features.hog`` on a whole batch vs ``skimage.feature.hog`` image by image.

    python -m nerve.bench.features [--images 1000] [--size 32] [--repeats 5]
    nerve bench --sections features

scikit-image computes one image per call, so it runs in a Python loop; nerve
computes the batch with array operations. Both use the same parameters (9
orientations, 8x8 cells, 2x2 blocks, L2-Hys) and float64 input; the timings are
interleaved (nerve, skimage, nerve, ...) and the median is reported, together with
the largest difference between the two results. ``run()`` returns the rows for
``nerve bench``.
"""
from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from nerve._extras import require
from nerve.features import hog

PARAMS = dict(orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2),
              block_norm="L2-Hys")


def _median_seconds(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def run(n_images: int = 1000, size: int = 32, repeats: int = 5, seed: int = 0) -> list[dict]:
    """Time both implementations on random grayscale and RGB images; one row per case.

    Each row: ``benchmark``, ``case``, ``images``, ``nerve_s``, ``skimage_s`` (None if
    scikit-image is missing, and then ``skimage_unavailable``: why, naming the extra that
    installs it), ``speedup`` (skimage_s / nerve_s), ``max_abs_diff``.
    """
    missing = None
    try:
        sk_hog = require("skimage.feature", "bench", "the HOG comparison").hog
    except ImportError as exc:
        sk_hog, missing = None, str(exc)
    rng = np.random.default_rng(seed)
    rows = []
    for case, shape in (("gray", (n_images, size, size)), ("rgb", (n_images, size, size, 3))):
        images = rng.random(shape)
        axis = -1 if case == "rgb" else None
        fns: dict[str, Callable[[], object]] = {"nerve": lambda: hog(images, **PARAMS)}
        if sk_hog is not None:
            fns["skimage"] = lambda: [sk_hog(im, **PARAMS, channel_axis=axis) for im in images]
        for fn in fns.values():  # warm-up: imports, caches
            fn()
        seconds = _median_seconds(fns, repeats)
        row = {"benchmark": "features.hog", "case": case, "images": f"{n_images}x{size}x{size}",
               "nerve_s": seconds["nerve"], "skimage_s": seconds.get("skimage"),
               "speedup": None, "max_abs_diff": None}
        if missing is not None:
            row["skimage_unavailable"] = missing
        if sk_hog is not None:
            ours = hog(images[:50], **PARAMS, dtype=np.float64)
            theirs = np.stack([sk_hog(im, **PARAMS, channel_axis=axis) for im in images[:50]])
            row["speedup"] = seconds["skimage"] / seconds["nerve"]
            row["max_abs_diff"] = float(np.abs(ours - theirs).max())
        rows.append(row)
    return rows


def format_rows(rows: list[dict]) -> str:
    """A Markdown table of :func:`run`'s rows. Without scikit-image its columns are left
    out, and a line under the table says why (naming the extra that installs it)."""
    reasons = [r["skimage_unavailable"] for r in rows if r.get("skimage_unavailable")]
    if rows and len(reasons) == len(rows):
        lines = ["| case | images | nerve (s) |", "|---|---|---:|"]
        lines += [f"| {r['case']} | {r['images']} | {r['nerve_s']:.3f} |" for r in rows]
        return "\n".join(lines + ["", f"Unavailable: scikit-image: {reasons[0]}"])
    lines = ["| case | images | nerve (s) | skimage loop (s) | speedup | max abs diff |",
             "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        sk = "n/a" if r["skimage_s"] is None else f"{r['skimage_s']:.3f}"
        speedup = "n/a" if r["speedup"] is None else f"{r['speedup']:.1f}x"
        diff = "n/a" if r["max_abs_diff"] is None else f"{r['max_abs_diff']:.1e}"
        lines.append(f"| {r['case']} | {r['images']} | {r['nerve_s']:.3f} | {sk} | {speedup} "
                     f"| {diff} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(format_rows(run(args.images, args.size, args.repeats, args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
