"""Files from outside: fuzzed model/state files and dataset files, pickle bombs, atomic saves.

Every damaged file either loads correctly or raises a clear ValueError naming the
file; none raises anything else, hangs, or runs code. Crafted files carry pickled
objects whose unpickling would create a marker file: the marker must never
appear. Saves are atomic: an exception or a SIGKILL in the middle of a save
leaves the previous file loadable.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import nerve as nv
from _procs import stop
from nerve import data, nn
from nerve.random import get_rng

FUZZ_LONG = os.environ.get("NERVE_FUZZ_LONG") == "1"
N_MUTANTS = 400 if FUZZ_LONG else 60


class Bomb:
    """Unpickling this object would create ``marker`` (a stand-in for running a command)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _mutants(payload: bytes, seed: int):
    """Truncations, byte flips, zeroed runs and random files derived from ``payload``."""
    rng = get_rng(seed)
    n = len(payload)
    cuts = sorted({0, 1, 4, 22, 30, n // 4, n // 2, n - 22, n - 1,
                   *rng.integers(0, n, N_MUTANTS // 4).tolist()})
    for cut in cuts:
        yield f"truncated at {cut}", payload[:cut]
    for i in range(N_MUTANTS):
        buf = bytearray(payload)
        for pos in rng.integers(0, n, int(rng.integers(1, 9))):
            buf[pos] = int(rng.integers(0, 256))
        yield f"flip #{i}", bytes(buf)
    for i in range(N_MUTANTS // 6):
        start = int(rng.integers(0, n))
        buf = bytearray(payload)
        buf[start:start + int(rng.integers(1, 64))] = bytes(64)[:len(buf[start:start + 64])]
        yield f"zeroed #{i}", bytes(buf)
    for i in range(N_MUTANTS // 6):
        size = int(rng.integers(0, 4096))
        prefix = b"PK\x03\x04" if i % 2 else b""
        yield f"random #{i}", prefix + rng.integers(0, 256, size, dtype=np.uint8).tobytes()


def _check_outcome(path, loader, check_loaded) -> str:
    try:
        result = loader(path)
    except ValueError as exc:
        assert str(path) in str(exc), f"the error does not name the file: {exc}"
        return "rejected"
    check_loaded(result)
    return "loaded"


@pytest.fixture(scope="module")
def model_payload(tmp_path_factory):
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.BatchNorm1d(5), nn.Linear(5, 2))
    path = tmp_path_factory.mktemp("payload") / "model.npz"
    nv.save(model, path)
    return path.read_bytes()


def test_fuzzed_model_files_load_or_raise_a_clear_error(model_payload, tmp_path):
    path = tmp_path / "fuzz.npz"
    start = time.perf_counter()
    outcomes = {"loaded": 0, "rejected": 0}

    def loaded(model):
        assert isinstance(model, nn.Module)
        out = model(nv.tensor(np.ones((2, 3))))
        assert out.shape == (2, 2)

    for what, blob in _mutants(model_payload, seed=7):
        path.write_bytes(blob)
        outcomes[_check_outcome(path, nv.load, loaded)] += 1
        outcomes[_check_outcome(path, nv.load_state, lambda sd: isinstance(sd, dict))] += 1
    assert outcomes["rejected"] > 0 and sum(outcomes.values()) >= 2 * N_MUTANTS
    assert time.perf_counter() - start < (300 if FUZZ_LONG else 30), "the loader is too slow"


def _craft_npz(path, config, state, mark="nerve-model"):
    arrays = {"__nerve__": np.array(mark), "__version__": np.array(1)}
    if config is not None:
        arrays["__config__"] = np.array(config)
    arrays.update({"state/" + k: v for k, v in state.items()})
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)  # allow_pickle is True when *saving*: object arrays go in


def test_pickled_object_in_a_model_file_is_never_unpickled(tmp_path):
    marker = tmp_path / "PWNED"
    bomb = np.array([Bomb(str(marker))], dtype=object)
    config = json.dumps({"type": "Linear", "config": {"in_features": 1, "out_features": 1}})
    files = {
        "model with object weight": (config, {"weight": bomb, "bias": np.zeros(1)}),
        "state with object entry": (None, {"w": bomb}),
    }
    for what, (cfg, state) in files.items():
        path = tmp_path / f"{what.replace(' ', '_')}.npz"
        _craft_npz(path, cfg, state, "nerve-model" if cfg else "nerve-state")
        for loader in (nv.load, nv.load_state):
            with pytest.raises(ValueError, match="corrupt or not a nerve file|not a readable"):
                loader(path)
    # a bare pickle and a .npy of objects, under nerve's file names
    raw = tmp_path / "raw.npz"
    import pickle
    raw.write_bytes(pickle.dumps({"w": Bomb(str(marker))}))
    single = tmp_path / "single.npz"
    with open(single, "wb") as fh:
        np.save(fh, bomb)
    for path in (raw, single):
        for loader in (nv.load, nv.load_state):
            with pytest.raises(ValueError):
                loader(path)
    assert not marker.exists(), "loading a file ran code"


def test_pickled_object_never_reaches_the_cli(tmp_path, capsys, model_payload):
    from nerve.cli import main
    marker = tmp_path / "PWNED"
    model = tmp_path / "model.npz"
    model.write_bytes(model_payload)
    evil = tmp_path / "inputs.npy"
    np.save(evil, np.array([[Bomb(str(marker))]], dtype=object))
    assert main(["predict", str(model), str(evil)]) == 1
    assert "not a valid .npy" in capsys.readouterr().err
    assert not marker.exists()


@pytest.mark.parametrize("what,config", [
    ("json nested 100000 deep", "[" * 100_000 + "]" * 100_000),
    ("layers nested 5000 deep",
     '{"type": "Sequential", "config": {}, "layers": [' * 5000 + "]}" * 5000),
    ("a layer of 10^14 weights",
     json.dumps({"type": "Linear", "config": {"in_features": 10**7, "out_features": 10**7}})),
    ("a type that is not a layer", json.dumps({"type": "os.system", "config": {"command": "x"}})),
    ("constructor arguments it does not take",
     json.dumps({"type": "Linear", "config": {"__class__": 1}})),
    ("not JSON", "{nope"),
    ("a JSON list", "[]"),
])
def test_crafted_architectures_raise_a_clear_error(tmp_path, what, config):
    path = tmp_path / "crafted.npz"
    _craft_npz(path, config, {})
    start = time.perf_counter()
    with pytest.raises(ValueError, match="cannot rebuild the model"):
        nv.load(path)
    assert time.perf_counter() - start < 10


def test_idx_header_that_lies_about_its_size_is_rejected_at_once(tmp_path):
    path = tmp_path / "huge-idx3-ubyte"
    header = bytes([0, 0, 0x08, 3]) + (2**32 - 1).to_bytes(4, "big") * 3
    path.write_bytes(header + bytes(100))
    start = time.perf_counter()
    with pytest.raises(ValueError, match="truncated"):
        data.read_idx(path)
    assert time.perf_counter() - start < 5


def _idx_payload(gz: bool) -> bytes:
    images = get_rng(3).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    raw = bytes([0, 0, 0x08, 3]) + b"".join(d.to_bytes(4, "big") for d in images.shape)
    raw += images.tobytes()
    return gzip.compress(raw, mtime=0) if gz else raw


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
def test_fuzzed_idx_files_load_or_raise_a_clear_error(tmp_path, gz):
    payload = _idx_payload(gz)
    path = tmp_path / "t10k-images-idx3-ubyte"
    counts = {"loaded": 0, "rejected": 0}
    for what, blob in _mutants(payload, seed=11 + gz):
        path.write_bytes(blob)
        counts[_check_outcome(path, data.read_idx,
                              lambda a: isinstance(a, np.ndarray) and a.size >= 0)] += 1
    assert counts["rejected"] > 0
    assert counts["loaded"] > 0 or gz  # raw: flipped pixels still load; gzip: its CRC catches all


def test_fuzzed_cifar10_batches_load_or_raise_a_clear_error(tmp_path):
    rng = get_rng(5)
    records = rng.integers(0, 256, (3, 3073), dtype=np.uint8)
    records[:, 0] = [0, 4, 9]
    path = tmp_path / "data_batch_1.bin"
    counts = {"loaded": 0, "rejected": 0}

    def loaded(result):
        images, labels = result
        assert images.shape[1:] == (32, 32, 3) and images.dtype == np.uint8
        assert labels.min() >= 0 and labels.max() <= 9 and len(labels) == len(images)

    for what, blob in _mutants(records.tobytes(), seed=13):
        path.write_bytes(blob)
        counts[_check_outcome(path, data.read_cifar10_batch, loaded)] += 1
    assert counts["rejected"] > 0 and counts["loaded"] > 0


def test_mnist_folder_with_corrupt_files_names_the_file(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx_payload(False)[:-5])
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3, 4]))
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.*truncated"):
        data.load_mnist(tmp_path, train=False)


