"""Reading the EEG and EOG channels of one EDF recording at their native rates.

Only the requested channels are decoded (edfio lazy loading). Any warning
from the EDF reader (truncated file, record count that disagrees with the
header, uncalibrated signal) is treated as a corrupt file: a night is
reported and skipped rather than staged from damaged data.

Each channel is converted to µV from the physical dimension in its header
(:func:`microvolts_per_unit`); a unit that is not a voltage is an error
naming the file and channel.

"Mismatched sampling rates" means: EOG(L) and EOG(R) at different rates (the
derivation L − R needs them sample-aligned), or a channel rate the pipeline
cannot use (see :func:`polymodal.data.sleep.signal.check_rate`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import edfio
import numpy as np

from polymodal.data.sleep.signal import EEG_BAND, EOG_BAND, EPOCH_SECONDS, check_rate
from polymodal.data.sleep.start_time import Start, edf_start
from polymodal.errors import PolymodalError


VOLT_UNITS = {"mV": 1e3, "V": 1e6}
MICRO_PREFIXES = ("u", "\u00b5", "\u03bc", "\ufffd", "\ufffd\ufffd")
"""Spellings of the micro prefix: ASCII u, micro sign, Greek mu, and U+FFFD for µ in Latin-1 (one byte) or UTF-8 (two)."""


@dataclass(frozen=True)
class ChannelSpec:
    """Which EDF channels make the EEG and the EOG.

    Attributes:
        eeg: label of the EEG channel (SHHS: ``EEG`` = C4-A1).
        eog_left: label of the left EOG channel, or of a single bipolar EOG channel.
        eog_right: label of the right EOG channel, subtracted from the left;
            ``None`` when ``eog_left`` already is a bipolar derivation.
    """

    eeg: str
    eog_left: str
    eog_right: str | None = None


@dataclass(frozen=True)
class Recording:
    """Native-rate EEG and EOG (L − R) of one night in µV, their rates in Hz, and the start of the recording."""

    eeg: np.ndarray
    eeg_rate: float
    eog: np.ndarray
    eog_rate: float
    start: Start

    @property
    def n_epochs(self) -> int:
        """Complete 30-s epochs held by both channels."""
        return int(min(len(self.eeg) / self.eeg_rate, len(self.eog) / self.eog_rate) // EPOCH_SECONDS)


def read_recording(path: Path, channels: ChannelSpec) -> Recording:
    """Read and check the channels of ``channels`` from the EDF file ``path``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            edf = edfio.read_edf(path, lazy_load_data=True)
            signals = {label: _signal(edf, label, path) for label in _labels(channels)}
            scale = {label: microvolts_per_unit(s.physical_dimension, f"{path.name} channel {label!r}")
                     for label, s in signals.items()}
            data = {label: np.asarray(s.data, dtype=np.float64) * scale[label] for label, s in signals.items()}
        start = edf_start(edf)
    except PolymodalError:
        raise
    except (ValueError, OSError, IndexError, UnicodeDecodeError, UserWarning) as exc:
        raise PolymodalError(f"{path.name}: corrupt EDF ({exc})") from exc
    rates = {label: float(s.sampling_frequency) for label, s in signals.items()}
    check_rate(rates[channels.eeg], EEG_BAND, f"{path.name} channel {channels.eeg!r}")
    check_rate(rates[channels.eog_left], EOG_BAND, f"{path.name} channel {channels.eog_left!r}")
    eog = data[channels.eog_left]
    if channels.eog_right is not None:
        if rates[channels.eog_right] != rates[channels.eog_left]:
            raise PolymodalError(
                f"{path.name}: EOG channels sampled at different rates ({channels.eog_left!r} "
                f"{rates[channels.eog_left]:g} Hz, {channels.eog_right!r} {rates[channels.eog_right]:g} Hz)"
            )
        eog = eog - data[channels.eog_right]
    return Recording(data[channels.eeg], rates[channels.eeg], eog, rates[channels.eog_left], start)


def microvolts_per_unit(unit: str, what: str) -> float:
    """µV per unit of an EDF physical dimension: ``uV``/``µV`` → 1, ``mV`` → 1000, ``V`` → 10⁶.

    EDF headers are ASCII; a µ written in another encoding reaches here as
    U+FFFD (edfio decodes with replacement), which is read as µ.
    """
    text = unit.strip()
    if text.endswith("V") and text[:-1] in MICRO_PREFIXES:
        return 1.0
    if text not in VOLT_UNITS:
        raise PolymodalError(f"{what}: unknown physical dimension {text!r} (expected uV, mV or V)")
    return VOLT_UNITS[text]


def _labels(channels: ChannelSpec) -> list[str]:
    return [label for label in (channels.eeg, channels.eog_left, channels.eog_right) if label is not None]


def _signal(edf: edfio.Edf, label: str, path: Path) -> edfio.EdfSignal:
    matches = [s for s in edf.signals if s.label.strip() == label]
    if not matches:
        available = ", ".join(repr(s.label.strip()) for s in edf.signals) or "none"
        raise PolymodalError(f"{path.name}: no channel {label!r} (channels: {available})")
    if len(matches) > 1:
        raise PolymodalError(f"{path.name}: channel label {label!r} appears {len(matches)} times")
    return matches[0]
