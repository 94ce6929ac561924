"""CMU-MOSEI / MOSI (MultiBench pickles) and AV-MNIST (MultiBench .npy) loaders."""

import numpy as np
import pytest

from polymodal.data.benchmarks.avmnist import AVMnistDataModule
from polymodal.data.benchmarks.multibench_affect import AffectDataModule
from polymodal.errors import PolymodalError

from .conftest import write_affect, write_avmnist


def test_mosei_pickle_shapes_drops_and_targets(tmp_path):
    write_affect(tmp_path / "mosei_senti_data.pkl")
    data = AffectDataModule(str(tmp_path), name="mosei")
    assert data.info.modalities == ("text", "audio", "video")
    assert data.info.shapes == {"text": (50, 300), "audio": (50, 74), "video": (50, 35)}
    assert data.info.num_classes == 0
    train = data.splits["train"]
    assert len(train) == 23  # the text-less segment is dropped
    assert np.isfinite(train.inputs["audio"].numpy()).all()
    binary = AffectDataModule(str(tmp_path), name="mosei", target="binary")
    seven = AffectDataModule(str(tmp_path), name="mosei", target="7class")
    scores = train.targets.numpy()
    assert (binary.splits["train"].targets.numpy() == (scores > 0)).all()
    assert seven.info.num_classes <= 7
    assert (seven.splits["train"].targets.numpy() == np.round(np.clip(scores, -3, 3)) + 3).all()


def test_mosi_file_name_and_feature_sizes(tmp_path):
    write_affect(tmp_path / "mosi_raw.pkl", dims=(20, 5), protocol=2)
    data = AffectDataModule(str(tmp_path), name="mosi", target="binary")
    assert data.info.shapes["video"] == (50, 20) and data.info.shapes["audio"] == (50, 5)
    assert data.info.num_classes == 2


def test_affect_layout_errors(tmp_path):
    with pytest.raises(PolymodalError, match=r"no mosei_senti_data.pkl or mosei_raw.pkl \(expected a MultiBench pickle"):
        AffectDataModule(str(tmp_path), name="mosei").info
    import pickle
    (tmp_path / "mosei_senti_data.pkl").write_bytes(pickle.dumps({"train": {}}))
    with pytest.raises(PolymodalError, match="mosei_senti_data.pkl: expected a MultiBench pickle"):
        AffectDataModule(str(tmp_path), name="mosei").info
    with pytest.raises(PolymodalError, match="unknown target"):
        AffectDataModule(str(tmp_path), target="5class")


def test_avmnist_layout_scaling_and_validation_split(tmp_path):
    write_avmnist(tmp_path)
    data = AVMnistDataModule(str(tmp_path), val_size=10, batch_size=8)
    assert data.info.shapes == {"image": (1, 28, 28), "audio": (1, 112, 112)} and data.info.num_classes == 10
    assert [len(data.splits[s]) for s in ("train", "val", "test")] == [30, 10, 12]
    batch = next(iter(data.train_dataloader()))
    assert batch["inputs"]["audio"].shape == (8, 1, 112, 112)
    assert 0.0 <= float(batch["inputs"]["image"].min()) and float(batch["inputs"]["image"].max()) <= 1.0
    raw = np.load(tmp_path / "image" / "train_data.npy")
    np.testing.assert_allclose(data.splits["val"][0]["inputs"]["image"].numpy().reshape(-1), raw[30] / 255.0, rtol=1e-6)


def test_avmnist_layout_errors(tmp_path):
    with pytest.raises(PolymodalError, match=r"image/train_data.npy: no such file \(expected the AV-MNIST layout"):
        AVMnistDataModule(str(tmp_path)).info
    write_avmnist(tmp_path)
    np.save(tmp_path / "audio" / "test_data.npy", np.zeros((12, 10, 10), np.float32))
    with pytest.raises(PolymodalError, match=r"audio/test_data.npy: shape \(12, 10, 10\); expected \[12, 112 x 112\]"):
        AVMnistDataModule(str(tmp_path), val_size=10).info
