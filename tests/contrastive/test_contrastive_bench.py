"""The contrastive suite's protocol, summaries and datasets; the XOR result at the reference scale (slow)."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch

from polymodal.bench.contrastive import ContrastiveProtocol, summarize_retrieval
from polymodal.bench.contrastive_figure import xor_optimum
from polymodal.data.builtin import build_datamodule
from polymodal.data.contrastive_synthetic import XorTriplesDataModule
from polymodal.tasks.contrastive import ContrastiveTask


class FakeTrainer:
    estimated_stepping_batches = 100


def test_summary_averages_one_to_one_and_two_to_one_directions_separately():
    metrics = {"test/retrieval/a->b/R@1": 0.2, "test/retrieval/b->a/R@1": 0.4, "test/retrieval/a->b/MRR": 0.5,
               "test/retrieval/a+b->c/R@1": 0.9, "test/retrieval/b+c->a/R@1": 0.5, "test/loss": 7.0}
    row = summarize_retrieval(metrics, ["a", "b", "c"])
    assert row["1->1/R@1"] == pytest.approx(0.3) and row["1->1/MRR"] == pytest.approx(0.5)
    assert row["2->1/R@1"] == pytest.approx(0.7) and row["2->1/R@5"] is None
    assert row["12->3/R@1"] == 0.9 and row["23->1/R@1"] == 0.5 and row["13->2/R@1"] is None


def test_protocol_builds_the_reference_model_and_optimizer(monkeypatch):
    """The XOR benchmark once ran at lr 2e-3 with 64-wide fused heads and did not learn
    the task; the suite's defaults are the reference's (lr 1e-4 → 1e-6, H = 512)."""
    info = XorTriplesDataModule(train_size=8, val_size=0, test_size=0).info
    task = ContrastiveTask(objective="confu", data_info=info.to_dict(), **ContrastiveProtocol().task_options())
    first_layer = task.model.fused_heads["m0+m1"].net[0]
    assert (first_layer.in_features, first_layer.out_features) == (128, 512)
    assert task.model.projections["m2"].out_features == 16 and task.objective.fused_weight == 0.5
    assert float(task.objective.logit_scale()) == pytest.approx(1 / 0.07)
    monkeypatch.setattr(ContrastiveTask, "trainer", FakeTrainer())
    setup = task.configure_optimizers()
    optimizer, schedule = setup["optimizer"], setup["lr_scheduler"]["scheduler"]
    assert isinstance(optimizer, torch.optim.AdamW)
    assert optimizer.defaults["lr"] == 1e-4 and optimizer.defaults["weight_decay"] == 1e-4
    for _ in range(100):
        optimizer.step()
        schedule.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(1e-6)


def test_contrastive_datasets_are_registered_with_their_structure():
    xor = build_datamodule("xor", bits=3, train_size=64, val_size=0, test_size=0, seed=1).splits["train"].keys
    assert torch.equal(xor["m0"] ^ xor["m1"], xor["m2"])
    redundant = build_datamodule("redundant", bits=3, train_size=64, val_size=0, test_size=0).splits["train"].keys
    assert torch.equal(redundant["m0"], redundant["m1"]) and torch.equal(redundant["m0"], redundant["m2"])
    latin = build_datamodule("latin-square", num_symbols=5, train_size=64, val_size=0, test_size=0, seed=2)
    keys = latin.splits["train"].keys
    assert torch.equal(torch.as_tensor(latin.table)[keys["m0"], keys["m1"]], keys["m2"])
    assert xor_optimum(np.array([1.0, 0.5, 0.0]), 5).tolist() == [1.0, 0.5 + 0.5 / 32, 1 / 32]


@pytest.mark.slow
def test_confu_reaches_the_xor_optimum_at_the_reference_scale():
    """d = 5, p̂ = 1, 20k samples, 60 epochs (~6 CPU-minutes); measured 1.000, pairwise 0.044."""
    L.seed_everything(0, verbose=False)
    protocol = ContrastiveProtocol()
    data = XorTriplesDataModule(bits=5, xor_probability=1.0, val_size=0, batch_size=protocol.batch_size)
    task = ContrastiveTask(objective="confu", data_info=data.info.to_dict(), **protocol.task_options())
    trainer = L.Trainer(max_epochs=protocol.max_epochs, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0)
    trainer.fit(task, datamodule=data)
    assert trainer.test(task, datamodule=data, verbose=False)[0]["test/retrieval/m0+m1->m2/R@1"] >= 0.95
