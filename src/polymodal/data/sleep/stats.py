"""Training-set z-score statistics of the spectrograms, per modality and frequency bin.

CoRe-Sleep (arXiv 2304.06485, "Data pipeline") z-scores each of the 128
frequency bins with statistics of the **training** nights only. They are
accumulated one night at a time (memory-mapped, float64 sums over the
epochs where the modality is present) and saved next to the nights as
``stats/<key>.npz`` in the cache, where the key identifies the list of training nights.
The modalities are those of the nights (:func:`~polymodal.data.sleep.cache.night_modalities`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from polymodal.data.sleep.cache import night_modalities, night_path, open_night
from polymodal.errors import PolymodalError

STATS_FOLDER = "stats"
_MEAN, _STD = "_mean", "_std"


@dataclass(frozen=True)
class SpectrogramStats:
    """Per-bin mean and standard deviation ``[128]`` of each modality."""

    mean: dict[str, np.ndarray]
    std: dict[str, np.ndarray]

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(self.mean)

    def normalize(self, modality: str, x: np.ndarray) -> np.ndarray:
        """``(x - mean) / std`` along the last (frequency) axis, as float32."""
        return ((x - self.mean[modality]) / self.std[modality]).astype(np.float32)


def compute_stats(cache_dir: Path, night_ids: list[str]) -> SpectrogramStats:
    """Per-bin mean/std over all frames of the present epochs of ``night_ids``."""
    if not night_ids:
        raise PolymodalError(f"{cache_dir}: no training nights to compute z-score statistics from")
    sums: dict[str, np.ndarray] = {}  # per modality: count, sum, sum of squares
    for night in night_ids:
        arrays = open_night(night_path(cache_dir, night))
        modalities = night_modalities(arrays)
        if sums and set(modalities) != set(sums):
            raise PolymodalError(f"{cache_dir}: night {night!r} holds modalities {', '.join(modalities)}, "
                                 f"other nights {', '.join(sums)}")
        for m in modalities:
            x = np.asarray(arrays[m][np.asarray(arrays[f"present_{m}"])], dtype=np.float64)
            bins = arrays[m].shape[-1]
            sums.setdefault(m, np.zeros((3, bins)))
            sums[m] += [np.full(bins, x.shape[0] * x.shape[1]), x.sum(axis=(0, 1)), (x**2).sum(axis=(0, 1))]
    mean, std = {}, {}
    for m, (count, total, squares) in sums.items():
        if count[0] < 2:
            raise PolymodalError(f"{cache_dir}: the training nights hold no {m.upper()} epoch to normalise with")
        mean[m] = total / count
        std[m] = np.sqrt(np.maximum(squares / count - mean[m] ** 2, 0.0) * count / (count - 1))
        if (std[m] == 0).any():
            raise PolymodalError(f"{cache_dir}: {m.upper()} frequency bin {int(np.argmax(std[m] == 0)) + 1} is constant over the training nights")
    return SpectrogramStats(mean, std)


def stats_path(cache_dir: Path, night_ids: list[str]) -> Path:
    key = hashlib.sha1("\n".join(sorted(night_ids)).encode()).hexdigest()[:12]
    return cache_dir / STATS_FOLDER / f"{key}.npz"


def training_stats(cache_dir: Path, night_ids: list[str]) -> SpectrogramStats:
    """Load the statistics of these training nights, computing and saving them on first use."""
    path = stats_path(cache_dir, night_ids)
    if path.exists():
        with np.load(path, allow_pickle=False) as saved:
            modalities = [k[: -len(_MEAN)] for k in saved.files if k.endswith(_MEAN)]
            return SpectrogramStats({m: saved[f"{m}{_MEAN}"] for m in modalities},
                                    {m: saved[f"{m}{_STD}"] for m in modalities})
    stats = compute_stats(cache_dir, night_ids)
    path.parent.mkdir(exist_ok=True)
    partial = path.with_name(f".{path.stem}.partial-{os.getpid()}.npz")
    try:
        np.savez(partial, nights=np.array(sorted(night_ids)), **{f"{m}{_MEAN}": stats.mean[m] for m in stats.modalities},
                 **{f"{m}{_STD}": stats.std[m] for m in stats.modalities})
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return stats
