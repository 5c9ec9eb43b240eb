"""A plain-text progress bar for long management commands (no dependency, no terminal tricks needed)."""

from __future__ import annotations

import time
from typing import TextIO


class ProgressBar:
    """Call with (done, total); redraws at most a few times a second, ends with a newline on close."""

    def __init__(self, stream: TextIO, label: str, width: int = 30, min_interval: float = 0.2):
        self.stream, self.label, self.width, self.min_interval = stream, label, width, min_interval
        self._last_draw = 0.0
        self._drawn = False
        self._started = time.monotonic()

    def __call__(self, done: int, total: int | None = None) -> None:
        now = time.monotonic()
        if now - self._last_draw < self.min_interval and (total is None or done < total):
            return
        self._last_draw = now
        elapsed = now - self._started
        if total:
            filled = int(self.width * min(done, total) / total)
            bar = "#" * filled + "-" * (self.width - filled)
            text = f"\r{self.label} [{bar}] {done:,}/{total:,} ({elapsed:.0f}s)"
        else:
            text = f"\r{self.label} {done:,} ({elapsed:.0f}s)"
        self.stream.write(text)
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
