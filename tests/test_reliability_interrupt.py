"""Interruption: kill training with SIGKILL mid-epoch, load the last checkpoint, resume bitwise.

A child process runs ``nv.fit`` with ``ModelCheckpoint`` and a small callback that
saves the optimizer's ``state_dict()`` (``nv.save_state``), the generator state and
the epoch after each checkpoint. The test kills it with SIGKILL in the middle of
an epoch, checks that the last checkpoint loads, then resumes from it in this
process and compares with training straight through: the weights and the losses
of the resumed epochs must be bitwise equal.

What resuming needs, since ``fit`` reseeds only at its start (``seed=``) and then
draws each epoch's shuffle and the dropout masks from the library-wide generator:
the model (``nv.save``), the optimizer state (``save_state(opt.state_dict())``),
the generator state (``nv.get_rng().bit_generator.state``) and the number of
epochs done; the resumed ``fit`` runs with ``seed=None`` for the epochs left.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np

import nerve as nv
from _procs import stop
from nerve import optim

SETUP = textwrap.dedent("""
    import json, numpy as np, nerve as nv
    from nerve import nn, optim

    def problem():
        X, y = nv.data.spiral(n_per_class=200, classes=3, seed=0)
        return X.astype(np.float32), y

    def network():
        nv.manual_seed(0)
        return nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 3))

    class SaveTrainingState(nv.Callback):
        '''After ModelCheckpoint: optimizer state, generator state and epoch, atomically.'''

        def __init__(self, path, optimizer):
            super().__init__()
            self.path, self.optimizer = path, optimizer

        def on_epoch_end(self, epoch, logs=None):
            state = {"opt." + k: v for k, v in self.optimizer.state_dict().items()}
            state["rng"] = json.dumps(nv.get_rng().bit_generator.state)
            state["epoch"] = epoch + 1  # epochs done; ModelCheckpoint's {epoch} is 1-based
            nv.save_state(state, self.path)
""")

CHILD = SETUP + textwrap.dedent("""
    import os, sys, time
    folder = sys.argv[1]
    X, y = problem()
    model = network()
    opt = optim.Adam(model.parameters(), lr=0.01)

    class StallMidEpoch(nv.Callback):
        '''In the third epoch, after 5 batches: say so and wait there to be killed.'''

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_batch_begin(self, batch, logs=None):
            if self.epoch == 2 and batch == 5:
                print("mid-epoch", flush=True)
                time.sleep(120)

    callbacks = [nv.ModelCheckpoint(os.path.join(folder, "ckpt-{epoch:04d}.npz")),
                 SaveTrainingState(os.path.join(folder, "state.npz"), opt), StallMidEpoch()]
    nv.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=10000, batch_size=16,
           seed=1, progress=False, callbacks=callbacks)
""")

namespace: dict = {}
exec(SETUP, namespace)  # the same problem, network and callback in this process
problem, network = namespace["problem"], namespace["network"]


def _run_child_and_kill(folder) -> None:
    """Start training; SIGKILL it in the middle of its third epoch."""
    env = dict(os.environ)  # the same BLAS threading as this process: the same bits
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(folder)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line == "mid-epoch\n", f"training died: {line!r} {proc.stderr.read()}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        stop(proc)
    assert proc.returncode == -signal.SIGKILL


def _resume(folder, total_epochs: int):
    state = nv.load_state(os.path.join(folder, "state.npz"))
    done = int(state.pop("epoch"))
    model = nv.load(os.path.join(folder, f"ckpt-{done:04d}.npz"))
    opt = optim.Adam(model.parameters(), lr=0.01)
    opt.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("opt.")})
    nv.get_rng().bit_generator.state = json.loads(str(state["rng"]))
    X, y = problem()
    history = nv.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=total_epochs,
                     initial_epoch=done, batch_size=16, seed=None, progress=False)
    return done, model, history


def test_sigkill_mid_epoch_then_resume_equals_training_straight_through(tmp_path):
    _run_child_and_kill(tmp_path)
    checkpoints = sorted(p for p in os.listdir(tmp_path) if p.startswith("ckpt-"))
    assert checkpoints == ["ckpt-0001.npz", "ckpt-0002.npz"]
    last = nv.load(tmp_path / checkpoints[-1])  # the last checkpoint is whole and loads
    assert all(np.all(np.isfinite(v)) for v in last.state_dict().values())
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]  # no temporary file

    total = 5
    done, resumed, resumed_history = _resume(tmp_path, total)
    assert done == 2

    X, y = problem()
    straight = network()
    opt = optim.Adam(straight.parameters(), lr=0.01)
    history = nv.fit(straight, X, y, loss="cross_entropy", optimizer=opt, epochs=total,
                     batch_size=16, seed=1, progress=False)

    expected, got = straight.state_dict(), resumed.state_dict()
    assert expected.keys() == got.keys()
    for key in expected:
        assert np.array_equal(expected[key], got[key]), f"{key} differs after resuming"
    assert resumed_history.history["loss"] == history.history["loss"][done:]
    assert resumed_history.epoch == list(range(done, total))


def test_resume_without_the_generator_state_is_not_bitwise(tmp_path):
    """The control: the generator state is what makes the resumed shuffles match."""
    X, y = problem()
    model = network()
    opt = optim.Adam(model.parameters(), lr=0.01)
    nv.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=2, batch_size=16, seed=1,
           progress=False)
    nv.save(model, tmp_path / "m.npz")
    nv.save_state(opt.state_dict(), tmp_path / "o.npz")
    nv.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=1, batch_size=16,
           progress=False)
    straight = model.state_dict()

    resumed = nv.load(tmp_path / "m.npz")
    opt2 = optim.Adam(resumed.parameters(), lr=0.01)
    opt2.load_state_dict(nv.load_state(tmp_path / "o.npz"))
    nv.manual_seed(12345)  # a different generator state than the straight run had
    nv.fit(resumed, X, y, loss="cross_entropy", optimizer=opt2, epochs=1, batch_size=16,
           progress=False)
    assert not np.array_equal(resumed.state_dict()["0.weight"], straight["0.weight"])
