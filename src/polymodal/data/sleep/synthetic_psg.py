"""Synthetic scored nights written as real EDF files with NSRR XML or Sleep-EDF hypnograms.

No installable package ships scored EEG+EOG nights, so tests and demos run
the real ingestion path (:mod:`polymodal.data.sleep.prepare`) on generated
files (CoRe-Sleep spec, "Offline test data"): a Markov-chain hypnogram, and
EEG / EOG from :mod:`polymodal.data.sleep.synthetic_signals`.

* ``nsrr`` layout: ``synth-0000.edf`` with ``EEG`` at 125 Hz, ``EOG(L)`` and
  ``EOG(R)`` at 50 Hz and ``SaO2`` at 1 Hz (as in SHHS), and
  ``synth-0000-nsrr.xml`` with ``Stages|Stages`` scored events.
* ``sleep-edf`` layout: ``SY4ssNE0-PSG.edf`` with ``EEG Fpz-Cz`` and
  ``EOG horizontal`` at 100 Hz and ``EMG submental`` at 1 Hz, and
  ``SY4ssNEC-Hypnogram.edf`` (EDF+ annotations), two nights per subject ``ss``.
  As in sleep-edfx, the scored Wake at the end runs past the PSG (into its
  incomplete last epoch and one epoch beyond), and the hypnogram closes with
  a ``Sleep stage ?`` whose length is off the 30-s grid.

Scoring uses R&K codes as the real files do: N3 epochs are scored 3 or 4,
about 1% of epochs are movement or unscored, and each night has long
leading and trailing Wake and a 17-s incomplete epoch at the end. Both
files of a night start at the same date and time (:data:`START`). Options
make the nights the field's harder cases: hours of edge Wake (sleep-edfx
cassettes), nights without a stage, EEG/EOG stored in mV or V.
"""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import edfio
import numpy as np

from polymodal.data.sleep.recording import microvolts_per_unit
from polymodal.data.sleep.scoring import STAGES
from polymodal.data.sleep.synthetic_signals import synth_eeg, synth_eog
from polymodal.errors import PolymodalError

EPOCH_SECONDS = 30
TAIL_SECONDS = 17
TRANSITIONS = np.array([  # per-epoch Markov transitions between W, N1, N2, N3, REM
    [0.85, 0.12, 0.02, 0.00, 0.01],
    [0.04, 0.70, 0.22, 0.00, 0.04],
    [0.02, 0.03, 0.86, 0.06, 0.03],
    [0.01, 0.01, 0.08, 0.90, 0.00],
    [0.02, 0.04, 0.04, 0.00, 0.90],
])
STAGE_TO_CODE = np.array([0, 1, 2, 3, 5])  # R&K code of each label (N3 → 3, some become 4)
NSRR_CONCEPTS = {0: "Wake|0", 1: "Stage 1 sleep|1", 2: "Stage 2 sleep|2", 3: "Stage 3 sleep|3",
                 4: "Stage 4 sleep|4", 5: "REM sleep|5", 6: "Movement|6", 9: "Unscored|9"}
SLEEP_EDF_TEXTS = {0: "Sleep stage W", 1: "Sleep stage 1", 2: "Sleep stage 2", 3: "Sleep stage 3",
                   4: "Sleep stage 4", 5: "Sleep stage R", 6: "Movement time", 9: "Sleep stage ?"}
UNSCORED_SHARE = 0.01
MAX_SLEEP_EDF_NIGHTS = 200
LAYOUT_NAMES = ("nsrr", "sleep-edf")
START = datetime.datetime(1989, 4, 24, 22, 0, 0)
"""Start date and time of every synthetic night (PSG and scoring alike)."""
SLEEP_EDF_OVERRUN_EPOCHS = 2
"""Scored Wake epochs of a sleep-edf hypnogram past the PSG's last complete epoch."""
SLEEP_EDF_UNSCORED_TAIL = 2843.0
"""Seconds of the closing ``Sleep stage ?`` of a sleep-edf hypnogram (off the 30-s grid)."""
UNITS = ("uV", "mV", "V")
"""Physical dimensions the EEG and EOG can be written in."""


