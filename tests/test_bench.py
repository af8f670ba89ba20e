"""The speed benchmark's own correctness: reference gradients, harness end to end, report.

No timing assertions: only that the pieces compute the right things and write the table.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from nerve.bench import main, run
from nerve.bench.configs import CONFIGS, Config, parse_configs, workload
from nerve.bench.reference_numpy import GemmFloor, NumpyMLP
from nerve.bench.report import format_bytes, format_rate, format_ratio, format_seconds
from nerve.bench.report import training_table

SIZES = (5, 4, 3, 3)


def _tiny(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((6, SIZES[0]))
    y = rng.integers(0, SIZES[-1], size=6)
    return X, y


def _loss(net: NumpyMLP, X, y) -> float:
    scores = net.forward(X)
    scores = scores - scores.max(axis=1, keepdims=True)
    logp = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


def test_numpy_reference_gradients_match_finite_differences():
    X, y = _tiny()
    net = NumpyMLP(SIZES, dtype=np.float64, seed=1)
    loss, grads = net.loss_and_grads(X, y)
    assert loss == pytest.approx(_loss(net, X, y), rel=1e-12)
    h = 1e-6
    for layer, pair in enumerate(net.params):
        for which, p in enumerate(pair):
            numeric = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                old = p[idx]
                p[idx] = old + h
                up = _loss(net, X, y)
                p[idx] = old - h
                down = _loss(net, X, y)
                p[idx] = old
                numeric[idx] = (up - down) / (2 * h)
            analytic = grads[layer][which]
            rel = np.abs(analytic - numeric).max() / max(1e-12, np.abs(numeric).max())
            assert rel < 1e-6, f"layer {layer} param {which}: relative error {rel:.2e}"


def test_train_step_is_momentum_sgd_on_those_gradients():
    X, y = _tiny(3)
    net = NumpyMLP(SIZES, lr=0.1, momentum=0.9, dtype=np.float64, seed=2)
    W0 = [[p.copy() for p in pair] for pair in net.params]
    _, g1 = net.loss_and_grads(X, y)
    net.train_step(X, y)  # v1 = -lr g1, W1 = W0 + v1
    for pair, old, g in zip(net.params, W0, g1):
        for p, p0, gp in zip(pair, old, g):
            np.testing.assert_allclose(p, p0 - 0.1 * gp, rtol=1e-12, atol=1e-14)
    W1 = [[p.copy() for p in pair] for pair in net.params]
    _, g2 = net.loss_and_grads(X, y)
    net.train_step(X, y)  # v2 = 0.9 v1 - lr g2
    for pair, old, a, b in zip(net.params, W1, g1, g2):
        for p, p1, ga, gb in zip(pair, old, a, b):
            np.testing.assert_allclose(p, p1 + 0.9 * (-0.1 * ga) - 0.1 * gb, rtol=1e-10,
                                       atol=1e-13)


def test_reference_stays_float32():
    net = NumpyMLP(SIZES, seed=0)
    X, y = _tiny()
    loss = net.train_step(X.astype(np.float32), y)
    assert np.isfinite(loss)
    assert all(p.dtype == np.float32 for pair in net.params + net.velocity for p in pair)
    assert net.forward(X.astype(np.float32)).dtype == np.float32


def test_gemm_floor_computes_the_step_products():
    floor = GemmFloor((5, 7, 3), batch=4, dtype=np.float64, seed=0)
    X = np.random.default_rng(0).standard_normal((4, 5))
    floor.step(X)
    W0, W1 = floor.weights
    h1 = X @ W0
    np.testing.assert_allclose(floor.outs[0], h1)
    np.testing.assert_allclose(floor.outs[1], h1 @ W1)
    np.testing.assert_allclose(floor.dWs[0], X.T @ floor.outs[0])
    np.testing.assert_allclose(floor.dWs[1], h1.T @ floor.outs[1])
    np.testing.assert_allclose(floor.dXs[1], floor.outs[1] @ W1.T)


def test_workload_rounds_to_whole_batches_and_rejects_too_few_samples():
    cfg = Config("T", (3, 4, 2), batch=8, samples=100)
    wl = workload(cfg, 100)
    assert wl.pool % 8 == 0 and wl.samples % 8 == 0
    assert wl.X.dtype == np.float32 and wl.y.dtype == np.int64
    assert wl.X.shape == (wl.pool, 3) and set(np.unique(wl.y)) <= {0, 1}
    with pytest.raises(ValueError, match="at least the batch size"):
        workload(cfg, 4)


def test_unknown_config_and_bad_arguments_are_rejected(capsys):
    with pytest.raises(ValueError, match="valid names"):
        parse_configs("A,Z")
    assert [c.name for c in parse_configs("c, e")] == ["C", "E"]
    assert main(["--configs", "Q", "--quiet"]) == 2
    assert "valid names" in capsys.readouterr().err
    assert main(["--skip", "tensorflow", "--quiet"]) == 2
    assert main(["--repeats", "0", "--quiet"]) == 2


def test_bad_bench_flags_are_one_line_like_the_other_subcommands(capsys):
    from nerve.cli import main as nerve_main
    assert nerve_main(["bench", "--nonsense"]) == 2
    out, err = capsys.readouterr()
    assert err == "nerve: error: unrecognized arguments: --nonsense " \
                  "(see 'nerve bench --help')\n" and out == ""
    assert main(["--configs", "Q", "--quiet"]) == 2
    assert capsys.readouterr().err.startswith("nerve: error: unknown benchmark config")
    assert nerve_main(["bench", "--help"]) == 0
    assert "usage: nerve bench" in capsys.readouterr().out


def test_harness_runs_a_tiny_config_end_to_end(tmp_path, capsys):
    results = run(["--quick", "--configs", "C", "--samples", "256", "--repeats", "2",
                   "--sections", "training", "--skip", "torch,jax,sklearn",
                   "--out", str(tmp_path), "--quiet"])
    printed = capsys.readouterr().out
    md = (tmp_path / "latest.md").read_text()
    data = json.loads((tmp_path / "latest.json").read_text())
    assert md == printed.rstrip("\n") + "\n"
    assert "| C | 2-16-16-3, 32 |" in md and "nerve/NumPy" in md
    cols = data["training"]["C"]["columns"]
    assert set(cols) == {"gemm", "numpy", "nerve", "nerve_fit", "captured"}
    samples = data["training"]["C"]["samples"]
    for key in ("gemm", "numpy"):
        assert cols[key]["samples_per_s"] > 0 and len(cols[key]["times_s"]) == 2
        best = max(samples / t for t in cols[key]["times_s"])  # the default statistic
        assert cols[key]["samples_per_s"] == pytest.approx(best)
    for key in ("nerve", "nerve_fit", "captured"):  # measured, or says why not
        assert cols[key].get("samples_per_s", 0) > 0 or cols[key]["unavailable"]
    assert data["machine"]["cores"] >= 1 and data["machine"]["numpy"] == np.__version__
    assert results["training"]["C"]["samples"] == data["training"]["C"]["samples"]
    wall = [r for r in data["targets"] if r["target"] == "whole run without torch and JAX"]
    assert wall[0]["met"] is True and wall[0]["value"] == pytest.approx(data["elapsed_s"])
    assert "## Targets (" in md and "| eager nerve / NumPy | C |" in md


def test_report_formats_rates_ratios_and_units():
    assert format_rate(134_000) == "134k"
    assert format_rate(91_234) == "91.2k"
    assert format_rate(9_512) == "9.51k"
    assert format_rate(3_310_000) == "3.31M"
    assert format_rate(999_999) == "1.00M"
    assert format_rate(512) == "512"
    assert format_rate(None) == "—"
    assert format_ratio(58_000, 91_000) == "0.64×"
    assert format_ratio(3.3e6, 1.0e4) == "330×"
    assert format_ratio(1.0, None) == "—" and format_ratio(1.0, 0.0) == "—"
    assert format_seconds(12.3e-6) == "12.3 µs" and format_seconds(0.25) == "250 ms"
    assert format_seconds(2.0) == "2.00 s"
    assert format_bytes(38 * 2**20) == "38.0 MiB"


def test_training_table_puts_ratios_in_their_columns():
    training = {"A": {"label": CONFIGS["A"].label, "columns": {
        "numpy": {"samples_per_s": 100_000.0}, "nerve": {"samples_per_s": 50_000.0},
        "torch": {"samples_per_s": 25_000.0}, "gemm": {"samples_per_s": 200_000.0},
        "captured": {"samples_per_s": 80_000.0}, "jax_step": {"unavailable": "not installed"}}}}
    lines = training_table(training, [("gemm", "GEMM floor"), ("numpy", "NumPy"),
                                      ("nerve", "nerve"), ("jax_step", "JAX step")])
    assert lines[2] == "| A | 784-256-256-10, 128 | 200k | 100k | 50.0k | n/a |"
    header = [c.strip() for c in lines[4].strip("|").split("|")]
    row = [c.strip() for c in lines[6].strip("|").split("|")]
    cells = dict(zip(header, row))
    assert cells["nerve/NumPy"] == "0.50×" and cells["nerve/PyTorch"] == "2.00×"
    assert cells["nerve/JAX"] == "—" and cells["captured/GEMM floor"] == "0.40×"


def test_memory_child_counts_training_arrays():
    from nerve.bench.memory import child

    result = child("numpy", "tracemalloc", 1)
    params = sum(a * b + b for a, b in zip(CONFIGS["D"].sizes[:-1], CONFIGS["D"].sizes[1:]))
    # parameters + momentum buffers + one weight gradient at least
    assert result["bytes"] >= 3 * 4 * params * 0.95


def test_digits_reference_reaches_the_target():
    from nerve.bench.digits import TARGET, time_to_accuracy

    out = time_to_accuracy(seeds=(0,), max_epochs=30, skip=("nerve", "sklearn"))
    res = out["results"]["numpy"]
    assert "unavailable" not in res, res
    assert res["runs"][0]["accuracy"] >= TARGET and res["epochs"] <= 30


def test_digits_nerve_run_stops_at_the_target_and_counts_its_epochs():
    from nerve.bench.digits import TARGET, time_to_accuracy

    out = time_to_accuracy(seeds=(0,), max_epochs=30, skip=("numpy", "sklearn"))
    run = out["results"]["nerve"]["runs"][0]
    assert run["accuracy"] >= TARGET and run["seconds"] > 0
    epochs = run["epochs"]
    assert 1 < epochs <= 30
    # one epoch fewer than it needed: the target is not reached, and the table says so
    short = time_to_accuracy(seeds=(0,), max_epochs=epochs - 1, skip=("numpy", "sklearn"))
    assert "reached 97% in only 0 of 1" in short["results"]["nerve"]["unavailable"]


def test_runs_without_torch_jax_or_sklearn(monkeypatch, capsys):
    import sys

    for name in list(sys.modules) + ["torch", "jax", "sklearn", "threadpoolctl"]:
        if name.split(".")[0] in ("torch", "jax", "sklearn", "threadpoolctl"):
            monkeypatch.setitem(sys.modules, name, None)  # import now raises ImportError
    results = run(["--configs", "C", "--samples", "256", "--repeats", "1",
                   "--sections", "training,latency", "--quiet"])
    cols = results["training"]["C"]["columns"]
    for key in ("torch", "jax_step", "jax_scan", "sklearn"):
        assert "not installed" in cols[key]["unavailable"]
    assert cols["numpy"]["samples_per_s"] > 0
    assert "not installed" in results["latency"]["batch 1"]["torch"]["unavailable"]
    assert results["latency"]["batch 1"]["numpy"]["seconds"] > 0
    out = capsys.readouterr().out
    assert "| C |" in out
    blas = next(line for line in out.splitlines() if line.startswith("- BLAS:"))
    assert "unknown (install threadpoolctl to see it)" in blas
    assert "None" not in blas and " from ?" not in blas


def test_interleave_rotates_order_and_respects_the_budget():
    import time

    from nerve.bench.common import interleave

    calls = []

    def make(name, sleep=0.0):
        def fn():
            calls.append(name)
            time.sleep(sleep)
        return fn

    def boom():
        raise RuntimeError("broken column")

    times, errors = interleave({"a": make("a"), "b": make("b"), "slow": make("slow", 0.02),
                                "bad": boom}, repeats=4, budget_s=0.01)
    assert len(times["a"]) == 4 and len(times["b"]) == 4
    assert len(times["slow"]) == 1  # over budget after its first sample
    assert times["bad"] == [] and errors["bad"] == "RuntimeError: broken column"
    # round 1 runs a, b, slow; round 2 starts one later, at b, and skips slow and bad
    assert calls[:5] == ["a", "b", "slow", "b", "a"]


def test_hog_and_estimator_sections_reach_the_report():
    from nerve.bench.features import run as hog_run
    from nerve.bench.report import machine_info, to_markdown

    rows = hog_run(n_images=20, size=16, repeats=1)
    assert [r["case"] for r in rows] == ["gray", "rgb"] and rows[0]["nerve_s"] > 0
    fake_est = {"nerve": {"accuracy": 0.98, "seconds": 1.0, "epochs": 10.0},
                "sklearn": {"accuracy": 0.97, "seconds": 2.0, "epochs": 11.0},
                "speedup": 2.0, "config": {"hidden_layer_sizes": (100,), "max_iter": 200,
                                           "seeds": (0,)}}
    machine = machine_info()
    text = to_markdown({"mode": "quick", "machine": machine, "features": rows,
                        "estimators": fake_est})
    assert "HOG features" in text and "| gray | 20x16x16 |" in text
    assert "nerve fits 2.00x as fast as scikit-learn" in text
    missing = to_markdown({"mode": "quick", "machine": machine,
                           "features": {"unavailable": "install nerve[bench]"}})
    assert "n/a: install nerve[bench]" in missing


def _cell(rate):
    return {"samples_per_s": rate} if rate is not None else {"unavailable": "not installed"}


def test_targets_judge_each_bound_within_the_run():
    from nerve.bench.targets import check, markdown

    results = {
        "training": {
            "A": {"columns": {"numpy": _cell(100.0), "nerve": _cell(90.0), "torch": _cell(70.0),
                              "captured": _cell(100.0), "jax_step": _cell(101.0),
                              "gemm": _cell(150.0)}},
            "C": {"columns": {"numpy": _cell(100.0), "nerve": _cell(84.0),
                              "torch": _cell(None), "captured": _cell(120.0),
                              "jax_step": _cell(120.0)}},
        },
        "memory": {"tracemalloc": {"numpy": {"bytes": 100}, "nerve": {"bytes": 131}}},
        "op_chain": {"results": {"nerve": {"seconds": 0.0499}, "torch": {"seconds": 0.2}}},
        "elapsed_s": 30.0,
    }
    rows = {(r["target"], r["where"]): r for r in check(results)}
    verdicts = {key: r["met"] for key, r in rows.items()}
    assert verdicts[("eager nerve / NumPy", "A")] is True          # 0.90 >= 0.85
    assert verdicts[("eager nerve / NumPy", "C")] is False         # 0.84 < 0.85
    assert verdicts[("eager nerve / PyTorch", "A")] is True        # 1.29 >= 1.2
    assert verdicts[("eager nerve / PyTorch", "C")] is None        # torch not installed
    assert verdicts[("captured / JAX step", "A")] is False         # 0.99 < 1.0
    assert verdicts[("captured / JAX step", "C")] is True          # exactly 1.0
    assert verdicts[("captured / GEMM floor", "A")] is False       # 0.67 < 0.7
    assert ("captured / GEMM floor", "D") not in rows              # D not in this run
    assert verdicts[("peak memory nerve / NumPy", "D, tracemalloc")] is False  # 1.31 > 1.3
    assert verdicts[("10,000-op chain, forward + backward", "nerve")] is True
    assert rows[("10,000-op chain, forward + backward", "nerve")]["shown"] == "49.9 ms"
    assert rows[("eager nerve / NumPy", "A")]["value"] == pytest.approx(0.9)
    # torch was measured on A: the wall-time target is not this run's setting
    assert verdicts[("whole run without torch and JAX", "this run had torch or JAX")] is None
    table = "\n".join(markdown(results))
    assert "## Targets (4 of 8 measured met in this run)" in table
    assert "| eager nerve / NumPy | C | 0.84× | ≥ 0.85× | **not met** |" in table
    assert "| eager nerve / PyTorch | C | not measured | ≥ 1.2× | — |" in table
    assert markdown({}) == []


def test_op_chain_runs_each_implementation_in_a_fresh_process():
    from nerve.bench.latency import op_chain

    out = op_chain(n_ops=40, repeats=2, target_s=0.002, skip=("torch",))
    assert out["fresh_process"] is True and set(out["results"]) == {"nerve"}
    nerve = out["results"]["nerve"]
    assert 0 < nerve["best"] <= nerve["median"]
    assert nerve["us_per_op"] == pytest.approx(nerve["seconds"] / 40 * 1e6)
    in_process = op_chain(n_ops=40, repeats=2, target_s=0.002, skip=("torch",), fresh=False)
    assert in_process["fresh_process"] is False and in_process["results"]["nerve"]["seconds"] > 0


def test_op_chain_subprocess_failure_is_reported_not_raised(monkeypatch):
    import subprocess

    from nerve.bench import latency

    def broken(*args, **kwargs):
        return subprocess.CompletedProcess(args, 1, stdout="", stderr="Traceback\nBoom: no\n")

    monkeypatch.setattr(latency.subprocess, "run", broken)
    out = latency.op_chain(n_ops=10, repeats=1, skip=("torch",))
    assert out["results"]["nerve"] == {"unavailable": "subprocess failed: Boom: no"}
