"""Dataset specifications of the benchmark command line.

``NAME`` is a built-in dataset (``polymodal.data.builtin.DATASETS``);
``NAME:m1+m2`` restricts it to the named modalities (for example
``mfeat:kar+mor``; a registered variant such as ``av-digits:hard`` keeps
its colon, see :func:`~polymodal.data.builtin.parse_dataset_spec`); user
``.npz`` files enter as one dataset named after the training file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from polymodal.data.builtin import build_datamodule, parse_dataset_spec
from polymodal.data.datamodule import MultimodalDataModule
from polymodal.data.npz import NpzDataModule


@dataclass(frozen=True)
class DatasetSpec:
    """A named way to build the same DataModule for any seed."""

    name: str
    build: Callable[[int, int], MultimodalDataModule]  # (seed, batch_size) → DataModule


def builtin_spec(text: str) -> DatasetSpec:
    name, modalities = parse_dataset_spec(text)
    build_datamodule(name)  # fail early on an unknown name
    return DatasetSpec(
        text,
        lambda seed, batch_size: build_datamodule(name, seed=seed, batch_size=batch_size, modalities=modalities),
    )


def npz_spec(train: str, val: str | None, test: str | None) -> DatasetSpec:
    return DatasetSpec(
        Path(train).stem,
        lambda seed, batch_size: NpzDataModule(train, val, test, batch_size=batch_size, seed=seed),
    )
