"""Progress output for :func:`nerve.fit`: a tqdm bar on a terminal, plain lines otherwise.

Progress only reads the logs; it never touches the model or a random generator,
so a run gives bitwise the same result with or without it.
"""
from __future__ import annotations

import sys
import time
from typing import Any, TextIO

__all__ = ["Progress", "format_logs"]

_MODES = (True, False, "auto", "bar", "lines", "none")


def format_logs(logs: dict[str, float], sep: str = " - ") -> str:
    """``"loss 0.4123 - accuracy 0.912"``: losses to 4 decimals, accuracies to 3."""
    parts = []
    for key, value in logs.items():
        digits = 3 if "acc" in key else 4
        parts.append(f"{key} {value:.{digits}f}")
    return sep.join(parts)


class Progress:
    """Reports each epoch's metrics.

    ``mode``: ``True``/``"auto"`` = a tqdm bar over the epochs when stderr is a
    terminal and tqdm is installed (extra ``progress``), else one line per epoch;
    ``"bar"`` / ``"lines"`` force one; ``False``/``"none"`` = silent.
    """

    def __init__(self, mode: Any = True, stream: TextIO | None = None) -> None:
        if mode not in _MODES or isinstance(mode, int) and not isinstance(mode, bool):
            raise ValueError(f"progress must be True, False, 'bar' or 'lines', got {mode!r}")
        self.stream = stream if stream is not None else sys.stderr
        self._tqdm = None
        self._bar = None
        if mode in (False, "none"):
            self.mode = "none"
        elif mode == "lines":
            self.mode = "lines"
        else:
            self._tqdm = _soft_tqdm(required=(mode == "bar"))
            isatty = getattr(self.stream, "isatty", lambda: False)()
            self.mode = "bar" if self._tqdm is not None and (mode == "bar" or isatty) else "lines"

    def start(self, epochs: int, initial_epoch: int = 0) -> None:
        self.epochs = epochs
        self._t0 = time.perf_counter()
        if self.mode == "bar":
            self._bar = self._tqdm(total=epochs, initial=min(initial_epoch, epochs),
                                   unit="epoch", file=self.stream, dynamic_ncols=True,
                                   leave=True)

    def epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.mode == "bar":
            self._bar.set_postfix_str(format_logs(logs, sep=", "), refresh=False)
            self._bar.update(1)
        elif self.mode == "lines":
            elapsed = time.perf_counter() - self._t0
            width = len(str(self.epochs))
            self.stream.write(f"epoch {epoch + 1:>{width}}/{self.epochs} - "
                              f"{format_logs(logs)} - {elapsed:.1f}s\n")
            self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _soft_tqdm(required: bool) -> Any:
    """tqdm's class, or None when it is missing (unless the bar was asked for explicitly)."""
    if required:
        from .._extras import require
        return require("tqdm", "progress", "progress bars").tqdm
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm
