"""Progress of a benchmark grid: one line per finished run with its result and an ETA.

Every finished run prints ``[3/12] mfeat:kar+mor mlb seed 1: acc 0.981 (42 s, ETA 6 min)``
(plain lines, so a log file or a pipe shows them as they come). On a terminal
a status line below them also names the run in progress and the time left.
The ETA is the mean duration of the runs trained so far times the runs still
to train (runs finished by an earlier invocation take no time).
"""

from __future__ import annotations

import sys
import time
from contextlib import AbstractContextManager
from typing import IO, Any, Self

from polymodal.bench.report import Row


def format_seconds(seconds: float) -> str:
    """``42 s``, ``6 min`` or ``1.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def format_result(row: Row, headline: str) -> str:
    """``acc 0.981`` for a finished run, ``failed: <error>`` for a failed one."""
    if row.get("status") != "ok":
        return f"failed: {row.get('error', '')}"
    value = row.get(headline)
    return f"{headline} {value:.3f}" if isinstance(value, int | float) else f"{headline} –"


class GridProgress(AbstractContextManager):
    """Reports the runs of a grid of ``total`` cells, ``to_train`` of which still have to run."""

    def __init__(self, name: str, total: int, to_train: int, headline: str, stream: IO[str] | None = None) -> None:
        self.name = name
        self.total = total
        self.remaining = to_train
        self.headline = headline
        self.stream = stream or sys.stdout
        self.done = 0
        self.trained_seconds: list[float] = []
        self._status: Any = None
        self._started = 0.0

    def __enter__(self) -> Self:
        if self.stream.isatty():
            from rich.console import Console

            self._status = Console(file=self.stream).status(f"bench {self.name}")
            self._status.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(*exc)

    def eta(self) -> float | None:
        """Seconds left for the runs still to train; None before the first run ends."""
        if not self.trained_seconds:
            return None
        return sum(self.trained_seconds) / len(self.trained_seconds) * self.remaining

    def start(self, label: str) -> None:
        """A run starts training (shown in the terminal's status line)."""
        self._started = time.perf_counter()
        if self._status is not None:
            eta = self.eta()
            left = f", ETA {format_seconds(eta)}" if eta is not None else ""
            self._status.update(f"[{self.done + 1}/{self.total}] {label}: training{left}")

    def finish(self, label: str, row: Row, trained: bool) -> str:
        """Print and return the line of a finished run; ``trained``: False when an earlier invocation ran it."""
        self.done += 1
        if trained:
            seconds = time.perf_counter() - self._started
            self.trained_seconds.append(seconds)
            self.remaining -= 1
            eta = self.eta()
            timing = f" ({format_seconds(seconds)}" + (f", ETA {format_seconds(eta)})" if self.remaining else ")")
        else:
            timing = " (finished earlier)"
        line = f"[{self.done}/{self.total}] {label}: {format_result(row, self.headline)}{timing}"
        if self._status is not None:
            self._status.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self.stream, flush=True)
        return line
