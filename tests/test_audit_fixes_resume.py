"""Optimizer state, schedulers and exact resumes (the eighth session's resume audit): each
test fails on the code as it was before the fix."""
import numpy as np
import pytest

import nerve as nv
from nerve import nn, optim


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 4)).astype(np.float32), rng.integers(0, 3, n)


def _model(seed=0):
    nv.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


# ------------------------------------------------------------------ captured step, mixed state
@pytest.mark.parametrize("opt_cls, kw", [(optim.Adam, dict(lr=0.01)),
                                         (optim.SGD, dict(lr=0.1, momentum=0.9))])
def test_captured_step_keeps_per_parameter_state_after_an_unfreeze(opt_cls, kw):
    X, y = _data()
    results = []
    for use_compile in (False, True):
        model = _model()
        opt = opt_cls(model.parameters(), **kw)
        model[2].weight.requires_grad_(False)  # frozen for the first steps: no state there
        for _ in range(3):
            opt.zero_grad()
            nn.CrossEntropyLoss()(model(nv.tensor(X)), y).backward()
            opt.step()
        model[2].weight.requires_grad_(True)
        if use_compile:
            step = nv.compile(model, nn.CrossEntropyLoss(), opt)
            for _ in range(3):
                step(X, y)
        else:
            for _ in range(3):
                opt.zero_grad()
                nn.CrossEntropyLoss()(model(nv.tensor(X)), y).backward()
                opt.step()
        results.append([p.data.copy() for p in model.parameters()])
    for eager, captured in zip(*results):
        np.testing.assert_array_equal(eager, captured)


# ------------------------------------------------------------------ schedulers
def test_a_scheduler_built_on_a_restored_optimizer_keeps_its_rate():
    opt = optim.SGD([nn.Parameter(np.zeros(2))], lr=0.1)
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        sched.step()
    restored = optim.SGD([nn.Parameter(np.zeros(2))], lr=0.1)
    restored.load_state_dict(opt.state_dict())
    optim.StepLR(restored, step_size=2, gamma=0.5)
    assert restored.param_groups[0]["lr"] == pytest.approx(0.05)  # torch keeps 0.05 too


def test_a_group_added_after_the_scheduler_is_scheduled():
    opt = optim.SGD([nn.Parameter(np.zeros(2))], lr=0.1)
    sched = optim.StepLR(opt, step_size=1, gamma=0.5)
    opt.add_param_group({"params": [nn.Parameter(np.zeros(2))], "lr": 1.0})
    sched.step()
    sched.step()
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.025, 0.25])
    assert len(sched.get_last_lr()) == 2
    again = optim.StepLR(optim.SGD([nn.Parameter(np.zeros(2))], lr=0.1), step_size=1)
    again.optimizer.add_param_group({"params": [nn.Parameter(np.zeros(2))], "lr": 1.0})
    again.load_state_dict(sched.state_dict())  # two groups saved, two there
    assert again.get_last_lr() == pytest.approx([0.025, 0.25])


def test_reduce_on_plateau_state_dict_keeps_settings_and_last_rates(tmp_path):
    opt = optim.SGD([nn.Parameter(np.zeros(2))], lr=0.1)
    sched = optim.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=0)
    for acc in (0.5, 0.4, 0.3):
        sched.step(acc)
    nv.save_state(sched.state_dict(), tmp_path / "s.npz")
    opt2 = optim.SGD([nn.Parameter(np.zeros(2))], lr=0.1)
    opt2.load_state_dict(opt.state_dict())
    fresh = optim.ReduceLROnPlateau(opt2)  # default settings: min, 0.1, 10
    fresh.load_state_dict(nv.load_state(tmp_path / "s.npz"))
    assert (fresh.mode, fresh.factor, fresh.patience) == ("max", 0.5, 0)
    assert fresh.get_last_lr() == pytest.approx([0.025])
    fresh.step(0.2)
    assert opt2.param_groups[0]["lr"] == pytest.approx(0.0125)
    old_format = {k: v for k, v in sched.state_dict().items()
                  if k in ("scheduler", "best", "num_bad_epochs", "cooldown_counter",
                           "last_epoch")}
    optim.ReduceLROnPlateau(opt2).load_state_dict(old_format)  # files from before still load


