"""Prepared clips as DataModules: shapes, splits, modalities, frame sampling, layout errors."""

import json

import pytest
import torch

from polymodal.data.benchmarks.av_datamodules import (
    AVEDataModule,
    CremadDataModule,
    KineticsSoundsDataModule,
    UCF101DataModule,
)
from polymodal.errors import PolymodalError


def test_cremad_items_and_splits(prepared):
    data = CremadDataModule(str(prepared("cremad")), frame_size=16, val_fraction=0.5, batch_size=4)
    assert data.info.modalities == ("audio", "video") and data.info.num_classes == 6
    assert data.info.shapes == {"audio": (1, 257, 188), "video": (3, 3, 16, 16)}
    assert data.describe().startswith("cremad (official split)")
    assert len(data.splits["test"]) == 3 and len(data.splits["train"]) + len(data.splits["val"]) == 9
    batch = next(iter(data.train_dataloader()))
    assert batch["inputs"]["video"].shape == (4, 3, 3, 16, 16) and batch["target"].dtype == torch.long
    test = data.splits["test"]
    assert torch.equal(test[0]["inputs"]["video"], test[0]["inputs"]["video"])  # evaluation is deterministic


def test_cremad_speaker_split_holds_out_whole_speakers(prepared):
    data = CremadDataModule(str(prepared("cremad-nosplit")), frame_size=16, seed=109)
    assert data.chosen_split == "speaker"
    speakers = {part: {name[:4] for name in d.names} for part, d in data.splits.items()}
    assert len(speakers["test"]) == 1 and len(speakers["val"]) == 1 and len(speakers["train"]) == 2
    assert not speakers["test"] & (speakers["train"] | speakers["val"])
    other = CremadDataModule(str(prepared("cremad-nosplit")), frame_size=16, seed=19)
    assert speakers != {part: {name[:4] for name in d.names} for part, d in other.splits.items()}


def test_ave_and_kinetics_sounds_defaults(prepared):
    ave = AVEDataModule(str(prepared("ave")), frame_size=16)
    assert ave.info.shapes["video"] == (4, 3, 16, 16) and ave.info.num_classes == 3
    assert [len(ave.splits[s]) for s in ("train", "val", "test")] == [5, 2, 2]
    ks = KineticsSoundsDataModule(str(prepared("kinetics-sounds")), frame_size=16, val_fraction=0.5)
    assert ks.info.shapes["audio"] == (1, 129, 626)


def test_ucf101_audio_subset_and_rgb_flow(prepared):
    root = str(prepared("ucf101"))
    with_audio = UCF101DataModule(root, frame_size=16)
    assert with_audio.info.modalities == ("audio", "rgb", "flow") and with_audio.info.num_classes == 2
    assert with_audio.info.shapes["flow"] == (4, 2, 16, 16)
    assert with_audio.info.class_names == ("ApplyEyeMakeup", "Archery")
    groups = {part: {n.rsplit("_", 1)[0] for n in d.names} for part, d in with_audio.splits.items()}
    assert not groups["val"] & groups["train"]
    visual = UCF101DataModule(root, frame_size=16, modalities=["rgb", "flow"])
    assert visual.info.num_classes == 3 and len(visual.splits["test"]) == 3


def test_errors_name_the_path_and_expected_layout(prepared, tmp_path):
    with pytest.raises(PolymodalError, match=r"manifest.json: no such file \(expected a folder written by "
                                             r"`polymodal data prepare cremad SRC"):
        CremadDataModule(str(tmp_path)).info
    with pytest.raises(PolymodalError, match="prepared for 'ave', not 'cremad'"):
        CremadDataModule(str(prepared("ave"))).info
    with pytest.raises(PolymodalError, match="no split 'split2'; this folder has: split1"):
        UCF101DataModule(str(prepared("ucf101")), split="split2").info
    with pytest.raises(PolymodalError, match="modality 'text' is not in the data; it has: audio, video"):
        AVEDataModule(str(prepared("ave")), modalities=["text"]).info
    with pytest.raises(PolymodalError, match="unknown frame sampling"):
        AVEDataModule(str(prepared("ave")), train_sampling="middle")
    manifest = json.loads((prepared("ave") / "manifest.json").read_text())
    assert "vid02-AbC_x" in manifest["clips"]
