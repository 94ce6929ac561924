"""Which Wake epochs at the edges of a night are kept: the field's rules per dataset.

A PSG starts well before the subject falls asleep and ends after waking, and
the benchmarks of each dataset trim that edge Wake in their own way:

* ``window`` (Sleep-EDF; DeepSleepNet ``prepare_physionet.py``, TinySleepNet
  ``prepare_sleepedf.py``, the MNE sleep tutorial): keep ``minutes`` (30) of
  recording before the first and after the last sleep epoch (N1, N2, N3 or
  REM). The window is counted in recording time, as TinySleepNet and MNE do;
  DeepSleepNet counts 60 *scored* epochs after dropping the unscored ones,
  which differs only when an unscored epoch lies inside the window.
* ``largest`` (SHHS and other NSRR cohorts; SleepTransformer
  ``shhs/process_and_save_1file.m``, reused by CoRe-Sleep): only when Wake is
  the most frequent class of the scored epochs, remove edge Wake until the
  leading plus trailing Wake runs hold as many epochs as the second most
  frequent class, from the evening (leading) run first, then the morning
  run. Counted over the scored epochs (unscored ones removed first), as the
  reference does. Two slips of the reference are not reproduced: it counts
  one epoch too many in the evening run (the first sleep epoch) and takes the
  last run of the night as morning Wake even when it is a sleep stage; and it
  counts R&K stages 3 and 4 as two classes where here N3 is one.
* ``none``: keep every scored epoch.

A night without any sleep epoch has nothing to anchor a trim on and keeps
every scored epoch under every rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from polymodal.data.sleep.scoring import EPOCH_SECONDS, NUM_STAGES, UNSCORED
from polymodal.errors import PolymodalError

WAKE = 0
RULES = ("window", "largest", "none")
DEFAULT_WINDOW_MINUTES = 30.0


@dataclass(frozen=True)
class WakeTrim:
    """A trimming rule: ``rule`` in :data:`RULES`; ``minutes`` of Wake kept on each side by ``window``."""

    rule: str
    minutes: float = DEFAULT_WINDOW_MINUTES

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise PolymodalError(f"unknown Wake trimming rule {self.rule!r}; choose one of: {', '.join(RULES)}")
        if not self.minutes >= 0:
            raise PolymodalError(f"the Wake window must be >= 0 minutes, got {self.minutes}")

    def keep(self, labels: np.ndarray) -> np.ndarray:
        """``[n]`` bool over the recording's epochs: scored (``labels != UNSCORED``) and not trimmed."""
        scored = labels != UNSCORED
        if self.rule == "window":
            return scored & wake_window(labels, round(self.minutes * 60 / EPOCH_SECONDS))
        if self.rule == "largest":
            kept = np.zeros_like(scored)
            kept[np.flatnonzero(scored)[wake_down_to_second_largest(labels[scored])]] = True
            return kept
        return scored


def wake_window(labels: np.ndarray, epochs: int) -> np.ndarray:
    """``[n]`` bool: the epochs at most ``epochs`` before the first or after the last sleep epoch."""
    sleep = np.flatnonzero((labels != WAKE) & (labels != UNSCORED))
    inside = np.ones(len(labels), dtype=bool)
    if sleep.size:
        index = np.arange(len(labels))
        inside = (index >= sleep[0] - epochs) & (index <= sleep[-1] + epochs)
    return inside


def wake_down_to_second_largest(labels: np.ndarray) -> slice:
    """The kept range of scored ``labels`` (no :data:`UNSCORED`) under the ``largest`` rule."""
    counts = np.bincount(labels, minlength=NUM_STAGES)
    sleep = np.flatnonzero(labels != WAKE)
    second = int(counts[1:].max())
    if counts[WAKE] <= second or sleep.size == 0:
        return slice(0, len(labels))
    evening, morning = int(sleep[0]), int(len(labels) - 1 - sleep[-1])
    excess = max(evening + morning - second, 0)
    from_evening = min(evening, excess)
    return slice(from_evening, len(labels) - (excess - from_evening))
