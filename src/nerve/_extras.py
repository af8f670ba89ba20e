"""Optional dependencies: import them on demand with a message naming the extra."""
from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtraError(ImportError):
    """An optional dependency is not installed."""


def require(module: str, extra: str, purpose: str = "") -> ModuleType:
    """Import ``module`` or raise naming the extra that provides it.

    >>> np = require("numpy", "core")
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        what = f" for {purpose}" if purpose else ""
        top = module.split('.')[0]
        if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] == top:
            raise MissingExtraError(
                f"{top} is needed{what} but is not installed; "
                f"install it with: pip install 'nerve[{extra}]'"
            ) from exc
        # installed but broken (built for another NumPy, a missing dependency of its own)
        raise MissingExtraError(
            f"{top} is needed{what} but is installed and fails to import "
            f"({type(exc).__name__}: {exc}); upgrade it with: "
            f"pip install --upgrade '{top}' (or 'nerve[{extra}]')"
        ) from exc
