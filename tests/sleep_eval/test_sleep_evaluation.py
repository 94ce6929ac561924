"""Condition-grid evaluation of a sleep task: metrics, applicability, per-night results, figures."""

import numpy as np
import pytest
import torch

from polymodal.data.sleep import SleepDataModule
from polymodal.data.sleep.corruptions import parse_conditions
from polymodal.errors import PolymodalError
from polymodal.eval.sleep_eval import NightPrediction, applicable, evaluate_conditions, flat_metrics, pooled_metrics
from polymodal.eval.sleep_plots import hypnogram_levels, plot_evaluation
from polymodal.tasks import SleepTask

STAGES = ("W", "N1", "N2", "N3", "REM")


@pytest.fixture(scope="module")
def data(tiny_cache) -> SleepDataModule:
    return SleepDataModule(str(tiny_cache), seq_len=5, eval_stride=5, test_fraction=0.2, val_fraction=0.2, batch_size=8)


TINY_SIZES = {"d_model": 8, "depth": 1, "heads": 2, "ffn_dim": 16, "head_hidden": 8}


def task_for(model: str, data: SleepDataModule) -> SleepTask:
    torch.manual_seed(0)
    return SleepTask(model=model, sizes=TINY_SIZES, data_info=data.info.to_dict())


def test_pooled_metrics_by_hand():
    predicted, target = torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 1, 1])
    scores = pooled_metrics(predicted, target, ("a", "b"))
    # p_o = 3/4; p_e = (2/4)(1/4) + (2/4)(3/4) = 1/2; κ = (3/4 - 1/2) / (1 - 1/2)
    assert scores["acc"] == pytest.approx(0.75)
    assert scores["kappa"] == pytest.approx(0.5)
    assert scores["f1/a"] == pytest.approx(2 / 3)
    assert scores["f1/b"] == pytest.approx(0.8)
    assert scores["f1_macro"] == pytest.approx((2 / 3 + 0.8) / 2)


def test_grid_reports_every_condition_over_every_test_epoch(data):
    conditions = ["both", "eeg_only", "eog_only", "eeg_gauss_snr0", "eeg_flat"]
    results = evaluate_conditions(task_for("core", data), data, ",".join(conditions))
    metrics = flat_metrics(results)
    for name in conditions:
        for key in ("kappa", "acc", "f1_macro", "f1/REM", "night_kappa_median"):
            assert f"test/{name}/{key}" in metrics
    test_epochs = sum(data.splits["test"].night_lengths)
    assert all(metrics[f"test/{c}/epochs"] == test_epochs for c in conditions)
    by_name = {r.name: r for r in results}
    assert by_name["both"].confusion.sum() == test_epochs
    # a flat EEG is absent EEG: the model falls back to the EOG head exactly as with EOG only
    assert np.array_equal(by_name["eeg_flat"].nights[0].predicted, by_name["eog_only"].nights[0].predicted)
    assert not np.array_equal(by_name["both"].nights[0].predicted, by_name["eog_only"].nights[0].predicted)


def test_sliding_windows_average_the_same_epochs(data, tiny_cache):
    sliding = SleepDataModule(str(tiny_cache), seq_len=5, eval_stride=1, test_fraction=0.2, val_fraction=0.2)
    result = evaluate_conditions(task_for("core", sliding), sliding, ["both"])[0]
    assert result.metrics["epochs"] == sum(data.splits["test"].night_lengths)


def test_conditions_without_the_models_modality_are_rejected(data):
    eeg_model = task_for("eeg", data)
    with pytest.raises(PolymodalError, match="eog_only"):
        evaluate_conditions(eeg_model, data, "both,eog_only")
    grid = parse_conditions("both,eeg_only,eog_only,eeg_flat,eeg_dropseg,eog_flat,eeg_gauss_snr0", ("eeg", "eog"))
    kept = [c.name for c in applicable(grid, eeg_model.model.modalities)]
    assert kept == ["both", "eeg_only", "eog_flat", "eeg_gauss_snr0"]


def test_hypnogram_levels_follow_the_clinical_order():
    assert hypnogram_levels(np.array([0, 1, 2, 3, 4]), STAGES).tolist() == [0, 2, 3, 4, 1]


def test_figures_are_written(data, tmp_path):
    results = evaluate_conditions(task_for("core", data), data, "both,eeg_gauss_snr0,eeg_gauss_snr-5")
    results[0].nights.append(NightPrediction("extra", np.array([0, 4, 2]), np.array([0, 1, 2])))
    paths = plot_evaluation(results, STAGES, ("eeg", "eog"), tmp_path, "core", max_nights=5)
    names = {p.name for p in paths}
    assert {"confusion_both.png", "confusion_eeg_gauss_snr-5.png", "kappa_vs_noise.png", "hypnogram_extra.png"} <= names
    assert all(p.stat().st_size > 1000 for p in paths)
