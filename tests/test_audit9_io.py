"""Fixes for the file-I/O audit (audit9/r5): one test (or a few) per finding.

Everything here is fast and local: no network, no torch, no GPU, no large allocation.
The machine may run as root, so permission problems are simulated by monkeypatching
(``os.access``, ``tempfile.mkstemp``), never by real file modes; non-regular files are
FIFOs made with ``os.mkfifo`` in ``tmp_path``, never real device nodes.
"""
import errno
import gzip
import hashlib
import io
import json
import math
import os
import signal
import stat
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import time

import numpy as np
import pytest

import nerve as nv
import nerve.atomic
import nerve.io
from nerve import nn
from nerve.cli import main
from nerve.train.history import History

from _procs import stop

PATH_ERROR = "path must be a str or os.PathLike, got"


def _craft_npz(path, config, state, mark="nerve-model", version=1):
    arrays = {}
    if mark is not None:
        arrays["__nerve__"] = np.array(mark)
    if version is not None:
        arrays["__version__"] = np.array(version)
    if config is not None:
        arrays["__config__"] = np.array(config if isinstance(config, str)
                                        else json.dumps(config))
    arrays.update({"state/" + k: v for k, v in state.items()})
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def _seq(layers, **config):
    return {"type": "Sequential", "config": config, "layers": layers}


def _lin(i, o):
    return {"type": "Linear", "config": {"in_features": i, "out_features": o}}


@pytest.fixture
def built(monkeypatch):
    """Records every layer config that nv.load hands to the registry to build."""
    import nerve.nn.registry as registry

    calls = []
    original = registry.from_config

    def recording(cfg, *args, **kwargs):
        calls.append(cfg)
        return original(cfg, *args, **kwargs)

    monkeypatch.setattr(registry, "from_config", recording)
    return calls


def _dead_pid():
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def _age(path, seconds=None):
    old = time.time() - (seconds if seconds is not None else nerve.atomic.STALE_AFTER + 60)
    os.utime(path, (old, old))


# ---------------------------------------------------------------- 1. declared-size guard
def test_many_layers_each_below_the_stored_total_are_refused_before_building(tmp_path,
                                                                             built):
    path = tmp_path / "many.npz"
    # 50 layers of 10^4 weights each; the file stores 10^4 values (compressible zeros)
    _craft_npz(path, _seq([_lin(100, 100) for _ in range(50)]),
               {"pad": np.zeros(10_000, np.float32)})
    with pytest.raises(ValueError, match=r"declares 500,000 weights in all but the file "
                                         r"stores 10,000 values") as info:
        nv.load(path)
    assert str(info.value).count("cannot rebuild the model") == 1
    assert built == [], "layers were built before the size check"


def test_a_large_layer_nested_deeper_than_the_old_walk_limit_is_still_seen(tmp_path, built):
    cfg = _lin(300, 300)
    for _ in range(201):
        cfg = _seq([cfg])
    path = tmp_path / "deep.npz"
    _craft_npz(path, cfg, {})
    with pytest.raises(ValueError, match="declares 90,000 weights"):
        nv.load(path)
    assert built == []


def test_nesting_beyond_the_limit_is_an_error_before_building(tmp_path, built):
    cfg = {"type": "Identity", "config": {}}
    for _ in range(nerve.io.MAX_DEPTH + 1):
        cfg = _seq([cfg])
    path = tmp_path / "deep.npz"
    _craft_npz(path, cfg, {})
    with pytest.raises(ValueError, match="cannot rebuild the model: its architecture is "
                                         "nested more than"):
        nv.load(path)
    assert built == []


def test_a_model_nested_deep_but_within_the_limit_still_round_trips(tmp_path):
    model = nn.Linear(2, 3)
    for _ in range(210):
        model = nn.Sequential(model)
    nv.save(model, tmp_path / "m.npz")
    back = nv.load(tmp_path / "m.npz")
    x = np.ones((1, 2), np.float32)
    assert np.array_equal(back(nv.tensor(x)).data, model(nv.tensor(x)).data)


def test_a_batchnorm_that_stores_nothing_still_loads(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2),
                          nn.BatchNorm1d(100, affine=False, track_running_stats=False))
    nv.save(model, tmp_path / "m.npz")
    assert nv.load(tmp_path / "m.npz")[1].num_features == 100


