"""Forward hooks: functions run before and after a module's ``forward``
(``register_forward_pre_hook`` / ``register_forward_hook``), and the handles that remove them."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .module import Module

__all__ = ["HookHandle"]


class HookHandle:
    """What ``register_forward_hook`` returns: ``handle.remove()`` takes the hook off.

    ``HookHandle.generation`` changes whenever a hook is added or removed anywhere: the
    fast paths that bypass ``Module.__call__`` (Sequential's fused chain, the captured
    step) look at their layers' hooks again when it has moved, and stand aside for a
    layer that has any.
    """

    generation = 0
    _next = 0

    def __init__(self, module: "Module", kind: str):
        self.module, self.kind = module, kind
        self.id = HookHandle._next
        HookHandle._next += 1

    def remove(self) -> None:
        hooks = self.module._hooks
        if hooks is not None and hooks[self.kind].pop(self.id, None) is not None:
            HookHandle.generation += 1
            if not hooks["pre"] and not hooks["post"]:
                object.__setattr__(self.module, "_hooks", None)

    def __enter__(self) -> "HookHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def _call_with_hooks(module: "Module", x, args: tuple, kwargs: dict):
    """``module.forward`` between its pre-hooks and hooks (see register_forward_hook)."""
    inputs = (x,) + args
    for hook in list(module._hooks["pre"].values()):
        changed = hook(module, inputs)
        if changed is not None:
            inputs = changed if isinstance(changed, tuple) else (changed,)
    out = module.forward(*inputs, **kwargs)
    for hook in list(module._hooks["post"].values()):
        changed = hook(module, inputs, out)
        if changed is not None:
            out = changed
    return out
