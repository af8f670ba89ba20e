"""What a new user met first (the eighth session's walkthrough audit): CLI rough edges,
plot arguments, summary shapes, and the PyTorch/Keras names reached for first."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import nerve as nv
from nerve import nn
from nerve.cli import main


# ------------------------------------------------------------------ CLI
def _write_mnist(root, n_train=60, n_test=20):
    import gzip
    import struct

    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        for kind, shape, high in (("images-idx3", (n, 28, 28), 256), ("labels-idx1", (n,), 10)):
            array = rng.integers(0, high, size=shape).astype(np.uint8)
            head = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
            (root / f"{prefix}-{kind}-ubyte.gz").write_bytes(gzip.compress(head + array.tobytes()))


def test_evaluate_finds_the_data_root_from_another_folder(in_tmp, monkeypatch, capsys):
    _write_mnist(in_tmp / "data" / "mnist")
    assert main(["train", "--dataset", "mnist", "--data-root", "data/mnist", "--epochs", "1",
                 "--hidden", "8", "--quiet", "--no-plots", "--out", "run"]) == 0
    run = json.loads((in_tmp / "run" / "run.json").read_text())
    assert run["options"]["data_root"] == str(in_tmp / "data" / "mnist")  # absolute now
    elsewhere = in_tmp / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    capsys.readouterr()
    assert main(["evaluate", str(in_tmp / "run")]) == 0
    assert "mnist (test split): 20 samples" in capsys.readouterr().out
    (in_tmp / "data" / "mnist").rename(in_tmp / "data" / "moved")
    assert main(["evaluate", str(in_tmp / "run")]) == 2
    assert "which is not a folder here; pass --data-root DIR" in capsys.readouterr().err


def test_evaluate_flattens_image_arrays_as_predict_does(in_tmp, capsys):
    _write_mnist(in_tmp / "mnist")
    assert main(["train", "--dataset", "mnist", "--data-root", "mnist", "--epochs", "1",
                 "--hidden", "8", "--quiet", "--no-plots", "--out", "run"]) == 0
    images = np.random.default_rng(1).integers(0, 256, (7, 28, 28)).astype(np.float32)
    np.save("x.npy", images)
    np.save("y.npy", np.arange(7) % 10)
    capsys.readouterr()
    assert main(["evaluate", "run", "--x", "x.npy", "--y", "y.npy"]) == 0
    assert "x.npy: 7 samples" in capsys.readouterr().out


def test_activation_flag_is_a_choice_like_the_others(in_tmp, capsys):
    assert main(["train", "--dataset", "xor", "--activation", "Leaky-ReLU", "--epochs", "1",
                 "--quiet", "--no-plots", "--out", "o"]) == 0
    assert json.loads((in_tmp / "o" / "run.json").read_text())["options"]["activation"] == \
        "leaky_relu"
    assert main(["train", "--activation", "foo"]) == 2
    err = capsys.readouterr().err
    assert "argument --activation: unknown activation 'foo'" in err and "step" in err
    assert main(["train", "--help"]) == 0
    assert "prelu, elu, identity, linear, step" in " ".join(capsys.readouterr().out.split())


def test_demo_accepts_download_where_it_reads_data(in_tmp, capsys, monkeypatch):
    from nerve.data import cifar10 as cifar_module

    calls = []

    def fake_download(urls, dest, md5):
        calls.append(dest.name)
        raise OSError("offline in this test")

    monkeypatch.setattr(cifar_module, "_download", fake_download, raising=False)
    code = main(["demo", "cifar10", "--root", str(in_tmp), "--download"])
    err = capsys.readouterr().err
    assert code == 1 and "unrecognized arguments" not in err
    assert main(["demo", "xor", "--download"]) == 2
    assert "takes no --data-root or --download" in capsys.readouterr().err


def test_a_reused_out_folder_names_the_stale_figures(in_tmp, capsys):
    pytest.importorskip("matplotlib")
    assert main(["train", "--dataset", "spiral", "--epochs", "1", "--quiet", "--out", "o"]) == 0
    assert (in_tmp / "o" / "decision_boundary.png").exists()
    capsys.readouterr()
    assert main(["train", "--dataset", "digits", "--epochs", "1", "--quiet", "--out", "o"]) == 0
    err = capsys.readouterr().err
    assert "still holds decision_boundary.png from an earlier run" in err
    assert (in_tmp / "o" / "decision_boundary.png").exists()  # never deleted


def test_predict_into_a_closed_pipe_exits_quietly(tmp_path):
    run = tmp_path / "run"
    assert main(["train", "--dataset", "blobs", "--epochs", "1", "--quiet", "--no-plots",
                 "--out", str(run)]) == 0
    np.save(tmp_path / "x.npy", np.zeros((50_000, 2), np.float32))
    proc = subprocess.Popen([sys.executable, "-m", "nerve", "predict", str(run),
                             str(tmp_path / "x.npy")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    proc.stdout.readline()
    proc.stdout.close()  # the reader leaves, as `| head -1` does
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert proc.returncode == 141 and "Broken pipe" not in err and "Traceback" not in err


# ------------------------------------------------------------------ plots
def test_plot_functions_refuse_a_path_in_the_wrong_place(tmp_path):
    pytest.importorskip("matplotlib")
    from nerve import plot

    y, p = np.array([0, 1, 2, 1]), np.array([0, 1, 1, 2])
    with pytest.raises(TypeError, match="to save the figure pass path='cm.png'"):
        plot.plot_confusion_matrix(y, p, "cm.png")
    with pytest.raises(TypeError, match="to save the figure pass path='w.png'"):
        plot.plot_weights(np.zeros((4, 64)), "w.png")
    with pytest.raises(ValueError, match="class_names lists 2 names, so labels must be in 0..1"):
        plot.plot_confusion_matrix(y, p, ["a", "b"])


# ------------------------------------------------------------------ hooks and summary
def test_forward_hooks_see_each_layer_and_can_replace_the_output():
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x = nv.tensor(np.ones((2, 4), np.float32))
    plain = m(x).data.copy()
    seen = []
    h1 = m[0].register_forward_hook(lambda mod, inputs, out: seen.append(("post", out.shape)))
    h2 = m[2].register_forward_pre_hook(lambda mod, inputs: seen.append(("pre", inputs[0].shape)))
    np.testing.assert_array_equal(m(x).data, plain)  # fused or not, the same numbers
    assert seen == [("post", (2, 8)), ("pre", (2, 8))]
    with pytest.raises(ValueError, match="forward hooks"):
        nv.compile(m, nn.CrossEntropyLoss(), nv.optim.SGD(m.parameters(), lr=0.1))
    h1.remove(), h2.remove(), h1.remove()  # a second remove is harmless
    assert m[0]._hooks is None
    with m[2].register_forward_hook(lambda mod, inputs, out: out * 0):
        assert not m(x).data.any()
    np.testing.assert_array_equal(m(x).data, plain)
    with pytest.raises(TypeError, match="must be callable"):
        m.register_forward_hook("not a function")


def test_summary_shows_every_layer_of_a_custom_module():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.unused = nn.Linear(4, 8), nn.Linear(8, 3), nn.Linear(3, 3)

        def forward(self, x):
            return self.fc2(self.fc1(x).relu())

    net = Net()
    text = str(net.summary(input_shape=(4,)))
    assert "fc1: Linear(4, 8)     (N, 8)" in text and "fc2: Linear(8, 3)     (N, 3)" in text
    assert "unused: Linear(3, 3)  ?" in text
    assert not any(mod._hooks for mod in net.modules())  # summary's hooks are gone


# ------------------------------------------------------------------ PyTorch / Keras names
def test_nn_functional_and_nn_utils_are_the_same_functions():
    import nerve.nn.functional as F

    assert F.sigmoid is nv.functional.sigmoid and F.cross_entropy is nv.losses.cross_entropy
    assert F.mse_loss is nv.losses.mse
    assert nn.utils.clip_grad_norm_ is nv.optim.clip_grad_norm_


def test_backward_takes_gradient_as_pytorch_names_it():
    x = nv.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).backward(gradient=np.array([1.0, 2.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 6.0])
    with pytest.raises(TypeError, match="not both"):
        (x * 3).backward(np.ones(2), gradient=np.ones(2))


def test_int_and_bool_conversions():
    t = nv.tensor([1.5, -1.7, 0.0])
    assert t.int().dtype == np.int32 and t.int().tolist() == [1, -1, 0]
    assert t.bool().tolist() == [True, True, False]


def test_add_module_on_modules_and_containers(tmp_path):
    m = nn.Sequential(nn.Linear(2, 3))
    m.add_module("act", nn.ReLU())
    m.add_module("out", nn.Linear(3, 2))
    assert isinstance(m.act, nn.ReLU) and len(m) == 3
    assert [n for n, _ in m.named_parameters()] == ["0.weight", "0.bias", "out.weight", "out.bias"]
    nv.save(m, tmp_path / "m.npz")
    assert [n for n, _ in nv.load(tmp_path / "m.npz").named_parameters()] == \
        ["0.weight", "0.bias", "out.weight", "out.bias"]
    m.add_module("act", nn.Tanh())  # the same name replaces
    assert isinstance(m.act, nn.Tanh) and len(m) == 3

    class Net(nn.Module):
        def forward(self, x):
            return self.fc(x)

    net = Net()
    net.add_module("fc", nn.Linear(2, 2))
    assert [n for n, _ in net.named_parameters()] == ["fc.weight", "fc.bias"]
    with pytest.raises(ValueError, match="taken"):
        net.add_module("forward", nn.ReLU())
    with pytest.raises(TypeError, match="expected a Module"):
        net.add_module("x", 3)


def test_fit_validation_split_holds_out_the_last_samples_as_keras():
    X, y = nv.data.spiral(seed=0)
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    with pytest.warns(UserWarning, match="train_test_split"):  # spiral is grouped by class
        h = nv.fit(model, X, y, loss="cross_entropy", optimizer="adam", epochs=2,
                   batch_size=32, progress=False, validation_split=0.2)
    assert h.params["samples"] == 240 and len(h.history["val_accuracy"]) == 2
    assert h.history["val_loss"][-1] == pytest.approx(
        nv.evaluate(model, X[240:], y[240:], loss="cross_entropy")["loss"], rel=1e-6)
    X10, y10 = X[:10], y[:10]  # Keras's split point: floor(10 · 0.75) = 7 to train on
    h10 = nv.fit(model, X10, y10, loss="cross_entropy", optimizer="adam", epochs=1,
                 batch_size=32, progress=False, validation_split=0.25)
    assert h10.params["samples"] == 7
    with pytest.raises(ValueError, match="not both"):
        nv.fit(model, X, y, loss="cross_entropy", optimizer="adam", epochs=1, batch_size=32,
               progress=False, validation_split=0.2, validation_data=(X, y))
    with pytest.raises(ValueError, match=r"fraction in \[0, 1\)"):
        nv.fit(model, X, y, loss="cross_entropy", optimizer="adam", epochs=1, batch_size=32,
               progress=False, validation_split=1.0)


def test_hooks_survive_deepcopy_and_never_leave_fusion_off_for_others():
    import copy
    import gc

    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
    calls = []
    handle = m[0].register_forward_hook(lambda mod, inputs, out: calls.append(1))
    twin = copy.deepcopy(m)
    handle.remove()
    x = nv.tensor(np.ones((1, 2), np.float32))
    m(x)
    twin(x)
    assert calls == [1]  # the copy keeps its hook (as PyTorch), the original has none
    assert m._fusion_plan[1] is not None  # the original fuses again
    leaky = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
    leaky[0].register_forward_hook(lambda mod, inputs, out: None)
    del leaky, twin
    gc.collect()  # a hooked model dropped without remove(): other models still fuse
    other = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
    other(x)
    assert other._fusion_plan[1] is not None


def test_a_hook_added_after_compile_is_refused_at_the_next_step():
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
    step = nv.compile(m, nn.CrossEntropyLoss(), nv.optim.SGD(m.parameters(), lr=0.1))
    X, y = np.ones((4, 2), np.float32), np.array([0, 1, 0, 1])
    step(X, y)
    handle = m[2].register_forward_hook(lambda mod, inputs, out: None)
    with pytest.raises(ValueError, match="forward hooks"):
        step(X, y)
    handle.remove()
    step(X, y)  # gone again: the step runs
