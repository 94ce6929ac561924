"""One training protocol for every run of a benchmark.

Methods are compared under the same encoders, optimizer, epochs, early
stopping, batch size and seeds (balancing.md: baselines differ wildly across
codebases otherwise). A run trains, keeps the best validation checkpoint,
tests it, and stores its test predictions for ensembling.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import CSVLogger

from polymodal.callbacks import BestCheckpoint, PatientEarlyStopping

from polymodal.data.datamodule import MultimodalDataModule
from polymodal.eval.metrics import as_floats


@dataclass(frozen=True)
class Protocol:
    """Shared settings of every run in a benchmark."""

    max_epochs: int = 30
    patience: int = 6
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    optimizer: str = "adamw"
    encoder: str = "mlp"
    hidden_dim: int = 128
    encoder_options: dict[str, Any] | None = None
    """Options of the encoder; ``None``: ``{"hidden_dim": hidden_dim}`` (the MLP's width)."""
    fusion: str = "late"
    accelerator: str = "cpu"

    def task_options(self) -> dict[str, Any]:
        return {
            "encoder": self.encoder,
            "encoder_options": dict(self.encoder_options) if self.encoder_options is not None
            else {"hidden_dim": self.hidden_dim},
            "fusion": self.fusion,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "optimizer": self.optimizer,
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunResult:
    """Test metrics, fused test logits and targets of one trained run."""

    metrics: dict[str, float]
    logits: torch.Tensor
    targets: torch.Tensor
    wall_s: float


def bench_trainer(task: L.LightningModule, run_dir: Path, max_epochs: int, accelerator: str,
                  patience: int | None, *callbacks: Callback) -> tuple[L.Trainer, ModelCheckpoint]:
    """The Trainer of one benchmark run and its best-checkpoint callback.

    The checkpoint follows the task's ``monitor``; ``patience`` (epochs) adds
    early stopping on the same metric; logs go to ``run_dir/metrics.csv``.
    """
    metric, mode = task.monitor
    checkpoint = BestCheckpoint(dirpath=run_dir / "checkpoints", filename="best", monitor=metric, mode=mode)
    stopping = [PatientEarlyStopping(metric, mode=mode, patience=patience)] if patience is not None else []
    trainer = L.Trainer(
        max_epochs=max_epochs,
        accelerator=accelerator,
        devices=1,
        callbacks=[checkpoint, *stopping, *callbacks],
        logger=CSVLogger(run_dir, name="", version=""),
        default_root_dir=run_dir,
        enable_progress_bar=False,
        enable_model_summary=False,
        log_every_n_steps=10,
    )
    return trainer, checkpoint


def train_and_test(
    task: L.LightningModule, data: MultimodalDataModule, protocol: Protocol, run_dir: Path, seed: int
) -> RunResult:
    """Fit ``task`` under ``protocol``, then test the best validation checkpoint."""
    L.seed_everything(seed, verbose=False)
    trainer, checkpoint = bench_trainer(task, run_dir, protocol.max_epochs, protocol.accelerator, protocol.patience)
    start = time.perf_counter()
    trainer.fit(task, datamodule=data)
    wall = time.perf_counter() - start
    best = checkpoint.best_model_path or None
    metrics = as_floats(trainer.test(task, datamodule=data, ckpt_path=best, verbose=False)[0])
    logits = torch.cat(trainer.predict(task, dataloaders=data.test_dataloader(), ckpt_path=best))
    targets = torch.cat([batch["target"] for batch in data.test_dataloader()])
    return RunResult(metrics, logits.float().cpu(), targets, wall)
