"""Audit 10, the command line and a fresh install: each test fails without its fix.

The CLI runs in-process through nerve.cli.main(argv), in a temporary folder, on tiny data
(blobs, one epoch).
"""
import json
import os
import sys
import warnings

import numpy as np
import pytest

import nerve as nv
from nerve import nn
from nerve.cli import main

COMPLEX = "complex data is not supported; nerve computes in float32 or float64"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One quick blobs run (2 features) shared by the predict/evaluate tests."""
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--dataset", "blobs", "--epochs", "1", "--hidden", "4", "--quiet",
                 "--no-plots", "--out", str(out)]) == 0
    return out


def _one_line_error(capsys, code, expected_code=None):
    out, err = capsys.readouterr()
    assert code != 0 if expected_code is None else code == expected_code, (code, err)
    assert err.startswith("nerve: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in out + err
    return err


# ------------------------------------------------------------ 1. a .npy header cut off
def _truncated_npy(path):
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (3,"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header + b"\n").to_bytes(2, "little")
                     + header + b"\n" + b"\0" * 64)


def test_a_npy_with_a_truncated_header_is_one_line(run_dir, in_tmp, capsys):
    _truncated_npy(in_tmp / "trunc.npy")
    np.save("x.npy", np.zeros((3, 2)))
    err = _one_line_error(capsys, main(["predict", str(run_dir), "trunc.npy"]), 1)
    assert "input file 'trunc.npy' is not a valid .npy file" in err and "header" in err
    err = _one_line_error(capsys, main(["evaluate", str(run_dir), "--x", "x.npy", "--y",
                                        "trunc.npy"]), 1)
    assert "--y file 'trunc.npy' is not a valid .npy file" in err


# ------------------------------------------------------------ 2. inf in float64 data
def test_inf_in_float64_data_is_reported_as_inf_with_its_column():
    model = nn.Sequential(nn.Linear(3, 2))
    X = np.array([[1.0, 2.0, 3.0], [1.0, np.inf, 2.0]])
    messages = []
    for a in (X, X.astype(np.float32)):
        with pytest.raises(ValueError) as info:
            nv.predict(model, a)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert "non-finite value (inf) at row 1, column 1" in messages[0]
    assert "model.double()" not in messages[0]
    # a finite value too large for float32 keeps its own advice
    with pytest.raises(ValueError, match=r"does not fit in the model's float32"):
        nv.predict(model, np.array([[1.0, 1e300, 2.0]]))


def test_inf_in_a_csv_names_the_column(run_dir, in_tmp, capsys):
    (in_tmp / "inf.csv").write_text("1,2\n3,-inf\n")
    err = _one_line_error(capsys, main(["predict", str(run_dir), "inf.csv"]), 1)
    assert "(-inf) at row 1, column 1" in err and "model.double()" not in err


# ------------------------------------------------------------ 3. complex data
def test_complex_inputs_and_targets_are_refused_like_nv_tensor():
    with pytest.raises(TypeError, match=COMPLEX):
        nv.tensor(np.ones(2) + 1j)
    model = nn.Sequential(nn.Linear(3, 2))
    Xc, y = np.ones((4, 3)) + 1j, np.array([0, 1, 0, 1])
    kwargs = dict(loss="cross_entropy", optimizer="sgd", batch_size=2, epochs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning: a refusal, not a cast
        for call in (lambda: nv.predict(model, Xc), lambda: nv.evaluate(model, Xc, y),
                     lambda: nv.fit(model, Xc, y, **kwargs),
                     lambda: nv.fit(model, Xc.real, y + 0j, **kwargs),
                     lambda: nv.fit(nn.Sequential(nn.Linear(3, 1)), Xc.real,
                                    np.ones((4, 1)) + 1j, loss="mse", optimizer="sgd",
                                    batch_size=2, epochs=1)):
            with pytest.raises(TypeError, match=COMPLEX):
                call()


def test_cli_refuses_a_complex_npy(run_dir, in_tmp, capsys):
    np.save("xc.npy", np.ones((3, 2)) + 5j)
    np.save("y.npy", np.array([0, 1, 2]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code = main(["evaluate", str(run_dir), "--x", "xc.npy", "--y", "y.npy"])
    err = _one_line_error(capsys, code, 1)
    assert "'xc.npy' holds complex numbers" in err and COMPLEX in err


# ------------------------------------------------------------ 4. --data-root for built-ins
@pytest.mark.parametrize("flag", [["--data-root", "."], ["--download"]])
def test_train_refuses_data_root_and_download_for_a_built_in_dataset(in_tmp, capsys, flag):
    err = _one_line_error(capsys, main(["train", "--dataset", "blobs", *flag, "--epochs", "1",
                                        "--quiet", "--no-plots", "--out", "r"]), 2)
    assert "reads no files" in err and flag[0] in err
    assert not (in_tmp / "r").exists()


def test_a_shared_config_data_root_is_not_recorded_and_evaluate_works(in_tmp, capsys):
    (in_tmp / "shared").mkdir()
    (in_tmp / "c.toml").write_text('data_root = "shared"\ndataset = "blobs"\nepochs = 1\n'
                                   'hidden = [4]\n')
    assert main(["train", "--config", "c.toml", "--quiet", "--no-plots", "--out", "r"]) == 0
    assert "not used" in capsys.readouterr().err
    assert json.loads((in_tmp / "r" / "run.json").read_text())["options"]["data_root"] is None
    (in_tmp / "shared").rmdir()
    assert main(["evaluate", "r"]) == 0
    assert "blobs (val split)" in capsys.readouterr().out


def test_evaluate_ignores_an_old_run_json_data_root_for_a_built_in_dataset(run_dir, in_tmp,
                                                                           capsys):
    run = json.loads((run_dir / "run.json").read_text())
    run["options"]["data_root"] = str(in_tmp / "gone")
    (in_tmp / "old").mkdir()
    (in_tmp / "old" / "run.json").write_text(json.dumps(run))
    (in_tmp / "old" / "model.npz").write_bytes((run_dir / "model.npz").read_bytes())
    assert main(["evaluate", "old"]) == 0, capsys.readouterr().err
    assert "blobs (val split)" in capsys.readouterr().out


# ------------------------------------------------------------ 5. conflicting evaluate flags
@pytest.mark.parametrize("extra, words", [
    (["--dataset", "spiral"], "--x/--y and --dataset are alternatives"),
    (["--split", "test"], "--x/--y and --split are alternatives"),
    (["--data-root", "/nonexistent"], "--x/--y and --data-root are alternatives"),
])
def test_evaluate_refuses_files_together_with_a_dataset(run_dir, in_tmp, capsys, extra,
                                                        words):
    np.save("x.npy", np.zeros((3, 2)))
    np.save("y.npy", np.array([0, 1, 2]))
    code = main(["evaluate", str(run_dir), "--x", "x.npy", "--y", "y.npy", *extra])
    assert words in _one_line_error(capsys, code, 2)


def test_evaluate_refuses_a_data_root_that_does_not_apply_or_does_not_exist(run_dir, in_tmp,
                                                                            capsys):
    code = main(["evaluate", str(run_dir), "--dataset", "blobs", "--data-root", "."])
    assert "reads no files" in _one_line_error(capsys, code, 2)
    code = main(["evaluate", str(run_dir), "--dataset", "mnist", "--data-root", "nowhere"])
    assert "--data-root 'nowhere' is not a folder" in _one_line_error(capsys, code, 2)


# ------------------------------------------------------------ 6. demo --out
def test_demo_out_is_checked_before_the_demo_runs(in_tmp, capsys, monkeypatch):
    import nerve.demos as demos

    def never(*args, **kwargs):
        raise AssertionError("the demo ran before --out was checked")

    monkeypatch.setattr(demos, "run_demo", never)
    (in_tmp / "notes.txt").write_text("hi")
    err = _one_line_error(capsys, main(["demo", "activations", "--out", "notes.txt"]), 2)
    assert "--out 'notes.txt' is a file; expected a folder" in err
    err = _one_line_error(capsys, main(["demo", "activations", "--out", "notes.txt/sub"]), 2)
    assert "is a file" in err and "Errno" not in err


def test_save_figure_names_the_folder_that_cannot_be_made(in_tmp):
    from nerve.demos._common import save_figure

    (in_tmp / "notes.txt").write_text("hi")
    with pytest.raises(OSError) as info:
        save_figure("notes.txt", "f.png", lambda path: None, sys.stdout)
    assert "'notes.txt' is a file; expected a folder" in str(info.value)
    assert "Errno" not in str(info.value)
    with pytest.raises(OSError, match="cannot create the figure folder 'notes.txt/sub'"):
        save_figure("notes.txt/sub", "f.png", lambda path: None, sys.stdout)


# ------------------------------------------------------------ 7. bench --threads
def test_bench_threads_without_threadpoolctl_names_the_extra(monkeypatch, capsys):
    from nerve import bench
    from nerve._extras import MissingExtraError

    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import now raises ImportError

    def never(*args, **kwargs):
        raise AssertionError("the benchmark ran with a thread limit it could not apply")

    monkeypatch.setattr(bench, "_run", never)
    assert main(["bench", "--threads", "1", "--sections", "chain", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "threadpoolctl" in err and "nerve[bench]" in err and err.count("\n") == 1
    with pytest.raises(MissingExtraError, match=r"nerve\[bench\]"):
        bench._ThreadLimit(1, skip=("torch",)).apply()


def test_bench_report_claims_only_the_thread_limits_applied():
    from nerve.bench.report import to_markdown

    base = {"mode": "quick", "machine": _machine()}
    text = to_markdown({**base, "settings": {"threads": 1, "threads_limited": ["BLAS"]}})
    assert "Threads limited to 1 for every BLAS (not for JAX" in text
    text = to_markdown({**base, "settings": {"threads": 1, "threads_limited": []}})
    assert "Threads limited" not in text and "was not applied" in text


# ------------------------------------------------------------ 8. the test extra
def test_the_test_extra_installs_safetensors_but_not_torch():
    try:
        import tomllib
    except ImportError:  # Python 3.10: nerve depends on tomli there
        import tomli as tomllib
    path = os.path.join(os.path.dirname(__file__), os.pardir, "pyproject.toml")
    with open(path, "rb") as fh:
        extras = tomllib.load(fh)["project"]["optional-dependencies"]
    names = [req.split(">")[0].split("=")[0].strip() for req in extras["test"]]
    assert "safetensors" in names and "torch" not in names


# ------------------------------------------------------------ 9. HOG without scikit-image
def test_hog_without_scikit_image_says_why_and_has_no_skimage_columns(monkeypatch):
    for name in list(sys.modules) + ["skimage"]:
        if name.split(".")[0] == "skimage":
            monkeypatch.setitem(sys.modules, name, None)
    from nerve.bench.features import format_rows, run

    rows = run(n_images=4, size=16, repeats=1)
    assert all(r["skimage_s"] is None and "nerve[bench]" in r["skimage_unavailable"]
               for r in rows)
    table = format_rows(rows)
    assert "skimage loop" not in table and "n/a" not in table
    assert "| gray | 4x16x16 |" in table
    assert "Unavailable: scikit-image: skimage is needed" in table and "nerve[bench]" in table


# ------------------------------------------------------------ bench: absent comparators
def _machine(installed=None):
    from nerve.bench.report import machine_info

    machine = machine_info(skip=("torch",))
    machine["installed"] = installed or {"torch": True, "jax": True, "sklearn": True}
    return machine


def _results(installed):
    training = {"C": {"label": "2-16-16-3, 32", "columns": {
        "numpy": {"samples_per_s": 100.0}, "nerve": {"samples_per_s": 90.0},
        "torch": {"unavailable": "torch is not installed (PyTorch columns)"},
        "jax_step": {"unavailable": "failed: RuntimeError: boom"}}}}
    return {"mode": "quick", "machine": _machine(installed),
            "settings": {"repeats": 1, "stat": "best"},
            "columns": [("numpy", "NumPy"), ("nerve", "nerve"), ("torch", "PyTorch"),
                        ("jax_step", "JAX step")],
            "training": training,
            "latency": {"batch 1": {"numpy": {"seconds": 1e-5}, "nerve": {"seconds": 2e-5},
                                    "torch": {"unavailable": "torch is not installed"}}},
            "op_chain": {"n_ops": 10, "results": {
                "nerve": {"seconds": 1e-3, "us_per_op": 100.0},
                "torch": {"unavailable": "torch is not installed"}}},
            "digits": {"source": "nerve", "target": 0.97, "seeds": [0], "results": {
                "numpy": {"seconds": 0.1, "epochs": 3},
                "sklearn": {"unavailable": "sklearn is not installed"}}}}


def test_bench_report_leaves_out_comparators_that_are_not_installed():
    from nerve.bench.report import to_markdown

    text = to_markdown(_results({"torch": False, "jax": True, "sklearn": False}))
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("| config | layers"))
    assert "PyTorch" not in header and "JAX step" in header  # jax installed, failed: n/a
    assert "| C | 2-16-16-3, 32 | 100 | 90 | n/a |" in text
    ratios = next(line for line in lines if line.startswith("| config | nerve/NumPy"))
    assert "nerve/PyTorch" not in ratios and "nerve/JAX" in ratios
    latency = next(line for line in lines if line.startswith("| input |"))
    assert "PyTorch" not in latency
    assert not any(line.startswith("| torch |") for line in lines)  # op chain row
    assert "nerve/PyTorch time" not in text
    assert not any(line.startswith("| sklearn |") for line in lines)  # digits row
    # the reasons stay listed, with what installs the missing comparator
    assert "- torch (C): torch is not installed" in text and "pip install torch" in text
    assert "- jax_step (C): failed: RuntimeError: boom" in text
    assert "- digits, sklearn: sklearn is not installed" in text
    assert "pip install 'nerve[bench]'" in text
    # installed but failed on a config: the column stays, with n/a in that cell
    text = to_markdown(_results({"torch": True, "jax": True, "sklearn": True}))
    header = next(line for line in text.splitlines() if line.startswith("| config | layers"))
    assert "PyTorch" in header and "| C | 2-16-16-3, 32 | 100 | 90 | n/a | n/a |" in text
    assert any(line.startswith("| torch |") for line in text.splitlines())


def test_machine_info_records_which_comparators_are_installed(monkeypatch):
    from nerve.bench.report import machine_info

    monkeypatch.setitem(sys.modules, "jax", None)
    installed = machine_info(skip=("torch",))["installed"]
    assert installed["jax"] is False and set(installed) == {"torch", "jax", "sklearn"}


# ------------------------------------------------------------ 10. late usage errors
@pytest.mark.parametrize("argv, words", [
    (["--lr", "inf"], "argument --lr: expected a finite number > 0, got 'inf'"),
    (["--lr", "nan"], "argument --lr: expected a finite number > 0"),
    (["--lr", "1e-320"], "(the smallest accepted is 1e-300)"),
    (["--val-split", "0.9999"], "--val-split 0.9999 holds out"),
    (["--config", "nope.toml"], "config file 'nope.toml' does not exist"),
])
def test_usage_errors_exit_2_and_name_the_flag(in_tmp, capsys, argv, words):
    code = main(["train", "--dataset", "blobs", "--epochs", "1", "--quiet", "--no-plots",
                 "--out", "r", *argv])
    err = _one_line_error(capsys, code, 2)
    assert words in err and "test_size" not in err


def test_an_infinite_integer_in_a_config_is_a_usage_error(in_tmp, capsys):
    (in_tmp / "c.toml").write_text("epochs = inf\n")
    err = _one_line_error(capsys, main(["train", "--config", "c.toml"]), 2)
    assert "option 'epochs' in c.toml: expected an integer >= 1, got inf" in err


# ------------------------------------------------------------ 11. empty or non-string out
def test_an_empty_out_flag_is_refused(in_tmp, capsys):
    err = _one_line_error(capsys, main(["train", "--dataset", "blobs", "--out", "",
                                        "--epochs", "1", "--quiet", "--no-plots"]), 2)
    assert "--out" in err and "empty" in err
    assert not (in_tmp / "runs").exists()


@pytest.mark.parametrize("value", ["5", '""'])
def test_a_config_out_must_be_a_non_empty_string(in_tmp, capsys, value):
    (in_tmp / "c.toml").write_text(f'out = {value}\ndataset = "blobs"\nepochs = 1\n')
    err = _one_line_error(capsys, main(["train", "--config", "c.toml", "--quiet",
                                        "--no-plots"]), 2)
    assert "option 'out' in c.toml: expected a folder path" in err
    assert not (in_tmp / "5").exists() and not (in_tmp / "runs").exists()


# ------------------------------------------------------------ 12. atomic save messages
def test_saving_under_a_file_says_it_is_a_file(run_dir, in_tmp, capsys):
    (in_tmp / "notes.txt").write_text("hi")
    np.save("x.npy", np.zeros((3, 2)))
    err = _one_line_error(capsys, main(["predict", str(run_dir), "x.npy", "--out",
                                        "notes.txt/out.csv"]), 1)
    assert "'notes.txt/out.csv'" in err and "notes.txt' is a file; expected a folder" in err
    assert "does not exist" not in err
    model = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(NotADirectoryError, match="is a file"):
        nv.save(model, "notes.txt/sub/m.npz")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        nv.save(model, "missing/m.npz")


def test_a_folder_that_may_not_be_written_has_no_errno_prefix(in_tmp, monkeypatch):
    import errno

    from nerve import atomic

    def denied(target, legacy=None):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic, "mkstemp_beside", denied)
    with pytest.raises(PermissionError) as info:
        atomic.atomic_write_bytes("out.bin", b"x")
    text = str(info.value)
    assert text.startswith("cannot save to 'out.bin': Permission denied: the folder")
    assert "[Errno" not in text and info.value.errno == errno.EACCES


# ------------------------------------------------------------ 13. --quiet and wrong flags
def test_the_plots_note_goes_to_stderr(in_tmp, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert main(["train", "--dataset", "blobs", "--epochs", "1", "--quiet", "--out", "o"]) == 0
    out, err = capsys.readouterr()
    assert "plots skipped" not in out and "plots skipped" in err and "nerve[plot]" in err
    assert out.splitlines()[0].startswith("final: ")


def test_an_unknown_subcommand_flag_points_to_the_subcommand_help(in_tmp, capsys):
    err = _one_line_error(capsys, main(["train", "--frobnicate"]), 2)
    assert "unrecognized arguments: --frobnicate (see 'nerve train --help')" in err
    err = _one_line_error(capsys, main(["evaluate", "m.npz", "--bogus", "1"]), 2)
    assert "(see 'nerve evaluate --help')" in err
    err = _one_line_error(capsys, main(["--bogus", "train"]), 2)
    assert "(see 'nerve --help')" in err
