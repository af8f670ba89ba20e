"""Flat parameters: every parameter, gradient and optimizer buffer as a view of one array.

The update rules of nerve's optimizers are elementwise, so one call on the
concatenation of all parameters does, bitwise, what one call per parameter does —
with a handful of NumPy calls in all instead of a handful per parameter (what
PyTorch calls a "foreach"/fused optimizer). :class:`FlatParameters` gathers the
parameters of an optimizer's single group into one array and rebinds each
``p.data`` to its slice; each :class:`~nerve.nn.Parameter` also gets a gradient
buffer (its slice of a flat gradient array) that the layers' backward passes write
``dL/dW`` into directly. The optimizer's per-parameter state dicts hold views of the
flat state, so ``state_dict()`` and a per-parameter step keep seeing the same numbers.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["FlatParameters", "flat_parameters", "grad_buffer"]


def grad_buffer(param: Any, shape: tuple, dtype: np.dtype) -> np.ndarray | None:
    """The preallocated array ``param``'s gradient may be written into, or None.

    Only while ``param.grad`` is None (a fresh backward; later contributions are added
    into the buffer in place by ``autograd._store_grad``) and only if the buffer still
    fits the parameter's shape and dtype.
    """
    if param.grad is None:
        buf = getattr(param, "_grad_buffer", None)
        if buf is not None and buf.shape == shape and buf.dtype == dtype:
            return buf
    return None


class FlatParameters:
    """All parameters, their gradients and the optimizer's buffers as views of flat arrays."""

    def __init__(self, params: list, optimizer: Any):
        self.params, self.optimizer = params, optimizer
        dtype = params[0].data.dtype
        sizes = [p.data.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
        self.data = np.empty(self.offsets[-1], dtype=dtype)
        self.grad = np.zeros(self.offsets[-1], dtype=dtype)
        self.state: dict = {}
        self.data_views, self.grad_views = [], []
        for p, a, b in zip(params, self.offsets[:-1], self.offsets[1:]):
            self.data[a:b] = p.data.reshape(-1)
            view = self.data[a:b].reshape(p.data.shape)
            p.data = view  # the old array is freed here unless someone else holds it
            self.data_views.append(view)
            gview = self.grad[a:b].reshape(view.shape)
            self.grad_views.append(gview)
            if hasattr(type(p), "_grad_buffer"):
                p._grad_buffer = gview
        self.gather_state()

    @classmethod
    def eligible(cls, optimizer: Any) -> bool:
        """One parameter group of nerve tensors of one float dtype, and an elementwise rule."""
        from ..tensor import Tensor

        if not getattr(optimizer, "elementwise", False) or len(optimizer.param_groups) != 1:
            return False
        params = optimizer.param_groups[0]["params"]
        dtype = params[0].data.dtype
        return all(isinstance(p, Tensor) and p.data.dtype == dtype for p in params)

    def _copied(self) -> bool:
        """Whether the views were cut off from the flat arrays: ``copy.deepcopy`` and pickle
        copy each view into an array of its own while keeping which object is which, so
        the identity checks below still pass but a flat step would no longer reach them."""
        views = self.data_views
        return bool(views) and views[0].base is not self.data

    def intact(self) -> bool:
        """Whether every parameter still uses its view (nothing rebound its data)."""
        if self._copied():
            return False
        for p, view in zip(self.params, self.data_views):
            if p.data is not view:
                return False
        return True

    def attach_grads(self) -> None:
        """Make every ``p.grad`` its view of the flat gradient (the captured step writes there)."""
        for p, gview in zip(self.params, self.grad_views):
            p.grad = gview

    def ready(self) -> bool | None:
        """Gather the gradients for a flat step: True if done, False if a gradient is
        missing or misfits, None if a parameter's data was rebound (gather again)."""
        views = self.data_views
        if views and views[0].base is not self.data:  # _copied(), inline: every step
            return None
        for p, view, gview in zip(self.params, views, self.grad_views):
            if p.data is not view:
                return None
            g = p.grad
            if g is not gview:
                if g is None or getattr(g, "shape", None) != gview.shape:
                    return False
                np.copyto(gview, g, casting="same_kind")
        return True

    # ------------------------------------------------------------------ state
    def gather_state(self) -> None:
        """Build the flat buffers from state the optimizer already has (a resumed run).

        Only state every parameter shares the layout of is gathered: each parameter has
        the same buffers and the same step counters. Counters that differ (some parameter
        missed a gradient in some step, so Adam's bias correction differs per parameter)
        or buffers present for some parameters only stay per parameter, and the
        per-parameter loop carries them, as PyTorch's would. State that does not fit (a
        buffer whose shape is not its parameter's, say after a parameter was replaced) is
        left to the per-parameter loop too, which reports it.
        """
        self.state, self.counters, self.param_states, self.shared = {}, [], [], []
        self.misfit = False
        self._nkeys = 0
        per_param = [self.optimizer.state.get(i) for i in range(len(self.params))]
        if not all(per_param):
            return
        first = per_param[0]
        keys = first.keys()
        counters = [k for k, v in first.items() if not isinstance(v, np.ndarray)]
        for st in per_param[1:]:
            if st.keys() != keys:
                return  # some buffers exist for some parameters only
            for key in counters:
                value = st[key]
                if isinstance(value, np.ndarray) or value != first[key]:
                    return  # counters moved apart: never copy parameter 0's to the others
        state = {}
        for key, value in first.items():
            if key in counters:
                state[key] = value
                continue
            parts = [st.get(key) for st in per_param]
            if not all(isinstance(v, np.ndarray) and v.shape == p.data.shape
                       for v, p in zip(parts, self.params)):
                self.misfit = True
                return
            state[key] = np.concatenate([v.reshape(-1) for v in parts]).astype(self.data.dtype)
        self.state = state
        self._share_state()

    def usable_state(self) -> bool:
        """False while some parameters have state and others none (mixed earlier steps),
        while the optimizer's state does not fit the parameters, or while their step
        counters differ (a step where some parameter had no gradient moved only the
        others' counters; Adam's bias correction then differs per parameter).

        State the user changed (``opt.state.clear()``, a buffer replaced) is gathered
        again first, so the step uses it, as PyTorch's does."""
        if self.state and not self._state_shared():
            self.gather_state()
        if self.state:  # the common case, every step: SGD has no counters at all
            return not self.counters or self._counters_agree(self.optimizer.state,
                                                             self.counters)
        if self.misfit:
            return False
        opt_state = self.optimizer.state
        if not opt_state or not any(opt_state.values()):
            return True  # a first step, or plain SGD (which keeps no state)
        # per-parameter state only (per-parameter steps came first, or the counters or
        # buffers differ between parameters): gather it if every parameter's fits
        self.gather_state()
        return bool(self.state)

    def _counters_agree(self, opt_state: dict, keys: list) -> bool:
        get = dict.get  # C-level (integer keys): this runs every Adam step
        first = get(opt_state, 0)
        if not first:
            return True
        for i in range(1, len(self.params)):
            st = get(opt_state, i)
            if st is None or any(st.get(k) != first[k] for k in keys):
                return False
        return True

    def _state_shared(self) -> bool:
        """Whether ``optimizer.state`` still holds, for every parameter, the dict and the
        views of the flat buffers that :meth:`_share_state` put there."""
        owner = self._owner
        if self.optimizer.state is not owner or len(owner) != len(self.param_states):
            return False
        get = self._owner_get  # bound methods made once: this runs every step
        for i, st, st_get, key, view in self.shared:
            if get(i) is not st or st_get(key) is not view:
                return False
        return True

    def _share_state(self) -> None:
        self.param_states, self.shared = [], []
        self._owner = self.optimizer.state
        # dict's own get, bound: optimizer.state is a dict subclass whose Python-level
        # get also takes a Parameter; the integer keys here never need that
        self._owner_get = dict.get.__get__(self._owner)
        for i, (a, b) in enumerate(zip(self.offsets[:-1], self.offsets[1:])):
            st = self.optimizer.state.setdefault(i, {})
            for key, value in self.state.items():
                if isinstance(value, np.ndarray) and value.shape == self.data.shape:
                    st[key] = view = value[a:b].reshape(self.params[i].data.shape)
                    self.shared.append((i, st, st.get, key, view))
                else:
                    st[key] = value
            self.param_states.append(st)
        # The non-array entries (step counters), kept in step with every parameter's dict.
        self.counters = [k for k, v in self.state.items() if not isinstance(v, np.ndarray)]
        self._nkeys = len(self.state)  # what step() compares with, to see new buffers

    def step(self) -> None:
        """One call of the optimizer's update rule on the flat arrays."""
        opt = self.optimizer
        state = self.state
        if not state and opt.state:  # per-parameter steps came first: start from their state
            self.gather_state()
            state = self.state
        counters = self.counters
        if counters:  # counters (Adam's step) may have moved on in a per-parameter step
            first = opt.state[0]
            for key in counters:
                state[key] = first[key]
        opt.update_fn(self.data, self.grad, state, **opt._hyperparameters(opt.param_groups[0]))
        if len(state) != self._nkeys:
            # the first step made the buffers, or a later one added one (momentum, centered
            # or amsgrad switched on by hand): share them, so that opt.state, state_dict()
            # and a per-parameter step see them too
            self._share_state()
        elif counters:
            for st in self.param_states:
                for key in counters:
                    st[key] = state[key]


def flat_parameters(optimizer: Any, params: list) -> FlatParameters:
    """The optimizer's flat parameters if they cover exactly ``params`` and are intact,
    else new ones (kept by the optimizer too when it updates flat arrays itself)."""
    flat = getattr(optimizer, "_flat", None)
    if flat is not None and flat.intact() and len(flat.params) == len(params) \
            and all(p is q for p, q in zip(flat.params, params)):
        return flat
    flat = FlatParameters(params, optimizer)
    if FlatParameters.eligible(optimizer):
        optimizer._flat = flat
    return flat
