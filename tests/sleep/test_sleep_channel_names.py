"""A prepared dataset whose channels are named otherwise (``eeg_c4``, ``emg``) trains and is tested end to end."""

import json

import numpy as np
import pytest

from polymodal.cli import main
from polymodal.data.sleep import SleepDataModule
from polymodal.data.sleep.cache import TEXT_KEYS, open_night, prepared_nights, write_night

RENAMED = {"eeg": "eeg_c4", "eog": "emg"}
TINY = '{"d_model": 8, "depth": 1, "heads": 2, "ffn_dim": 16, "head_hidden": 8}'
SPLIT = ["--data.test_fraction", "0.25", "--data.val_fraction", "0.25", "--data.seq_len", "5"]


def _renamed(key: str) -> str:
    for old, new in RENAMED.items():
        if key == old or key.endswith(f"_{old}"):
            return key[: -len(old)] + new
    return key


@pytest.fixture(scope="module")
def renamed_cache(nsrr_cache, tmp_path_factory):
    cache = tmp_path_factory.mktemp("renamed")
    for night in prepared_nights(nsrr_cache):
        path = nsrr_cache / f"{night}.npz"
        arrays = {_renamed(k): np.asarray(v) for k, v in open_night(path).items()}
        with np.load(path, allow_pickle=False) as stored:
            texts = {k: str(stored[k]) for k in TEXT_KEYS}
        write_night(cache, night, arrays, texts)
    return cache


def test_data_module_serves_the_stored_modalities(renamed_cache):
    data = SleepDataModule(str(renamed_cache), seq_len=5, test_fraction=0.25, val_fraction=0.25,
                           missing_fractions={"emg": 0.5})
    assert data.info.modalities == ("eeg_c4", "emg")
    assert data.info.shapes == {"eeg_c4": (5, 29, 128), "emg": (5, 29, 128)}
    train = data.splits["train"]
    assert set(train[0]["inputs"]) == {"eeg_c4", "emg"}
    assert sum(m == "emg" for m in train.missing) == 1


def test_unknown_modality_in_missing_fractions_is_one_line(renamed_cache, tmp_path, capsys):
    assert main(["fit", "--model", "polymodal.tasks.SleepTask", "--data", "polymodal.data.sleep.SleepDataModule",
                 "--data.cache_dir", str(renamed_cache), *SPLIT, "--data.missing_eog_fraction", "0.3",
                 "--model.sizes", TINY, "--trainer.max_epochs", "1", "--trainer.enable_progress_bar", "false",
                 "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == (
        "polymodal: error: missing_fractions: the data has no modality 'eog'; it has: eeg_c4, emg\n")


@pytest.fixture(scope="module")
def trained(renamed_cache, tmp_path_factory):
    run = tmp_path_factory.mktemp("renamed") / "run"
    code = main(["fit", "--model", "polymodal.tasks.SleepTask", "--model.sizes", TINY,
                 "--data", "polymodal.data.sleep.SleepDataModule", "--data.cache_dir", str(renamed_cache), *SPLIT,
                 "--data.missing_fractions", '{"eeg_c4": 0.25, "emg": 0.25}',
                 "--data.train_corruption_probability", "0.5", "--data.train_corruptions", "[eeg_c4_gauss_snr0]",
                 "--trainer.max_epochs", "1", "--trainer.enable_progress_bar", "false", "--out", str(run)])
    return code, run


def test_renamed_channels_train_one_epoch(trained):
    code, run = trained
    assert code == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert -1.0 <= metrics["test/kappa"] <= 1.0
    assert {"test/kappa/eeg_c4", "test/kappa/emg"} <= set(metrics)


def test_renamed_channels_are_tested_under_conditions(trained, renamed_cache, tmp_path):
    conditions = ["both", "eeg_c4_only", "emg_gauss_snr0"]
    assert main(["test", "--ckpt", str(trained[1] / "checkpoints" / "best.ckpt"), "--data.cache_dir",
                 str(renamed_cache), *SPLIT, "--conditions", ",".join(conditions), "--out", str(tmp_path / "test")]) == 0
    tested = json.loads((tmp_path / "test" / "metrics.json").read_text())
    assert all(-1.0 <= tested[f"test/{c}/kappa"] <= 1.0 for c in conditions)
