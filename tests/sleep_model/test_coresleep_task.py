"""SleepTask: optimizer coverage, training and evaluation through Lightning, metrics, user errors."""

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader
from torchmetrics import MetricCollection

from polymodal.data.contract import DataInfo
from polymodal.errors import PolymodalError
from polymodal.eval.metrics import sleep_metrics
from polymodal.models import predict
from polymodal.tasks import SleepTask

SMALL = {"d_model": 8, "depth": 1, "heads": 2, "ffn_dim": 16, "head_hidden": 16, "dropout": 0.0}


def _info(kit, modalities=("eeg", "eog")) -> dict:
    return DataInfo(tuple(modalities), {m: (4, kit.FRAMES, kit.BINS) for m in modalities}, 5).to_dict()


def _batch(kit, present=None) -> dict:
    present = kit.eog_partly_absent() if present is None else present
    return {"inputs": kit.make_inputs(), "target": torch.randint(0, 5, (2, 4)), "present": present}


@pytest.mark.parametrize("name", ["core", "early", "midlate", "eeg", "eog"])
def test_every_parameter_is_optimized_and_reached_by_the_loss(kit, name: str) -> None:
    task = SleepTask(model=name, sizes=SMALL, data_info=_info(kit))
    optimizer = task.configure_optimizers()
    assert isinstance(optimizer, torch.optim.Adam)
    group = optimizer.param_groups[0]
    assert group["lr"] == 1e-4 and group["weight_decay"] == 1e-4
    optimized = {id(p) for g in optimizer.param_groups for p in g["params"]}
    trainable = [p for p in task.parameters() if p.requires_grad]
    assert optimized == {id(p) for p in trainable}
    task.training_step(_batch(kit, kit.full_presence()), 0).backward()
    unreached = [n for n, p in task.named_parameters() if p.grad is None or not bool(p.grad.abs().sum() > 0)]
    assert unreached == []


def test_fit_and_test_log_the_pooled_metrics(kit, tmp_path) -> None:
    task = SleepTask(model="core", sizes=SMALL, data_info=_info(kit), lr=1e-3)
    data = DataLoader([_batch(kit) for _ in range(2)], batch_size=None)
    trainer = L.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(task, train_dataloaders=data, val_dataloaders=data)
    for key in ("train/ce_fused", "train/ce_eeg", "train/ce_eog", "train/align", "val/kappa", "val/acc/eog"):
        assert key in trainer.callback_metrics
    metrics = trainer.test(task, dataloaders=data, verbose=False)[0]
    for key in ("test/acc", "test/f1_macro", "test/kappa", "test/f1/N1", "test/acc/eeg"):
        assert key in metrics
    confusion = task.confusion_matrices["test"]
    valid = int(sum((b["present"]["eeg"] | b["present"]["eog"]).sum() for b in data))
    assert confusion.shape == (5, 5) and int(confusion.sum()) == valid
    assert task.monitor == ("val/kappa", "max")
    path = tmp_path / "last.ckpt"
    trainer.save_checkpoint(path)
    restored = SleepTask.load_from_checkpoint(path).eval()
    batch = _batch(kit)
    task.eval()
    assert torch.allclose(restored.predict_step(batch, 0), task.predict_step(batch, 0))


def test_pooled_metrics_match_hand_computed_values() -> None:
    metrics = MetricCollection(sleep_metrics(("W", "N1", "N2", "N3", "REM"), ()), prefix="test/", compute_groups=False)
    target = torch.tensor([0, 0, 1, 1])
    predicted = torch.tensor([0, 1, 1, 1])
    probs = torch.nn.functional.one_hot(predicted, 5).float()
    metrics.update(preds=probs, target=target, unimodal={}, loss=torch.tensor(1.0), batch_size=1)
    scalars = metrics.compute()
    confusion = scalars["test/confusion"]
    # p_o = 3/4; p_e = 1/2 · 1/4 + 1/2 · 3/4 = 1/2; κ = (p_o − p_e) / (1 − p_e) = 1/2.
    assert scalars["test/acc"].item() == pytest.approx(0.75)
    assert scalars["test/kappa"].item() == pytest.approx(0.5)
    assert scalars["test/f1/W"].item() == pytest.approx(2 / 3)  # precision 1, recall 1/2
    assert scalars["test/f1/N1"].item() == pytest.approx(0.8)  # precision 2/3, recall 1
    assert confusion[:2, :2].tolist() == [[1, 1], [0, 2]]


def test_prediction_falls_back_to_the_unimodal_head_per_epoch(kit) -> None:
    task = SleepTask(model="core", sizes=SMALL, data_info=_info(kit)).eval()
    batch = _batch(kit)
    output = task(batch)
    probs = task.predict_step(batch, 0)
    eog_absent = ~batch["present"]["eog"]
    assert torch.allclose(probs[eog_absent], output.unimodal["eeg"][eog_absent].softmax(-1))
    assert torch.allclose(probs[~eog_absent], output.logits[~eog_absent].softmax(-1))
    assert torch.equal(probs, predict(output, batch["present"]))


def test_unimodal_model_needs_only_its_modality(kit) -> None:
    task = SleepTask(model="eeg", sizes=SMALL, data_info=_info(kit, ("eeg",)))
    batch = _batch(kit)
    del batch["inputs"]["eog"], batch["present"]["eog"]
    assert task.predict_step(batch, 0).shape == (2, 4, 5)
    with pytest.raises(PolymodalError, match="'eog'"):
        SleepTask(model="eog", sizes=SMALL, data_info=_info(kit, ("eeg",)))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"model": "early", "w_uni": 1.0}, "w_uni=1.0"),
        ({"model": "midlate", "w_align": 0.1}, "w_align=0.1"),
        ({"model": "core", "sizes": {**SMALL, "depht": 2}}, "depht"),
        ({"model": "core", "preset": "large"}, "large"),
        ({"model": "core", "sizes": {**SMALL, "num_bins": 128}}, "num_bins"),
        ({"model": "core", "sizes": {**SMALL, "heads": 3}}, "divisible"),
        ({"model": "core", "class_weights": [1.0, 2.0]}, "class_weights"),
        ({"model": "late"}, "choose one of"),
    ],
)
def test_bad_options_raise_one_line_errors(kit, options: dict, message: str) -> None:
    with pytest.raises(PolymodalError, match=message):
        SleepTask(**{"sizes": SMALL, **options}, data_info=_info(kit))


def test_reference_preset_has_the_published_sizes(kit) -> None:
    sizes = SleepTask(model="eeg", preset="reference", data_info=_info(kit)).model.sizes
    assert (sizes.d_model, sizes.depth, sizes.heads, sizes.ffn_dim, sizes.dropout, sizes.head_hidden) == (
        128, 4, 8, 1024, 0.3, 1024)
