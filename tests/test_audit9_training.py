"""Mends from the ninth session's audits of the training loop and of dtypes: each test
failed before its fix."""
import io
from contextlib import redirect_stderr
from fractions import Fraction

import numpy as np
import pytest

import nerve as nv
from nerve import nn
from nerve.train import Callback, EarlyStopping, ModelCheckpoint


def _data(n=22, d=4, c=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, c, n)
    return X, y


def _model(d=4, c=3, seed=0):
    nv.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 8), nn.ReLU(), nn.Linear(8, c))


# ------------------------------------------------------------ the epoch loss
@pytest.mark.parametrize("loss", [
    nn.CrossEntropyLoss(reduction="sum"),
    nn.CrossEntropyLoss(weight=np.array([1.0, 5.0, 0.2])),
    nn.CrossEntropyLoss(ignore_index=0),
    nn.CrossEntropyLoss(),
], ids=["sum", "class-weights", "ignore_index", "plain"])
def test_epoch_loss_adds_up_as_val_loss_does(loss):
    """With the weights fixed (lr=0), the epoch's training loss over X equals val_loss on
    X, whatever the batch size (it used to be a size-weighted mean of batch values)."""
    X, y = _data()
    for batch_size in (4, 7, 22):
        model = _model()
        h = nv.fit(model, X, y, loss=loss, optimizer="sgd", lr=0.0, epochs=1,
                   batch_size=batch_size, validation_data=(X, y), progress=False,
                   shuffle=False)
        assert h.loss[0] == pytest.approx(h.val_loss[0], rel=1e-5), batch_size
        assert h.val_loss[0] == pytest.approx(
            nv.evaluate(model, X, y, loss=loss)["loss"], rel=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_val_loss_carries_the_regularizer_penalty_as_loss_does(reduction):
    """The penalty is in every batch's loss; with reduction="sum" it counts once over the
    epoch (not once per batch), so loss == val_loss at fixed weights for any batch size."""
    X, y = _data()
    loss = nn.CrossEntropyLoss(reduction=reduction)
    for batch_size in (22, 8, 4):
        model = _model()
        penalty = lambda: 0.5 * nv.regularizers.l2(model.parameters())  # noqa: E731
        h = nv.fit(model, X, y, loss=loss, optimizer="sgd", lr=0.0, epochs=1,
                   batch_size=batch_size, validation_data=(X, y), regularizer=penalty,
                   progress=False)
        data_only = nv.evaluate(model, X, y, loss=loss)["loss"]
        assert h.val_loss[0] == pytest.approx(data_only + float(penalty().data), rel=1e-6)
        assert h.loss[0] == pytest.approx(h.val_loss[0], rel=1e-5), batch_size


# ------------------------------------------------------------ callbacks
def test_history_records_what_callbacks_add_and_train_end_gets_the_last_logs():
    seen = {}

    class AddsLr(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["lr"] = 0.1 * (epoch + 1)

        def on_train_end(self, logs=None):
            seen.update(logs)

    X, y = _data()
    h = nv.fit(_model(), X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=2,
               batch_size=8, callbacks=[AddsLr()], progress=False)
    assert h.history["lr"] == [pytest.approx(0.1), pytest.approx(0.2)]
    assert seen["loss"] == h.loss[-1] and seen["lr"] == pytest.approx(0.2)


def test_early_stopping_baseline_start_from_epoch_and_verbose():
    X, y = _data()
    # A baseline no epoch reaches, weights fixed: the first epoch improves on nothing yet
    # (no stop), the second does not improve, and the patience of 2 is used up.
    es = EarlyStopping(monitor="loss", patience=2, baseline=1e-9, verbose=1)
    err = io.StringIO()
    with redirect_stderr(err):
        h = nv.fit(_model(), X, y, loss="cross_entropy", optimizer="sgd", lr=0.0, epochs=10,
                   batch_size=8, callbacks=[es], progress=False, shuffle=False)
    assert len(h.epoch) == 2 and es.stopped_epoch == 1
    assert "Epoch 2: early stopping" in err.getvalue()
    # Improving epochs never stop (Keras's rule), though they do not reach the baseline:
    # the run stops only at an epoch that is no better than the best before it.
    es = EarlyStopping(monitor="loss", patience=1, baseline=1e-9)
    h = nv.fit(_model(), X, y, loss="cross_entropy", optimizer="sgd", lr=0.05, epochs=8,
               batch_size=8, callbacks=[es], progress=False)
    last = len(h.epoch) - 1
    assert last == 7 or h.loss[last] >= min(h.loss[:last])
    assert es.best == min(h.loss)  # the best is tracked below the baseline
    # patience 0 stops at the first epoch without improvement (the first one improves)
    err = io.StringIO()
    with redirect_stderr(err):
        nv.fit(_model(), X, y, loss="cross_entropy", optimizer="sgd", lr=0.0, epochs=3,
               batch_size=8, callbacks=[EarlyStopping("loss", 0, verbose=1)],
               progress=False, shuffle=False)
    assert "Epoch 2: early stopping" in err.getvalue()
    # Warm-up epochs are not watched: a rising loss (lr too large) cannot stop them.
    es = EarlyStopping(monitor="loss", patience=1, start_from_epoch=3, mode="max")
    h = nv.fit(_model(), X, y, loss="cross_entropy", optimizer="sgd", lr=0.01, epochs=10,
               batch_size=8, callbacks=[es], progress=False)
    assert es.best_epoch >= 3 and len(h.epoch) >= 4
    with pytest.raises(ValueError, match="baseline"):
        EarlyStopping(baseline=float("nan"))
    with pytest.raises(ValueError, match="start_from_epoch"):
        EarlyStopping(start_from_epoch=-1)


def test_checkpoint_template_naming_val_metrics_refused_before_training(tmp_path):
    X, y = _data()
    model = _model()
    before = model.state_dict()
    ckpt = ModelCheckpoint(str(tmp_path / "m-{val_loss:.3f}.npz"))
    with pytest.raises(ValueError, match=r"\{val_loss:.3f\}.*validation data"):
        nv.fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=1,
               batch_size=8, callbacks=[ckpt], progress=False)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    with pytest.raises(ValueError, match="not a valid template"):
        nv.fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=1,
               batch_size=8, callbacks=[ModelCheckpoint(str(tmp_path / "m-{epoch.npz"))],
               progress=False)


