"""The av-digits DataModule on a tiny generated FSDD folder: splits, pairing, modalities, errors."""

import numpy as np
import pytest
import torch

from polymodal.data import build_datamodule
from polymodal.data.av_digits import AvDigitsDataModule
from polymodal.data.builtin import parse_dataset_spec
from polymodal.data.digit_images import image_pools, pair_by_class, remove_energy, sklearn_digits
from polymodal.data.fsdd import held_out_for_test, list_recordings
from polymodal.errors import PolymodalError

SMALL = {"n_fft": 64, "hop": 32, "seconds": 0.25}


def test_official_split_holds_out_takes_0_to_4(fsdd_root):
    recordings = list_recordings(fsdd_root)
    is_test = held_out_for_test(recordings, None)
    assert set(recordings.takes[is_test]) == {0, 1, 2, 3, 4}
    assert set(recordings.takes[~is_test]) == {5, 6, 7, 8}
    data = AvDigitsDataModule(root=str(fsdd_root), **SMALL)
    sizes = {split: len(d) for split, d in data.splits.items()}
    assert sizes == {"train": 70, "val": 10, "test": 100}  # val: a tenth of each digit's 8, rounded


def test_held_out_speaker_split(fsdd_root):
    data = AvDigitsDataModule(root=str(fsdd_root), test_speaker="bob", **SMALL)
    assert len(data.splits["test"]) == 90
    with pytest.raises(PolymodalError, match="'carol'.*alice, bob"):
        AvDigitsDataModule(root=str(fsdd_root), test_speaker="carol", **SMALL).splits


