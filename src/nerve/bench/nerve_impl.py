"""nerve's own columns, written against the public API only.

* "nerve": the ordinary loop ``opt.zero_grad(); loss = loss_fn(model(nv.tensor(xb)), yb);
  loss.backward(); opt.step()`` on ``nn.Sequential`` of ``Linear``/``ReLU``;
* "nerve fit": ``nv.fit(model, X, y, loss=..., optimizer=..., epochs=passes, ...)``;
* "captured": ``step = nv.compile(model, loss_fn, optimizer)``, then ``step(xb, yb)``.

Any missing module or function makes the column :class:`Unavailable` with the reason.
"""
from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import numpy as np

from nerve.bench.common import Trainer, Unavailable, elementwise_chain
from nerve.bench.configs import Workload

LR = 0.01
MOMENTUM = 0.9


def modules() -> tuple[ModuleType, ModuleType, ModuleType]:
    """``(nerve, nerve.nn, nerve.optim)``, or :class:`Unavailable` if they are not there yet."""
    import nerve as nv

    try:
        from nerve import nn, optim
    except ImportError as exc:
        raise Unavailable(f"nerve.nn / nerve.optim not importable yet ({exc})") from exc
    for name in ("tensor", "manual_seed", "no_grad"):
        if not hasattr(nv, name):
            raise Unavailable(f"nerve.{name} does not exist yet")
    return nv, nn, optim


def fit_function(nv: ModuleType) -> Callable[..., object]:
    """``nv.fit``, or ``nerve.train.fit`` while the top-level export is not there yet."""
    fit = getattr(nv, "fit", None)
    if fit is None:
        try:
            from nerve.train import fit
        except ImportError as exc:
            raise Unavailable(f"nerve.fit does not exist yet ({exc})") from exc
    return fit


def build_mlp(sizes: tuple[int, ...], seed: int = 0):
    """``nn.Sequential(Linear, ReLU, ..., Linear)`` for ``sizes`` (He init, seeded)."""
    nv, nn, _ = modules()
    nv.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class NerveLoop(Trainer):
    """Column "nerve": the public-API training loop."""

    def __init__(self, wl: Workload, seed: int = 0) -> None:
        super().__init__(wl)
        self.nv, nn, optim = modules()
        self.model = build_mlp(wl.config.sizes, seed)
        self.loss_fn = nn.CrossEntropyLoss()
        self.opt = optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)

    def steps(self, n: int) -> None:
        X, y, B = self.wl.X, self.wl.y, self.wl.config.batch
        nv, model, loss_fn, opt = self.nv, self.model, self.loss_fn, self.opt
        for s in range(n):
            xb, yb = X[s * B:(s + 1) * B], y[s * B:(s + 1) * B]
            opt.zero_grad()
            loss = loss_fn(model(nv.tensor(xb)), yb)
            loss.backward()
            opt.step()


class NerveFit(NerveLoop):
    """Column "nerve fit": ``nv.fit`` for ``passes`` epochs over the pool."""

    def __init__(self, wl: Workload, seed: int = 0) -> None:
        super().__init__(wl, seed)
        self.fit = fit_function(self.nv)

    def _fit(self, X: np.ndarray, y: np.ndarray, epochs: int) -> None:
        self.fit(self.model, X, y, loss=self.loss_fn, optimizer=self.opt, epochs=epochs,
                    batch_size=self.wl.config.batch, progress=False)

    def warmup(self) -> None:
        n = min(3, self.wl.steps_per_pass) * self.wl.config.batch
        self._fit(self.wl.X[:n], self.wl.y[:n], 1)

    def run(self) -> None:
        self._fit(self.wl.X, self.wl.y, self.wl.passes)


class NerveCaptured(NerveLoop):
    """Column "captured": the step function from ``nv.compile(model, loss_fn, optimizer)``."""

    def __init__(self, wl: Workload, seed: int = 0) -> None:
        super().__init__(wl, seed)
        if not hasattr(self.nv, "compile"):
            raise Unavailable("nerve.compile does not exist yet")
        self.step = self.nv.compile(self.model, self.loss_fn, self.opt)

    def steps(self, n: int) -> None:
        X, y, B, step = self.wl.X, self.wl.y, self.wl.config.batch, self.step
        for s in range(n):
            step(X[s * B:(s + 1) * B], y[s * B:(s + 1) * B])


def inference(sizes: tuple[int, ...], x: np.ndarray, seed: int = 0) -> Callable[[], object]:
    """A call running ``model(nv.tensor(x))`` under ``nv.no_grad()`` (model in eval mode)."""
    nv, _, _ = modules()
    model = build_mlp(sizes, seed)
    if hasattr(model, "eval"):
        model.eval()

    def call():
        with nv.no_grad():
            return model(nv.tensor(x))

    return call


def op_chain(n_ops: int, width: int = 16, seed: int = 0) -> Callable[[], object]:
    """Forward and backward through ``n_ops`` small elementwise ops, cycling
    ``tanh, * 0.5, exp, + (-1)`` (bounded values), then ``.sum().backward()``."""
    nv, _, _ = modules()
    x0 = np.linspace(-1, 1, width, dtype=np.float32)

    def call():
        x = nv.tensor(x0, requires_grad=True)
        elementwise_chain(x, n_ops).sum().backward()
        return x.grad

    return call
