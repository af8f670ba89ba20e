"""PyTorch eager comparators (optional: absent when torch is not installed).

The same MLP as every other column: ``nn.Sequential`` of ``Linear``/``ReLU``,
``CrossEntropyLoss`` and ``SGD(lr=0.01, momentum=0.9)``, float32, torch's default
thread count, batches as views of one ``torch.from_numpy`` pool.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nerve.bench.common import Trainer, elementwise_chain, optional_import
from nerve.bench.configs import Workload

LR = 0.01
MOMENTUM = 0.9


def _torch():
    return optional_import("torch", "PyTorch columns")


def build_mlp(sizes: tuple[int, ...], seed: int = 0):
    torch = _torch()
    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


class TorchEager(Trainer):
    """Column "PyTorch": the standard eager training loop."""

    def __init__(self, wl: Workload, seed: int = 0) -> None:
        super().__init__(wl)
        torch = _torch()
        self.model = build_mlp(wl.config.sizes, seed)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)
        self.X = torch.from_numpy(wl.X)
        self.y = torch.from_numpy(wl.y)

    def steps(self, n: int) -> None:
        X, y, B = self.X, self.y, self.wl.config.batch
        model, loss_fn, opt = self.model, self.loss_fn, self.opt
        for s in range(n):
            opt.zero_grad()
            loss = loss_fn(model(X[s * B:(s + 1) * B]), y[s * B:(s + 1) * B])
            loss.backward()
            opt.step()


def version() -> str | None:
    try:
        return _torch().__version__
    except Exception:
        return None


def threads() -> int | None:
    try:
        return int(_torch().get_num_threads())
    except Exception:
        return None


def inference(sizes: tuple[int, ...], x: np.ndarray, seed: int = 0) -> Callable[[], object]:
    """A call running the model on ``torch.from_numpy(x)`` under ``torch.no_grad()``."""
    torch = _torch()
    model = build_mlp(sizes, seed).eval()

    def call():
        with torch.no_grad():
            return model(torch.from_numpy(x))

    return call


def op_chain(n_ops: int, width: int = 16, seed: int = 0) -> Callable[[], object]:
    """The same elementwise chain as :func:`nerve.bench.nerve_impl.op_chain`, in torch."""
    torch = _torch()
    x0 = torch.linspace(-1, 1, width, dtype=torch.float32)

    def call():
        x = x0.clone().requires_grad_(True)
        elementwise_chain(x, n_ops).sum().backward()
        return x.grad

    return call
