"""Training mistakes that used to pass silently or fail deep inside get clear messages.

Each test sets up one mistake (an optimizer over another model, a class instead of
an instance, a used-up parameter generator...) and checks the message names what
was wrong and what was expected.
"""
import numpy as np
import pytest

import nerve as nv
from nerve import data, nn, optim
from nerve.train import History

K = dict(loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=1, batch_size=4,
         progress=False)


def net():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


@pytest.fixture
def Xy():
    X = np.random.default_rng(0).standard_normal((20, 4)).astype(np.float32)
    return X, np.arange(20) % 3


def fit(X, y, model=None, **changes):
    return nv.fit(net() if model is None else model, X, y, **{**K, **changes})


# ------------------------------------------------------------- 1. the optimizer's parameters
def test_optimizer_over_another_models_parameters_is_refused(Xy):
    X, y = Xy
    model = net()
    before = [p.data.copy() for p in model.parameters()]
    other = optim.SGD(net().parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"holds none of the model's parameters.*"
                                         r"optim\.SGD\(model\.parameters\(\)"):
        fit(X, y, model, optimizer=other, lr=None, epochs=3)
    assert all(np.array_equal(b, p.data) for b, p in zip(before, model.parameters()))
    # holding only some of them (the rest frozen on purpose) is fine
    params = list(model.parameters())
    first, frozen = params[0].data.copy(), params[2].data.copy()
    fit(X, y, model, optimizer=optim.SGD(params[:2], lr=0.1), lr=None)
    assert not np.array_equal(params[0].data, first)  # trained
    assert np.array_equal(params[2].data, frozen)  # left alone on purpose


# ------------------------------------------------------------- 2. one output score
@pytest.mark.parametrize("loss, name", [("cross_entropy", "cross_entropy"),
                                        ("hinge", "hinge"),
                                        (nn.CrossEntropyLoss(), "CrossEntropyLoss")])
def test_classification_loss_on_one_output_is_refused(Xy, loss, name):
    X, _ = Xy
    model = nn.Sequential(nn.Linear(4, 1))
    with pytest.raises(ValueError, match=rf"{name} needs at least 2 output scores per "
                                         r"example, the model gives 1; for a binary task "
                                         r"use loss='bce_with_logits'"):
        fit(X, np.zeros(20, int), model, loss=loss)
    with pytest.raises(ValueError, match="needs at least 2 output scores"):
        nv.evaluate(model, X, np.zeros(20, int), loss=loss)


# ------------------------------------------------------------- 3. classes, not instances
def test_loss_class_instead_of_instance(Xy):
    X, y = Xy
    with pytest.raises(TypeError, match=r"loss must be an instance such as "
                                        r"nn\.CrossEntropyLoss\(\), got the class itself"):
        fit(X, y, loss=nn.CrossEntropyLoss)


@pytest.mark.parametrize("lr", [0.1, None])
def test_optimizer_class_instead_of_instance(Xy, lr):
    X, y = Xy
    with pytest.raises(TypeError, match=r"optimizer must be an instance such as "
                                        r"optim\.SGD\(model\.parameters\(\), lr=0\.1\), got "
                                        r"the class itself; or give its name: "
                                        r"optimizer='sgd'"):
        fit(X, y, optimizer=optim.SGD, lr=lr)


def test_callback_class_instead_of_instance(Xy):
    X, y = Xy
    with pytest.raises(TypeError, match=r"callbacks\[0\] must be an instance such as "
                                        r"EarlyStopping\(\.\.\.\), got the class itself"):
        fit(X, y, callbacks=[nv.EarlyStopping])


# ------------------------------------------------------------- 4. a loss that is not a loss
def test_module_that_is_not_a_loss(Xy):
    X, y = Xy
    with pytest.raises(TypeError, match=r"calling the loss Linear\(.*\) as loss\(scores, "
                                        r"targets\) failed: .*a loss is called with the "
                                        r"model's scores"):
        fit(X, y, loss=nn.Linear(3, 3))


def test_loss_returning_a_float(Xy):
    X, y = Xy
    with pytest.raises(TypeError, match=r"loss returned float; a loss must return a scalar "
                                        r"Tensor \(the loss: function <lambda>\)"):
        fit(X, y, loss=lambda scores, targets: 1.0)