# ---------------------------------------------------------------- atomic saves
def _leftovers(folder) -> list[str]:
    return [p for p in os.listdir(folder) if p.endswith(".tmp") or p.startswith(".nerve-")]


@pytest.mark.parametrize("save", ["model", "state"])
def test_a_save_that_fails_midway_keeps_the_old_file(tmp_path, monkeypatch, save):
    path = tmp_path / "net.npz"
    nv.manual_seed(0)
    old = nn.Sequential(nn.Linear(2, 3))
    nv.save(old, path)
    before = path.read_bytes()

    def explode(fh, **arrays):
        fh.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", explode)
    with pytest.raises(OSError, match="disk full"):
        if save == "model":
            nv.save(nn.Sequential(nn.Linear(2, 3)), path)
        else:
            nv.save_state({"w": np.ones(3)}, path)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []
    assert os.listdir(tmp_path) == ["net.npz"]  # no stray temporary file of any name
    monkeypatch.undo()
    assert np.array_equal(nv.load(path)[0].weight.data, old[0].weight.data)


def test_a_failed_save_names_the_target_not_the_temporary_file(tmp_path, monkeypatch):
    import errno
    import tempfile

    path = tmp_path / "net.npz"
    nv.save(nn.Sequential(nn.Linear(2, 3)), path)
    before = path.read_bytes()

    def full_disk(fh, **arrays):
        fh.write(b"PK\x03\x04 half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", full_disk)
    with pytest.raises(OSError, match=r"cannot save to '.*net\.npz': No space left on device; "
                                      r"the previous file, if any, is untouched") as info:
        nv.save(nn.Sequential(nn.Linear(2, 3)), path)
    assert info.value.errno == errno.ENOSPC and ".tmp" not in str(info.value)
    monkeypatch.undo()

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / ".net.npz.1.x.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(OSError, match=r"cannot save to '.*net\.npz': Read-only file system"):
        nv.save_state({"w": np.ones(2)}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["net.npz"]


def test_a_save_through_a_symlink_keeps_the_link_and_updates_its_file(tmp_path):
    nv.manual_seed(0)
    nv.save(nn.Sequential(nn.Linear(2, 3)), tmp_path / "real.npz")
    (tmp_path / "link.npz").symlink_to("real.npz")
    nv.save(nn.Sequential(nn.Linear(2, 5)), tmp_path / "link.npz")
    assert (tmp_path / "link.npz").is_symlink()
    assert nv.load(tmp_path / "real.npz")[0].out_features == 5
    assert sorted(os.listdir(tmp_path)) == ["link.npz", "real.npz"]


def test_a_plot_that_fails_midway_keeps_the_old_figure(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from nerve import plot

    path = tmp_path / "curves.png"
    plot.plot_history({"loss": [2.0, 1.0]}, path=path)
    before = path.read_bytes()
    assert before.startswith(b"\x89PNG")

    def half_written(self, fname, **kwargs):
        with open(fname, "wb") as fh:
            fh.write(before[:100])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", half_written)
    with pytest.raises(OSError, match="cannot save to .*curves.png"):
        plot.plot_history({"loss": [3.0, 2.0, 1.0]}, path=path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["curves.png"]
    monkeypatch.undo()
    plot.plot_history({"loss": [3.0, 2.0, 1.0]}, path=tmp_path / "no_extension")
    assert (tmp_path / "no_extension").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("content,kind", [
    (b"hello world", "a file starting with b'hell'"),
    (b"", "an empty file"),
    (gzip.compress(b"PK\x03\x04"), "a gzip file"),
    (b"\x93NUMPY\x01\x00", "a single NumPy array"),
])
def test_a_file_that_is_no_zip_archive_is_named_as_such(tmp_path, content, kind):
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    for reader in (nv.load, nv.load_state):
        with pytest.raises(ValueError, match="not a nerve model or state file: it is ") as info:
            reader(path)
        assert kind in str(info.value) and "pickle" not in str(info.value)


def test_model_file_without_architecture_and_ragged_state_are_named(tmp_path):
    path = tmp_path / "v.npz"
    np.savez(path, __nerve__=np.array("nerve-model"), __version__=np.array(1))
    with pytest.raises(ValueError, match=r"no architecture entry \(__config__\)"):
        nv.load(path)
    with pytest.raises(ValueError, match="entry 'w' is a ragged sequence"):
        nv.save_state({"w": [[1, 2], [3]]}, tmp_path / "s.npz")
    assert not (tmp_path / "s.npz").exists()


def test_save_gives_the_permissions_of_an_ordinary_write(tmp_path):
    path = tmp_path / "net.npz"
    nv.save(nn.Sequential(nn.Linear(2, 2)), path)
    probe = tmp_path / "probe"
    probe.write_bytes(b"")
    assert (path.stat().st_mode & 0o777) == (probe.stat().st_mode & 0o777)  # not 0600
    os.chmod(path, 0o640)
    nv.save_state({"w": np.ones(2)}, path)  # overwriting keeps the file's own mode
    assert (path.stat().st_mode & 0o777) == 0o640


_SAVER = textwrap.dedent("""
    import sys, numpy as np, nerve as nv
    from nerve import nn
    path = sys.argv[1]
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(300, 300), nn.ReLU(), nn.Linear(300, 300))
    for i in range(100000):
        model[0].bias.data[:] = i
        nv.save(model, path)
        print(i, flush=True)
""")


def test_sigkill_during_repeated_saves_never_leaves_a_broken_file(tmp_path, monkeypatch):
    path = tmp_path / "net.npz"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)], stdout=subprocess.PIPE,
                            text=True, env=env)
    try:
        for _ in range(3):  # let a few saves complete
            assert proc.stdout.readline(), "the saver died"
        time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        stop(proc)
    model = nv.load(path)  # whichever save was last complete, never a torn file
    bias = model[0].bias.data
    assert np.all(bias == bias[0]) and bias[0] >= 2
    # the killed save's temporary file (if the kill came mid-write) goes at the next save
    import nerve.atomic

    monkeypatch.setattr(nerve.atomic, "STALE_AFTER", 0.0)
    nv.save(model, path)
    assert _leftovers(tmp_path) == [] and os.listdir(tmp_path) == ["net.npz"]


