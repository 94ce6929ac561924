"""CMU-MOSI and CMU-MOSEI as MultiBench's aligned feature pickles.

MultiBench (Liang et al., NeurIPS 2021 Datasets and Benchmarks;
``datasets/affect/get_data.py``) ships each set as one pickle: a dict with
``train`` / ``valid`` / ``test``, each a dict of arrays ``vision``
``[N, 50, Dv]`` (facial features), ``audio`` ``[N, 50, Da]`` (COVAREP),
``text`` ``[N, 50, 300]`` (GloVe, zero-padded at the front), ``labels``
``[N, 1, 1]`` (sentiment in ``[-3, 3]``) and ``id``. MOSEI is
``mosei_senti_data.pkl`` (Dv 35, Da 74); MOSI is ``mosi_raw.pkl`` (or
``mosi_data.pkl``). As in the official loader, segments without any text are
dropped and ``-inf`` audio values become 0; the sequences keep their length
(50 steps; the front padding stays zero). The pickle is read with
:func:`~polymodal.data.benchmarks.safe_pickle.load_numpy_pickle`, never with
``pickle.load``.

Targets (``target``): ``regression`` (the score), ``binary`` (score > 0, as
MultiBench's classification task) or ``7class`` (the score rounded to an
integer in ``-3..3``, shifted to ``0..6``). Modalities: ``text``, ``audio``,
``video`` (MultiBench's ``vision``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from polymodal.data.arrays import ArrayDataset
from polymodal.data.benchmarks.safe_pickle import load_numpy_pickle
from polymodal.data.datamodule import MultimodalDataModule
from polymodal.errors import PolymodalError

FILE_NAMES = {"mosei": ("mosei_senti_data.pkl", "mosei_raw.pkl"), "mosi": ("mosi_raw.pkl", "mosi_data.pkl")}
SPLIT_KEYS = {"train": "train", "val": "valid", "test": "test"}
MODALITY_KEYS = {"text": "text", "audio": "audio", "video": "vision"}
TARGETS = ("regression", "binary", "7class")
LAYOUT = "a MultiBench pickle: dict train/valid/test of dicts with vision, audio, text [N, 50, D] and labels"


def find_pickle(root: str | Path, name: str) -> Path:
    """The pickle of ``name`` (``mosei``/``mosi``): ``root`` itself, or a known file name inside it."""
    root = Path(root)
    if root.is_file():
        return root
    for file_name in FILE_NAMES[name]:
        if (root / file_name).is_file():
            return root / file_name
    raise PolymodalError(f"{root}: no {' or '.join(FILE_NAMES[name])} (expected {LAYOUT})")


def affect_targets(scores: np.ndarray, target: str) -> np.ndarray:
    """Sentiment scores ``[N]`` as the chosen target."""
    if target == "regression":
        return scores.astype(np.float32)
    if target == "binary":
        return (scores > 0).astype(np.int64)
    return (np.round(np.clip(scores, -3, 3)) + 3).astype(np.int64)


def affect_split(split: object, source: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Modality arrays and scores of one split, without text-less segments."""
    if not isinstance(split, dict) or "labels" not in split:
        raise PolymodalError(f"{source}: expected {LAYOUT}")
    arrays = {}
    for modality, key in MODALITY_KEYS.items():
        x = split.get(key)
        if not isinstance(x, np.ndarray) or x.ndim != 3:
            raise PolymodalError(f"{source}: {key!r} is not an array [N, steps, features] (expected {LAYOUT})")
        arrays[modality] = x
    scores = np.asarray(split["labels"], dtype=np.float64).reshape(len(arrays["text"]), -1)[:, 0]
    keep = np.abs(arrays["text"]).reshape(len(scores), -1).sum(axis=1) > 0
    arrays = {m: np.where(np.isneginf(x), 0.0, x)[keep].astype(np.float32) for m, x in arrays.items()}
    return arrays, scores[keep]


class AffectDataModule(MultimodalDataModule):
    """CMU-MOSEI / CMU-MOSI aligned features (MultiBench pickles).

    Args:
        root: the pickle, or the folder holding it under its MultiBench name.
        name: ``mosei`` or ``mosi``.
        target: ``regression``, ``binary`` or ``7class``.
        batch_size, num_workers, modalities, seed: see :class:`MultimodalDataModule`.
    """

    def __init__(self, root: str, name: str = "mosei", target: str = "regression", batch_size: int = 32,
                 num_workers: int = 0, modalities: list[str] | None = None, seed: int = 0) -> None:
        super().__init__(batch_size, num_workers, modalities, val_fraction=0.0, seed=seed)
        if name not in FILE_NAMES:
            raise PolymodalError(f"unknown affect dataset {name!r}; choose one of: {', '.join(FILE_NAMES)}")
        if target not in TARGETS:
            raise PolymodalError(f"unknown target {target!r}; choose one of: {', '.join(TARGETS)}")
        self.root, self.name, self.target = root, name, target

    def describe(self) -> str:
        return f"{self.name} ({self.target}) from {self.root}"

    def build_splits(self) -> dict[str, ArrayDataset]:
        path = find_pickle(self.root, self.name)
        data = load_numpy_pickle(path)
        if not isinstance(data, dict) or any(key not in data for key in SPLIT_KEYS.values()):
            raise PolymodalError(f"{path}: expected {LAYOUT}")
        splits = {}
        for split, key in SPLIT_KEYS.items():
            arrays, scores = affect_split(data[key], f"{path} [{key}]")
            splits[split] = ArrayDataset(arrays, affect_targets(scores, self.target), source=f"{path.name} {key}")
        return splits
