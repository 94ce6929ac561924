"""Sleep-stage scoring files → one label per 30-s epoch.

Two real layouts are read (CoRe-Sleep, arXiv 2304.06485, "Data pipeline"):

* NSRR XML (``*-nsrr.xml``): ``ScoredEvent`` elements with ``EventType``
  ``Stages|Stages``, an ``EventConcept`` such as ``Stage 2 sleep|2``, a
  ``Start`` and a ``Duration`` in seconds;
* Sleep-EDF EDF+ hypnograms: annotations ``Sleep stage W/1/2/3/4/R/?`` and
  ``Movement time``.

R&K stages 3 and 4 both map to N3; movement (6), unscored (9) and ``?`` are
marked :data:`UNSCORED` (dropped later). Labels: W=0, N1=1, N2=2, N3=3, REM=4.
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import edfio
import numpy as np

from polymodal.errors import PolymodalError

STAGES = ("W", "N1", "N2", "N3", "REM")
NUM_STAGES = len(STAGES)
UNSCORED = -1
EPOCH_SECONDS = 30
NSRR_STAGE_EVENT = "Stages|Stages"
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


def read_nsrr_xml(path: Path) -> list[StageEvent]:
    """The ``Stages|Stages`` events of an NSRR XML file (other events are ignored)."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise PolymodalError(f"{path.name}: corrupt scoring XML ({exc})") from exc
    epoch_length = root.findtext("EpochLength")
    if epoch_length is not None and float(epoch_length) != EPOCH_SECONDS:
        raise PolymodalError(f"{path.name}: EpochLength {epoch_length} s, expected {EPOCH_SECONDS} s")
    events = []
    for event in root.iter("ScoredEvent"):
        if (event.findtext("EventType") or "").strip() != NSRR_STAGE_EVENT:
            continue
        concept = (event.findtext("EventConcept") or "").strip()
        code = concept.rpartition("|")[2]
        if code not in NSRR_CODES:
            raise PolymodalError(f"{path.name}: unknown sleep stage {concept!r}")
        events.append(StageEvent(_seconds(event, "Start", path), _seconds(event, "Duration", path), NSRR_CODES[code]))
    return events


def _seconds(event: ET.Element, tag: str, path: Path) -> float:
    text = event.findtext(tag)
    try:
        return float(text)
    except (TypeError, ValueError):
        raise PolymodalError(f"{path.name}: stage event with invalid {tag} {text!r}") from None


def read_edf_hypnogram(path: Path) -> list[StageEvent]:
    """The sleep-stage annotations of a Sleep-EDF EDF+ hypnogram (other annotations are ignored)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            annotations = edfio.read_edf(path).annotations
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
            events.append(StageEvent(note.onset, note.duration, SLEEP_EDF_STAGES[text]))
    return events


def epoch_labels(events: list[StageEvent], n_epochs: int, source: str) -> np.ndarray:
    """Expand stage events into ``[n_epochs]`` int8 labels; epochs without a stage are :data:`UNSCORED`.

    Events must lie on the 30-s grid. A *scored* event (W..REM) that runs
    past the last complete epoch of the recording is an error; unscored
    events past the end (Sleep-EDF closes with a long ``?``) are ignored.
    """
    labels = np.full(n_epochs, UNSCORED, dtype=np.int8)
    for event in events:
        first, count = event.start / EPOCH_SECONDS, event.duration / EPOCH_SECONDS
        if max(abs(first - round(first)), abs(count - round(count))) > 1e-6 or event.start < 0:
            raise PolymodalError(
                f"{source}: stage event at {event.start:g} s lasting {event.duration:g} s is off the {EPOCH_SECONDS}-s epoch grid"
            )
        first, last = int(round(first)), int(round(first)) + int(round(count))
        if event.stage == UNSCORED:
            continue
        if last > n_epochs:
            raise PolymodalError(
                f"{source}: scoring runs to {last * EPOCH_SECONDS} s but the recording holds "
                f"{n_epochs * EPOCH_SECONDS} s ({n_epochs} epochs)"
            )
        labels[first:last] = event.stage
    return labels


def wake_trim(labels: np.ndarray) -> slice:
    """The epochs kept after trimming leading/trailing Wake (CoRe-Sleep "Data pipeline").

    Wake epochs are removed from the ends of the night, always from the
    longer of the leading and trailing Wake runs, until Wake is no more
    frequent than the next most frequent stage (or no edge Wake is left).
    """
    counts = np.bincount(labels, minlength=NUM_STAGES)
    excess = int(counts[0] - counts[1:].max())
    is_sleep = labels != 0
    if excess <= 0 or not is_sleep.any():
        return slice(0, len(labels))
    lead = int(np.argmax(is_sleep))
    tail = int(np.argmax(is_sleep[::-1]))
    keep = lead + tail - min(excess, lead + tail)
    small = min(lead, tail)
    kept_small = small if keep >= 2 * small else keep // 2
    kept_lead, kept_tail = (kept_small, keep - kept_small) if lead <= tail else (keep - kept_small, kept_small)
    return slice(lead - kept_lead, len(labels) - (tail - kept_tail))