def test_tied_and_reused_layers_still_load(tmp_path):
    first = nn.Linear(4, 4)
    model = nn.Sequential(first, nn.ReLU(), first, nn.Linear(4, 4))
    model[3].weight = first.weight
    nv.save(model, tmp_path / "tied.npz")
    back = nv.load(tmp_path / "tied.npz")
    assert back[0] is back[2] and back[3].weight is back[0].weight


# ---------------------------------------------------------------- 2. read-only target
def _deny_write_to(monkeypatch, target):
    real = os.access
    target = os.path.realpath(target)

    def access(path, mode, *args, **kwargs):
        if os.path.realpath(path) == target and mode & os.W_OK:
            return False
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)


def test_saving_over_a_read_only_file_is_refused_and_keeps_it(tmp_path, monkeypatch):
    path = tmp_path / "best.npz"
    nv.save(nn.Sequential(nn.Linear(2, 3)), path)
    os.chmod(path, 0o444)
    before = path.read_bytes()
    _deny_write_to(monkeypatch, path)
    history = History()
    history.on_epoch_end(0, {"loss": 1.0})
    for save in (lambda: nv.save(nn.Sequential(nn.Linear(2, 2)), path),
                 lambda: nv.save_state({"w": np.ones(2)}, path),
                 lambda: history.save(path),
                 lambda: nerve.atomic.atomic_write_bytes(path, b"new")):
        with pytest.raises(PermissionError, match=r"cannot save to '.*best\.npz': the file is "
                                                  r"read-only; the previous file is untouched"):
            save()
        assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["best.npz"]


# ---------------------------------------------------------------- 3. non-regular target
def test_saving_over_a_fifo_is_refused_before_writing(tmp_path):
    fifo = tmp_path / "fifo.npz"
    os.mkfifo(fifo)
    link = tmp_path / "link.npz"
    link.symlink_to(fifo)
    history = History()
    history.on_epoch_end(0, {"loss": 1.0})
    for target in (fifo, link):
        for save in (lambda: nv.save(nn.Sequential(nn.Linear(2, 2)), target),
                     lambda: history.save(target),
                     lambda: nerve.atomic.atomic_write_bytes(target, b"x")):
            with pytest.raises(ValueError, match=r"is a FIFO \(named pipe\), not a regular "
                                                 r"file"):
                save()
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["fifo.npz", "link.npz"]


# ---------------------------------------------------------------- 4. nerve train --out
def test_train_checks_that_out_is_writable_before_loading_data(tmp_path, monkeypatch, capsys):
    import nerve.train.build as build

    out = tmp_path / "run"
    out.mkdir()
    loaded = []
    real_load = build.load_dataset
    monkeypatch.setattr(build, "load_dataset", lambda *a, **k: loaded.append(1) or
                        real_load(*a, **k))
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):  # noqa: A002
        if dir is not None and os.path.realpath(dir) == str(out):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    code = main(["train", "--dataset", "xor", "--epochs", "1", "--quiet", "--out", str(out)])
    err = capsys.readouterr().err
    assert code != 0 and loaded == [], "the data was loaded (or trained) before the check"
    assert err.startswith("nerve: error: --out") and "writable" in err and str(out) in err
    assert len(err.strip().splitlines()) == 1
    # a missing --out: its nearest existing parent is what must be writable
    code = main(["train", "--dataset", "xor", "--epochs", "1", "--quiet",
                 "--out", str(out / "a" / "b")])
    assert code != 0 and loaded == [] and not (out / "a").exists()


def test_train_refuses_a_read_only_model_file_in_out_before_loading_data(
        tmp_path, monkeypatch, capsys):
    import nerve.train.build as build

    out = tmp_path / "run"
    out.mkdir()
    (out / "model.npz").write_bytes(b"my best model")
    monkeypatch.setattr(build, "load_dataset", lambda *a, **k: pytest.fail("data loaded"))
    _deny_write_to(monkeypatch, out / "model.npz")
    assert main(["train", "--dataset", "xor", "--quiet", "--out", str(out)]) != 0
    err = capsys.readouterr().err
    assert "model.npz" in err and "is read-only" in err
    assert (out / "model.npz").read_bytes() == b"my best model"