# ------------------------------------------------------------ modes
def test_predict_evaluate_and_fit_put_back_each_modules_mode():
    nv.manual_seed(0)
    bn = nn.BatchNorm1d(8)
    model = nn.Sequential(nn.Linear(4, 8), bn, nn.ReLU(), nn.Linear(8, 3))
    X, y = _data()
    model.train()
    bn.eval()  # frozen statistics inside a training model
    mean = bn.running_mean.copy()
    nv.predict(model, X)
    nv.evaluate(model, X, y)
    assert model.training and not bn.training
    nv.fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=2,
           batch_size=8, validation_data=(X, y), progress=False)
    assert model.training and not bn.training
    np.testing.assert_array_equal(bn.running_mean, mean)  # stayed frozen during fit


def test_a_model_in_eval_mode_trains_in_train_mode_and_gets_eval_back():
    nv.manual_seed(0)
    drop = nn.Dropout(0.5)
    model = nn.Sequential(nn.Linear(4, 8), drop, nn.Linear(8, 3)).eval()
    modes = []

    class Spy(Callback):
        def on_batch_end(self, batch, logs=None):
            modes.append(drop.training)

    X, y = _data()
    nv.fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=1,
           batch_size=8, callbacks=[Spy()], progress=False)
    assert modes and all(modes) and not model.training and not drop.training


# ------------------------------------------------------------ inputs
def test_custom_loss_gets_nan_targets_as_they_are_to_mask_them():
    """A custom loss may use NaN to mark missing targets; fit passes y to it as it is."""
    X, _ = _data()
    y = np.ones((len(X), 3), np.float32)
    y[5, 1] = np.nan
    model = _model()

    def masked_mse(scores, t):
        known = ~np.isnan(t)
        diff = scores[known] - np.nan_to_num(t)[known]
        return (diff ** 2).mean()

    h = nv.fit(model, X, y, loss=masked_mse, optimizer="sgd", lr=0.1, epochs=2,
               batch_size=8, progress=False)
    assert np.isfinite(h.loss).all()
    assert all(np.isfinite(p.data).all() for p in model.parameters())


