"""The estimators' lean training loop over nerve.nn and nerve.optim.

One epoch is one (shuffled) pass over the training rows in ceil(N / B) minibatches;
each minibatch runs forward, the data loss, backward, the penalty's gradient and
one optimizer step. The penalty is added to the gradients directly (no graph
nodes): for every weight matrix W,

    loss += (l2/2 · ‖W‖² + l1 · ‖W‖₁) / B      grad W += (l2 · W + l1 · sign W) / B

with B the batch size: scikit-learn's scaling of ``alpha``, so the same ``alpha``
means the same thing in both libraries.
"""
from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import losses
from .. import random as nerve_random
from ..autograd import no_grad
from ..data.loader import take_rows
from ..tensor import Tensor
from ..train.loop import TrainingDivergedError

#: Rows per forward pass when predicting (bounded memory on large inputs).
PREDICT_CHUNK = 8192


def make_rng(random_state: Any) -> np.random.Generator | None:
    """The generator behind ``random_state``: None = nerve's library-wide one (returned as
    None, so that ``nv.manual_seed`` keeps working), an int = a fresh generator, a NumPy
    ``RandomState`` (scikit-learn's convention) = a generator seeded from it."""
    if random_state is None or isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(np.iinfo(np.int32).max)))
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, got {random_state}")
        return np.random.default_rng(int(random_state))
    raise TypeError(f"random_state must be None, an int, a numpy RandomState or Generator, "
                    f"got {random_state!r}")


#: Held while a fit has swapped nerve's generator: fits with a random_state that run in
#: threads (e.g. GridSearchCV with a threading backend) take turns, so that each draws
#: only from its own generator and the library-wide one is always put back.
_RNG_LOCK = threading.RLock()


@contextlib.contextmanager
def using_rng(rng: np.random.Generator | None) -> Iterator[np.random.Generator]:
    """Make ``rng`` nerve's generator for the block (initialisation, shuffling and dropout
    all draw from it), then put the previous one back. ``None`` changes nothing."""
    if rng is None:
        yield nerve_random.get_rng()
        return
    with _RNG_LOCK:
        previous = nerve_random._rng
        nerve_random._rng = rng
        try:
            yield rng
        finally:
            nerve_random._rng = previous


