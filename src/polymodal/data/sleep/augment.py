"""Training-time corruption of one modality of a share of the training sequences.

CoRe-Sleep (arXiv 2304.06485) is evaluated with one modality degraded
(additive Gaussian noise at several SNRs, blow-ups, flat lines, dropped
segments); the project applies the same corruptions "optionally at training"
(DESIGN.md, robustness). With probability ``probability`` a training window
gets one corruption, drawn uniformly among those whose modality is present
somewhere in the window; it is applied to that window's band-passed 100 Hz
signal, and the input is recomputed as at evaluation
(:func:`polymodal.data.sleep.conditions.corrupted_epochs`). A noisy modality
stays present: the model learns to stage from (or around) a degraded signal.

Randomness comes from torch's global generator (seeded by
``seed_everything``; each data-loader worker has its own stream), so the
corruptions differ from epoch to epoch and are reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from polymodal.data.contract import Item
from polymodal.data.sleep.conditions import corrupted_epochs
from polymodal.data.sleep.corruptions import Condition, parse_condition
from polymodal.data.sleep.dataset import SleepSequenceDataset
from polymodal.errors import PolymodalError


def training_corruptions(names: Sequence[str], modalities: Sequence[str]) -> list[Condition]:
    """Parse ``<modality>_<corruption>`` names (e.g. ``eeg_gauss_snr-5to10``); other conditions raise."""
    conditions = [parse_condition(name, modalities) for name in names]
    for condition in conditions:
        if len(condition.corrupted) != 1:
            raise PolymodalError(f"training corruption {condition.name!r} must corrupt one modality, "
                                 f"e.g. eeg_gauss_snr-5to10")
    return conditions


class CorruptedTrainingDataset(Dataset):
    """The windows of ``base``, a share ``probability`` of them with one modality corrupted.

    Args:
        base: the training windows.
        corruptions: conditions that each corrupt one modality.
        probability: chance that a window is corrupted.
    """

    def __init__(self, base: SleepSequenceDataset, corruptions: Sequence[Condition], probability: float) -> None:
        if not 0.0 <= probability <= 1.0:
            raise PolymodalError(f"train_corruption_probability must lie in [0, 1], got {probability}")
        if probability > 0 and not corruptions:
            raise PolymodalError("train_corruption_probability > 0 needs train_corruptions, e.g. ['eeg_gauss_snr-5to10']")
        self.base = base
        self.corruptions = [(m, transform, c.name) for c in corruptions for m, transform in c.corrupted.items()]
        self.probability = probability
        self.modalities = base.modalities
        self.class_names = base.class_names
        self.windows = base.windows

    def __len__(self) -> int:
        return len(self.base)

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return self.base.shapes()

    def num_classes(self) -> int:
        return self.base.num_classes()

    def __getitem__(self, index: int) -> Item:
        item = self.base[index]
        if not self.corruptions or float(torch.rand(())) >= self.probability:
            return item
        candidates = [c for c in self.corruptions if bool(item["present"][c[0]].any())]
        if not candidates:
            return item
        modality, transform, name = candidates[int(torch.randint(len(candidates), ()))]
        rng = np.random.default_rng(int(torch.randint(2**62, ())))
        night, start = (int(v) for v in self.windows[index])
        x, mask = corrupted_epochs(self.base, night, slice(start, start + self.base.seq_len), modality, transform,
                                   rng, name)
        item["inputs"][modality] = torch.from_numpy(x)
        item["present"][modality] = torch.from_numpy(mask)
        return item
