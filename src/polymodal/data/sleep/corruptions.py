"""Corruptions of one modality's signal and the evaluation and training conditions built from them.

CoRe-Sleep (arXiv 2304.06485, "Evaluation") tests a model on both
modalities, on one modality alone, and with one modality degraded: additive
Gaussian noise at several SNRs, amplitude blow-ups, flat lines and dropped
segments. Here a corruption is a transform of a night's band-passed 100 Hz
signal ``[n_epochs, 3000]`` (what the cache stores next to the spectrograms),
applied **before** the STFT, so the model sees what the pipeline would
compute from a degraded recording. After any corruption the pipeline's own
rule marks an epoch absent when all its samples are equal (as
:func:`polymodal.data.sleep.prepare.prepare_night` does), which is how a flat
line and a dropped segment reach the model: zero input, presence False.

Corruption names (a family and an optional parameter):

- ``gauss_snr<dB>`` — additive Gaussian noise, band-limited by the modality's
  band-pass (noise that entered the recording went through the same filter),
  scaled so that (mean signal power over the night's present epochs) /
  (noise power) = 10^(dB/10); e.g. ``gauss_snr10``, ``gauss_snr0``, ``gauss_snr-5``.
  ``gauss_snr<low>to<high>`` draws the SNR uniformly in [low, high] dB at
  each call (training-time augmentation), e.g. ``gauss_snr-5to10``.
- ``blowup`` / ``blowup_x<F>`` — the amplitude multiplied by F (default 10).
- ``flat`` — the channel is flat for the whole night.
- ``dropseg`` / ``dropseg_p<P>`` — P % (default 30) of the night's 5-minute
  blocks (10 epochs) are lost: zero samples, hence absent.

Conditions (over the modalities of the data, e.g. ``eeg`` and ``eog``):
``both`` (inputs as recorded), ``<m>_only`` (every other modality
removed: presence False, input zero), ``<m>_<corruption>`` (modality ``m``
corrupted), e.g. ``eeg_gauss_snr0``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from polymodal.data.sleep.signal import bandpass
from polymodal.errors import PolymodalError
from polymodal.registry import Registry

BLOCK_EPOCHS = 10
"""Epochs per dropped block of ``dropseg`` (5 minutes)."""
BOTH = "both"
ONLY_SUFFIX = "_only"


class Corruption(Protocol):
    """A transform of one modality's epoch signals ``[n, samples]`` at 100 Hz.

    ``erases_epochs`` says whether it can leave epochs without the modality
    (flat samples, hence absent).
    """

    name: str
    erases_epochs: bool

    def __call__(self, signal: np.ndarray, present: np.ndarray, band: tuple[float, float],
                 rng: np.random.Generator) -> np.ndarray: ...


@dataclass(frozen=True)
class GaussianNoise:
    """Band-limited additive Gaussian noise at ``snr_db`` relative to the present epochs' mean power.

    With ``snr_high_db`` set, each call draws the SNR uniformly in
    ``[snr_db, snr_high_db]`` from ``rng``.
    """

    snr_db: float
    name: str = ""
    snr_high_db: float | None = None
    erases_epochs: bool = field(default=False, init=False)

    def __call__(self, signal: np.ndarray, present: np.ndarray, band: tuple[float, float],
                 rng: np.random.Generator) -> np.ndarray:
        if not present.any():
            return signal.copy()
        snr_db = self.snr_db if self.snr_high_db is None else rng.uniform(self.snr_db, self.snr_high_db)
        signal_power = float(np.mean(np.square(signal[present], dtype=np.float64)))
        noise = bandpass(rng.standard_normal(signal.size), band).reshape(signal.shape)
        noise_power = float(np.mean(np.square(noise[present])))
        scale = np.sqrt(signal_power / (noise_power * 10.0 ** (snr_db / 10.0)))
        return (signal + scale * noise).astype(signal.dtype)


@dataclass(frozen=True)
class AmplitudeBlowup:
    """The amplitude multiplied by ``factor`` (a gain fault or a loose electrode)."""

    factor: float
    name: str = ""
    erases_epochs: bool = field(default=False, init=False)

    def __call__(self, signal: np.ndarray, present: np.ndarray, band: tuple[float, float],
                 rng: np.random.Generator) -> np.ndarray:
        return (signal * self.factor).astype(signal.dtype)


@dataclass(frozen=True)
class FlatLine:
    """The channel flat (all samples zero) for the whole night."""

    name: str = "flat"
    erases_epochs: bool = field(default=True, init=False)

    def __call__(self, signal: np.ndarray, present: np.ndarray, band: tuple[float, float],
                 rng: np.random.Generator) -> np.ndarray:
        return np.zeros_like(signal)


@dataclass(frozen=True)
class DroppedSegments:
    """``round(fraction × blocks)`` random blocks of :data:`BLOCK_EPOCHS` epochs set to zero."""

    fraction: float
    name: str = ""
    erases_epochs: bool = field(default=True, init=False)

    def __call__(self, signal: np.ndarray, present: np.ndarray, band: tuple[float, float],
                 rng: np.random.Generator) -> np.ndarray:
        blocks = np.arange(len(signal)) // BLOCK_EPOCHS
        n_blocks = int(blocks[-1]) + 1 if len(signal) else 0
        dropped = rng.permutation(n_blocks)[: round(self.fraction * n_blocks)]
        return np.where(np.isin(blocks, dropped)[:, None], 0.0, signal).astype(signal.dtype)


CORRUPTIONS: Registry[Callable[[str, str], Corruption]] = Registry("corruption")
_NUMBER = r"(-?\d+(?:\.\d+)?)"


def _parameter(name: str, text: str, prefix: str, default: float | None, form: str) -> float:
    """The number after ``prefix`` in ``text`` (``default`` when ``text`` is empty)."""
    if not text and default is not None:
        return default
    match = re.fullmatch(prefix + _NUMBER, text)
    if match is None:
        raise PolymodalError(f"corruption {name!r}: expected the form {form}")
    return float(match.group(1))


@CORRUPTIONS.register("gauss")
def _gauss(name: str, parameter: str) -> Corruption:
    match = re.fullmatch(f"snr{_NUMBER}to{_NUMBER}", parameter)
    if match is None:
        return GaussianNoise(_parameter(name, parameter, "snr", None,
                                        "gauss_snr<dB> or gauss_snr<low>to<high>, e.g. gauss_snr0"), name)
    low, high = float(match.group(1)), float(match.group(2))
    if low > high:
        raise PolymodalError(f"corruption {name!r}: the SNR range must run from low to high dB")
    return GaussianNoise(low, name, snr_high_db=high)


@CORRUPTIONS.register("blowup")
def _blowup(name: str, parameter: str) -> Corruption:
    factor = _parameter(name, parameter, "x", 10.0, "blowup or blowup_x<factor>, e.g. blowup_x10")
    if factor <= 0:
        raise PolymodalError(f"corruption {name!r}: the factor must be > 0")
    return AmplitudeBlowup(factor, name)


@CORRUPTIONS.register("flat")
def _flat(name: str, parameter: str) -> Corruption:
    if parameter:
        raise PolymodalError(f"corruption {name!r}: 'flat' takes no parameter")
    return FlatLine(name)


@CORRUPTIONS.register("dropseg")
def _dropseg(name: str, parameter: str) -> Corruption:
    percent = _parameter(name, parameter, "p", 30.0, "dropseg or dropseg_p<percent>, e.g. dropseg_p30")
    if not 0 <= percent <= 100:
        raise PolymodalError(f"corruption {name!r}: the percentage must lie in [0, 100]")
    return DroppedSegments(percent / 100.0, name)


def corruption(name: str) -> Corruption:
    """The corruption called ``name`` (``<family>`` or ``<family>_<parameter>``)."""
    family, _, parameter = name.partition("_")
    return CORRUPTIONS.get(family)(name, parameter)


@dataclass(frozen=True)
class Condition:
    """An evaluation condition: modalities removed and modalities corrupted."""

    name: str
    removed: tuple[str, ...] = ()
    corrupted: Mapping[str, Corruption] = field(default_factory=dict)

    @property
    def erased(self) -> set[str]:
        """Modalities removed, or corrupted so that some epochs lose them."""
        return set(self.removed) | {m for m, c in self.corrupted.items() if c.erases_epochs}


def parse_condition(name: str, modalities: Sequence[str]) -> Condition:
    """``both``, ``<m>_only`` or ``<m>_<corruption>`` over the data's ``modalities``.

    A modality name may hold underscores (``eeg_c4_only``): the longest
    modality that ``name`` starts with, followed by ``_``, is the one meant.
    """
    if name == BOTH:
        return Condition(name)
    matches = sorted((m for m in modalities if name.startswith(f"{m}_")), key=len, reverse=True)
    modality = matches[0] if matches else ""
    rest = name[len(modality) + 1:] if matches else ""
    if not rest:
        forms = ", ".join([BOTH, *(f"{m}_only" for m in modalities), *(f"{m}_<corruption>" for m in modalities)])
        raise PolymodalError(f"unknown condition {name!r}; use one of: {forms} "
                             f"(corruptions: {', '.join(CORRUPTIONS.names())})")
    if f"_{rest}" == ONLY_SUFFIX:
        return Condition(name, removed=tuple(m for m in modalities if m != modality))
    return Condition(name, corrupted={modality: corruption(rest)})


def parse_conditions(text: str | Sequence[str], modalities: Sequence[str]) -> list[Condition]:
    """Conditions from a comma-separated string or a list of names (repeats are an error)."""
    names = [n.strip() for n in text.split(",") if n.strip()] if isinstance(text, str) else list(text)
    if not names:
        raise PolymodalError("give at least one condition, e.g. --conditions both,eeg_only,eog_only")
    repeated = [n for n in names if names.count(n) > 1]
    if repeated:
        raise PolymodalError(f"condition {repeated[0]!r} is given twice")
    return [parse_condition(n, modalities) for n in names]


def snr_of(condition: Condition) -> tuple[str, float] | None:
    """``(modality, SNR dB)`` of a Gaussian-noise condition at one SNR, else None."""
    for modality, transform in condition.corrupted.items():
        if isinstance(transform, GaussianNoise) and transform.snr_high_db is None:
            return modality, transform.snr_db
    return None