def markov_hypnogram(rng: np.random.Generator, n_epochs: int, without: Sequence[int] = (),
                     attempts: int = 200) -> np.ndarray:
    """Stage labels (0..4) of a night: leading Wake, a Markov chain over stages, trailing Wake.

    Stages in ``without`` (sleep stages 1..4) never occur: the chain's
    transitions into them are removed and each row renormalised. Redrawn
    (same generator) until every other stage occurs.
    """
    if n_epochs < 20:
        raise PolymodalError(f"a synthetic night needs at least 20 epochs (10 minutes), got {n_epochs}")
    allowed = np.setdiff1d(np.arange(5), without)
    if 0 not in allowed or 1 not in allowed or allowed.size < 3:
        raise PolymodalError("a synthetic night keeps W, N1 and at least one more stage; only N2, N3 or REM can be left out")
    transitions = TRANSITIONS.copy()
    transitions[:, list(without)] = 0.0
    transitions /= transitions.sum(axis=1, keepdims=True)
    for _ in range(attempts):
        lead = int(rng.integers(n_epochs // 10, n_epochs // 5 + 1))
        tail = int(rng.integers(n_epochs // 20, n_epochs // 8 + 1))
        chain = np.empty(n_epochs - lead - tail, dtype=np.int64)
        chain[0] = 1
        for i in range(1, chain.size):
            chain[i] = rng.choice(5, p=transitions[chain[i - 1]])
        stages = np.concatenate([np.zeros(lead, np.int64), chain, np.zeros(tail, np.int64)])
        if np.array_equal(np.unique(stages), allowed):
            return stages
    stages_wanted = ", ".join(STAGES[s] for s in allowed)
    raise PolymodalError(f"no hypnogram with stages {stages_wanted} in {attempts} draws of {n_epochs} epochs; use longer nights")


def scoring_codes(rng: np.random.Generator, stages: np.ndarray) -> np.ndarray:
    """R&K codes of ``stages``: N3 split into 3 and 4, ~1% movement (6) or unscored (9)."""
    codes = STAGE_TO_CODE[stages]
    codes[(stages == 3) & (rng.random(stages.size) < 0.4)] = 4
    odd = rng.random(stages.size) < UNSCORED_SHARE
    codes[odd] = rng.choice([6, 9], int(odd.sum()))
    return codes


def _runs(codes: np.ndarray) -> list[tuple[int, int, int]]:
    """``(first epoch, number of epochs, code)`` of each run of equal codes."""
    starts = np.concatenate([[0], np.flatnonzero(np.diff(codes)) + 1])
    lengths = np.diff(np.concatenate([starts, [codes.size]]))
    return [(int(s), int(n), int(codes[s])) for s, n in zip(starts, lengths)]


def write_nsrr_xml(path: Path, codes: np.ndarray, duration: float) -> None:
    """NSRR-style XML: a recording-start event at :data:`START`, ``Stages|Stages`` runs, one arousal event."""
    root = ET.Element("PSGAnnotation")
    ET.SubElement(root, "SoftwareVersion").text = "Compumedics"
    ET.SubElement(root, "EpochLength").text = str(EPOCH_SECONDS)
    events = ET.SubElement(root, "ScoredEvents")
    rows = [("", "Recording Start Time", 0.0, duration)]
    rows += [("Stages|Stages", NSRR_CONCEPTS[c], s * EPOCH_SECONDS, n * EPOCH_SECONDS) for s, n, c in _runs(codes)]
    rows.append(("Arousals|Arousals", "Arousal|Arousal ()", 95.5, 4.0))
    for event_type, concept, start, length in rows:
        event = ET.SubElement(events, "ScoredEvent")
        ET.SubElement(event, "EventType").text = event_type
        ET.SubElement(event, "EventConcept").text = concept
        ET.SubElement(event, "Start").text = f"{start:.1f}"
        ET.SubElement(event, "Duration").text = f"{length:.1f}"
        if concept == "Recording Start Time":
            ET.SubElement(event, "ClockTime").text = f"00.00.00 {START:%H.%M.%S}"
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def write_sleep_edf_hypnogram(path: Path, codes: np.ndarray, unscored_tail: float = 3600.0) -> None:
    """EDF+ hypnogram with one annotation per run, closed by a ``Sleep stage ?`` of ``unscored_tail`` s as in Sleep-EDF."""
    notes = [edfio.EdfAnnotation(s * EPOCH_SECONDS, n * EPOCH_SECONDS, SLEEP_EDF_TEXTS[c]) for s, n, c in _runs(codes)]
    notes.append(edfio.EdfAnnotation(codes.size * EPOCH_SECONDS, unscored_tail, SLEEP_EDF_TEXTS[9]))
    _edf([], notes).write(path)


def _edf(signals: list[edfio.EdfSignal], annotations: list[edfio.EdfAnnotation] | None = None) -> edfio.Edf:
    """An EDF(+) file starting at :data:`START`."""
    return edfio.Edf(signals, recording=edfio.Recording(startdate=START.date()), starttime=START.time(),
                     data_record_duration=1.0 if signals else None, annotations=annotations)


def _signal(data: np.ndarray, rate: float, label: str, unit: str = "uV") -> edfio.EdfSignal:
    """A channel stored in ``unit``; the ``data`` of a voltage channel are in µV."""
    scale = microvolts_per_unit(unit, label) if unit in UNITS else 1.0
    return edfio.EdfSignal(data / scale, rate, label=label, physical_dimension=unit)


def write_synthetic_night(out_dir: Path, index: int, layout: str, seed: int, minutes: float,
                          edge_wake_minutes: float = 0.0, without: Sequence[int] = (), unit: str = "uV") -> Path:
    """Write night ``index`` of a synthetic dataset; returns the recording's path.

    ``edge_wake_minutes`` of Wake are added before and after the ``minutes``
    of the night; ``without``: stages (1..4) the night lacks; ``unit``: the
    physical dimension of EEG and EOG (``uV``, ``mV`` or ``V``).
    """
    rng = np.random.default_rng([seed, index])
    edge = np.zeros(int(edge_wake_minutes * 60 // EPOCH_SECONDS), np.int64)
    stages = np.concatenate([edge, markov_hypnogram(rng, int(minutes * 60 // EPOCH_SECONDS), without), edge])
    n_epochs = stages.size
    codes = scoring_codes(rng, stages)
    with_tail = np.append(stages, 0)  # signal for the incomplete last epoch
    seconds = n_epochs * EPOCH_SECONDS + TAIL_SECONDS
    slow = np.linspace(95.0, 92.0, seconds) + rng.normal(0, 0.5, seconds)
    if layout == "nsrr":
        left, right = synth_eog(rng, with_tail, 50)
        signals = [_signal(synth_eeg(rng, with_tail, 125)[: seconds * 125], 125, "EEG", unit),
                   _signal(left[: seconds * 50], 50, "EOG(L)", unit), _signal(right[: seconds * 50], 50, "EOG(R)", unit),
                   _signal(slow, 1, "SaO2", "%")]
        recording = out_dir / f"synth-{index:04d}.edf"
        write_nsrr_xml(out_dir / f"synth-{index:04d}-nsrr.xml", codes, float(seconds))
    else:
        left, right = synth_eog(rng, with_tail, 100)
        signals = [_signal(synth_eeg(rng, with_tail, 100)[: seconds * 100], 100, "EEG Fpz-Cz", unit),
                   _signal((left - right)[: seconds * 100], 100, "EOG horizontal", unit),
                   _signal(slow / 10, 1, "EMG submental")]
        name = f"SY4{index // 2:02d}{index % 2 + 1}E"
        recording = out_dir / f"{name}0-PSG.edf"
        overrun = np.append(codes, np.zeros(SLEEP_EDF_OVERRUN_EPOCHS, codes.dtype))
        write_sleep_edf_hypnogram(out_dir / f"{name}C-Hypnogram.edf", overrun, SLEEP_EDF_UNSCORED_TAIL)
    _edf(signals).write(recording)
    return recording


def write_synthetic_nights(out_dir: str | Path, n_nights: int, layout: str = "nsrr", seed: int = 0,
                           minutes: float = 90.0, edge_wake_minutes: float = 0.0,
                           without_stages: Sequence[str] = (), unit: str = "uV") -> list[Path]:
    """Write ``n_nights`` scored synthetic nights of ``minutes`` each into ``out_dir``.

    Night ``i`` depends only on ``(seed, i)`` and the options. Returns the recording paths.

    Args:
        edge_wake_minutes: Wake added before and after each night (sleep-edfx
            cassettes hold hours of it).
        without_stages: stage names (``N2``, ``N3``, ``REM``) no night holds.
        unit: physical dimension of the EEG and EOG channels: ``uV``, ``mV`` or ``V``.
    """
    if layout not in LAYOUT_NAMES:
        raise PolymodalError(f"unknown sleep data layout {layout!r}; choose one of: {', '.join(LAYOUT_NAMES)}")
    if n_nights < 1:
        raise PolymodalError(f"--nights must be >= 1, got {n_nights}")
    if layout == "sleep-edf" and n_nights > MAX_SLEEP_EDF_NIGHTS:
        raise PolymodalError(f"the sleep-edf layout names at most {MAX_SLEEP_EDF_NIGHTS} nights, got {n_nights}")
    if unit not in UNITS:
        raise PolymodalError(f"unknown unit {unit!r}; choose one of: {', '.join(UNITS)}")
    if edge_wake_minutes < 0:
        raise PolymodalError(f"--edge-wake-minutes must be >= 0, got {edge_wake_minutes}")
    unknown = [name for name in without_stages if name not in STAGES]
    if unknown:
        raise PolymodalError(f"unknown sleep stage {unknown[0]!r}; choose from: {', '.join(STAGES)}")
    without = [STAGES.index(name) for name in without_stages]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [write_synthetic_night(out_dir, i, layout, seed, minutes, edge_wake_minutes, without, unit)
            for i in range(n_nights)]
