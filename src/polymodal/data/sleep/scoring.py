"""Sleep-stage scoring files → one label per 30-s epoch.

Two real layouts are read (CoRe-Sleep, arXiv 2304.06485, "Data pipeline"):

* NSRR XML (``*-nsrr.xml``): ``ScoredEvent`` elements with ``EventType``
  ``Stages|Stages``, an ``EventConcept`` such as ``Stage 2 sleep|2``, a
  ``Start`` and a ``Duration`` in seconds; the ``Recording Start Time``
  event's ``ClockTime`` gives the start;
* Sleep-EDF EDF+ hypnograms: annotations ``Sleep stage W/1/2/3/4/R/?`` and
  ``Movement time``.

R&K stages 3 and 4 both map to N3; movement (6), unscored (9) and ``?`` are
marked :data:`UNSCORED` (dropped later). Labels: W=0, N1=1, N2=2, N3=3, REM=4.
"""

from __future__ import annotations

import math
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import edfio
import numpy as np

from polymodal.data.sleep.start_time import Start, edf_start, nsrr_clock_time
from polymodal.errors import PolymodalError

STAGES = ("W", "N1", "N2", "N3", "REM")
NUM_STAGES = len(STAGES)
UNSCORED = -1
EPOCH_SECONDS = 30
NSRR_STAGE_EVENT = "Stages|Stages"
NSRR_START_EVENT = "Recording Start Time"
NSRR_CODES = {"0": 0, "1": 1, "2": 2, "3": 3, "4": 3, "5": 4, "6": UNSCORED, "9": UNSCORED}
SLEEP_EDF_STAGES = {
    "Sleep stage W": 0, "Sleep stage 1": 1, "Sleep stage 2": 2, "Sleep stage 3": 3,
    "Sleep stage 4": 3, "Sleep stage R": 4, "Sleep stage ?": UNSCORED, "Movement time": UNSCORED,
}


@dataclass(frozen=True)
class StageEvent:
    """A scored interval: ``start`` and ``duration`` in seconds, ``stage`` a label or :data:`UNSCORED`."""

    start: float
    duration: float
    stage: int


@dataclass(frozen=True)
class Scoring:
    """The stage events of a scoring file and its start (``None`` when the file gives none)."""

    events: list[StageEvent]
    start: Start | None


def read_nsrr_xml(path: Path) -> Scoring:
    """The ``Stages|Stages`` events of an NSRR XML file (other events are ignored) and its start time of day."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise PolymodalError(f"{path.name}: corrupt scoring XML ({exc})") from exc
    epoch_length = root.findtext("EpochLength")
    if epoch_length is not None and seconds(epoch_length, "EpochLength", path.name) != EPOCH_SECONDS:
        raise PolymodalError(f"{path.name}: EpochLength {epoch_length} s, expected {EPOCH_SECONDS} s")
    events, start = [], None
    for event in root.iter("ScoredEvent"):
        if (event.findtext("EventConcept") or "").strip() == NSRR_START_EVENT and event.findtext("ClockTime"):
            start = nsrr_clock_time(event.findtext("ClockTime"), path)
        if (event.findtext("EventType") or "").strip() != NSRR_STAGE_EVENT:
            continue
        concept = (event.findtext("EventConcept") or "").strip()
        code = concept.rpartition("|")[2]
        if code not in NSRR_CODES:
            raise PolymodalError(f"{path.name}: unknown sleep stage {concept!r}")
        what = f"{path.name}: stage event {concept!r}"
        events.append(StageEvent(seconds(event.findtext("Start"), "Start", what),
                                 seconds(event.findtext("Duration"), "Duration", what), NSRR_CODES[code]))
    return Scoring(events, start)


def seconds(value: str | float | None, name: str, what: str) -> float:
    """``value`` (text or number) as seconds: a finite number >= 0, else an error naming ``what`` and ``name``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise PolymodalError(f"{what}: invalid {name} {value!r} (expected seconds, a finite number >= 0)")
    return number


def read_edf_hypnogram(path: Path) -> Scoring:
    """The sleep-stage annotations of a Sleep-EDF EDF+ hypnogram (other annotations are ignored) and its start."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            edf = edfio.read_edf(path)
            annotations = edf.annotations
        start = edf_start(edf)
    except (ValueError, OSError, UnicodeDecodeError, UserWarning) as exc:
        raise PolymodalError(f"{path.name}: corrupt EDF+ hypnogram ({exc})") from exc
    events = []
    for note in annotations:
        text = note.text.strip()
        if text.startswith("Sleep stage") or text == "Movement time":
            if text not in SLEEP_EDF_STAGES:
                raise PolymodalError(f"{path.name}: unknown sleep stage {text!r}")
            if note.duration is None:
                raise PolymodalError(f"{path.name}: stage annotation at {note.onset} s has no duration")
            what = f"{path.name}: annotation {text!r}"
            events.append(StageEvent(seconds(note.onset, "onset", what), seconds(note.duration, "duration", what),
                                     SLEEP_EDF_STAGES[text]))
    return Scoring(events, start)


def epoch_labels(events: list[StageEvent], n_epochs: int, source: str) -> tuple[np.ndarray, int]:
    """``[n_epochs]`` int8 labels of the recording's complete epochs, and how many scored epochs lie past them.

    Epochs without a stage are :data:`UNSCORED`. Scored events (W..REM) must
    lie on the 30-s grid; scored epochs past the recording's last complete
    epoch are cut off (DeepSleepNet and MNE do the same) and counted for the
    report. Unscored events (``Sleep stage ?``, ``Movement time``, NSRR 6
    and 9) label nothing, so they may lie anywhere: Sleep-EDF closes each
    hypnogram with a ``?`` of arbitrary length.
    """
    spans = [(*_epoch_span(event, source), event.stage) for event in events if event.stage != UNSCORED]
    labels = np.full(n_epochs, UNSCORED, dtype=np.int8)
    for first, last, stage in spans:
        labels[first:last] = stage
    return labels, _covered(sorted((max(first, n_epochs), last) for first, last, _ in spans if last > n_epochs))


def _covered(spans: list[tuple[int, int]]) -> int:
    """Epochs covered by the union of sorted ``[first, last)`` spans (counted without allocating them)."""
    total, reached = 0, 0
    for first, last in spans:
        total += max(0, last - max(first, reached))
        reached = max(reached, last)
    return total


def _epoch_span(event: StageEvent, source: str) -> tuple[int, int]:
    """First epoch and one past the last epoch of a scored event, which must lie on the 30-s grid."""
    first, count = event.start / EPOCH_SECONDS, event.duration / EPOCH_SECONDS
    if max(abs(first - round(first)), abs(count - round(count))) > 1e-6 or event.start < 0:
        raise PolymodalError(
            f"{source}: stage event at {event.start:g} s lasting {event.duration:g} s is off the {EPOCH_SECONDS}-s epoch grid"
        )
    return int(round(first)), int(round(first)) + int(round(count))
