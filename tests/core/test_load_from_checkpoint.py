"""Every task reloads with Lightning's plain ``load_from_checkpoint(path)`` (data info included)."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

from polymodal.data.contract import DataInfo
from polymodal.errors import PolymodalError
from polymodal.tasks import ContrastiveTask, SleepTask, SupervisedTask
from polymodal.tasks.registry import TASK_KEY

FRAMES, BINS = 5, 8
SLEEP_SIZES = {"d_model": 8, "depth": 1, "heads": 2, "ffn_dim": 16, "head_hidden": 16, "dropout": 0.0}


def supervised() -> tuple[L.LightningModule, dict]:
    info = DataInfo(("a", "b"), {"a": (3,), "b": (5,)}, 3).to_dict()
    task = SupervisedTask(balancer="ogm_ge", lr=3e-3, data_info=info)
    batch = {"inputs": {"a": torch.randn(8, 3), "b": torch.randn(8, 5)}, "target": torch.arange(8) % 3,
             "present": {m: torch.ones(8, dtype=torch.bool) for m in ("a", "b")}}
    return task, batch


def contrastive() -> tuple[L.LightningModule, dict]:
    info = DataInfo(("m0", "m1", "m2", "m3"), {m: (4,) for m in ("m0", "m1", "m2", "m3")}, 2).to_dict()
    task = ContrastiveTask(objective="confu", embed_dim=8, fusion_hidden_dim=8, modalities=["m2", "m0", "m1"],
                           data_info=info)
    batch = {"inputs": {m: torch.randn(8, 4) for m in ("m0", "m1", "m2", "m3")}, "target": torch.arange(8) % 2}
    return task, batch


def sleep() -> tuple[L.LightningModule, dict]:
    info = DataInfo(("eeg", "eog"), {m: (4, FRAMES, BINS) for m in ("eeg", "eog")}, 5).to_dict()
    task = SleepTask(model="core", sizes=SLEEP_SIZES, lr=1e-3, data_info=info)
    batch = {"inputs": {m: torch.randn(2, 4, FRAMES, BINS) for m in ("eeg", "eog")},
             "target": torch.randint(0, 5, (2, 4)),
             "present": {m: torch.ones(2, 4, dtype=torch.bool) for m in ("eeg", "eog")}}
    return task, batch


@pytest.mark.parametrize("make", [supervised, contrastive, sleep], ids=lambda f: f.__name__)
def test_a_fitted_task_reloads_with_plain_load_from_checkpoint(make, tmp_path) -> None:
    task, batch = make()
    trainer = L.Trainer(max_steps=1, limit_val_batches=0, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(task, train_dataloaders=DataLoader([batch], batch_size=None))
    path = tmp_path / "task.ckpt"
    trainer.save_checkpoint(path)

    restored = type(task).load_from_checkpoint(path, weights_only=True)

    assert torch.load(path, weights_only=True)[TASK_KEY] == task.task_name
    assert restored.data_info == task.data_info
    assert restored.hparams == task.hparams
    expected, found = task.state_dict(), restored.state_dict()
    assert expected.keys() == found.keys()
    assert all(torch.equal(expected[k], found[k]) for k in expected)


def test_a_checkpoint_without_data_info_is_one_line(tmp_path) -> None:
    task, _ = contrastive()
    path = tmp_path / "bare.ckpt"
    torch.save({"state_dict": task.state_dict(), "hyper_parameters": {k: v for k, v in task.hparams.items() if k != "data_info"},
                "pytorch-lightning_version": L.__version__}, path)
    with pytest.raises(PolymodalError, match="needs data_info"):
        ContrastiveTask.load_from_checkpoint(path, weights_only=True)
