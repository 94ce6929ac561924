"""AV-MNIST in MultiBench's ``.npy`` layout.

MultiBench (Liang et al., NeurIPS 2021; ``datasets/avmnist/get_data.py``,
after Vielzeuf et al.'s MFAS AV-MNIST) stores::

    avmnist/image/train_data.npy   [60000, 784]       MNIST digits, 0..255
    avmnist/image/test_data.npy    [10000, 784]
    avmnist/audio/train_data.npy   [60000, 112, 112]  spoken-digit spectrograms, 0..255
    avmnist/audio/test_data.npy    [10000, 112, 112]
    avmnist/train_labels.npy       [60000]
    avmnist/test_labels.npy        [10000]

As in the official loader, both modalities are divided by 255, images are
``[1, 28, 28]`` and spectrograms ``[1, 112, 112]``, and the last 5,000
training samples are the validation split. Arrays are memory-mapped
(``np.load(mmap_mode="r", allow_pickle=False)``) and converted batch by batch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from polymodal.data.contract import Batch, Item
from polymodal.data.datamodule import MultimodalDataModule
from polymodal.errors import PolymodalError

FILES = {
    "image": "image/{split}_data.npy",
    "audio": "audio/{split}_data.npy",
    "y": "{split}_labels.npy",
}
SHAPES = {"image": (1, 28, 28), "audio": (1, 112, 112)}
VALIDATION_SIZE = 5000
LAYOUT = "image/{train,test}_data.npy, audio/{train,test}_data.npy, {train,test}_labels.npy"


def load_array(path: Path) -> np.ndarray:
    """A memory-mapped ``.npy`` array (pickled objects refused)."""
    if not path.is_file():
        raise PolymodalError(f"{path}: no such file (expected the AV-MNIST layout {LAYOUT})")
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as err:
        raise PolymodalError(f"{path}: not a readable .npy array ({err})") from None


class ScaledArrayDataset(Dataset):
    """Samples ``rows`` of memory-mapped modality arrays, reshaped and divided by 255."""

    def __init__(self, arrays: dict[str, np.ndarray], labels: np.ndarray, rows: np.ndarray) -> None:
        self.arrays, self.labels, self.rows = arrays, labels, rows
        self.modalities = tuple(arrays)
        self.class_names = tuple(str(c) for c in range(10))

    def __len__(self) -> int:
        return len(self.rows)

    def _inputs(self, rows: np.ndarray) -> dict[str, torch.Tensor]:
        return {m: torch.from_numpy(np.asarray(x[rows], dtype=np.float32).reshape(len(rows), *SHAPES[m]) / 255.0)
                for m, x in self.arrays.items()}

    def __getitem__(self, index: int) -> Item:
        batch = self.__getitems__([index])
        return {"inputs": {m: x[0] for m, x in batch["inputs"].items()}, "target": batch["target"][0]}

    def __getitems__(self, indices: list[int]) -> Batch:
        rows = self.rows[np.asarray(indices)]
        return {"inputs": self._inputs(rows), "target": torch.from_numpy(self.labels[rows].astype(np.int64)),
                "present": {m: torch.ones(len(rows), dtype=torch.bool) for m in self.arrays}}

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return dict(SHAPES)

    def num_classes(self) -> int:
        return 10


class AVMnistDataModule(MultimodalDataModule):
    """AV-MNIST (MultiBench layout): ``image`` ``[1, 28, 28]`` and ``audio`` ``[1, 112, 112]``, 10 digits.

    Args:
        root: the ``avmnist`` folder.
        val_size: the last ``val_size`` training samples are the validation split (5,000 in MultiBench).
        batch_size, num_workers, modalities, seed: see :class:`MultimodalDataModule`.
    """

    def __init__(self, root: str, val_size: int = VALIDATION_SIZE, batch_size: int = 40, num_workers: int = 0,
                 modalities: list[str] | None = None, seed: int = 0) -> None:
        super().__init__(batch_size, num_workers, modalities, val_fraction=0.0, seed=seed)
        self.root, self.val_size = Path(root), val_size

    def describe(self) -> str:
        return f"AV-MNIST from {self.root}"

    def _load(self, split: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
        arrays = {key: load_array(self.root / pattern.format(split=split)) for key, pattern in FILES.items()}
        labels = np.asarray(arrays.pop("y")).reshape(-1)
        for m, x in arrays.items():
            if len(x) != len(labels) or int(np.prod(x.shape[1:])) != int(np.prod(SHAPES[m])):
                raise PolymodalError(f"{self.root / FILES[m].format(split=split)}: shape {x.shape}; expected "
                                     f"[{len(labels)}, {' x '.join(map(str, SHAPES[m][1:]))}] (AV-MNIST layout {LAYOUT})")
        if labels.size and (labels.min() < 0 or labels.max() > 9):
            raise PolymodalError(f"{self.root / FILES['y'].format(split=split)}: labels outside 0..9")
        return arrays, labels

    def build_splits(self) -> dict[str, ScaledArrayDataset]:
        train, train_labels = self._load("train")
        test, test_labels = self._load("test")
        n = len(train_labels)
        if not 0 < self.val_size < n:
            raise PolymodalError(f"{self.root}: {n} training samples; cannot hold out the last {self.val_size} for validation")
        return {
            "train": ScaledArrayDataset(train, train_labels, np.arange(n - self.val_size)),
            "val": ScaledArrayDataset(train, train_labels, np.arange(n - self.val_size, n)),
            "test": ScaledArrayDataset(test, test_labels, np.arange(len(test_labels))),
        }