# ------------------------------------------------------------------ the README's recipe
def test_the_readme_resume_recipe_with_a_scheduler_is_exact(tmp_path):
    X, y = _data(96)

    def build():
        model = _model(1)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        return model, opt, optim.StepLR(opt, step_size=2, gamma=0.5)

    def run(model, opt, sched, epochs, initial_epoch, seed):
        return nv.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=epochs,
                      batch_size=16, callbacks=[sched], progress=False, seed=seed,
                      initial_epoch=initial_epoch)

    model, opt, sched = build()
    full = run(model, opt, sched, 6, 0, 1)
    want = [p.data.copy() for p in model.parameters()]

    model, opt, sched = build()
    first = run(model, opt, sched, 3, 0, 1)
    nv.save(model, tmp_path / "m.npz")
    nv.save_state({**{f"opt.{k}": v for k, v in opt.state_dict().items()},
                   **{f"sched.{k}": v for k, v in sched.state_dict().items()},
                   "rng": nv.get_rng_state()}, tmp_path / "state.npz")
    nv.manual_seed(123)  # a fresh start elsewhere

    state = nv.load_state(tmp_path / "state.npz")
    model = nv.load(tmp_path / "m.npz")
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("opt.")})
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    sched.load_state_dict({k[6:]: v for k, v in state.items() if k.startswith("sched.")})
    nv.set_rng_state(state["rng"])
    second = run(model, opt, sched, 6, 3, None)
    assert first.loss + second.loss == full.loss
    for p, w in zip(model.parameters(), want):
        np.testing.assert_array_equal(p.data, w)


def test_fit_hands_out_the_optimizer_it_built_from_a_name():
    X, y = _data()
    h = nv.fit(_model(), X, y, loss="cross_entropy", optimizer="adam", lr=1e-3, epochs=1,
               batch_size=16, progress=False)
    assert type(h.optimizer).__name__ == "Adam" and h.optimizer.state_dict()["state.0.step"] == 3


def test_rng_state_round_trips_through_a_state_file(tmp_path):
    nv.manual_seed(5)
    nv.get_rng().random(4)
    nv.save_state({"rng": nv.get_rng_state()}, tmp_path / "r.npz")
    want = nv.get_rng().random(3)
    nv.manual_seed(0)
    nv.set_rng_state(nv.load_state(tmp_path / "r.npz")["rng"])
    np.testing.assert_array_equal(nv.get_rng().random(3), want)
    with pytest.raises(ValueError, match="not a state"):
        nv.set_rng_state(np.frombuffer(b"{}", np.uint8))
    with pytest.raises(TypeError, match="uint8 array"):
        nv.set_rng_state([1.0, 2.0])


# ------------------------------------------------------------------ callbacks and clipping
def test_checkpoint_initial_value_threshold_guards_the_best_file(tmp_path):
    X, y = _data()
    path = tmp_path / "best.npz"
    ckpt = nv.ModelCheckpoint(path, monitor="loss", save_best_only=True,
                              initial_value_threshold=1e-9)  # a best no epoch here beats
    nv.fit(_model(), X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=2,
           batch_size=16, progress=False, callbacks=[ckpt])
    assert not path.exists()
    with pytest.raises(ValueError, match="initial_value_threshold"):
        nv.ModelCheckpoint(path, initial_value_threshold=float("nan"))


def test_clip_grad_norm_arguments():
    X, y = _data()
    nv.fit(_model(), X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=1,
           batch_size=16, progress=False, clip_grad_norm=np.float32(0.5))
    with pytest.raises(ValueError, match="clip_grad_norm must be a positive number"):
        nv.fit(_model(), X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=1,
               batch_size=16, progress=False, clip_grad_norm=True)
    p = nn.Parameter(np.array([3.0, -4.0]))
    p.grad = np.array([3.0, -4.0])
    assert optim.clip_grad_norm_([p], 1.0, norm_type="inf") == pytest.approx(4.0)
    np.testing.assert_allclose(p.grad, [0.75, -1.0], rtol=1e-6)


# ------------------------------------------------------------------ subnormal optimizer state
def test_momentum_stuck_in_subnormals_is_flushed_to_zero():
    tiny = np.finfo(np.float32).tiny
    assert np.float32(0.9) * np.float32(1e-45) == np.float32(1e-45)  # it never decays further
    X, y = _data()
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(nv.tensor(X)), y).backward()
        opt.step()
    buf = opt.state[0]["momentum_buffer"]
    buf[:] = np.float32(1e-45)  # as a dead unit's momentum ends up
    model[0].weight.requires_grad_(False)  # no gradient to it from now on
    steps = opt.FLUSH_EVERY - opt._steps_taken % opt.FLUSH_EVERY
    for _ in range(steps):
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(nv.tensor(X)), y).backward()
        opt.step()
    assert not np.any((buf != 0) & (np.abs(buf) < tiny))
    assert opt.state_dict()["steps"] == 3 + steps