def test_batches_pair_audio_and_image_of_the_same_digit(fsdd_root):
    data = AvDigitsDataModule(root=str(fsdd_root), modalities=["audio", "image", "caption"], **SMALL)
    assert data.info.modalities == ("audio", "image", "caption")
    assert data.info.shapes == {"audio": (1, 33, 1 + 2000 // 32), "image": (1, 8, 8), "caption": (5, 16)}
    images, labels = sklearn_digits()
    by_content = {image.tobytes(): label for image, label in zip(images, labels, strict=True)}
    batch = next(iter(data.test_dataloader()))
    for image, target in zip(batch["inputs"]["image"].numpy(), batch["target"], strict=True):
        assert by_content[image.tobytes()] == target
    assert torch.equal(batch["inputs"]["caption"].argmax(-1)[:, -1] - 6, batch["target"])  # "0" has id 6
    assert torch.equal(batch["keys"]["audio"], batch["target"])
    spectrogram = batch["inputs"]["audio"]
    assert torch.isfinite(spectrogram).all()


def test_caption_only_on_request_and_unknown_modality(fsdd_root):
    assert AvDigitsDataModule(root=str(fsdd_root), **SMALL).info.modalities == ("audio", "image")
    with pytest.raises(PolymodalError, match="'video'.*audio, image, caption"):
        AvDigitsDataModule(root=str(fsdd_root), modalities=["video"])


def test_image_pools_are_disjoint_and_pairing_follows_the_class():
    pools = image_pools(None, (0.8, 0.1, 0.1), seed=0)
    contents = {split: {image.tobytes() for image in images} for split, (images, _) in pools.items()}
    assert not contents["train"] & contents["val"] and not contents["train"] & contents["test"]
    assert sum(len(c) for c in contents.values()) == 1797
    labels = np.repeat(np.arange(10), 30)
    pool_labels = pools["val"][1]
    paired = pair_by_class(labels, pool_labels, seed=0)
    assert np.array_equal(pool_labels[paired], labels)
    used = np.bincount(paired, minlength=len(pool_labels))
    assert used.max() - used[used > 0].min() <= 1  # a pool item is reused only once the class pool is used up
    with pytest.raises(PolymodalError, match="class 3"):
        pair_by_class(np.array([3]), np.array([0, 1]), seed=0)


def test_energy_removal_keeps_the_requested_share_of_variance():
    images, _ = sklearn_digits()
    assert remove_energy(images, images, 1.0) is images
    weakened = remove_energy(images, images, 0.25)
    kept = weakened.reshape(len(images), -1).var(axis=0).sum() / images.reshape(len(images), -1).var(axis=0).sum()
    assert 0.15 < kept <= 0.25
    with pytest.raises(PolymodalError, match="image_energy"):
        remove_energy(images, images, 0.0)


def test_seeded_and_degraded_builds(fsdd_root):
    def first_batch(**options):
        torch.manual_seed(0)  # augmentation draws from the global generator, as seeded by --seed
        data = AvDigitsDataModule(root=str(fsdd_root), seed=3, augment_shift=0.05, augment_snr_db=10, **SMALL,
                                  **options)
        return next(iter(data.train_dataloader()))

    a, b = first_batch(), first_batch()
    assert all(torch.equal(a["inputs"][m], b["inputs"][m]) for m in ("audio", "image"))
    noisy = first_batch(audio_snr_db=0.0, image_energy=0.5)
    assert not torch.equal(noisy["inputs"]["image"], a["inputs"]["image"])


def test_subset_caps_every_digit(fsdd_root):
    data = AvDigitsDataModule(root=str(fsdd_root), max_per_class=2, **SMALL)
    assert {split: len(d) for split, d in data.splits.items()} == {"train": 20, "val": 10, "test": 20}


def test_mel_features(fsdd_root):
    data = AvDigitsDataModule(root=str(fsdd_root), features="mel", n_mels=12, max_per_class=1, **SMALL)
    assert data.info.shapes["audio"] == (1, 12, 63)


def test_missing_root_names_the_path_and_the_download(tmp_path, monkeypatch):
    with pytest.raises(PolymodalError, match=f"{tmp_path}/recordings.*polymodal data download fsdd"):
        AvDigitsDataModule(root=str(tmp_path)).splits
    monkeypatch.delenv("POLYMODAL_DATA", raising=False)
    with pytest.raises(PolymodalError, match="POLYMODAL_DATA"):
        AvDigitsDataModule().splits


def test_root_from_the_environment(fsdd_root, monkeypatch):
    monkeypatch.setenv("POLYMODAL_DATA", str(fsdd_root.parent))
    (fsdd_root.parent / "fsdd").exists() or (fsdd_root.parent / "fsdd").symlink_to(fsdd_root)
    assert len(AvDigitsDataModule(max_per_class=1, **SMALL).splits["test"]) == 10


def test_dataset_specs_and_the_hard_variant():
    assert parse_dataset_spec("av-digits") == ("av-digits", None)
    assert parse_dataset_spec("av-digits:audio+image") == ("av-digits", ["audio", "image"])
    assert parse_dataset_spec("av-digits:hard") == ("av-digits:hard", None)
    assert parse_dataset_spec("av-digits:hard:audio") == ("av-digits:hard", ["audio"])
    assert parse_dataset_spec("mfeat:kar+mor") == ("mfeat", ["kar", "mor"])
    hard = build_datamodule("av-digits:hard")
    assert (hard.image_energy, hard.audio_snr_db) != (1.0, None)


def test_wave_cache_is_reused(fsdd_root, tmp_path):
    options = {"root": str(fsdd_root), "cache_dir": str(tmp_path), "max_per_class": 1, **SMALL}
    first = AvDigitsDataModule(**options).splits["train"].waves
    (cached,) = tmp_path.glob("fsdd-waves-*.npz")
    with np.load(cached, allow_pickle=False) as stored:
        assert stored["waves"].shape == (30, 2000)
    assert torch.equal(AvDigitsDataModule(**options).splits["train"].waves, first)


def test_caption_tokens_through_the_transformer_encoder(fsdd_root):
    from polymodal.models.contrastive import ContrastiveModel

    data = AvDigitsDataModule(root=str(fsdd_root), modalities=["audio", "image", "caption"], max_per_class=1, **SMALL)
    model = ContrastiveModel.from_info(
        data.info, encoder={"audio": "resnet18", "image": "resnet18", "caption": "transformer"},
        encoder_options={"audio": {"width": 2}, "image": {"width": 2},
                         "caption": {"d_model": 8, "num_heads": 2, "num_layers": 1}}, embed_dim=4)
    batch = next(iter(data.val_dataloader()))
    assert model.encoders["caption"](batch["inputs"]["caption"]).shape == (10, 8)
