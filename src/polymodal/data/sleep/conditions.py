"""Sequence windows of a night split under an evaluation condition (modality removed or corrupted).

Wraps a :class:`~polymodal.data.sleep.dataset.SleepSequenceDataset` and
serves the same windows. A corrupted modality is recomputed from the cached
band-passed signal of the whole night: corruption (seeded per night and
modality, so every window of a night sees the same degraded recording),
flat-epoch rule, STFT, training-set z-score (CoRe-Sleep, arXiv 2304.06485,
"Data pipeline"). The night last used is kept, so a loader that walks the
windows in order corrupts each night once.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from polymodal.data.contract import Item
from polymodal.data.sleep.cache import BAND_PREFIX, open_night
from polymodal.data.sleep.corruptions import Condition, Corruption
from polymodal.data.sleep.dataset import SleepSequenceDataset
from polymodal.data.sleep.signal import PREPARED_BANDS, constant_rows, epoch_spectrograms
from polymodal.errors import PolymodalError


def stored_band(arrays: dict[str, np.ndarray], modality: str, night: str) -> tuple[float, float]:
    """Edges in Hz of the band-pass of a night's stored ``modality`` signal.

    Nights prepared before the band was stored give none; theirs is the
    preparation's band of that modality.
    """
    key = f"{BAND_PREFIX}{modality}"
    if key in arrays:
        low, high = (float(v) for v in arrays[key])
        return low, high
    if modality in PREPARED_BANDS:
        return PREPARED_BANDS[modality]
    raise PolymodalError(f"{night}: no stored band-pass of the {modality!r} signal to corrupt")


def corrupted_epochs(base: SleepSequenceDataset, night: int, epochs: slice, modality: str, transform: Corruption,
                     rng: np.random.Generator, label: str) -> tuple[np.ndarray, np.ndarray]:
    """Normalised spectrograms ``[n, 29, 128]`` and presence ``[n]`` of ``epochs`` of a night of ``base``
    with ``modality`` corrupted by ``transform`` (its band-passed 100 Hz signal, then the flat-epoch
    rule, STFT and training-set z-score); ``label`` names the corruption in messages.
    """
    arrays = open_night(base.paths[night])
    key = f"signal_{modality}"
    if key not in arrays:
        raise PolymodalError(f"{base.paths[night].name}: no stored {modality.upper()} signal to corrupt; "
                             f"prepare the cache again with this version of polymodal")
    mask = np.array(arrays[f"present_{modality}"][epochs]) & (base.missing[night] != modality)
    band = stored_band(arrays, modality, base.paths[night].name)
    signal = transform(np.array(arrays[key][epochs]), mask, band, rng)
    mask &= ~constant_rows(signal)
    x = np.zeros((len(signal), *base.shapes()[modality][1:]), dtype=np.float32)
    x[mask] = base.stats.normalize(modality, epoch_spectrograms(signal[mask].reshape(-1), int(mask.sum())))
    if not np.isfinite(x).all():
        raise PolymodalError(f"{base.paths[night].name}: {label!r} gives a non-finite {modality.upper()} spectrogram")
    return x, mask


class ConditionDataset(Dataset):
    """The windows of ``base`` with ``condition`` applied; ``seed`` fixes the corruptions' randomness."""

    def __init__(self, base: SleepSequenceDataset, condition: Condition, seed: int = 0) -> None:
        self.base = base
        self.condition = condition
        self.seed = seed
        self.modalities = base.modalities
        self.windows = base.windows
        self._night: tuple[int, dict[str, np.ndarray], dict[str, np.ndarray]] | None = None
        for m in (*condition.removed, *condition.corrupted):
            if m not in base.modalities:
                raise PolymodalError(f"condition {condition.name!r}: the sleep data has no modality {m!r}")

    def __len__(self) -> int:
        return len(self.base)

    def corrupted_night(self, night: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Normalised spectrograms ``[n, 29, 128]`` and presence ``[n]`` of the corrupted modalities of one night."""
        if self._night is not None and self._night[0] == night:
            return self._night[1], self._night[2]
        arrays = open_night(self.base.paths[night])
        epochs = slice(0, len(arrays["y"]))
        inputs, present = {}, {}
        for m, transform in self.condition.corrupted.items():
            rng = np.random.default_rng([self.seed, night, self.base.modalities.index(m)])
            inputs[m], present[m] = corrupted_epochs(self.base, night, epochs, m, transform, rng,
                                                     self.condition.name)
        self._night = (night, inputs, present)
        return inputs, present

    def __getitem__(self, index: int) -> Item:
        item = self.base[index]
        if self.condition.corrupted:
            night, start = (int(v) for v in self.windows[index])
            inputs, present = self.corrupted_night(night)
            epochs = slice(start, start + self.base.seq_len)
            for m in inputs:
                item["inputs"][m] = torch.from_numpy(inputs[m][epochs].copy())
                item["present"][m] = torch.from_numpy(present[m][epochs].copy())
        for m in self.condition.removed:
            item["inputs"][m] = torch.zeros_like(item["inputs"][m])
            item["present"][m] = torch.zeros_like(item["present"][m])
        return item
