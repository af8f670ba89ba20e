"""JAX comparators (optional): a jitted training step, and a whole pass as one ``lax.scan``.

Same MLP, He-initialised from the NumPy reference's weights, same fused-looking loss
(``log_softmax`` then the label's entry), same momentum update ``v = mu v - lr g; p = p + v``.
Labels are converted to int32 once, outside the timing (JAX's default integer width).
"""
from __future__ import annotations

import numpy as np

from nerve.bench.common import Trainer, optional_import
from nerve.bench.configs import Workload
from nerve.bench.reference_numpy import he_init

LR = 0.01
MOMENTUM = 0.9


def _jax():
    jax = optional_import("jax", "JAX columns")
    return jax, jax.numpy


def version() -> str | None:
    try:
        return _jax()[0].__version__
    except Exception:
        return None


def _functions(jax, jnp):
    """The loss and the pure momentum-SGD step on a list of (W, b) pairs."""

    def loss_fn(params, x, y):
        h = x
        for W, b in params[:-1]:
            h = jax.nn.relu(h @ W + b)
        W, b = params[-1]
        logp = jax.nn.log_softmax(h @ W + b)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    def step(params, vel, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        vel = jax.tree_util.tree_map(lambda v, g: MOMENTUM * v - LR * g, vel, grads)
        params = jax.tree_util.tree_map(lambda p, v: p + v, params, vel)
        return params, vel, loss

    return step


class _JaxBase(Trainer):
    def __init__(self, wl: Workload, seed: int = 0) -> None:
        super().__init__(wl)
        self.jax, self.jnp = _jax()
        self.params = [[self.jnp.asarray(W), self.jnp.asarray(b)]
                       for W, b in he_init(wl.config.sizes, np.float32, seed)]
        self.vel = [[self.jnp.zeros_like(W), self.jnp.zeros_like(b)] for W, b in self.params]
        self.y32 = wl.y.astype(np.int32)
        self.last = None

    def sync(self) -> None:
        self.jax.block_until_ready((self.params, self.vel, self.last))


class JaxStep(_JaxBase):
    """Column "JAX jit step": one ``jax.jit``-compiled call per minibatch, fed NumPy slices."""

    def __init__(self, wl: Workload, seed: int = 0) -> None:
        super().__init__(wl, seed)
        self.step = self.jax.jit(_functions(self.jax, self.jnp))

    def steps(self, n: int) -> None:
        X, y, B, step = self.wl.X, self.y32, self.wl.config.batch, self.step
        params, vel, loss = self.params, self.vel, None
        for s in range(n):
            params, vel, loss = step(params, vel, X[s * B:(s + 1) * B], y[s * B:(s + 1) * B])
        self.params, self.vel, self.last = params, vel, loss


class JaxScan(_JaxBase):
    """Column "JAX scan": one jitted ``lax.scan`` over all minibatches of a pass."""

    def __init__(self, wl: Workload, seed: int = 0) -> None:
        super().__init__(wl, seed)
        jax, jnp = self.jax, self.jnp
        step = _functions(jax, jnp)
        B, n = wl.config.batch, wl.steps_per_pass

        def epoch(params, vel, Xs, ys):
            def body(carry, xy):
                p, v, loss = step(carry[0], carry[1], xy[0], xy[1])
                return (p, v), loss

            (params, vel), losses = jax.lax.scan(body, (params, vel), (Xs, ys))
            return params, vel, losses

        self.epoch = jax.jit(epoch)
        self.Xs = jnp.asarray(wl.X[:n * B].reshape(n, B, -1))
        self.ys = jnp.asarray(self.y32[:n * B].reshape(n, B))

    def warmup(self) -> None:  # compiles for the full pass shape
        self.params, self.vel, self.last = self.epoch(self.params, self.vel, self.Xs, self.ys)
        self.sync()

    def run(self) -> None:
        for _ in range(self.wl.passes):
            self.params, self.vel, self.last = self.epoch(self.params, self.vel, self.Xs, self.ys)
        self.sync()
