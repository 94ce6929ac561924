import json

import numpy as np
import pytest
import torch

from polymodal.data.contract import collate_items
from polymodal.data.sleep.cache import open_night
from polymodal.data.sleep.datamodule import SleepDataModule, split_by_subject
from polymodal.data.sleep.dataset import SleepSequenceDataset
from polymodal.data.sleep.stats import compute_stats, training_stats
from polymodal.data.sleep.windows import average_over_windows, window_starts
from polymodal.errors import PolymodalError


def test_window_starts_cover_the_night_without_straddling():
    assert window_starts(50, 21, 21).tolist() == [0, 21, 29]
    assert window_starts(42, 21, 21).tolist() == [0, 21]
    assert window_starts(23, 21, 1).tolist() == [0, 1, 2]
    assert window_starts(20, 21, 1).size == 0


def test_average_over_windows_hand_computed():
    # night 0: 3 epochs, windows of 2 at starts 0 and 1; night 1: 2 epochs, one window
    probs = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[0.5, 0.5], [1.0, 0.0]], [[0.2, 0.8], [0.4, 0.6]]])
    windows = np.array([[0, 0], [0, 1], [1, 0]])
    night0, night1 = average_over_windows(probs, windows, [3, 2])
    torch.testing.assert_close(night0, torch.tensor([[1.0, 0.0], [0.25, 0.75], [1.0, 0.0]]))
    torch.testing.assert_close(night1, torch.tensor([[0.2, 0.8], [0.4, 0.6]]))


def test_stats_are_per_bin_over_present_epochs(nsrr_cache):
    nights = ["synth-0000", "synth-0001"]
    stats = compute_stats(nsrr_cache, nights)
    eeg = np.concatenate([np.asarray(open_night(nsrr_cache / f"{n}.npz")["eeg"], dtype=np.float64) for n in nights])
    np.testing.assert_allclose(stats.mean["eeg"], eeg.mean(axis=(0, 1)), rtol=1e-10)
    np.testing.assert_allclose(stats.std["eeg"], eeg.reshape(-1, 128).std(axis=0, ddof=1), rtol=1e-6)
    saved = training_stats(nsrr_cache, nights)
    np.testing.assert_allclose(saved.mean["eog"], stats.mean["eog"])
    assert len(list((nsrr_cache / "stats").glob("*.npz"))) >= 1


def test_items_are_zscored_sequences_of_one_night(nsrr_cache):
    stats = compute_stats(nsrr_cache, ["synth-0000"])
    data = SleepSequenceDataset(nsrr_cache, ["synth-0000", "synth-0001"], stats, seq_len=21, stride=21,
                                missing={"synth-0001": "eog"})
    raw = open_night(nsrr_cache / "synth-0001.npz")
    night_of = data.windows[:, 0]
    index = int(np.flatnonzero(night_of == 1)[0])
    item = data[index]
    assert item["inputs"]["eeg"].shape == (21, 29, 128) and item["target"].dtype == torch.long
    start = int(data.windows[index, 1])
    expected = (np.asarray(raw["eeg"][start:start + 21]) - stats.mean["eeg"]) / stats.std["eeg"]
    np.testing.assert_allclose(item["inputs"]["eeg"].numpy(), expected, rtol=1e-5, atol=1e-5)
    assert item["target"].tolist() == raw["y"][start:start + 21].tolist()
    assert not item["present"]["eog"].any() and torch.all(item["inputs"]["eog"] == 0)
    assert item["present"]["eeg"].all()
    assert data[0]["present"]["eog"].all()  # night 0 keeps its EOG
    assert sum(data.night_lengths) == len(raw["y"]) + len(open_night(nsrr_cache / "synth-0000.npz")["y"])
    batch = collate_items([data[0], data[index]])
    assert batch["present"]["eog"].shape == (2, 21) and batch["target"].shape == (2, 21)


def test_split_by_subject_keeps_subjects_together():
    subjects = {f"n{i}": f"s{i // 2}" for i in range(20)}  # 10 subjects, 2 nights each
    splits = split_by_subject(subjects, val_fraction=0.1, test_fraction=0.3, seed=0)
    assert [len(splits[s]) for s in ("train", "val", "test")] == [12, 2, 6]
    for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
        assert not {subjects[n] for n in splits[a]} & {subjects[n] for n in splits[b]}
    assert split_by_subject(subjects, 0.1, 0.3, seed=0) == splits
    assert split_by_subject(subjects, 0.1, 0.3, seed=1) != splits


def test_datamodule_with_split_file_and_missing_modalities(nsrr_cache, tmp_path):
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"train": ["synth-0000", "synth-0001"], "val": ["synth-0002"], "test": ["synth-0003"]}))
    dm = SleepDataModule(str(nsrr_cache), split_file=str(split), missing_eeg_fraction=0.5, batch_size=4)
    assert dm.info.modalities == ("eeg", "eog") and dm.info.shapes["eeg"] == (21, 29, 128)
    assert dm.info.num_classes == 5 and dm.info.class_names == ("W", "N1", "N2", "N3", "REM")
    train = dm.splits["train"]
    assert sorted(m for m in train.missing if m) == ["eeg"]  # one of the two training nights lacks EEG
    batch = next(iter(dm.train_dataloader()))
    assert batch["inputs"]["eeg"].shape == (4, 21, 29, 128) and batch["present"]["eeg"].dtype == torch.bool
    assert len(dm.splits["test"]) == len(window_starts(dm.splits["test"].night_lengths[0], 21, 21))


def test_datamodule_errors(nsrr_cache, tmp_path):
    with pytest.raises(PolymodalError, match="no prepared nights"):
        SleepDataModule(str(tmp_path)).info
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"train": ["synth-0000", "nope"]}))
    with pytest.raises(PolymodalError, match="night 'nope' \\(train\\) is not in the cache"):
        SleepDataModule(str(nsrr_cache), split_file=str(split)).info
    with pytest.raises(PolymodalError, match="must not exceed 1"):
        SleepDataModule(str(nsrr_cache), missing_eeg_fraction=0.6, missing_eog_fraction=0.6)
