"""In-memory multimodal arrays as a ``Dataset`` following the item contract."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch.utils.data import Dataset

from polymodal.data.contract import Batch, Item
from polymodal.data.validation import validate_keys, validate_split


class ArrayDataset(Dataset):
    """Samples from per-modality arrays (samples on axis 0) and targets ``y``.

    Float inputs become ``float32`` tensors; integer targets become class
    labels (``int64``), float targets regression targets (``float32``).
    Without ``y`` the samples are unlabelled: items have no ``target``.
    ``present`` (optional) holds per-modality boolean arrays ``[N]`` or
    ``[N, L]``; a False entry marks the modality missing for that sample.
    ``keys`` (optional) holds per-modality integer content keys ``[N]``
    (retrieval counts any candidate with the query's target key as a hit).
    """

    def __init__(
        self,
        arrays: Mapping[str, np.ndarray],
        y: np.ndarray | None,
        present: Mapping[str, np.ndarray] | None = None,
        source: str = "arrays",
        keys: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        arrays = {m: np.asarray(x) for m, x in arrays.items()}
        y = None if y is None else np.asarray(y)
        validate_split(arrays, y, source)
        validate_keys(keys or {}, arrays, source)
        self.modalities = tuple(arrays)
        self.inputs = {m: torch.as_tensor(x, dtype=torch.float32) for m, x in arrays.items()}
        integer = y is not None and (np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_)
        self.targets = None if y is None else torch.as_tensor(y, dtype=torch.long if integer else torch.float32)
        self.present = {m: torch.as_tensor(np.asarray(p), dtype=torch.bool) for m, p in (present or {}).items()}
        self.keys = {m: torch.as_tensor(np.asarray(k), dtype=torch.long) for m, k in (keys or {}).items()}
        self.source = source

    @property
    def labelled(self) -> bool:
        return self.targets is not None

    def __len__(self) -> int:
        return len(next(iter(self.inputs.values())))

    def __getitem__(self, index: int) -> Item:
        item: Item = {"inputs": {m: x[index] for m, x in self.inputs.items()}}
        if self.targets is not None:
            item["target"] = self.targets[index]
        if self.present:
            item["present"] = {m: p[index] for m, p in self.present.items()}
        if self.keys:
            item["keys"] = {m: k[index] for m, k in self.keys.items()}
        return item

    def __getitems__(self, indices: list[int]) -> Batch:
        """A collated batch in one indexing operation per array.

        The DataLoader calls this instead of one ``__getitem__`` per sample;
        :func:`~polymodal.data.contract.collate_items` passes the batch through.
        """
        index = torch.as_tensor(indices, dtype=torch.long)
        batch: Batch = {
            "inputs": {m: x[index] for m, x in self.inputs.items()},
            "present": {m: self.present[m][index] if m in self.present else torch.ones(len(index), dtype=torch.bool)
                        for m in self.inputs},
        }
        if self.targets is not None:
            batch["target"] = self.targets[index]
        if self.keys:
            batch["keys"] = {m: k[index] for m, k in self.keys.items()}
        return batch

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {m: tuple(x.shape[1:]) for m, x in self.inputs.items()}

    def num_classes(self) -> int:
        """``max label + 1`` for class labels, 0 for regression targets and unlabelled samples."""
        if self.targets is None or self.targets.dtype != torch.long:
            return 0
        return int(self.targets.max()) + 1 if len(self.targets) else 0