def test_leftovers_go_only_when_their_process_is_gone_and_they_are_old(tmp_path):
    import nerve.atomic

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(done.stdout)  # a process that has exited
    old = time.time() - nerve.atomic.STALE_AFTER - 5
    names = {"dead_old": f".net.npz.{dead}.abc.nerve.tmp",
             "dead_new": f".net.npz.{dead}.def.nerve.tmp",
             "alive_old": f".net.npz.{os.getpid()}.ghi.nerve.tmp",
             "other_target": f".other.npz.{dead}.jkl.nerve.tmp",
             "longer_name": f".net.npz.5.{os.getpid()}.mno.nerve.tmp"}  # target "net.npz.5"
    for key, name in names.items():
        (tmp_path / name).write_bytes(b"PK half")
        if key != "dead_new":
            os.utime(tmp_path / name, (old, old))
    nv.save_state({"w": np.ones(2)}, tmp_path / "net.npz")
    left = set(os.listdir(tmp_path))
    assert names["dead_old"] not in left
    assert {names["dead_new"], names["alive_old"], names["other_target"], names["longer_name"],
            "net.npz"} == left


def test_a_file_declaring_a_huge_layer_is_refused_before_building(tmp_path):
    """A crafted architecture far larger than its stored weights never gets allocated."""
    import json as _json

    from nerve import nn

    path = tmp_path / "m.npz"
    nv.save(nn.Sequential(nn.Linear(3, 2)), path)
    with np.load(path, allow_pickle=False) as z:
        entries = {k: z[k] for k in z.files}
    key = next(k for k, v in entries.items() if v.dtype.kind == "U" and "Linear" in str(v))
    cfg = _json.loads(str(entries[key]))
    cfg["layers"][0]["config"].update(in_features=200_000, out_features=200_000)
    entries[key] = np.array(_json.dumps(cfg))
    np.savez(path, **entries)
    with pytest.raises(ValueError, match="declares 40,000,000,000 weights"):
        nv.load(path)


def test_an_archive_unpacking_to_more_than_the_memory_is_refused_unread(tmp_path, monkeypatch):
    """A zip bomb: a few hundred KiB that would unpack to 64 MiB, against a 32 MiB machine."""
    import zipfile

    import nerve.io

    path = tmp_path / "bomb.npz"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (16 * 2**20,)})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("state/w.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            zeros = bytes(2**20)
            for _ in range(64):
                member.write(zeros)
    assert path.stat().st_size < 2**20
    monkeypatch.setattr(nerve.io, "memory_limit", lambda: 32 * 2**20)
    allocated = []
    monkeypatch.setattr(np.lib.format, "read_array",
                        lambda *a, **k: allocated.append(1))  # must never be reached
    with pytest.raises(ValueError, match=r"would unpack to 0\.1 GiB, more than this machine's"):
        nv.load_state(path)
    assert not allocated
    monkeypatch.undo()
    nv.save_state({"w": np.ones(3)}, tmp_path / "fine.npz")  # an ordinary file still loads
    assert np.array_equal(nv.load_state(tmp_path / "fine.npz")["w"], np.ones(3))