def test_train_saves_the_model_before_the_plots_and_a_plot_failure_is_a_warning(
        tmp_path, monkeypatch, capsys):
    import nerve.plot

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "cannot save to 'curves.png': No space left on device")

    monkeypatch.setattr(nerve.plot, "plot_history", full_disk)
    out = tmp_path / "run"
    code = main(["train", "--dataset", "xor", "--epochs", "2", "--quiet", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    assert {"model.npz", "history.json", "run.json"} <= set(os.listdir(out))
    assert "warning" in captured.err and "No space left on device" in captured.err
    assert "model.npz" in captured.err and "saved" in captured.err
    assert "Traceback" not in captured.err


def test_train_model_file_takes_raw_inputs_and_plots_still_come(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from nerve.train.build import load_dataset

    out = tmp_path / "run"
    assert main(["train", "--dataset", "blobs", "--epochs", "3", "--quiet",
                 "--out", str(out)]) == 0
    assert {"curves.png", "confusion.png", "decision_boundary.png"} <= set(os.listdir(out))
    data = load_dataset("blobs", None, 0.2, 0, standardized=False)
    model = nv.load(out / "model.npz")
    model.eval()
    accuracy = nv.evaluate(model, data.X_val, data.y_val)["accuracy"]
    run = json.loads((out / "run.json").read_text())
    assert accuracy == pytest.approx(run["metrics"]["val_accuracy"])


# ---------------------------------------------------------------- 5. run.json
@pytest.mark.parametrize("content,says", [
    ({"options": ["digits"]}, "'options' must be"),
    ({"options": {"dataset": ["digits"]}}, "'dataset'"),
    ({"options": {"dataset": "digits", "val_split": "x"}}, "'val_split'"),
    ({"options": {"dataset": "digits", "seed": -1}}, "'seed'"),
    ({"options": {"dataset": "digits", "data_root": 5}}, "'data_root'"),
    ([1, 2], "JSON object"),
    ("{not json", "not valid JSON"),
])
def test_a_bad_run_json_is_one_line_naming_it(tmp_path, capsys, content, says):
    run = tmp_path / "run"
    run.mkdir()
    nv.save(nn.Sequential(nn.Linear(64, 10)), run / "model.npz")
    text = content if isinstance(content, str) else json.dumps(content)
    (run / "run.json").write_text(text)
    code = main(["evaluate", str(run)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("nerve: error: ") and len(err.strip().splitlines()) == 1
    assert "run.json" in err and says in err, err


def test_a_deeply_nested_run_json_is_one_line(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    nv.save(nn.Sequential(nn.Linear(64, 10)), run / "model.npz")
    (run / "run.json").write_text("[" * 100_000 + "]" * 100_000)
    assert main(["evaluate", str(run)]) == 1
    err = capsys.readouterr().err
    assert "run.json" in err and "nested too deeply" in err


# ---------------------------------------------------------------- 6. deep TOML / JSON
def test_deeply_nested_config_and_history_files_give_clear_errors(tmp_path, capsys):
    deep_toml = tmp_path / "deep.toml"
    deep_toml.write_text("epochs = " + "[" * 100_000 + "]" * 100_000 + "\n")
    code = main(["train", "--config", str(deep_toml)])
    err = capsys.readouterr().err
    assert code != 0 and err.startswith("nerve: error: ") and "deep.toml" in err
    assert "nested too deeply" in err and "Traceback" not in err
    deep_json = tmp_path / "deep.json"
    deep_json.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match=r"deep\.json.*nested too deeply"):
        History.load(deep_json)


# ---------------------------------------------------------------- 7. bytes / None paths
def test_bytes_and_none_paths_give_the_same_clear_error_everywhere(tmp_path, monkeypatch):
    import importlib

    from nerve import plot

    export = importlib.import_module("nerve.export_onnx")  # nerve.export_onnx is the function

    monkeypatch.chdir(tmp_path)
    model = nn.Sequential(nn.Linear(3, 2))
    history = History()
    history.on_epoch_end(0, {"loss": 1.0})
    graph = (nv.tensor([1.0], requires_grad=True) * 2).sum()

    def no_tracing(*args, **kwargs):
        raise AssertionError("export_onnx did work before checking the path")

    monkeypatch.setattr(export, "_converters", no_tracing)
    monkeypatch.setattr(plot, "_figure", no_tracing)
    calls = {
        "nv.save": lambda p: nv.save(model, p),
        "nv.save_state": lambda p: nv.save_state({"w": np.ones(2)}, p),
        "nv.load": nv.load,
        "History.save": history.save,
        "History.load": History.load,
        "draw_graph": lambda p: nv.draw_graph(graph, path=p),
        "export_onnx": lambda p: export.export_onnx(model, p, np.zeros((1, 3), np.float32)),
        "plot_history": lambda p: plot.plot_history(history, path=p),
        "plot_activations": lambda p: plot.plot_activations(path=p),
        "plot_confusion_matrix": lambda p: plot.plot_confusion_matrix([0, 1], [0, 1], path=p),
        "plot_weights": lambda p: plot.plot_weights(model, (3, 1), path=p),
        "plot_decision_boundary": lambda p: plot.plot_decision_boundary(
            model, np.zeros((2, 2)), np.zeros(2, int), path=p),
        "save_figure": lambda p: plot.save_figure(object(), p),
        "atomic_path": lambda p: nerve.atomic.atomic_write_bytes(p, b"x"),
    }
    for name, call in calls.items():
        bad_paths = [b"out.bin"]
        if not name.startswith(("plot_", "draw_graph")):  # there None means "do not save"
            bad_paths.append(None)
        for bad in bad_paths:
            with pytest.raises(TypeError) as info:
                call(bad)
            assert str(info.value) == f"{PATH_ERROR} {type(bad).__name__}", name
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- 8. "PK" that is no zip
def test_a_pk_file_that_is_no_zip_is_named_without_pickle_advice(tmp_path, capsys):
    path = tmp_path / "notzip.npz"
    path.write_bytes(b"PK not really a zip archive" + bytes(100))
    for reader in (nv.load, nv.load_state):
        with pytest.raises(ValueError, match=r"it is a file starting with b'PK n', not an "
                                             r"\.npz \(zip\) archive") as info:
            reader(path)
        assert "pickle" not in str(info.value)
    np.save(tmp_path / "x.npy", np.zeros((1, 3)))
    assert main(["predict", str(path), str(tmp_path / "x.npy")]) == 1
    err = capsys.readouterr().err
    assert "not an .npz (zip) archive" in err and "pickle" not in err


def test_a_real_but_empty_zip_is_still_read_as_a_zip(tmp_path):
    import zipfile

    path = tmp_path / "empty.npz"
    with zipfile.ZipFile(path, "w"):
        pass
    assert path.read_bytes().startswith(b"PK\x05\x06")
    with pytest.raises(ValueError, match="no valid format marker"):
        nv.load_state(path)


# ---------------------------------------------------------------- 9. lying .npy header
@pytest.mark.parametrize("shape", [(10**9, 10**9), (1000, 1000)])
def test_an_npy_whose_header_claims_more_than_the_file_holds_is_invalid(tmp_path, capsys,
                                                                        shape):
    nv.save(nn.Sequential(nn.Linear(3, 2)), tmp_path / "model.npz")
    path = tmp_path / "x.npy"
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(
            fh, {"descr": "<f8", "fortran_order": False, "shape": shape})
        fh.write(bytes(64))
    assert main(["predict", str(tmp_path / "model.npz"), str(path)]) == 1
    err = capsys.readouterr().err
    assert "is not a valid .npy file" in err and "out of memory" not in err
    assert f"{path.stat().st_size} bytes" in err


def test_a_good_npy_input_still_loads(tmp_path, capsys):
    nv.save(nn.Sequential(nn.Linear(3, 2)), tmp_path / "model.npz")
    np.save(tmp_path / "x.npy", np.ones((4, 3)))
    np.save(tmp_path / "xf.npy", np.asfortranarray(np.ones((4, 3), np.float32)))
    for name in ("x.npy", "xf.npy"):
        assert main(["predict", str(tmp_path / "model.npz"), str(tmp_path / name)]) == 0
        assert len(capsys.readouterr().out.split()) == 4


# ---------------------------------------------------------------- 10. marker before state
@pytest.fixture
def unpacked(monkeypatch):
    """The .npz members nv.load/nv.load_state unpacked, in order."""
    keys = []
    original = np.lib.npyio.NpzFile.__getitem__

    def getitem(self, key):
        keys.append(key)
        return original(self, key)

    monkeypatch.setattr(np.lib.npyio.NpzFile, "__getitem__", getitem)
    return keys


@pytest.mark.parametrize("mark,version,config,loader,says", [
    (None, 1, None, "load_state", "no valid format marker"),
    ("something-else", 1, None, "load", "no valid format marker"),
    ("nerve-state", 99, None, "load_state", "newer nerve"),
    ("nerve-state", 1, None, "load", "holds a state dict, not a model"),
    ("nerve-model", 1, None, "load", "no architecture entry"),
    ("nerve-model", 1, _lin(10**6, 10**6), "load", "declares 1,000,000,000,000 weights"),
])
def test_load_checks_the_marker_version_and_config_before_unpacking_the_state(
        tmp_path, unpacked, mark, version, config, loader, says):
    path = tmp_path / "f.npz"
    _craft_npz(path, config, {"x": np.zeros(1000, np.float32)}, mark=mark, version=version)
    with pytest.raises(ValueError, match=says):
        getattr(nv, loader)(path)
    assert not [k for k in unpacked if k.startswith("state/")], unpacked


def test_the_safetensors_marker_is_checked_before_reading_tensors(tmp_path, monkeypatch):
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "f.safetensors"
    st.save_file({"x": np.zeros(10, np.float32)}, str(path), metadata={"__nerve__": "other"})
    import safetensors

    real_open = safetensors.safe_open
    read = []

    class Spy:
        def __init__(self, *args, **kwargs):
            self.inner = real_open(*args, **kwargs)

        def __enter__(self):
            self.handle = self.inner.__enter__()
            return self

        def __exit__(self, *exc):
            return self.inner.__exit__(*exc)

        def metadata(self):
            return self.handle.metadata()

        def keys(self):
            return self.handle.keys()

        def get_slice(self, key):
            return self.handle.get_slice(key)

        def get_tensor(self, key):
            read.append(key)
            return self.handle.get_tensor(key)

    monkeypatch.setattr(safetensors, "safe_open", Spy)
    with pytest.raises(ValueError, match="no valid format marker"):
        nv.load_state(path)
    assert read == []


# ---------------------------------------------------------------- 11. download leftovers
_SLOW_DOWNLOAD = textwrap.dedent("""
    import io, sys, time, urllib.request
    class Slow(io.RawIOBase):
        def read(self, n=-1):
            time.sleep(0.02)
            return b"x" * 4096
        def __enter__(self): return self
        def __exit__(self, *a): pass
    urllib.request.urlopen = lambda url, timeout=None: Slow()
    from nerve.data._download import download
    download(["http://mirror.invalid/f.gz"], sys.argv[1], "0" * 32)
""")


class _Payload(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *args):
        pass


def test_a_killed_download_leaves_nothing_after_the_next_one(tmp_path, monkeypatch):
    import urllib.request

    from nerve.data._download import download

    dest = tmp_path / "f.gz"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_DOWNLOAD, str(dest)])
    try:
        deadline = time.time() + 60
        while not [n for n in os.listdir(tmp_path) if os.path.getsize(tmp_path / n) > 0]:
            assert time.time() < deadline and proc.poll() is None, "the download never started"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        stop(proc)
    (leftover,) = os.listdir(tmp_path)
    assert leftover.startswith(".f.gz.")
    legacy = tmp_path / ".f.gz.ab12cd34.part"  # what earlier versions of nerve left
    legacy.write_bytes(b"half")
    _age(legacy)
    monkeypatch.setattr(nerve.atomic, "STALE_AFTER", 0.0)
    monkeypatch.setattr(nerve.atomic, "_CLEANED", set())
    payload = b"the real file"
    monkeypatch.setattr(urllib.request, "urlopen",
                        lambda url, timeout=None: _Payload(payload))
    download(["http://mirror.invalid/f.gz"], dest, hashlib.md5(payload).hexdigest())
    assert os.listdir(tmp_path) == ["f.gz"] and dest.read_bytes() == payload


def test_a_fresh_legacy_part_file_is_kept(tmp_path, monkeypatch):
    """A .part file younger than STALE_AFTER may belong to a download still running."""
    import urllib.request

    from nerve.data._download import download

    fresh = tmp_path / ".f.gz.ab12cd34.part"
    fresh.write_bytes(b"half")
    payload = b"x"
    monkeypatch.setattr(urllib.request, "urlopen",
                        lambda url, timeout=None: _Payload(payload))
    download(["http://mirror.invalid/f.gz"], tmp_path / "f.gz", hashlib.md5(payload).hexdigest())
    assert sorted(os.listdir(tmp_path)) == [".f.gz.ab12cd34.part", "f.gz"]


def test_cifar_extraction_cleans_the_leftovers_of_a_killed_one(tmp_path, monkeypatch):
    from nerve.data import cifar10

    record = bytes([3]) + bytes(3072)
    archive = tmp_path / cifar10.ARCHIVE
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo(f"{cifar10.FOLDER}/test_batch.bin")
        info.size = len(record)
        tar.addfile(info, io.BytesIO(record))
    folder = tmp_path / cifar10.FOLDER
    folder.mkdir()
    dead = _dead_pid()
    leftovers = [folder / f".test_batch.bin.{dead}.abc123.nerve.tmp",  # this version's
                 folder / ".cifarq1w2e3r4.part"]  # earlier versions'
    for leftover in leftovers:
        leftover.write_bytes(b"half")
        _age(leftover)
    seen = []
    real_copy = cifar10.shutil.copyfileobj

    def copy(source, out, *args):
        seen.extend(n for n in os.listdir(folder) if n.startswith("."))
        return real_copy(source, out, *args)

    monkeypatch.setattr(cifar10.shutil, "copyfileobj", copy)
    cifar10._extract_batches(archive, folder)
    assert os.listdir(folder) == ["test_batch.bin"]
    # the temporary file is named as atomic.py's, so that its cleanup covers it
    assert seen and seen[0].startswith(f".test_batch.bin.{os.getpid()}.")
    assert seen[0].endswith(".nerve.tmp")


# ---------------------------------------------------------------- 12. History inf / nan
def test_history_keeps_inf_minus_inf_and_nan_apart(tmp_path):
    h = History()
    for i, value in enumerate([math.inf, -math.inf, math.nan, 0.5]):
        h.on_epoch_end(i, {"loss": value})
        h.on_batch_end(i, {"loss": value})
    path = tmp_path / "h.json"
    h.save(path)

    def strict(name):
        raise ValueError(f"not strict JSON: {name}")

    json.loads(path.read_text(), parse_constant=strict)  # no Infinity/NaN literals
    back = History.load(path)
    for values in (back.loss, back.iteration_loss):
        assert values[0] == math.inf and values[1] == -math.inf
        assert math.isnan(values[2]) and values[3] == 0.5


def test_history_refuses_odd_values(tmp_path):
    path = tmp_path / "h.json"
    for loss in (["infinity?"], [[1.0]], [True]):
        path.write_text(json.dumps({"history": {"loss": loss}, "epoch": [0]}))
        with pytest.raises(ValueError, match="not a nerve history file"):
            History.load(path)


# ---------------------------------------------------------------- 13. error messages
def test_load_errors_have_one_prefix_and_a_short_key_list(tmp_path):
    path = tmp_path / "huge.npz"
    _craft_npz(path, _seq([_lin(10**6, 10**6)]), {})
    with pytest.raises(ValueError) as info:
        nv.load(path)
    assert str(info.value).count("cannot rebuild the model") == 1
    assert str(info.value).count("huge.npz") == 1
    cfg = _lin(1, 1)
    for _ in range(150):
        cfg = _seq([cfg, _lin(1, 1)])
    path = tmp_path / "deep.npz"
    _craft_npz(path, cfg, {"pad": np.zeros(1000, np.float32)})
    with pytest.raises(ValueError, match="missing keys") as info:
        nv.load(path)
    message = str(info.value)
    assert len(message) < 1000 and "more" in message and "unexpected keys: pad" in message


# ---------------------------------------------------------------- 14. safetensors strings
@pytest.mark.parametrize("strings,ok", [
    ({"w": [{"a": 1}]}, False),
    ({"w": [1, "a"]}, False),
    ({"w": 3}, False),
    ({"w": [["a"], ["b", "c"]]}, False),
    (["w"], False),
    ({"w": "relu"}, True),
    ({"w": ["a", "b"]}, True),
    ({"w": [["a", "b"], ["c", "d"]]}, True),
])
def test_safetensors_strings_must_be_strings(tmp_path, strings, ok):
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "s.safetensors"
    st.save_file({}, str(path), metadata={"__nerve__": "nerve-state", "__version__": "1",
                                          "__strings__": json.dumps(strings)})
    if ok:
        (value,) = nv.load_state(path).values()
        assert value.dtype.kind == "U" and value.tolist() == strings["w"]
    else:
        with pytest.raises(ValueError, match="not a readable nerve .safetensors file"):
            nv.load_state(path)


def test_string_state_round_trips_through_safetensors(tmp_path):
    pytest.importorskip("safetensors")
    state = {"name": np.array("adam"), "names": np.array(["a", "bc"]), "w": np.ones(3)}
    nv.save_state(state, tmp_path / "s.safetensors")
    back = nv.load_state(tmp_path / "s.safetensors")
    assert back["name"].dtype.kind == "U" and back["name"].item() == "adam"
    assert back["names"].tolist() == ["a", "bc"] and np.array_equal(back["w"], np.ones(3))


# ---------------------------------------------------------------- 15. the minor ones
def test_a_folder_is_reported_as_a_folder(tmp_path, capsys):
    from nerve.data import load_mnist

    (tmp_path / "cfg.toml").mkdir()
    assert main(["train", "--config", str(tmp_path / "cfg.toml")]) != 0
    assert "is a folder" in capsys.readouterr().err
    root = tmp_path / "mnist"
    root.mkdir()
    (root / "train-images-idx3-ubyte.gz").mkdir()
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz.* is a folder"):
        load_mnist(root)
    (tmp_path / "h.json").mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        History.load(tmp_path / "h.json")
    nv.save(nn.Sequential(nn.Linear(3, 2)), tmp_path / "model.npz")
    (tmp_path / "x.npy").mkdir()
    assert main(["predict", str(tmp_path / "model.npz"), str(tmp_path / "x.npy")]) == 1
    assert "input file" in (err := capsys.readouterr().err) and "is a folder" in err


def test_load_refuses_a_fifo_instead_of_blocking(tmp_path):
    fifo = tmp_path / "p.npz"
    os.mkfifo(fifo)
    code = "import sys, nerve\ntry:\n    nerve.load(sys.argv[1])\nexcept ValueError as e:\n" \
           "    print(e)"
    done = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True,
                          text=True, timeout=20)
    assert "is a FIFO (named pipe), not a regular file" in done.stdout, done.stderr
    for reader in (nv.load_state, History.load):
        with pytest.raises(ValueError, match="not a regular file"):
            reader(fifo)


def test_a_read_only_folder_error_says_the_folder_must_be_writable(tmp_path, monkeypatch):
    path = tmp_path / "old.npz"
    nv.save(nn.Sequential(nn.Linear(2, 2)), path)
    before = path.read_bytes()

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(PermissionError, match=r"cannot save to '.*old\.npz': Permission "
                                              r"denied: the folder '.*' must be writable"):
        nv.save(nn.Sequential(nn.Linear(2, 2)), path)
    assert path.read_bytes() == before


def test_a_damaged_mnist_gzip_suggests_deleting_and_downloading_again(tmp_path):
    from nerve.data import load_mnist

    images = bytes([0, 0, 8, 3]) + (2).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 \
        + bytes(2 * 28 * 28)
    labels = bytes([0, 0, 8, 1]) + (2).to_bytes(4, "big") + bytes([1, 2])
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(images)[:-30])
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))
    with pytest.raises(ValueError, match="damaged or truncated gzip file.*delete it and "
                                         "download it again"):
        load_mnist(tmp_path)


