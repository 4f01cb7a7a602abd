"""The one progress bar of the package: a line on stderr, redrawn in place.

No dependency: three call sites (quantize, perplexity/bench, the default-model download) need a
bar and a label, nothing more. Callers enable it only when stderr is a terminal (``on_terminal``),
so logs and pipes never get carriage returns."""
from __future__ import annotations

import sys
from typing import Callable, Optional

_WIDTH = 30


def on_terminal() -> bool:
    """Whether stderr is a terminal: the default for showing a bar."""
    return sys.stderr.isatty()


class ProgressBar:
    """``update(n)`` adds ``n`` units of ``total``; ``close()`` ends the line. ``describe(done,
    total)`` formats the count after the bar (default: percent)."""

    def __init__(self, total: int, enabled: bool = True, label: str = "",
                 describe: Optional[Callable[[int, int], str]] = None):
        self.total, self.done = max(1, int(total)), 0
        self.label = label
        self.enabled = bool(enabled)
        self._describe = describe or (lambda done, total: f"{100 * done / total:5.1f}%")
        self._drawn = False

    def update(self, n: int = 1, label: Optional[str] = None) -> None:
        self.done = min(self.total, self.done + int(n))
        if label is not None:
            self.label = label
        if self.enabled:
            filled = _WIDTH * self.done // self.total
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (_WIDTH - filled)}] "
                             f"{self._describe(self.done, self.total)} {self.label[:50]:<50}")
            sys.stderr.flush()
            self._drawn = True

    def close(self) -> None:
        if self._drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self._drawn = False

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