def test_the_flush_keeps_eager_and_captured_steps_bitwise_equal_and_resumes():
    X, y = _data()
    runs = []
    for use_compile in (False, True):
        model = _model(3)
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        step = nv.compile(model, nn.CrossEntropyLoss(), opt) if use_compile else None
        for _ in range(opt.FLUSH_EVERY + 5):
            if step is not None:
                step(X, y)
            else:
                opt.zero_grad()
                nn.CrossEntropyLoss()(model(nv.tensor(X)), y).backward()
                opt.step()
        runs.append(([p.data.copy() for p in model.parameters()], opt.state_dict()))
    (eager, sd_eager), (captured, sd_captured) = runs
    for a, b in zip(eager, captured):
        np.testing.assert_array_equal(a, b)
    assert sd_eager["steps"] == sd_captured["steps"] == optim.SGD.FLUSH_EVERY + 5
    fresh = optim.SGD(_model(3).parameters(), lr=0.05, momentum=0.9)
    fresh.load_state_dict(sd_eager)
    assert fresh._steps_taken == sd_eager["steps"]  # the flush schedule goes on from there


def test_a_captured_step_keeps_a_bounded_number_of_batch_size_plans():
    from nerve.compile import MAX_PLANS

    X, y = _data(64)
    model = _model()
    step = nv.compile(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    for n in range(1, 3 * MAX_PLANS):
        step(X[:n], y[:n])
    assert len(step._plans) == MAX_PLANS and set(step._plans) == set(
        range(2 * MAX_PLANS, 3 * MAX_PLANS))  # the last ones


def test_saving_looks_for_leftover_temporaries_once_per_target(tmp_path, monkeypatch):
    import os

    import nerve.atomic

    scans = []
    real = os.scandir
    monkeypatch.setattr(nerve.atomic.os, "scandir", lambda folder: scans.append(folder)
                        or real(folder))
    for _ in range(3):
        nv.save_state({"w": np.ones(2)}, tmp_path / "a.npz")
    nv.save_state({"w": np.ones(2)}, tmp_path / "b.npz")
    assert len(scans) == 2  # one pass per file name, not per save


# ------------------------------------------------------------------ fit with ignore_index
def test_fit_and_evaluate_skip_labels_the_loss_ignores():
    X, y = _data(60)
    y = y.copy()
    y[:8] = -100  # the first two batches hold only ignored labels
    y[20:25] = -100
    model = _model()
    h = nv.fit(model, X, y, loss=nn.CrossEntropyLoss(), optimizer="sgd", lr=0.1, epochs=2,
               batch_size=4, shuffle=False, progress=False)
    assert len(h.history["loss"]) == 2 and all(np.isfinite(h.history["loss"]))
    assert 0.0 <= h.history["accuracy"][-1] <= 1.0
    keep = y != -100
    pred = nv.predict(model, X).argmax(axis=1)
    result = nv.evaluate(model, X, y, loss=nn.CrossEntropyLoss(), batch_size=7)
    assert result["accuracy"] == pytest.approx(np.mean(pred[keep] == y[keep]))
    with nv.no_grad():
        whole = float(nn.CrossEntropyLoss()(model(nv.tensor(X)), y).data)
    assert result["loss"] == pytest.approx(whole, rel=1e-5)
    with pytest.raises(ValueError, match="captured step does not skip"):
        nv.fit(model, X, y, loss=nn.CrossEntropyLoss(), optimizer="sgd", lr=0.1, epochs=1,
               batch_size=4, progress=False, compile=True)
    with pytest.raises(ValueError, match=r"y\[0\] = -100 is not a valid label"):
        nv.fit(model, X, y, loss=nn.CrossEntropyLoss(ignore_index=-1), optimizer="sgd",
               lr=0.1, epochs=1, batch_size=4, progress=False)


def test_fit_with_ignored_labels_matches_the_eager_loop():
    X, y = _data(32)
    y = y.copy()
    y[3] = y[17] = -100
    fitted = _model(7)
    nv.fit(fitted, X, y, loss=nn.CrossEntropyLoss(), optimizer=optim.SGD(
        fitted.parameters(), lr=0.1), epochs=1, batch_size=8, shuffle=False, progress=False)
    manual = _model(7)
    opt = optim.SGD(manual.parameters(), lr=0.1)
    for s in range(0, 32, 8):
        opt.zero_grad()
        nn.CrossEntropyLoss()(manual(nv.tensor(X[s:s + 8])), y[s:s + 8]).backward()
        opt.step()
    for p, q in zip(fitted.parameters(), manual.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
