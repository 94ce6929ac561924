"""Training-time corruption of one modality of a share of the training sequences (SleepDataModule option)."""

import numpy as np
import pytest
import torch

from polymodal.data.sleep import SleepDataModule
from polymodal.data.sleep.augment import CorruptedTrainingDataset, training_corruptions
from polymodal.errors import PolymodalError

SEQ_LEN = 5


def module(cache, **options) -> SleepDataModule:
    return SleepDataModule(str(cache), seq_len=SEQ_LEN, train_stride=SEQ_LEN, test_fraction=0.2, val_fraction=0.2,
                           **options)


@pytest.fixture(scope="module")
def clean(tiny_cache):
    return module(tiny_cache).splits


def test_every_sequence_corrupted_keeps_the_modality_present(tiny_cache, clean):
    noisy = module(tiny_cache, train_corruption_probability=1.0, train_corruptions=["eeg_gauss_snr0"]).splits
    assert isinstance(noisy["train"], CorruptedTrainingDataset)
    torch.manual_seed(0)
    for index in (0, len(clean["train"]) - 1):
        item, base = noisy["train"][index], clean["train"][index]
        assert torch.equal(item["present"]["eeg"], base["present"]["eeg"]) and item["present"]["eeg"].all()
        assert not torch.allclose(item["inputs"]["eeg"], base["inputs"]["eeg"], atol=0.5)
        assert torch.equal(item["inputs"]["eog"], base["inputs"]["eog"])
        assert torch.equal(item["target"], base["target"])
    # validation and test windows are never corrupted
    assert torch.equal(noisy["val"][0]["inputs"]["eeg"], clean["val"][0]["inputs"]["eeg"])
    assert torch.equal(noisy["test"][0]["inputs"]["eeg"], clean["test"][0]["inputs"]["eeg"])


def test_window_recomputed_from_the_stored_signal_matches_the_cache(tiny_cache, clean):
    """A negligible noise recomputes the window's input from its signal slice: it matches the cached input."""
    noisy = module(tiny_cache, train_corruption_probability=1.0, train_corruptions=["eeg_gauss_snr300"]).splits
    item, base = noisy["train"][1], clean["train"][1]
    torch.testing.assert_close(item["inputs"]["eeg"], base["inputs"]["eeg"], atol=2e-3, rtol=0)


def test_share_of_corrupted_sequences_follows_the_probability(clean):
    dataset = CorruptedTrainingDataset(clean["train"], training_corruptions(["eeg_gauss_snr-5"], ("eeg", "eog")), 0.5)
    base = clean["train"][0]["inputs"]["eeg"]
    torch.manual_seed(1)
    corrupted = [not torch.equal(dataset[0]["inputs"]["eeg"], base) for _ in range(40)]
    assert 10 <= sum(corrupted) <= 30
    torch.manual_seed(1)
    again = [not torch.equal(dataset[0]["inputs"]["eeg"], base) for _ in range(40)]
    assert corrupted == again
    never = CorruptedTrainingDataset(clean["train"], [], 0.0)
    assert torch.equal(never[0]["inputs"]["eeg"], base)


def test_corruption_is_drawn_among_the_modalities_the_window_holds(tiny_cache):
    """In a night missing EEG, an EEG-or-EOG draw always corrupts EOG."""
    data = module(tiny_cache, missing_eeg_fraction=1.0, train_corruption_probability=1.0,
                  train_corruptions=["eeg_gauss_snr0", "eog_gauss_snr0"])
    clean_windows = data.splits["train"].base
    torch.manual_seed(2)
    for _ in range(5):
        item = data.splits["train"][0]
        assert not item["present"]["eeg"].any() and (item["inputs"]["eeg"] == 0).all()
        assert not torch.allclose(item["inputs"]["eog"], clean_windows[0]["inputs"]["eog"], atol=0.5)


def test_snr_range_draws_a_new_level_per_sequence(clean):
    dataset = CorruptedTrainingDataset(clean["train"], training_corruptions(["eeg_gauss_snr-10to10"], ("eeg", "eog")),
                                       1.0)
    base = clean["train"][0]["inputs"]["eeg"]
    torch.manual_seed(3)
    distances = [float((dataset[0]["inputs"]["eeg"] - base).abs().mean()) for _ in range(6)]
    assert np.ptp(distances) > 0.1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"train_corruption_probability": 0.5}, "needs train_corruptions"),
        ({"train_corruption_probability": 1.5, "train_corruptions": ["eeg_gauss_snr0"]}, "train_corruption_probability"),
        ({"train_corruptions": ["eeg_only"]}, "must corrupt one modality"),
        ({"train_corruptions": ["ecg_gauss_snr0"]}, "unknown condition"),
        ({"train_corruptions": ["eeg_gauss_snr10to-5"]}, "low to high"),
    ],
)
def test_bad_training_corruptions_raise(tiny_cache, options, message):
    with pytest.raises(PolymodalError, match=message):
        module(tiny_cache, **options).info
