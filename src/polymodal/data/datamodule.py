"""Lightning DataModules for multimodal data following the item contract.

:class:`MultimodalDataModule` holds what every data source shares: batch
size, workers, modality selection by name, a validation split carved from
train when none is given, and the :class:`DataInfo` that sizes the model.
Subclasses only say how to build their splits.

The training order comes from a generator seeded with ``seed``; its state is
part of the DataModule's ``state_dict``, so a fit resumed from a checkpoint
shuffles its next epoch as the uninterrupted fit would have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.trainer.states import TrainerFn
from torch.utils.data import DataLoader, Dataset, Subset

from polymodal.data.arrays import ArrayDataset
from polymodal.data.contract import Batch, DataInfo, Item, collate_items
from polymodal.distributed import evaluation_sampler, ordered_training_sampler
from polymodal.errors import PolymodalError

SPLITS = ("train", "val", "test")


class ModalitySubset(Dataset):
    """A view of a dataset that keeps only the chosen modalities."""

    def __init__(self, dataset: Dataset, modalities: Sequence[str]) -> None:
        self.dataset = dataset
        self.modalities = tuple(modalities)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitems__(self, indices: list[int]) -> Batch | list[Item]:
        """Batched fetch when the wrapped dataset has one, else one item per index."""
        fetch = getattr(self.dataset, "__getitems__", None)
        if fetch is None:
            return [self[i] for i in indices]
        batch = fetch(indices)
        return {key: ({m: v for m, v in value.items() if m in self.modalities} if isinstance(value, dict) else value)
                for key, value in batch.items()}

    def __getitem__(self, index: int) -> Item:
        item = self.dataset[index]
        out: Item = {"inputs": {m: item["inputs"][m] for m in self.modalities}}
        if "target" in item:
            out["target"] = item["target"]
        if "present" in item:
            out["present"] = {m: item["present"][m] for m in self.modalities if m in item["present"]}
        if "keys" in item:
            out["keys"] = {m: item["keys"][m] for m in self.modalities if m in item["keys"]}
        return out


def split_off(dataset: Dataset, fraction: float, seed: int) -> tuple[Subset, Subset]:
    """Split ``dataset`` into (rest, held-out ``fraction``) by a seeded permutation."""
    n = len(dataset)
    n_held = max(1, int(round(n * fraction)))
    if n_held >= n:
        raise PolymodalError(
            f"cannot hold out val_fraction={fraction} of {n} training samples and keep any for training"
        )
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    return Subset(dataset, order[n_held:]), Subset(dataset, order[:n_held])


class MultimodalDataModule(L.LightningDataModule):
    """Base DataModule: subclasses implement :meth:`build_splits`.

    Args:
        batch_size: samples per batch.
        num_workers: DataLoader worker processes.
        modalities: modality names to use (default: all, in the data's order).
            A name the data lacks is an error naming the valid ones.
        val_fraction: share of train held out for validation when the data
            has no validation split.
        seed: fixes the held-out validation split, generated data and the training order.
        shuffle: shuffle the training split every epoch (seeded).
    """

    _resumed_order: torch.Tensor | None = None
    """The training-order generator state of the checkpoint a fit resumes from, until a training loader takes it."""

    def __init__(
        self,
        batch_size: int = 64,
        num_workers: int = 0,
        modalities: list[str] | None = None,
        val_fraction: float = 0.1,
        seed: int = 0,
        shuffle: bool = True,
    ) -> None:
        super().__init__()
        if batch_size < 1:
            raise PolymodalError(f"batch_size must be >= 1, got {batch_size}")
        if num_workers < 0:
            raise PolymodalError(f"num_workers must be >= 0 (0: load in the main process), got {num_workers}")
        if not 0 <= val_fraction < 1:
            raise PolymodalError(f"val_fraction must be in [0, 1), got {val_fraction}")
        if modalities and len(set(modalities)) != len(modalities):
            repeated = next(m for m in modalities if list(modalities).count(m) > 1)
            raise PolymodalError(f"modality {repeated!r} is requested more than once")
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.requested_modalities = list(modalities) if modalities else None
        self.val_fraction = val_fraction
        self.seed = seed
        self.shuffle = shuffle

    # --- what subclasses provide -------------------------------------------------
    def build_splits(self) -> Mapping[str, ArrayDataset]:
        """Return the available splits among ``train``/``val``/``test``."""
        raise NotImplementedError

    def describe(self) -> str:
        """A short human-readable name of the data source (used in reports)."""
        return type(self).__name__

    # --- shared machinery --------------------------------------------------------
    @cached_property
    def _prepared(self) -> tuple[dict[str, Dataset], DataInfo]:
        raw = dict(self.build_splits())
        unknown = set(raw) - set(SPLITS)
        if unknown:
            raise ValueError(f"unknown split names {sorted(unknown)}")
        if not raw:
            raise PolymodalError(f"{self.describe()}: no data splits were given")
        reference = next(iter(raw.values()))
        modalities = tuple(self.requested_modalities or reference.modalities)
        for m in modalities:
            if m not in reference.modalities:
                raise PolymodalError(
                    f"modality {m!r} is not in the data; it has: {', '.join(reference.modalities)}"
                )
        shapes = reference.shapes()
        info = DataInfo(
            modalities=modalities,
            shapes={m: shapes[m] for m in modalities},
            num_classes=max(d.num_classes() for d in raw.values()),
            class_names=tuple(getattr(reference, "class_names", ())),
            labelled=all(getattr(d, "labelled", True) for d in raw.values()),
        )
        if "train" in raw and "val" not in raw and self.val_fraction > 0:
            raw["train"], raw["val"] = split_off(raw["train"], self.val_fraction, self.seed)
        if list(modalities) != list(reference.modalities):
            raw = {s: ModalitySubset(d, modalities) for s, d in raw.items()}
        return raw, info

    @property
    def splits(self) -> dict[str, Dataset]:
        """The datasets of the available splits (built and validated once)."""
        return self._prepared[0]

    @property
    def info(self) -> DataInfo:
        """Modalities, per-sample shapes and number of classes (0: regression)."""
        return self._prepared[1]

    def has_split(self, split: str) -> bool:
        return split in self.splits

    def dataloader(self, split: str, shuffle: bool = False, training: bool = False) -> DataLoader:
        """The split's loader. Under DDP an unshuffled evaluation loader gives each
        process an unpadded shard, so every sample is evaluated exactly once; an
        unshuffled training loader gives equal shards in order."""
        if split not in self.splits:
            raise PolymodalError(f"{self.describe()}: no {split!r} split was given")
        dataset = self.splits[split]
        sampler = None
        if not shuffle:
            sampler = ordered_training_sampler(dataset) if training else evaluation_sampler(dataset)
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=shuffle,
            sampler=sampler,
            num_workers=self.num_workers,
            collate_fn=collate_items,
            generator=self._training_order() if training else None,
            persistent_workers=self.num_workers > 0,
        )

    def _training_order(self) -> torch.Generator:
        """The generator of a training loader's order and worker seeds (its own, so that creating the
        loader draws nothing from torch's global generator): seeded, or where a resumed fit left it."""
        generator = torch.Generator().manual_seed(self.seed)
        if self._resumed_order is not None:
            generator.set_state(self._resumed_order)
            self._resumed_order = None
        return generator

    def state_dict(self) -> dict[str, Any]:
        """The state of the fitting trainer's training-order generator (Lightning saves it in checkpoints)."""
        loader = self.trainer.train_dataloader if self.trainer is not None else None
        generator = getattr(loader, "generator", None)
        return {"training_order": generator.get_state()} if generator is not None else {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """When a fit resumes, its first training loader continues the checkpoint's order."""
        if "training_order" in state_dict and self.trainer is not None and self.trainer.state.fn == TrainerFn.FITTING:
            self._resumed_order = state_dict["training_order"]

    def train_dataloader(self) -> DataLoader:
        """Shuffled (seeded) unless ``shuffle=False``; under DDP Lightning shards it with a ``DistributedSampler``."""
        return self.dataloader("train", shuffle=self.shuffle, training=True)

    def val_dataloader(self) -> DataLoader:
        return self.dataloader("val")

    def test_dataloader(self) -> DataLoader:
        return self.dataloader("test")

    def predict_dataloader(self) -> DataLoader:
        return self.dataloader("test")


CONTENT_KEY_PREFIX = "k_"
"""An array ``k_<modality>`` next to array ``<modality>`` holds that modality's integer content keys."""


def arrays_from_mapping(data: Mapping[str, np.ndarray], source: str) -> ArrayDataset:
    """An :class:`ArrayDataset` from a mapping of modality arrays plus ``y``
    (none for unlabelled samples) and optional content keys ``k_<modality>``."""
    from polymodal.data.validation import TARGET_KEY

    key_names = [k for k in data if k.startswith(CONTENT_KEY_PREFIX) and k[len(CONTENT_KEY_PREFIX):] in data]
    arrays = {k: np.asarray(v) for k, v in data.items() if k != TARGET_KEY and k not in key_names}
    keys = {k[len(CONTENT_KEY_PREFIX):]: np.asarray(data[k]) for k in key_names}
    return ArrayDataset(arrays, data.get(TARGET_KEY), source=source, keys=keys)


class ArrayDataModule(MultimodalDataModule):
    """Bring-your-own data from Python: dicts of arrays (one per modality plus ``y``).

    Example::

        dm = ArrayDataModule(train={"audio": xa, "video": xv, "y": y}, test={...})
    """

    def __init__(
        self,
        train: Mapping[str, np.ndarray],
        val: Mapping[str, np.ndarray] | None = None,
        test: Mapping[str, np.ndarray] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self._arrays = {"train": train, "val": val, "test": test}

    def build_splits(self) -> dict[str, ArrayDataset]:
        return check_consistent({s: arrays_from_mapping(a, s) for s, a in self._arrays.items() if a is not None})


def check_consistent(splits: dict[str, ArrayDataset]) -> dict[str, ArrayDataset]:
    """Splits must share modalities and shapes, and agree on the kind of target (or all have none).

    Class labels of the training split must be ``0..C-1`` with every class
    present (:func:`~polymodal.data.validation.validate_class_labels`); the
    other splits' labels must lie in that range.
    """
    from polymodal.data.validation import validate_class_labels, validate_labels_in_range, validate_same_modalities

    names = list(splits)
    first = splits[names[0]]
    for name in names[1:]:
        validate_same_modalities(first.inputs, splits[name].inputs, first.source, splits[name].source)
        if first.labelled != splits[name].labelled:
            labelled, unlabelled = (first, splits[name]) if first.labelled else (splits[name], first)
            raise PolymodalError(f"{unlabelled.source} has no 'y' array but {labelled.source} has targets")
        if not first.labelled:
            continue
        if (first.targets.dtype == torch.long) != (splits[name].targets.dtype == torch.long):
            raise PolymodalError(
                f"{splits[name].source}: targets are {'integer labels' if splits[name].targets.dtype == torch.long else 'floats'} "
                f"but {first.source} has {'integer labels' if first.targets.dtype == torch.long else 'floats'}"
            )
    if "train" in splits and first.labelled:
        validate_class_labels(splits["train"].targets.numpy(), splits["train"].source)
        num_classes = splits["train"].num_classes()
        for split in splits.values():
            validate_labels_in_range(split.targets.numpy(), num_classes, split.source)
    return splits
