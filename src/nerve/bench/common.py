"""Shared pieces of the benchmark: the trainer interface and the interleaved timer."""
from __future__ import annotations

import gc
import importlib
import time
from collections.abc import Callable
from types import ModuleType

from nerve.bench.configs import Workload


class Unavailable(Exception):
    """A column cannot be measured here (package missing, API not there yet); says why."""


def optional_import(module: str, why: str = "") -> ModuleType:
    """Import a comparator package or raise :class:`Unavailable` naming it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = f" ({why})" if why else ""
        raise Unavailable(f"{module} is not installed{extra}: {exc}") from exc


def elementwise_chain(x, n_ops: int):
    """``n_ops`` small elementwise ops on a nerve or torch tensor, cycling
    ``tanh, * 0.5, exp, + (-1)`` (values stay bounded): the per-op overhead workload."""
    h = x
    for i in range(n_ops):
        k = i % 4
        if k == 0:
            h = h.tanh()
        elif k == 1:
            h = h * 0.5
        elif k == 2:
            h = h.exp()
        else:
            h = h + (-1.0)
    return h


def describe_error(exc: BaseException) -> str:
    """One line for a report: the exception type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


class Trainer:
    """Trains one implementation on a :class:`Workload`.

    Subclasses implement :meth:`steps` (run ``n`` minibatch steps from the start of the pool)
    and, where the work is asynchronous, :meth:`sync`. One measurement (:meth:`run`) makes
    ``workload.passes`` passes of ``workload.steps_per_pass`` steps each.
    """

    def __init__(self, wl: Workload) -> None:
        self.wl = wl

    def steps(self, n: int) -> None:
        raise NotImplementedError

    def sync(self) -> None:
        """Block until queued work is done (JAX dispatches asynchronously)."""

    def warmup(self) -> None:
        self.steps(min(3, self.wl.steps_per_pass))
        self.sync()

    def run(self) -> None:
        for _ in range(self.wl.passes):
            self.steps(self.wl.steps_per_pass)
        self.sync()


def interleave(
    fns: dict[str, Callable[[], object]],
    repeats: int,
    number: dict[str, int] | None = None,
    budget_s: float | None = None,
) -> tuple[dict[str, list[float]], dict[str, str]]:
    """Time each function ``repeats`` times, round-robin, rotating the order every round.

    ``number[k]`` calls of ``fns[k]`` make one timed sample (default 1); samples are seconds
    per call. A function whose samples have used up ``budget_s`` seconds in all is not
    timed again (it keeps at least one sample), so one slow column cannot stretch a run.
    A function that raises is dropped from later rounds and its error returned.
    Returns ``(times, errors)``.
    """
    number = number or {}
    keys = list(fns)
    times: dict[str, list[float]] = {k: [] for k in keys}
    spent = dict.fromkeys(keys, 0.0)
    errors: dict[str, str] = {}
    for r in range(repeats):
        gc.collect()
        shift = r % len(keys) if keys else 0
        for key in keys[shift:] + keys[:shift]:
            if key in errors or (budget_s is not None and spent[key] >= budget_s):
                continue
            fn, n = fns[key], number.get(key, 1)
            try:
                t0 = time.perf_counter()
                for _ in range(n):
                    fn()
                dt = time.perf_counter() - t0
            except Exception as exc:  # a broken implementation must not stop the others
                errors[key] = describe_error(exc)
                continue
            spent[key] += dt
            times[key].append(dt / n)
    return times, errors


def calls_for(fn: Callable[[], object], target_s: float, cap: int = 1_000_000) -> int:
    """How many calls of ``fn`` take about ``target_s`` seconds (at least 1)."""
    n = 1
    while n < cap:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= target_s / 4:
            return max(1, min(cap, int(n * target_s / dt)))
        n *= 4
    return cap
