"""Optimizers and the warm-up + cosine-restarts schedule of the supervised task."""

from __future__ import annotations

import math

import lightning as L
import numpy as np
import pytest
import torch

from polymodal import ArrayDataModule, SupervisedTask
from polymodal.errors import PolymodalError


def data() -> ArrayDataModule:
    rng = np.random.default_rng(0)
    arrays = {"a": rng.normal(size=(64, 4)).astype("float32"), "b": rng.normal(size=(64, 3)).astype("float32"),
              "y": np.arange(64) % 3}
    return ArrayDataModule(train=arrays, batch_size=4, val_fraction=0)


def test_adam_with_l2_decay_and_eps() -> None:
    optimizer = SupervisedTask(optimizer="adam", eps=1e-7, data_info=data().info).configure_optimizers()
    assert type(optimizer) is torch.optim.Adam and optimizer.defaults["eps"] == 1e-7


def test_constant_warm_phase_then_cosine_restarts_by_optimizer_step() -> None:
    task = SupervisedTask(lr=0.1, lr_schedule="cosine_restarts", warmup_steps=3, restart_steps=4, restart_mult=2,
                          data_info=data().info)
    rates = []

    class Rates(L.Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
            rates.append(trainer.optimizers[0].param_groups[0]["lr"])

    trainer = L.Trainer(max_steps=16, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, limit_val_batches=0, callbacks=[Rates()])
    trainer.fit(task, data())
    cosine = [0.05 * (1 + math.cos(math.pi * t / period)) for period in (4, 8) for t in range(period)]
    assert rates[:15] == pytest.approx([0.1] * 3 + cosine[:12], abs=1e-9)


def test_bad_optimization_options_raise() -> None:
    with pytest.raises(PolymodalError, match="unknown lr_schedule 'step'"):
        SupervisedTask(lr_schedule="step", data_info=data().info)
    with pytest.raises(PolymodalError, match="restart_steps must be >= 1, got 0"):
        SupervisedTask(restart_steps=0, data_info=data().info)
