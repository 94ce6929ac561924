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

Scoring uses R&K codes as the real files do: N3 epochs are scored 3 or 4,
about 1% of epochs are movement or unscored, and each night has long
leading and trailing Wake and a 17-s incomplete epoch at the end.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import edfio
import numpy as np

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


def markov_hypnogram(rng: np.random.Generator, n_epochs: int, attempts: int = 200) -> np.ndarray:
    """Stage labels (0..4) of a night: leading Wake, a Markov chain over stages, trailing Wake.

    Redrawn (same generator) until all five stages occur.
    """
    if n_epochs < 20:
        raise PolymodalError(f"a synthetic night needs at least 20 epochs (10 minutes), got {n_epochs}")
    for _ in range(attempts):
        lead = int(rng.integers(n_epochs // 10, n_epochs // 5 + 1))
        tail = int(rng.integers(n_epochs // 20, n_epochs // 8 + 1))
        chain = np.empty(n_epochs - lead - tail, dtype=np.int64)
        chain[0] = 1
        for i in range(1, chain.size):
            chain[i] = rng.choice(5, p=TRANSITIONS[chain[i - 1]])
        stages = np.concatenate([np.zeros(lead, np.int64), chain, np.zeros(tail, np.int64)])
        if np.unique(stages).size == 5:
            return stages
    raise PolymodalError(f"no hypnogram with all five stages in {attempts} draws of {n_epochs} epochs; use longer nights")


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
    """NSRR-style XML: a recording-start event, ``Stages|Stages`` runs, one arousal event."""
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
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def write_sleep_edf_hypnogram(path: Path, codes: np.ndarray) -> None:
    """EDF+ hypnogram with one annotation per run, closed by a long ``Sleep stage ?`` as in Sleep-EDF."""
    notes = [edfio.EdfAnnotation(s * EPOCH_SECONDS, n * EPOCH_SECONDS, SLEEP_EDF_TEXTS[c]) for s, n, c in _runs(codes)]
    notes.append(edfio.EdfAnnotation(codes.size * EPOCH_SECONDS, 3600.0, SLEEP_EDF_TEXTS[9]))
    edfio.Edf([], annotations=notes).write(path)


def _signal(data: np.ndarray, rate: float, label: str, unit: str = "uV") -> edfio.EdfSignal:
    return edfio.EdfSignal(data, rate, label=label, physical_dimension=unit)


def write_synthetic_night(out_dir: Path, index: int, layout: str, seed: int, minutes: float) -> Path:
    """Write night ``index`` of a synthetic dataset; returns the recording's path."""
    rng = np.random.default_rng([seed, index])
    n_epochs = int(minutes * 60 // EPOCH_SECONDS)
    stages = markov_hypnogram(rng, n_epochs)
    codes = scoring_codes(rng, stages)
    with_tail = np.append(stages, 0)  # signal for the incomplete last epoch
    seconds = n_epochs * EPOCH_SECONDS + TAIL_SECONDS
    slow = np.linspace(95.0, 92.0, seconds) + rng.normal(0, 0.5, seconds)
    if layout == "nsrr":
        left, right = synth_eog(rng, with_tail, 50)
        signals = [_signal(synth_eeg(rng, with_tail, 125)[: seconds * 125], 125, "EEG"),
                   _signal(left[: seconds * 50], 50, "EOG(L)"), _signal(right[: seconds * 50], 50, "EOG(R)"),
                   _signal(slow, 1, "SaO2", "%")]
        recording = out_dir / f"synth-{index:04d}.edf"
        write_nsrr_xml(out_dir / f"synth-{index:04d}-nsrr.xml", codes, float(seconds))
    else:
        left, right = synth_eog(rng, with_tail, 100)
        signals = [_signal(synth_eeg(rng, with_tail, 100)[: seconds * 100], 100, "EEG Fpz-Cz"),
                   _signal((left - right)[: seconds * 100], 100, "EOG horizontal"),
                   _signal(slow / 10, 1, "EMG submental")]
        name = f"SY4{index // 2:02d}{index % 2 + 1}E"
        recording = out_dir / f"{name}0-PSG.edf"
        write_sleep_edf_hypnogram(out_dir / f"{name}C-Hypnogram.edf", codes)
    edfio.Edf(signals, data_record_duration=1.0).write(recording)
    return recording


def write_synthetic_nights(out_dir: str | Path, n_nights: int, layout: str = "nsrr", seed: int = 0,
                           minutes: float = 90.0) -> list[Path]:
    """Write ``n_nights`` scored synthetic nights of ``minutes`` each into ``out_dir``.

    Night ``i`` depends only on ``(seed, i)``. Returns the recording paths.
    """
    if layout not in LAYOUT_NAMES:
        raise PolymodalError(f"unknown sleep data layout {layout!r}; choose one of: {', '.join(LAYOUT_NAMES)}")
    if n_nights < 1:
        raise PolymodalError(f"--nights must be >= 1, got {n_nights}")
    if layout == "sleep-edf" and n_nights > MAX_SLEEP_EDF_NIGHTS:
        raise PolymodalError(f"the sleep-edf layout names at most {MAX_SLEEP_EDF_NIGHTS} nights, got {n_nights}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [write_synthetic_night(out_dir, i, layout, seed, minutes) for i in range(n_nights)]
