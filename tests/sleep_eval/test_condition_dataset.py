"""Evaluation conditions applied to the sleep sequence windows (removed, recomputed and corrupted inputs)."""

import numpy as np
import pytest
import torch

from polymodal.data.sleep import SleepDataModule, SleepSequenceDataset
from polymodal.data.sleep.cache import open_night
from polymodal.data.sleep.conditions import ConditionDataset
from polymodal.data.sleep.corruptions import BLOCK_EPOCHS, parse_condition

SEQ_LEN = 5


@pytest.fixture(scope="module")
def windows(tiny_cache) -> SleepSequenceDataset:
    data = SleepDataModule(str(tiny_cache), seq_len=SEQ_LEN, train_stride=SEQ_LEN, eval_stride=3,
                           test_fraction=0.2, val_fraction=0.2)
    return data.splits["test"]


def under(windows, name: str, seed: int = 0) -> ConditionDataset:
    return ConditionDataset(windows, parse_condition(name, ("eeg", "eog")), seed)


def test_stored_signal_reproduces_the_cached_spectrogram(windows):
    """A negligible corruption recomputes the input from the stored signal: it matches the cached input."""
    for index in (0, len(windows) - 1):
        recomputed, cached = under(windows, "eeg_gauss_snr300")[index], windows[index]
        torch.testing.assert_close(recomputed["inputs"]["eeg"], cached["inputs"]["eeg"], atol=2e-3, rtol=0)
        assert torch.equal(recomputed["present"]["eeg"], cached["present"]["eeg"])
        assert torch.equal(recomputed["inputs"]["eog"], cached["inputs"]["eog"])


def test_only_conditions_remove_the_other_modality(windows):
    item, base = under(windows, "eeg_only")[1], windows[1]
    assert not item["present"]["eog"].any() and (item["inputs"]["eog"] == 0).all()
    assert torch.equal(item["inputs"]["eeg"], base["inputs"]["eeg"]) and item["present"]["eeg"].all()
    assert torch.equal(item["target"], base["target"])
    eog_only = under(windows, "eog_only")[1]
    assert not eog_only["present"]["eeg"].any() and (eog_only["inputs"]["eeg"] == 0).all()
    assert torch.equal(under(windows, "both")[1]["inputs"]["eog"], base["inputs"]["eog"])


def test_flat_line_reaches_the_model_as_absent(windows):
    item = under(windows, "eog_flat")[0]
    assert not item["present"]["eog"].any() and (item["inputs"]["eog"] == 0).all()
    assert item["present"]["eeg"].all()


def test_dropped_segments_are_absent_and_the_rest_untouched(windows):
    dataset = under(windows, "eeg_dropseg_p50")
    night = int(windows.windows[0, 0])
    _, present = dataset.corrupted_night(night)
    n = windows.night_lengths[night]
    blocks = present["eeg"][: n - n % BLOCK_EPOCHS].reshape(-1, BLOCK_EPOCHS)
    assert (blocks.all(axis=1) | ~blocks.any(axis=1)).all()
    assert (~present["eeg"]).sum() > 0
    stored = np.asarray(open_night(windows.paths[night])["present_eeg"])
    assert (present["eeg"] <= stored).all()


def test_noise_is_drawn_once_per_night(windows):
    """Overlapping windows of a night see the same corrupted epochs; the seed changes the draw."""
    dataset = under(windows, "eeg_gauss_snr0")
    first, second = dataset[0], dataset[1]
    overlap = SEQ_LEN - int(windows.windows[1, 1] - windows.windows[0, 1])
    assert overlap > 0
    torch.testing.assert_close(first["inputs"]["eeg"][-overlap:], second["inputs"]["eeg"][:overlap])
    assert not torch.allclose(first["inputs"]["eeg"], windows[0]["inputs"]["eeg"], atol=0.5)
    assert not torch.equal(first["inputs"]["eeg"], under(windows, "eeg_gauss_snr0", seed=1)[0]["inputs"]["eeg"])
