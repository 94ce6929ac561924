"""Runs for the scale tests: one global batch, split into micro-batches, or spread over processes.

The data is ordered so that every way of splitting sees the same samples in
the same order: under DDP, Lightning's ``DistributedSampler`` (no shuffle)
gives rank r the samples ``r, r + 2, …``, and the gathered global batch t is
``[8t, 8t+2, 8t+4, 8t+6, 8t+1, 8t+3, 8t+5, 8t+7]``; the single-process runs
read the data in exactly that order (:func:`ddp_order`), so their batches
(and micro-batches) are the processes' shards.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.loggers import Logger
from lightning.pytorch.plugins import MixedPrecision

from polymodal.balance import build_balancer
from polymodal.data.datamodule import ArrayDataModule
from polymodal.tasks.contrastive import ContrastiveTask
from polymodal.tasks.supervised import SupervisedTask

SAMPLES = 32
GLOBAL_BATCH = 8
WORLD = 2

METHODS: dict[str, tuple[str, dict[str, Any]]] = {
    "mlb": ("mlb", {"alpha": 1.0}),
    "ogm_ge": ("ogm_ge", {"alpha": 0.8, "ge": True}),
    "mslr": ("mslr", {"window": 1}),
    "agm": ("agm", {"alpha": 2.0}),
    "pmr": ("pmr", {"alpha": 1.0}),
    "mmpareto": ("mmpareto", {}),
    "mcr": ("mcr", {"permutations": 4, "lambda_pd": 0.1}),
    "ensemble": ("ensemble", {"combine": "zscore"}),
}
"""Test name → (method, options): every method that reads or changes gradients or batch statistics."""


class MemoryLogger(Logger):
    """Keeps every logged row in memory."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[int, dict[str, float]]] = []

    @property
    def name(self) -> str:
        return "memory"

    @property
    def version(self) -> int:
        return 0

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.rows.append((int(step or 0), {k: float(v) for k, v in metrics.items()}))

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        pass

    def series(self, key: str) -> list[float]:
        return [row[key] for _, row in self.rows if key in row]


def ddp_order(samples: int = SAMPLES, batch: int = GLOBAL_BATCH, world: int = WORLD) -> np.ndarray:
    """Sample order of the gathered global batches of a ``world``-process run."""
    local = batch // world
    order = []
    for start in range(0, samples, batch):
        for rank in range(world):
            order += [start + rank + world * i for i in range(local)]
    return np.asarray(order)


def arrays(count: int, seed: int = 0, samples: int = SAMPLES) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(samples) % 3
    data = {f"m{i}": (rng.normal(size=(samples, 5)) + (i + 1) * 0.5 * y[:, None]).astype("float32")
            for i in range(count)}
    return {**data, "y": y}


def datamodule(count: int, batch_size: int, reorder: bool) -> ArrayDataModule:
    train, val = arrays(count, 0), arrays(count, 1, samples=12)
    if reorder:
        train = {k: v[ddp_order()] for k, v in train.items()}
    return ArrayDataModule(train=train, val=val, batch_size=batch_size, shuffle=False)


SCALED_FP16 = "16-mixed-scaled"
"""fp16 autocast with a loss scaler (Lightning adds none on CPU; GPUs always have one)."""


def trainer(devices: int, accumulate: int, precision: str, epochs: int, logger: Logger) -> L.Trainer:
    plugins = []
    if precision == SCALED_FP16:
        plugins, precision = [MixedPrecision("16-mixed", "cpu", torch.amp.GradScaler("cpu", init_scale=2.0**10))], None
    return L.Trainer(
        max_epochs=epochs, accelerator="cpu", devices=devices, strategy="ddp" if devices > 1 else "auto",
        accumulate_grad_batches=accumulate, precision=precision, plugins=plugins, logger=logger,
        log_every_n_steps=1, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        num_sanity_val_steps=0,
    )


def fit_supervised(name: str, *, devices: int = 1, accumulate: int = 1, precision: str = "32-true",
                   gather: bool = True, epochs: int = 2, count: int = 2) -> dict[str, Any]:
    """Train method ``name`` of :data:`METHODS`; the global batch is always :data:`GLOBAL_BATCH`."""
    method, options = METHODS[name]
    L.seed_everything(0, verbose=False)
    data = datamodule(count, GLOBAL_BATCH // (devices * accumulate), reorder=devices == 1)
    task = SupervisedTask(balancer=build_balancer(method, **(options or {})), optimizer="sgd", lr=0.1,
                          gather=gather, encoder_options={"hidden_dim": 8, "dropout": 0.0}, data_info=data.info)
    logger = MemoryLogger()
    trainer(devices, accumulate, precision, epochs, logger).fit(task, data)
    return {"params": {k: v.detach().clone() for k, v in task.state_dict().items()}, "logged": logger.rows,
            "steps": task.global_step}


class FirstStepRecorder(L.Callback):
    """The loss and every gradient of the first optimizer step (before the optimizer changes anything)."""

    def __init__(self) -> None:
        self.loss: float | None = None
        self.grads: dict[str, torch.Tensor] = {}

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        if self.loss is None:
            self.loss = float(outputs["loss"])

    def on_before_optimizer_step(self, trainer, module, optimizer) -> None:
        if not self.grads:
            self.grads = {n: p.grad.detach().clone() for n, p in module.named_parameters() if p.grad is not None}


def first_contrastive_step(objective: str, *, devices: int = 1, gather: bool = True) -> dict[str, Any]:
    """Loss and gradients of ConFu / pairwise training's first step on three modalities."""
    L.seed_everything(0, verbose=False)
    data = datamodule(3, GLOBAL_BATCH // devices, reorder=devices == 1)
    task = ContrastiveTask(objective=objective, embed_dim=8, fusion_hidden_dim=16, fusion_dropout=0.0,
                           gather=gather, linear_probe=False, encoder_options={"hidden_dim": 8, "dropout": 0.0},
                           data_info=data.info)
    recorder = FirstStepRecorder()
    run = L.Trainer(max_steps=1, accelerator="cpu", devices=devices, strategy="ddp" if devices > 1 else "auto",
                    logger=False, enable_checkpointing=False, enable_progress_bar=False,
                    enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0, callbacks=[recorder])
    run.fit(task, data)
    return {"loss": recorder.loss, "grads": recorder.grads}
