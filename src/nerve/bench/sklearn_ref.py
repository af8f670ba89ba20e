"""scikit-learn's ``MLPClassifier`` (optional): ``partial_fit`` passes, timed per sample.

Configured to match the others: ReLU hidden layers, ``solver="sgd"``, ``lr=0.01``,
classical momentum 0.9 (no Nesterov), no L2 penalty (``alpha=0``), no shuffling.
scikit-learn keeps float32 inputs in float32.
"""
from __future__ import annotations

import numpy as np

from nerve.bench.common import Trainer, optional_import
from nerve.bench.configs import Workload


def version() -> str | None:
    try:
        return optional_import("sklearn").__version__
    except Exception:
        return None


def make_classifier(hidden: tuple[int, ...], batch: int, lr: float = 0.01, seed: int = 0,
                    shuffle: bool = False):
    nn = optional_import("sklearn.neural_network", "scikit-learn column")
    return nn.MLPClassifier(hidden_layer_sizes=hidden, activation="relu", solver="sgd",
                            learning_rate_init=lr, momentum=0.9, nesterovs_momentum=False,
                            batch_size=batch, alpha=0.0, shuffle=shuffle, random_state=seed)


class SklearnMLP(Trainer):
    """Column "scikit-learn": one ``partial_fit(X, y)`` per pass over the pool."""

    def __init__(self, wl: Workload, seed: int = 0) -> None:
        super().__init__(wl)
        self.clf = make_classifier(wl.config.sizes[1:-1], wl.config.batch, seed=seed)
        self.classes = np.arange(wl.config.n_classes)

    def warmup(self) -> None:
        n = min(3, self.wl.steps_per_pass) * self.wl.config.batch
        self.clf.partial_fit(self.wl.X[:n], self.wl.y[:n], classes=self.classes)

    def run(self) -> None:
        for _ in range(self.wl.passes):
            self.clf.partial_fit(self.wl.X, self.wl.y)
