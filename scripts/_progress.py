"""A byte-count progress bar for long transfers, safe to call from transfer threads."""

from __future__ import annotations

import threading
import time
from typing import TextIO


class Progress:
    """Thread-safe byte counter that draws a one-line bar when given a stream."""

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.total, self.stream, self.width, self.done = total, stream, width, 0
        self._lock = threading.Lock()
        self._start = self._drawn = time.monotonic()

    def __call__(self, amount: int) -> None:
        with self._lock:
            self.done += amount
            now = time.monotonic()
            if self.stream and now - self._drawn >= 0.2:
                self._drawn = now
                self._draw(now)

    def _draw(self, now: float) -> None:
        assert self.stream is not None
        frac = min(self.done / self.total, 1.0) if self.total else 1.0
        rate, bar = self.done / max(now - self._start, 1e-6), "#" * int(frac * self.width)
        self.stream.write(f"\r[{bar:<{self.width}}] {frac:6.1%}  {human(self.done)} / {human(self.total)}  {human(rate)}/s ")
        self.stream.flush()

    def close(self) -> None:
        if self.stream:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"
