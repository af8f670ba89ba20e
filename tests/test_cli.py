"""The nerve command line, run in-process through main(argv) in a temporary folder."""
import json
import subprocess
import sys

import numpy as np
import pytest

from nerve.cli import main


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One quick spiral run shared by the predict/evaluate tests."""
    out = tmp_path_factory.mktemp("run")
    code = main(["train", "--dataset", "spiral", "--epochs", "30", "--hidden", "30",
                 "--quiet", "--out", str(out)])
    assert code == 0
    return out


def test_train_writes_model_history_and_plots(trained, capsys):
    names = {p.name for p in trained.iterdir()}
    assert {"model.npz", "history.json", "run.json"} <= names
    history = json.loads((trained / "history.json").read_text())
    assert len(history["history"]["loss"]) == 30 and "val_accuracy" in history["history"]
    run = json.loads((trained / "run.json").read_text())
    assert run["options"]["dataset"] == "spiral" and run["options"]["hidden"] == [30]
    if pytest.importorskip("matplotlib"):
        assert {"curves.png", "confusion.png", "decision_boundary.png"} <= names


def test_train_prints_final_accuracies_and_progress(in_tmp, capsys):
    code = main(["train", "--dataset", "xor", "--epochs", "3", "--hidden", "4,4",
                 "--optimizer", "momentum", "--l2", "0.001", "--dropout", "0.1",
                 "--batchnorm", "--no-plots", "--out", "o"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "final: train accuracy" in out and "val accuracy" in out
    assert err.count("epoch ") == 3  # progress lines on stderr
    assert (in_tmp / "o" / "model.npz").exists()


def test_train_without_matplotlib_says_plots_were_skipped(in_tmp, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert main(["train", "--dataset", "blobs", "--epochs", "1", "--quiet", "--out", "o"]) == 0
    captured = capsys.readouterr()
    assert "plots skipped" in captured.err and "nerve[plot]" in captured.err
    assert "plots skipped" not in captured.out  # --quiet's stdout: the result and files only
    assert not (in_tmp / "o" / "curves.png").exists()


def test_config_file_with_flag_override(in_tmp, capsys):
    (in_tmp / "c.toml").write_text('dataset = "moons"\nepochs = 2\nhidden = [5]\n'
                                   'batch-size = 50\n')
    assert main(["train", "--config", "c.toml", "--epochs", "1", "--quiet", "--no-plots",
                 "--out", "o"]) == 0
    run = json.loads((in_tmp / "o" / "run.json").read_text())["options"]
    assert (run["dataset"], run["epochs"], run["hidden"], run["batch_size"]) == \
        ("moons", 1, [5], 50)


def test_predict_labels_and_probabilities(trained, in_tmp, capsys):
    from nerve.data import spiral
    X, y = spiral(100, 3, seed=0)
    np.save("x.npy", X)
    np.savetxt("x.csv", X[:5], delimiter=",")
    assert main(["predict", str(trained / "model.npz"), "x.npy", "--out", "p.npy"]) == 0
    labels = np.load("p.npy")
    assert labels.shape == (300,) and set(labels.tolist()) <= {0, 1, 2}
    assert (labels == y).mean() > 0.5
    capsys.readouterr()
    assert main(["predict", str(trained / "model.npz"), "x.csv"]) == 0
    assert capsys.readouterr().out.split() == [str(v) for v in labels[:5]]
    assert main(["predict", str(trained / "model.npz"), "x.csv", "--proba", "--out",
                 "p.csv"]) == 0
    proba = np.loadtxt("p.csv", delimiter=",")
    assert proba.shape == (5, 3) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert (proba.argmax(axis=1) == labels[:5]).all()


def test_evaluate_on_the_runs_split_and_on_files(trained, in_tmp, capsys):
    assert main(["evaluate", str(trained / "model.npz")]) == 0
    out = capsys.readouterr().out
    run = json.loads((trained / "run.json").read_text())
    assert "spiral (val split): 60 samples" in out
    assert f"accuracy {run['metrics']['val_accuracy']:.4f}" in out
    from nerve.data import spiral
    X, y = spiral(100, 3, seed=0)
    np.save("x.npy", X)
    np.save("y.npy", y)
    assert main(["evaluate", str(trained / "model.npz"), "--x", "x.npy", "--y", "y.npy",
                 "--loss", "cross_entropy"]) == 0
    assert "300 samples - loss" in capsys.readouterr().out


def test_demo_backprop_prints_the_lecture_numbers(capsys):
    assert main(["demo", "backprop"]) == 0
    out = capsys.readouterr().out
    for text in ("f = q * z = -12", "df/dx = df/dq * dq/dx = -4 * 1 = -4", "df/dy = -4",
                 "df/dz = q = 3", "sigmoid(1) = 0.7311", "dw = [-0.20, -0.39, 0.20]",
                 "dx = [0.39, -0.59]"):
        assert text in out


def test_demo_without_a_name_lists_every_lesson(capsys):
    from nerve.demos import DEMOS
    assert main(["demo"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name, (_, about) in DEMOS.items():
        assert any(line.split()[:1] == [name] and about in line for line in lines), name


def test_demo_writes_figures(in_tmp, capsys):
    assert main(["demo", "backprop", "--out", "figs"]) == 0
    assert (in_tmp / "figs" / "backprop_sigmoid_neuron.svg").read_text().lstrip().startswith("<")


@pytest.mark.parametrize("argv, words", [
    (["train", "--dataset", "nope"], "unknown dataset 'nope'"),
    (["train", "--activation", "swish"], "unknown activation 'swish'"),
    (["train", "--lr", "fast"], "--lr"),
    (["train", "--epochs", "0"], "--epochs"),
    (["train", "--val-split", "1.5"], "--val-split"),
    (["train", "--hidden", "10,x"], "--hidden"),
    (["train", "--dataset", "mnist"], "--data-root"),
    (["train", "--config", "missing.toml"], "missing.toml"),
    (["train", "--frobnicate"], "unrecognized arguments"),
    (["predict", "missing.npz", "x.npy"], "missing.npz"),
    (["evaluate", "missing.npz", "--dataset", "digits"], "missing.npz"),
    (["demo", "nope"], "invalid choice"),
    (["fly"], "invalid choice"),
    ([], "required"),
])
def test_user_mistakes_are_one_line_on_stderr(argv, words, in_tmp, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code != 0
    assert err.startswith("nerve: error: ") and err.count("\n") == 1 and words in err
    assert "Traceback" not in out + err


def test_bad_files_are_one_line_errors(trained, in_tmp, capsys):
    (in_tmp / "bad.csv").write_text("a,b\n1,2\n")
    (in_tmp / "bad.toml").write_text("epochs = = 3")
    (in_tmp / "unknown.toml").write_text("epoch = 3")
    (in_tmp / "fake.npz").write_bytes(b"not a zip")
    np.save("x3.npy", np.zeros((2, 3), np.float32))
    model = str(trained / "model.npz")
    cases = [(["predict", model, "bad.csv"], "comma-separated"),
             (["predict", model, "x3.npy"], "(N, 2)"),
             (["predict", model, "data.json"], "does not exist"),
             (["predict", "fake.npz", "x3.npy"], "fake.npz"),
             (["train", "--config", "bad.toml"], "not valid TOML"),
             (["train", "--config", "unknown.toml"], "unknown option 'epoch'")]
    for argv, words in cases:
        assert main(argv) != 0
        err = capsys.readouterr().err
        assert err.startswith("nerve: error: ") and err.count("\n") == 1, err
        assert words in err, (argv, err)


def test_evaluate_and_predict_accept_the_run_folder(trained, in_tmp, capsys):
    from nerve.data import spiral
    np.save("x.npy", spiral(20, 3, seed=1)[0])
    assert main(["evaluate", str(trained / "model.npz")]) == 0
    by_file = capsys.readouterr().out
    assert main(["evaluate", str(trained)]) == 0          # the folder 'nerve train' wrote
    assert capsys.readouterr().out == by_file             # same model, same run.json split
    assert main(["predict", str(trained / "model.npz"), "x.npy"]) == 0
    labels = capsys.readouterr().out
    assert main(["predict", str(trained), "x.npy"]) == 0
    assert capsys.readouterr().out == labels


def test_a_folder_without_a_model_is_a_one_line_error(in_tmp, capsys):
    (in_tmp / "runs").mkdir()
    np.save("x.npy", np.zeros((2, 2)))
    for argv in (["evaluate", "runs", "--dataset", "spiral"], ["predict", "runs", "x.npy"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err == "nerve: error: 'runs' is a folder without a model.npz; pass a model " \
                      "file, or the folder 'nerve train --out' wrote\n"


def test_train_out_that_is_a_file_is_refused_before_training(in_tmp, capsys):
    (in_tmp / "f").write_text("")
    assert main(["train", "--dataset", "xor", "--epochs", "1", "--out", "f"]) == 2
    out, err = capsys.readouterr()
    assert err == "nerve: error: --out 'f' is a file; expected a folder\n"
    assert "dataset" not in out                          # nothing was loaded or trained
    assert main(["train", "--dataset", "xor", "--epochs", "1", "--out", "f/run"]) == 2
    assert capsys.readouterr().err == \
        "nerve: error: --out 'f/run': 'f' is a file; expected a folder\n"


def test_a_network_larger_than_the_memory_is_refused_before_it_is_built(in_tmp, capsys,
                                                                          monkeypatch):
    import nerve.io
    import nerve.train.build
    monkeypatch.setattr(nerve.io, "memory_limit", lambda: 2**20)        # a 1 MiB machine
    built = []
    monkeypatch.setattr(nerve.train.build, "build_mlp",
                        lambda *a, **k: built.append(a) or pytest.fail("built the network"))
    assert main(["train", "--dataset", "spiral", "--hidden", "1000,500", "--epochs", "1",
                 "--quiet", "--out", "o"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nerve: error: the network needs 1.9 MiB for its weights "
                          "(505,003 parameters; the layer 1000x500 alone 1.9 MiB)")
    assert err.endswith("more than this machine's memory (1.0 MiB); use smaller --hidden\n")
    assert err.count("\n") == 1 and not built


def test_running_out_of_memory_is_one_line(in_tmp, capsys, monkeypatch):
    import nerve.train.build

    def build_mlp(*args, **kwargs):
        raise MemoryError("Unable to allocate 37.3 GiB for an array with shape "
                          "(100000, 100000) and data type float32")
    monkeypatch.setattr(nerve.train.build, "build_mlp", build_mlp)
    assert main(["train", "--dataset", "spiral", "--quiet", "--out", "o"]) == 1
    assert capsys.readouterr().err == "nerve: error: out of memory: Unable to allocate 37.3 " \
        "GiB for an array with shape (100000, 100000) and data type float32\n"


def test_an_empty_csv_is_one_error_line_without_numpys_warning(trained, in_tmp):
    (in_tmp / "empty.csv").write_text("")
    proc = subprocess.run([sys.executable, "-W", "default", "-m", "nerve", "predict",
                           str(trained / "model.npz"), "empty.csv"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr == "nerve: error: input file 'empty.csv' holds no data; expected " \
                          "comma-separated numbers, one row per sample\n"


def test_a_ragged_csv_names_the_row_and_not_numpys_usecols(trained, in_tmp, capsys):
    (in_tmp / "ragged.csv").write_text("0.1,0.2\n0.3\n")
    assert main(["predict", str(trained / "model.npz"), "ragged.csv"]) == 1
    err = capsys.readouterr().err
    assert "'ragged.csv' must hold comma-separated numbers, the same count on every row" in err
    assert "changed from 2 to 1 at row 2" in err and "usecols" not in err


def test_help_and_version(capsys):
    for argv in (["--help"], ["train", "--help"], ["evaluate", "--help"], ["predict", "--help"],
                 ["demo", "--help"]):
        assert main(argv) == 0
        assert "usage: nerve" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("nerve ")


def test_python_dash_m_nerve_help():
    proc = subprocess.run([sys.executable, "-m", "nerve", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0
    for command in ("train", "evaluate", "predict", "demo", "bench"):
        assert command in proc.stdout


def test_missing_dataset_files_point_to_download_and_download_fetches_them(in_tmp, capsys,
                                                                           monkeypatch):
    import gzip
    import struct

    from nerve.data import mnist as mnist_module

    root = in_tmp / "mnist"
    root.mkdir()
    code = main(["train", "--dataset", "mnist", "--data-root", str(root), "--epochs", "1"])
    err = capsys.readouterr().err
    assert code != 0 and "--download on the command line" in err and err.count("\n") == 1

    rng = np.random.default_rng(0)

    def idx(array):
        head = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
        return gzip.compress(head + array.astype(np.uint8).tobytes())

    fetched = []

    def fake_download(urls, dest, md5):  # what the mirrors would serve, made here
        n = 60 if "train" in dest.name else 20
        shape = (n, 28, 28) if "images" in dest.name else (n,)
        high = 256 if "images" in dest.name else 10
        dest.write_bytes(idx(rng.integers(0, high, size=shape)))
        fetched.append(dest.name)

    monkeypatch.setattr(mnist_module, "_download", fake_download)
    code = main(["train", "--dataset", "mnist", "--data-root", str(root), "--download",
                 "--epochs", "1", "--hidden", "8", "--no-plots", "--quiet", "--out", "run"])
    assert code == 0, capsys.readouterr().err
    assert sorted(fetched) == sorted(["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                      "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"])
    assert (in_tmp / "run" / "model.npz").exists()