def batch_bounds(n: int, batch_size: int, min_last: int = 1) -> list[tuple[int, int]]:
    """(start, stop) of each minibatch; a last batch smaller than ``min_last`` joins the
    one before it (BatchNorm cannot train on a single row)."""
    bounds = [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < min_last:
        last = bounds.pop()
        bounds[-1] = (bounds[-1][0], last[1])
    return bounds


class Trainer:
    """Runs epochs of minibatch training of ``network`` for one estimator.

    ``kind`` is "classify" (integer labels, cross-entropy or hinge on raw scores) or
    "regress" (float targets of shape (N, k), mean squared error).
    """

    #: The canonical loss names (see ``_config.canonical_loss``) that training knows.
    LOSSES = ("cross_entropy", "hinge", "squared_error")

    def __init__(self, network: Any, loss: str, optimizer: Any, l2: float, l1: float,
                 min_batch: int = 1) -> None:
        if loss not in self.LOSSES:  # an unknown name must not fall through to MSE
            raise ValueError(f"Trainer: loss={loss!r} is not valid; expected one of "
                             f"{', '.join(repr(c) for c in self.LOSSES)}")
        self.network = network
        self.loss = loss
        self.optimizer = optimizer
        self.l2, self.l1 = l2, l1
        self.min_batch = min_batch
        self.weights = [p for name, p in network.named_parameters()
                        if name.rsplit(".", 1)[-1] == "weight"]
        self.params = list(network.parameters())

    # ------------------------------------------------------------------ losses
    def data_loss(self, scores: Tensor, target: np.ndarray) -> Tensor:
        """Mean loss over the batch: cross-entropy, hinge (margin 1) or squared error."""
        if self.loss == "cross_entropy":
            return losses.cross_entropy(scores, target)
        if self.loss == "hinge":
            return losses.hinge(scores, target)
        return losses.mse(scores, target)

    def _penalise(self, n: int) -> float:
        """Add the penalty's gradient to every weight; return the penalty's value.

        grad W += (0 + l2·W + l1·sign W) · (1/n), added in place: ``W.grad`` is the
        optimizer's flat gradient buffer that backward just wrote, and stays it (the step
        then copies nothing). The "0 +" makes a −0.0 term +0.0, as a sum started from zeros.
        """
        if not (self.l2 or self.l1):
            return 0.0
        value = 0.0
        for w in self.weights:
            grad = w.grad
            if grad is None:
                continue
            data = w.data
            dt = data.dtype
            if self.l2:
                value += 0.5 * self.l2 * float(np.vdot(data, data))
                extra = np.multiply(np.asarray(self.l2, dtype=dt), data)
                extra += np.zeros((), dtype=dt)
                if self.l1:
                    value += self.l1 * float(np.abs(data).sum())
                    sign = np.sign(data)
                    sign *= np.asarray(self.l1, dtype=dt)
                    extra += sign
            else:
                value += self.l1 * float(np.abs(data).sum())
                extra = np.sign(data)
                extra *= np.asarray(self.l1, dtype=dt)
                extra += np.zeros((), dtype=dt)
            extra *= np.asarray(1.0 / n, dtype=dt)
            np.add(grad, extra, out=grad)
        return value / n

    # ------------------------------------------------------------------- epoch
    def run_epoch(self, X: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool,
                  rng: np.random.Generator, epoch: int, callbacks: Any) -> dict[str, float]:
        """One pass over (X, y); returns the logs ``loss`` (data loss + penalty, averaged
        over rows) and, when classifying, ``accuracy`` (on the same forward passes)."""
        net, opt = self.network, self.optimizer
        net.train()
        n = X.shape[0]
        order = rng.permutation(n) if shuffle else None
        total, correct = 0.0, 0
        classify = self.loss != "squared_error"
        for batch, (start, stop) in enumerate(batch_bounds(n, batch_size, self.min_batch)):
            if order is None:
                xb, yb = X[start:stop], y[start:stop]
            else:
                rows = order[start:stop]
                xb, yb = take_rows(X, rows), y[rows]
            m = stop - start
            callbacks.batch_begin(batch, {"batch": batch, "size": m})
            scores = net(Tensor._wrap(xb))
            loss = self.data_loss(scores, yb)
            for p in self.params:
                p.grad = None
            loss.backward()
            value = float(loss.data) + self._penalise(m)
            if not math.isfinite(value):
                lr = opt.param_groups[0]["lr"]
                raise TrainingDivergedError(
                    f"training diverged: the loss became {value} in epoch {epoch + 1}, batch "
                    f"{batch + 1}; try a lower learning_rate_init (the rate is now {lr:g}), "
                    "a smaller alpha or standardised inputs (sklearn's StandardScaler)",
                    epoch, batch, None)
            opt.step()
            total += value * m
            blogs = {"batch": batch, "size": m, "loss": value}
            if classify:
                hits = int(np.count_nonzero(scores.data.argmax(axis=1) == yb))
                correct += hits
                blogs["accuracy"] = hits / m
            callbacks.batch_end(batch, blogs)
        logs = {"loss": total / n}
        if classify:
            logs["accuracy"] = correct / n
        return logs

    def validation_loss(self, scores: np.ndarray, y: np.ndarray) -> float:
        with no_grad():
            return float(self.data_loss(Tensor._wrap(scores), y).data)


def forward_eval(network: Any, X: np.ndarray) -> np.ndarray:
    """The network's output (scores or predictions) in eval mode, chunked over rows."""
    was_training = network.training
    network.eval()
    try:
        with no_grad():
            parts = [network(Tensor._wrap(X[s:s + PREDICT_CHUNK])).data
                     for s in range(0, X.shape[0], PREDICT_CHUNK)]
    finally:
        network.train(was_training)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