def test_history_refuses_more_values_than_epochs(tmp_path):
    path = tmp_path / "h.json"
    path.write_text(json.dumps({"history": {"loss": [1.0, 2.0, 3.0]}, "epoch": [0]}))
    with pytest.raises(ValueError, match="'loss' has 3 values for 1 epoch"):
        History.load(path)
    path.write_text(json.dumps({"history": {"loss": [1.0], "lr": []}, "epoch": [0]}))
    assert History.load(path).loss == [1.0]  # fewer (a metric added later) is fine


@pytest.mark.parametrize("config", [
    {"type": "Sequential", "config": {"anything": 123}, "layers": []},
    {"type": "ModuleList", "config": {"names": None, "x": 1}, "layers": []},
    {"type": "ModuleDict", "config": {"names": [], "extra": True}, "layers": []},
])
def test_unknown_container_config_keys_are_refused(tmp_path, config):
    path = tmp_path / "m.npz"
    _craft_npz(path, config, {})
    with pytest.raises(ValueError, match="unknown config key"):
        nv.load(path)


def test_containers_with_names_still_load(tmp_path):
    model = nn.Sequential(nn.ModuleDict({"a": nn.Linear(2, 2)}), nn.ModuleList([nn.ReLU()]))
    nv.save(model, tmp_path / "m.npz")
    back = nv.load(tmp_path / "m.npz")
    assert list(back[0].keys()) == ["a"]