def test_loss_returning_one_value_per_example(Xy):
    X, y = Xy
    with pytest.raises(TypeError, match=r"loss returned a Tensor of shape \(4,\); a loss "
                                        r"must return a scalar Tensor \(reduce it"):
        fit(X, y, loss=lambda scores, targets: (scores * scores).sum(axis=1))


# ------------------------------------------------------------- 5. one callback, no list
@pytest.mark.parametrize("callbacks", [nv.EarlyStopping(patience=1), nv.EarlyStopping])
def test_single_callback_not_in_a_list(Xy, callbacks):
    X, y = Xy
    with pytest.raises(TypeError, match=r"callbacks must be a list of Callback objects; "
                                        r"wrap it: callbacks=\[EarlyStopping\(\.\.\.\)\]"):
        fit(X, y, callbacks=callbacks)


def test_callbacks_none_means_none(Xy):
    X, y = Xy
    assert len(fit(X, y, callbacks=None)) == 1


# ------------------------------------------------------------- 6. a function as the model
def test_fit_refuses_a_plain_function_as_model(Xy):
    X, y = Xy
    with pytest.raises(TypeError, match=r"model must be a callable module \(e\.g\. "
                                        r"nn\.Sequential\), got function"):
        fit(X, y, lambda x: x)


# ------------------------------------------------------------- 7. NaN labels
@pytest.mark.parametrize("bad, word", [(np.nan, "NaN"), (np.inf, "inf")])
def test_non_finite_float_labels_name_the_row(Xy, bad, word):
    X, y = Xy
    yy = y.astype(float)
    yy[2] = bad
    with pytest.raises(ValueError, match=rf"y contains {word} at row 2"):
        fit(X, yy)


# ------------------------------------------------------------- 8. unrecorded metrics
def test_history_lookup_of_an_unrecorded_metric(Xy):
    X, y = Xy
    h = fit(X, y)
    with pytest.raises(KeyError, match=r"no metric 'val_loss' recorded; recorded: loss, "
                                       r"accuracy \(pass validation_data to fit to get "
                                       r"val_loss\)"):
        h["val_loss"]
    with pytest.raises(KeyError, match=r"no metric 'precision' recorded; recorded: loss"):
        h["precision"]
    assert "loss" in h and "val_loss" not in h
    assert h.get("val_loss") is None and h.get("val_loss", []) == []
    assert h.get("loss") == h["loss"]


def test_empty_history_says_nothing_recorded():
    with pytest.raises(KeyError, match="recorded: none yet"):
        History()["loss"]


# ------------------------------------------------------------- 9. a used-up generator
def test_parameter_generator_used_twice():
    params = net().parameters()
    optim.SGD(params, lr=0.1)
    with pytest.raises(ValueError, match=r"SGD: got an empty parameter list \(a generator "
                                         r"such as model\.parameters\(\) can be consumed "
                                         r"only once; call model\.parameters\(\) again"):
        optim.SGD(params, lr=0.1)


def test_used_up_python_generator_gets_the_hint_a_fresh_empty_one_does_not():
    gen = (p for p in net().parameters())
    optim.Adam(gen)
    with pytest.raises(ValueError, match="consumed only once"):
        optim.Adam(gen)
    with pytest.raises(ValueError, match=r"empty parameter list$"):
        optim.Adam(p for p in [])
    with pytest.raises(ValueError, match=r"empty parameter list$"):
        optim.Adam([])


# ------------------------------------------------------------- 11. stratified splits
def test_stratify_refuses_a_class_with_one_member(Xy):
    X, y = Xy
    yy = y.copy()
    yy[0] = 9
    with pytest.raises(ValueError, match=r"stratify: class 9 has only 1 member; each class "
                                         r"needs at least 2"):
        data.train_test_split(X, yy, stratify=True)


def test_stratify_refuses_continuous_targets(Xy):
    X, _ = Xy
    with pytest.raises(ValueError, match=r"stratify needs class labels, got continuous "
                                         r"values"):
        data.train_test_split(X, X[:, 0], stratify=True)
    # class labels stored as whole-number floats are still class labels
    y = Xy[1]
    parts = data.train_test_split(X, y.astype(float), stratify=True, seed=0)
    assert sorted(np.unique(parts[3])) == [0.0, 1.0, 2.0]
