"""A torch ``Dataset`` of L-epoch sequences over prepared nights (item contract of ``polymodal.data``).

Each item is one window of ``L`` consecutive epochs of one night (CoRe-Sleep,
arXiv 2304.06485: L = 21, windows never straddle two nights); the modalities
are those of the prepared nights (here the default ``eeg`` and ``eog``)::

    {"inputs": {"eeg": [L, 29, 128], "eog": [L, 29, 128]},   # z-scored log spectrograms
     "target": [L] long,                                     # W=0, N1=1, N2=2, N3=3, REM=4
     "present": {"eeg": bool[L], "eog": bool[L]}}

``present`` is False on epochs where the channel was flat in the recording,
and on every epoch of a night chosen to miss that modality; absent inputs
are zero (as :func:`polymodal.data.contract.collate_items` zero-fills).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from polymodal.data.contract import Item
from polymodal.data.sleep.cache import night_modalities, night_path, open_night
from polymodal.data.sleep.scoring import NUM_STAGES, STAGES
from polymodal.data.sleep.stats import SpectrogramStats
from polymodal.data.sleep.windows import window_starts
from polymodal.errors import PolymodalError


class SleepSequenceDataset(Dataset):
    """Windows of ``seq_len`` epochs every ``stride`` epochs over the cached nights ``night_ids``.

    Args:
        cache_dir: folder written by :func:`polymodal.data.sleep.prepare.prepare_cache`.
        night_ids: the nights of this split.
        stats: training-set z-score statistics.
        seq_len: epochs per window (L).
        stride: epochs between window starts (1 for the sliding evaluation);
            a last window ending at the night's end is always added.
        missing: night id → modality that night lacks entirely.
        source: name of the split in messages.

    ``modalities``: those of the nights (every night must hold the same ones).
    """

    class_names = STAGES

    def __init__(
        self,
        cache_dir: str | Path,
        night_ids: Sequence[str],
        stats: SpectrogramStats,
        seq_len: int = 21,
        stride: int = 21,
        missing: Mapping[str, str] | None = None,
        source: str = "sleep",
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.night_ids = list(night_ids)
        self.stats = stats
        self.seq_len = seq_len
        self.source = source
        self.paths = [night_path(self.cache_dir, night) for night in self.night_ids]
        for path in self.paths:
            if not path.exists():
                raise PolymodalError(f"{source}: no prepared night {path.name} in {self.cache_dir}")
        self.modalities = self._modalities(stats)
        missing = dict(missing or {})
        for night, modality in missing.items():
            if modality not in self.modalities or night not in self.night_ids:
                raise PolymodalError(f"{source}: cannot mark {modality!r} missing in night {night!r}")
        self.missing = [missing.get(night) for night in self.night_ids]
        self.night_lengths = [int(open_night(path)["y"].shape[0]) for path in self.paths]
        starts = [window_starts(n, seq_len, stride) for n in self.night_lengths]
        self.windows = np.concatenate(
            [np.zeros((0, 2), np.int64)] + [np.stack([np.full_like(s, i), s], axis=1) for i, s in enumerate(starts)]
        )
        if len(self.windows) == 0:
            raise PolymodalError(f"{source}: no night holds {seq_len} epochs")

    def _modalities(self, stats: SpectrogramStats) -> tuple[str, ...]:
        """The modalities every night holds, which the statistics must cover."""
        first = night_modalities(open_night(self.paths[0])) if self.paths else stats.modalities
        for path in self.paths:
            found = night_modalities(open_night(path))
            if set(found) != set(first):
                raise PolymodalError(f"{self.source}: night {path.name} holds modalities {', '.join(found)}, "
                                     f"{self.paths[0].name} holds {', '.join(first)}")
        lacking = [m for m in first if m not in stats.modalities]
        if lacking:
            raise PolymodalError(f"{self.source}: no z-score statistics for modality {lacking[0]!r}")
        return first

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> Item:
        night, start = (int(v) for v in self.windows[index])
        arrays = open_night(self.paths[night])
        epochs = slice(start, start + self.seq_len)
        inputs, present = {}, {}
        for m in self.modalities:
            mask = np.array(arrays[f"present_{m}"][epochs]) & (self.missing[night] != m)
            x = self.stats.normalize(m, np.asarray(arrays[m][epochs]))
            x[~mask] = 0.0
            inputs[m] = torch.from_numpy(x)
            present[m] = torch.from_numpy(mask)
        target = torch.from_numpy(np.asarray(arrays["y"][epochs], dtype=np.int64))
        return {"inputs": inputs, "target": target, "present": present}

    def shapes(self) -> dict[str, tuple[int, ...]]:
        arrays = open_night(self.paths[0])
        return {m: (self.seq_len, *arrays[m].shape[1:]) for m in self.modalities}

    def num_classes(self) -> int:
        return NUM_STAGES