def test_datasets_and_loaders_and_a_missing_y_get_clear_errors():
    X, y = _data()
    ds = nv.data.TensorDataset(X, y)
    kw = dict(loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=1, batch_size=8,
              progress=False)
    with pytest.raises(TypeError, match=r"got a TensorDataset as X.*\*ds.arrays"):
        nv.fit(_model(), ds, None, **kw)
    with pytest.raises(TypeError, match="got a DataLoader as X"):
        nv.fit(_model(), nv.data.DataLoader(ds, batch_size=8), None, **kw)
    with pytest.raises(TypeError, match="fit needs the targets"):
        nv.fit(_model(), X, None, **kw)


def test_keras_fit_arguments():
    X, y = _data()
    kw = dict(loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=2, batch_size=8)
    err = io.StringIO()
    with redirect_stderr(err):
        nv.fit(_model(), X, y, verbose=0, **kw)
    assert err.getvalue() == ""
    with redirect_stderr(err):
        nv.fit(_model(), X, y, verbose=2, **kw)
    assert err.getvalue().count("epoch ") == 2
    with pytest.raises(TypeError, match=r"class_weight=.*CrossEntropyLoss\(weight=w\)"):
        nv.fit(_model(), X, y, class_weight={0: 1.0}, **kw)
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        nv.fit(_model(), X, y, colour=1, **kw)
    with pytest.raises(ValueError, match="verbose must be 0, 1, 2"):
        nv.fit(_model(), X, y, verbose=3, **kw)


def test_finite_data_too_large_for_float32_is_named_as_such():
    X, y = _data()
    X = X.astype(np.float64)
    X[3, 2] = 1e39
    with pytest.raises(ValueError, match=r"X holds 1e\+39 at row 3.*float32"):
        nv.fit(_model(), X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=1,
               batch_size=8, progress=False)


# ------------------------------------------------------------ dtypes and numerics
@pytest.mark.parametrize("p", [np.float64(2), np.int64(2), np.longdouble(2), Fraction(1, 2)],
                         ids=["float64", "int64", "longdouble", "Fraction"])
def test_a_numpy_or_fraction_exponent_keeps_float32(p):
    t = nv.tensor([1.0, 2.0, 3.0], requires_grad=True)
    r = t ** p
    assert r.dtype == np.float32
    r.sum().backward()
    assert t.grad.dtype == np.float32
    np.testing.assert_allclose(t.grad, float(p) * np.array([1.0, 2.0, 3.0]) ** (float(p) - 1),
                               rtol=1e-6)
    with pytest.raises(TypeError, match="exponent must be a real number"):
        t ** (1 + 2j)


def test_weighted_or_ignoring_cross_entropy_with_minus_inf_scores_is_finite():
    s = np.array([[-np.inf, 0.0, 1.0], [0.5, -np.inf, 2.0]])
    y = np.array([2, 2])
    # Reference: -log softmax by hand, the -inf class contributing e^-inf = 0.
    lse = np.log(np.exp(s - s.max(1, keepdims=True)).sum(1)) + s.max(1)
    nll = lse - s[np.arange(2), y]
    w = np.array([1.0, 2.0, 3.0])
    scores = nv.tensor(s, requires_grad=True)
    with np.errstate(all="raise"):
        loss = nv.losses.cross_entropy(scores, y, weight=w)
        assert loss.item() == pytest.approx(nll.mean(), rel=1e-6)
        ignored = nv.losses.cross_entropy(nv.tensor(s), np.array([0, 2]), ignore_index=0)
        assert ignored.item() == pytest.approx(nll[1], rel=1e-6)
    loss.backward()
    assert np.isfinite(scores.grad).all()


def test_uint64_beyond_int64_is_refused_not_wrapped():
    with pytest.raises(ValueError, match="does not fit in int64"):
        nv.tensor(np.array([2 ** 63 + 5, 7], dtype=np.uint64))
    assert nv.tensor(np.array([5, 7], dtype=np.uint64)).data.tolist() == [5, 7]
