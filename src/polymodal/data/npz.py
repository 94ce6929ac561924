"""Bring-your-own data from ``.npz`` files: one array per modality plus ``y``.

Each split is one file (``np.savez(path, audio=..., video=..., y=...)``);
without ``y`` the samples are unlabelled (for the contrastive task), in
every split alike.
Optional integer arrays ``k_<modality>`` are that modality's content keys
for retrieval (samples with the same key share content).
Integer ``y`` means classification (labels ``0..C-1``, every class present
in the training file, ``C >= 2``), float ``y`` regression. Files are
validated on load (:mod:`polymodal.data.validation`): shapes, dtypes, label
range, NaN/Inf, values beyond float32, empty splits and modalities, and that
all splits share modalities.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from polymodal.data.arrays import ArrayDataset
from polymodal.data.datamodule import MultimodalDataModule, arrays_from_mapping, check_consistent
from polymodal.errors import PolymodalError


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` file (pickled objects are refused)."""
    path = Path(path)
    if not path.is_file():
        raise PolymodalError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise PolymodalError(f"{path}: not a readable .npz file (not a zip archive of named arrays as np.savez writes)")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        raise PolymodalError(f"{path}: not a readable .npz file ({err})") from None


class NpzDataModule(MultimodalDataModule):
    """Train/val/test ``.npz`` files (val and test optional).

    Args:
        train: training file (optional only for ``test``/``validate``).
        val: validation file; without it a seeded ``val_fraction`` of train is held out.
        test: test file, evaluated after fitting.
        **kwargs: see :class:`MultimodalDataModule` (batch_size, modalities, ...).
    """

    def __init__(
        self,
        train: str | None = None,
        val: str | None = None,
        test: str | None = None,
        batch_size: int = 64,
        num_workers: int = 0,
        modalities: list[str] | None = None,
        val_fraction: float = 0.1,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers, modalities, val_fraction, seed)
        self.paths = {s: p for s, p in {"train": train, "val": val, "test": test}.items() if p}

    def describe(self) -> str:
        return ", ".join(f"{s}={p}" for s, p in self.paths.items()) or "NpzDataModule"

    def build_splits(self) -> dict[str, ArrayDataset]:
        if not self.paths:
            raise PolymodalError("no data given: pass --data.train FILE (--data.val, --data.test FILE), "
                                 "--dataset NAME or --config FILE")
        return check_consistent({s: arrays_from_mapping(load_npz(p), str(p)) for s, p in self.paths.items()})
