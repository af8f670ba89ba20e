"""The estimators' lean training loop over nerve.nn and nerve.optim.

One epoch is one (shuffled) pass over the training rows in ceil(N / B) minibatches;
each minibatch runs forward, the data loss, backward, the penalty's gradient and
one optimizer step. The penalty is added to the gradients directly (no graph
nodes): for every weight matrix W,

    loss += (l2/2 · ‖W‖² + l1 · ‖W‖₁) / B      grad W += (l2 · W + l1 · sign W) / B

with B the batch size: scikit-learn's scaling of ``alpha``, so the same ``alpha``
means the same thing in both libraries. With per-row weights w (``sample_weight``)
the batch's data loss is the weighted mean Σ wᵢ Lᵢ / Σ wᵢ and B becomes Σ wᵢ, again
as scikit-learn, so integer weights act as repeated rows.
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import losses
from .. import random as nerve_random
from ..autograd import no_grad
from ..data.loader import take_rows
from ..tensor import Tensor
from ..train.loop import TrainingDivergedError
from ..train.validation import eval_mode

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


@contextlib.contextmanager
def using_rng(rng: np.random.Generator | None) -> Iterator[np.random.Generator]:
    """Make ``rng`` nerve's generator for the block, in this thread only (initialisation,
    shuffling and dropout all draw from it; other threads are not affected), then put
    the previous one back: :func:`nerve.random.using_generator`. ``None`` changes
    nothing and yields the generator in effect."""
    with nerve_random.using_generator(rng) as gen:
        yield gen


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

    ``loss`` is "cross_entropy" or "hinge" (integer labels, on raw scores),
    "binary_cross_entropy" (multilabel 0/1 targets of shape (N, k), one sigmoid per
    label) or "squared_error" (float targets of shape (N, k)).
    """

    #: The canonical loss names (see ``_config.canonical_loss``) that training knows.
    LOSSES = ("cross_entropy", "hinge", "squared_error", "binary_cross_entropy")

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
    def data_loss(self, scores: Tensor, target: np.ndarray,
                  weight: np.ndarray | None = None) -> Tensor:
        """Mean loss over the batch, (1/B) Σ Lᵢ, or with row weights Σ wᵢ Lᵢ / Σ wᵢ (the
        derivative dL/dLᵢ = wᵢ / Σ w): cross-entropy, hinge (margin 1), squared error
        (averaged over the targets of a row) or, multilabel, the binary cross-entropy
        of each label's sigmoid, summed over the labels (scikit-learn's multilabel loss)."""
        if self.loss == "binary_cross_entropy":
            rows = losses.binary_cross_entropy_with_logits(scores, target, "none").sum(1)
            if weight is None:
                return rows.mean()
            return (rows * self._normalised(weight, scores)).sum()
        if weight is None:
            if self.loss == "cross_entropy":
                return losses.cross_entropy(scores, target)
            if self.loss == "hinge":
                return losses.hinge(scores, target)
            return losses.mse(scores, target)
        if self.loss == "cross_entropy":
            rows = losses.cross_entropy(scores, target, "none")
        elif self.loss == "hinge":
            rows = losses.hinge(scores, target, reduction="none")
        else:
            rows = losses.mse(scores, target, "none").mean(1)
        return (rows * self._normalised(weight, scores)).sum()

    @staticmethod
    def _normalised(weight: np.ndarray, scores: Tensor) -> np.ndarray:
        """w / Σ w in the scores' dtype (a batch whose weights are all 0 counts for 0)."""
        total = float(weight.sum())
        return (weight / (total if total > 0 else 1.0)).astype(scores.data.dtype, copy=False)

    def correct(self, scores: np.ndarray, y: np.ndarray) -> int:
        """Rows predicted right: the top score's class, or (multilabel) every label's sign."""
        if self.loss == "binary_cross_entropy":
            return int(np.count_nonzero(((scores > 0) == (y > 0.5)).all(axis=1)))
        return int(np.count_nonzero(scores.argmax(axis=1) == y))

    def _penalise(self, n: float) -> float:
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
                  rng: np.random.Generator, epoch: int, callbacks: Any,
                  sample_weight: np.ndarray | None = None) -> dict[str, float]:
        """One pass over (X, y); returns the logs ``loss`` (data loss + penalty, averaged
        over rows) and, when classifying, ``accuracy`` (on the same forward passes).
        ``sample_weight`` (N,) weights each row's loss (see :meth:`data_loss`)."""
        net, opt = self.network, self.optimizer
        net.train()
        n = X.shape[0]
        order = rng.permutation(n) if shuffle else None
        total, correct = 0.0, 0
        classify = self.loss != "squared_error"
        for batch, (start, stop) in enumerate(batch_bounds(n, batch_size, self.min_batch)):
            wb = None
            if order is None:
                xb, yb = X[start:stop], y[start:stop]
                if sample_weight is not None:
                    wb = sample_weight[start:stop]
            else:
                rows = order[start:stop]
                xb, yb = take_rows(X, rows), y[rows]
                if sample_weight is not None:
                    wb = sample_weight[rows]
            m = stop - start
            callbacks.batch_begin(batch, {"batch": batch, "size": m})
            scores = net(Tensor._wrap(xb))
            loss = self.data_loss(scores, yb, wb)
            for p in self.params:
                p.grad = None
            loss.backward()
            # scikit-learn divides the penalty by the batch's summed weights
            value = float(loss.data) + self._penalise(m if wb is None
                                                      else float(wb.sum()) or 1.0)
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
                hits = self.correct(scores.data, yb)
                correct += hits
                blogs["accuracy"] = hits / m
            callbacks.batch_end(batch, blogs)
        logs = {"loss": total / n}
        if classify:
            logs["accuracy"] = correct / n
        return logs

    def validation_loss(self, scores: np.ndarray, y: np.ndarray,
                        weight: np.ndarray | None = None) -> float:
        with no_grad():
            return float(self.data_loss(Tensor._wrap(scores), y, weight).data)


def forward_eval(network: Any, X: np.ndarray) -> np.ndarray:
    """The network's output (scores or predictions) in eval mode, chunked over rows.

    ``fit`` and ``partial_fit`` leave the network in eval mode, so predicting changes no
    state; a network some module of which was switched to train mode since is put in
    eval mode for the call and back after, by ``nerve.train``'s thread-safe
    :func:`~nerve.train.validation.eval_mode` (as ``nv.predict`` does)."""
    with eval_mode(network):
        return _forward_chunks(network, X)


def _forward_chunks(network: Any, X: np.ndarray) -> np.ndarray:
    with no_grad():
        parts = [network(Tensor._wrap(X[s:s + PREDICT_CHUNK])).data
                 for s in range(0, X.shape[0], PREDICT_CHUNK)]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
