"""Checkpoint selection of SleepTask: ``monitor="fused"`` or ``"all"`` (mean of the prediction's and the heads' κ)."""

import lightning as L
import pytest
import torch
from torch.nn.functional import one_hot
from torch.utils.data import DataLoader
from torchmetrics import MetricCollection

from polymodal.data.contract import DataInfo
from polymodal.errors import PolymodalError
from polymodal.eval.metrics import head_inputs, sleep_metrics
from polymodal.models.sleep_output import SleepOutput
from polymodal.tasks import SleepTask

SMALL = {"d_model": 8, "depth": 1, "heads": 2, "ffn_dim": 16, "head_hidden": 16, "dropout": 0.0}
STAGES = ("W", "N1", "N2", "N3", "REM")


def _info(kit) -> dict:
    return DataInfo(("eeg", "eog"), {m: (4, kit.FRAMES, kit.BINS) for m in ("eeg", "eog")}, 5).to_dict()


def _scores(predicted: list[int]) -> torch.Tensor:
    return one_hot(torch.tensor([predicted]), 5).float()


def _metrics(heads: tuple[str, ...]) -> MetricCollection:
    return MetricCollection(sleep_metrics(STAGES, heads), prefix="val/", compute_groups=False)


def _update(metrics: MetricCollection, probs, output, target, present, heads) -> None:
    unimodal = head_inputs(output.unimodal, target, present, heads) if heads else {}
    metrics.update(preds=probs.flatten(0, 1), target=target.flatten(), unimodal=unimodal,
                   loss=torch.tensor(0.0), batch_size=1)


def test_kappa_all_is_the_mean_of_the_prediction_and_head_kappas() -> None:
    heads = ("eeg", "eog")
    metrics = _metrics(heads)
    target = torch.tensor([[0, 0, 1, 1]])
    present = {"eeg": torch.ones(1, 4, dtype=torch.bool), "eog": torch.tensor([[True, True, True, False]])}
    output = SleepOutput(logits=_scores([0, 1, 1, 1]), fused_mask=present["eog"],
                         unimodal={"eeg": _scores([0, 0, 1, 1]), "eog": _scores([1, 0, 1, 0])})
    _update(metrics, _scores([0, 1, 1, 1]), output, target, present, heads)
    scalars = metrics.compute()
    # prediction: κ = 1/2 (hand-computed in test_coresleep_task); EEG head exact: κ = 1;
    # EOG head on its 3 present epochs, predicted [1, 0, 1] vs [0, 0, 1]: p_o = 2/3,
    # p_e = 1/3 · 2/3 + 2/3 · 1/3 = 4/9, κ = (2/9) / (5/9) = 2/5 (epoch 4, EOG absent, is left out).
    assert scalars["val/kappa"].item() == pytest.approx(0.5)
    assert scalars["val/kappa/eeg"].item() == pytest.approx(1.0)
    assert scalars["val/kappa/eog"].item() == pytest.approx(0.4)
    assert scalars["val/kappa_all"].item() == pytest.approx((0.5 + 1.0 + 0.4) / 3)
    metrics.reset()
    _update(metrics, _scores([0, 0, 1, 1]), output, target, {m: torch.zeros(1, 4, dtype=torch.bool) for m in present},
            heads)
    scalars = metrics.compute()
    assert "val/kappa/eog" not in scalars and scalars["val/kappa_all"].item() == pytest.approx(1.0)


def test_model_without_heads_has_kappa_all_equal_to_kappa() -> None:
    metrics = _metrics(())
    target = torch.tensor([[0, 0, 1, 1]])
    _update(metrics, _scores([0, 1, 1, 1]), None, target, {}, ())
    scalars = metrics.compute()
    assert scalars["val/kappa_all"] == scalars["val/kappa"]


@pytest.mark.parametrize(("monitor", "metric"), [("fused", "val/kappa"), ("all", "val/kappa_all")])
def test_monitor_names_a_logged_validation_metric(kit, tmp_path, monitor: str, metric: str) -> None:
    task = SleepTask(model="core", sizes=SMALL, data_info=_info(kit), monitor=monitor)
    assert task.monitor == (metric, "max")
    batch = {"inputs": kit.make_inputs(), "target": torch.randint(0, 5, (2, 4)), "present": kit.eog_partly_absent()}
    data = DataLoader([batch], batch_size=None)
    trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(task, train_dataloaders=data, val_dataloaders=data)
    logged = trainer.callback_metrics
    assert metric in logged
    expected = torch.stack([logged["val/kappa"], logged["val/kappa/eeg"], logged["val/kappa/eog"]]).mean()
    assert logged["val/kappa_all"].item() == pytest.approx(expected.item())


def test_unknown_monitor_raises(kit) -> None:
    with pytest.raises(PolymodalError, match="unknown monitor 'heads'; choose one of: fused, all"):
        SleepTask(model="core", sizes=SMALL, data_info=_info(kit), monitor="heads")
