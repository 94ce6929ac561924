"""User arrays that would train silently wrong (or allocate gigabytes) are rejected, naming file and array."""

from __future__ import annotations

import re

import numpy as np
import pytest

from polymodal.data import ArrayDataModule, NpzDataModule
from polymodal.data.validation import first_missing
from polymodal.errors import PolymodalError


def split(n: int = 30, classes: int = 3, **overrides: np.ndarray) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    data = {"a": rng.normal(size=(n, 4)).astype(np.float32), "b": rng.normal(size=(n, 3)).astype(np.float32),
            "y": np.arange(n) % classes}
    return data | overrides


def with_label(label: int, n: int = 30) -> np.ndarray:
    y = np.arange(n) % 3
    y[0] = label
    return y


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"a": np.full((30, 4), 1e300)}, "modality 'a' has values of magnitude up to 1e+300, beyond float32's range"),
        ({"y": np.linspace(0, 1e300, 30)}, "'y' has values of magnitude up to 1e+300"),
        ({"y": with_label(99)}, ("labels must be 0..C-1 with every class present, but 96 of 0..99 never occur: "
                                 "3, 4, 5, 6, 7, ...")),
        ({"y": np.zeros(30, int)}, "every label is 0; classification needs at least 2 classes"),
        ({"y": with_label(10_000_000)}, ("labels must be 0..C-1 with every class present, but 9999997 of "
                                         "0..10000000 never occur")),
        ({"y": np.full(30, 2**64 - 1, np.uint64)}, "label 18446744073709551615 is too large"),
        ({"a": np.zeros((30, 0), np.float32)}, "modality 'a' has shape (30, 0), no features per sample"),
        ({"b": np.zeros((30, 2, 0), np.float32)}, "modality 'b' has shape (30, 2, 0)"),
    ],
)
def test_bad_training_file(tmp_path, overrides, message) -> None:
    path = tmp_path / "train.npz"
    np.savez(path, **split(**overrides))
    with pytest.raises(PolymodalError, match=re.escape(f"train.npz: {message}")):
        _ = NpzDataModule(train=str(path)).info


def test_empty_test_split_is_named(tmp_path) -> None:
    np.savez(tmp_path / "train.npz", **split())
    np.savez(tmp_path / "test.npz", **split(0))
    with pytest.raises(PolymodalError, match="test.npz: no samples"):
        _ = NpzDataModule(train=str(tmp_path / "train.npz"), test=str(tmp_path / "test.npz")).info


def test_evaluation_split_may_lack_a_class() -> None:
    data = ArrayDataModule(train=split(), test=split(4, classes=2), val_fraction=0.2)
    assert data.info.num_classes == 3 and len(data.splits["test"]) == 4


def test_float64_within_float32_range_and_regression_targets_pass() -> None:
    data = ArrayDataModule(train=split(a=np.full((30, 4), 1e30), y=np.linspace(-1e30, 1e30, 30)))
    assert data.info.num_classes == 0


def test_missing_labels_are_listed_from_the_smallest() -> None:
    assert first_missing(np.array([2, 3, 7]), 4) == [0, 1, 4, 5]
    assert first_missing(np.array([0, 1, 10_000_000]), 3) == [2, 3, 4]
