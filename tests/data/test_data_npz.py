"""Bring-your-own .npz data: loading, held-out validation and every user error."""

import numpy as np
import pytest
import torch

from polymodal.data import ArrayDataModule, NpzDataModule
from polymodal.errors import PolymodalError


def arrays(n=20, seed=0, classes=3, **overrides):
    rng = np.random.default_rng(seed)
    data = {"audio": rng.normal(size=(n, 4)).astype(np.float32), "video": rng.normal(size=(n, 2, 3)),
            "y": np.arange(n) % classes}
    data.update(overrides)
    return data


def save(tmp_path, name, **data):
    path = tmp_path / name
    np.savez(path, **data)
    return str(path)


def test_loads_splits_and_sizes_model_info(tmp_path):
    dm = NpzDataModule(train=save(tmp_path, "tr.npz", **arrays()), test=save(tmp_path, "te.npz", **arrays(6, 1)),
                       val_fraction=0.25)
    assert dm.info.modalities == ("audio", "video")
    assert dm.info.shapes == {"audio": (4,), "video": (2, 3)} and dm.info.num_classes == 3
    assert [len(dm.splits[s]) for s in ("train", "val", "test")] == [15, 5, 6]
    batch = next(iter(dm.val_dataloader()))
    assert batch["inputs"]["video"].shape == (5, 2, 3) and batch["target"].dtype == torch.long


def test_val_held_out_from_train_is_seeded_and_disjoint(tmp_path):
    train = save(tmp_path, "tr.npz", **arrays(30))

    def held_out(seed):
        dm = NpzDataModule(train=train, val_fraction=0.2, seed=seed)
        return sorted(dm.splits["val"].indices), sorted(dm.splits["train"].indices)

    val, rest = held_out(0)
    assert len(val) == 6 and set(val).isdisjoint(rest) and sorted(val + rest) == list(range(30))
    assert held_out(0) == (val, rest)
    assert held_out(1)[0] != val


def test_requested_modality_subset_and_unknown_modality(tmp_path):
    train = save(tmp_path, "tr.npz", **arrays())
    dm = NpzDataModule(train=train, modalities=["video"])
    assert dm.info.modalities == ("video",)
    assert set(next(iter(dm.train_dataloader()))["inputs"]) == {"video"}
    with pytest.raises(PolymodalError, match="'text' is not in the data; it has: audio, video"):
        _ = NpzDataModule(train=train, modalities=["text"]).info


def test_regression_targets(tmp_path):
    dm = NpzDataModule(train=save(tmp_path, "tr.npz", **arrays(y=np.linspace(0, 1, 20))))
    assert dm.info.num_classes == 0 and dm.info.task_type == "regression"


@pytest.mark.parametrize(
    ("train", "test", "message"),
    [
        (arrays(y=np.arange(19)), None, "'audio' has 20 samples but 'y' has 19"),
        (arrays(audio=np.full((20, 4), np.nan)), None, "'audio' contains NaN/Inf"),
        (arrays(video=np.full((20, 2, 3), np.inf)), None, "'video' contains NaN/Inf"),
        (arrays(y=np.arange(20) - 1), None, "label -1 is negative"),
        (arrays(y=np.full(20, np.nan)), None, "'y' contains NaN/Inf"),
        (arrays(audio=np.ones((20, 4), dtype=np.complex64)), None, "'audio' has non-numeric dtype"),
        (arrays(audio=np.ones(20)), None, "'audio' has shape"),
        (arrays(), arrays(y=np.arange(20) % 5), "te.npz: label 4 is out of range for 3 classes"),
        (arrays(), {k: v for k, v in arrays().items() if k != "video"}, "te.npz lacks \\['video'\\]"),
        (arrays(), arrays(video=np.ones((20, 3, 3))), "modality 'video': per-sample shape \\(3, 3\\) in .*te.npz"),
        (arrays(), arrays(y=np.linspace(0, 1, 20)), "te.npz: targets are floats"),
    ],
)
def test_bad_data_is_a_one_line_error_naming_the_culprit(tmp_path, train, test, message):
    paths = {"train": save(tmp_path, "tr.npz", **train)}
    if test is not None:
        paths["test"] = save(tmp_path, "te.npz", **test)
    with pytest.raises(PolymodalError, match=message):
        _ = NpzDataModule(**paths).info


def test_file_errors(tmp_path):
    with pytest.raises(PolymodalError, match="missing.npz: no such file"):
        _ = NpzDataModule(train=str(tmp_path / "missing.npz")).info
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(PolymodalError, match="corrupt.npz: not a readable .npz"):
        _ = NpzDataModule(train=str(corrupt)).info
    no_y = save(tmp_path, "no_y.npz", audio=np.ones((3, 2)), video=np.ones((4, 2)))
    with pytest.raises(PolymodalError, match="no_y.npz: modality 'video' has 4 samples but 'audio' has 3"):
        _ = NpzDataModule(train=no_y).info
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, audio=np.array([{"a": 1}], dtype=object), y=np.zeros(1, dtype=int))
    with pytest.raises(PolymodalError, match="pickled.npz: not a readable"):
        _ = NpzDataModule(train=str(pickled)).info


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"val_fraction": 1.0}, "val_fraction"),
        ({"batch_size": 0}, "batch_size"),
        ({"modalities": ["audio", "audio"]}, "'audio' is requested more than once"),
    ],
)
def test_bad_options(options, message):
    with pytest.raises(PolymodalError, match=message):
        ArrayDataModule(train=arrays(), **options)


def test_too_few_samples_to_hold_out_validation():
    with pytest.raises(PolymodalError, match="cannot hold out"):
        _ = ArrayDataModule(train=arrays(n=2, classes=2), val_fraction=0.9).info
