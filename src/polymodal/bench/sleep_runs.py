"""One run of ``polymodal bench sleep``: train a sleep model under the shared protocol, evaluate it per condition.

Every model (CoRe-Sleep and its baselines, arXiv 2304.06485, Sec. 4.2) is
trained with the same sizes, optimizer, epochs, checkpoint selection and
early stopping (``monitor``: validation κ of the prediction, or its mean with
the unimodal heads' κ), training-time corruptions, batch size and seed. Models that fuse both modalities are
trained on the incomplete data (a share of training nights without EEG, a
share without EOG); the unimodal baselines see every training night of
their modality (``unimodal_complete``) or the same incomplete nights. The best validation checkpoint is evaluated under every
condition that leaves it a modality (:mod:`polymodal.eval.sleep_eval`).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback

from polymodal.bench.protocol import bench_trainer
from polymodal.data.sleep.datamodule import SleepDataModule
from polymodal.eval.robustness import parse_conditions
from polymodal.eval.sleep_eval import (
    ConditionResult,
    applicable,
    evaluate_condition,
    held_out_windows,
    save_results,
)
from polymodal.tasks.sleep import SleepTask

EVALUATION_FILE = "evaluation.json"
UNIMODAL_MODELS = ("eeg", "eog")


@dataclass(frozen=True)
class SleepProtocol:
    """Shared settings of every run of the sleep benchmark."""

    max_epochs: int = 15
    patience: int = 5
    batch_size: int = 16
    lr: float = 5e-4
    weight_decay: float = 1e-4
    preset: str = "small"
    sizes: dict[str, Any] = field(default_factory=dict)
    seq_len: int = 21
    train_stride: int = 7
    eval_stride: int = 21
    test_fraction: float = 0.3
    missing_eeg_fraction: float = 0.3
    missing_eog_fraction: float = 0.3
    unimodal_complete: bool = True
    monitor: str = "fused"
    train_corruption_probability: float = 0.0
    train_corruptions: tuple[str, ...] = ()
    accelerator: str = "cpu"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TrainingThroughput(Callback):
    """Training sequences per second, timed over the training steps only (no validation, no loading)."""

    def __init__(self) -> None:
        self.sequences = 0
        self.seconds = 0.0
        self._start = 0.0

    def on_train_batch_start(self, trainer: L.Trainer, module: L.LightningModule, batch: Any, batch_idx: int) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(self, trainer: L.Trainer, module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        self.seconds += time.perf_counter() - self._start
        self.sequences += len(batch["target"])

    @property
    def rate(self) -> float:
        return self.sequences / self.seconds if self.seconds else float("nan")


def sleep_data(cache: Path, model: str, protocol: SleepProtocol, seed: int) -> SleepDataModule:
    """The benchmark's data module for ``model`` (unimodal baselines train on complete nights if so set)."""
    unimodal = model in UNIMODAL_MODELS and protocol.unimodal_complete
    return SleepDataModule(
        str(cache), seq_len=protocol.seq_len, train_stride=protocol.train_stride, eval_stride=protocol.eval_stride,
        test_fraction=protocol.test_fraction,
        missing_eeg_fraction=0.0 if unimodal else protocol.missing_eeg_fraction,
        missing_eog_fraction=0.0 if unimodal else protocol.missing_eog_fraction,
        train_corruption_probability=protocol.train_corruption_probability,
        train_corruptions=list(protocol.train_corruptions),
        batch_size=protocol.batch_size, seed=seed,
    )


def train_sleep_model(model: str, data: SleepDataModule, protocol: SleepProtocol, run_dir: Path,
                      seed: int) -> tuple[SleepTask, dict[str, float]]:
    """Fit ``model``; return the best validation checkpoint's task and the training figures."""
    L.seed_everything(seed, verbose=False)
    task = SleepTask(model=model, preset=protocol.preset, sizes=dict(protocol.sizes), monitor=protocol.monitor,
                     lr=protocol.lr, weight_decay=protocol.weight_decay, data_info=data.info.to_dict())
    throughput = TrainingThroughput()
    trainer, checkpoint = bench_trainer(task, run_dir, protocol.max_epochs, protocol.accelerator, protocol.patience,
                                        throughput)
    start = time.perf_counter()
    trainer.fit(task, datamodule=data)
    figures = {
        "wall_s": round(time.perf_counter() - start, 1),
        "train_seq_per_s": round(throughput.rate, 2),
        "epochs_trained": trainer.current_epoch,
        "best_val_score": round(float(checkpoint.best_model_score), 4) if checkpoint.best_model_score is not None else None,
        "params": sum(p.numel() for p in task.parameters()),
    }
    best = SleepTask.load_from_checkpoint(checkpoint.best_model_path) if checkpoint.best_model_path else task
    return best, figures


def run_sleep_model(cache: Path, model: str, conditions: list[str], protocol: SleepProtocol, run_dir: Path,
                    seed: int) -> dict[str, Any]:
    """Train and evaluate one model; save the evaluation next to the run; return its table row fields."""
    data = sleep_data(cache, model, protocol, seed)
    task, row = train_sleep_model(model, data, protocol, run_dir, seed)
    base = held_out_windows(data)
    results: list[ConditionResult] = [
        evaluate_condition(task, base, condition, protocol.batch_size, seed)
        for condition in applicable(parse_conditions(conditions, base.modalities), task.model.modalities)
    ]
    save_results(results, {"class_names": list(task.data_info.class_names),
                           "modalities": list(task.model.modalities)}, run_dir / EVALUATION_FILE)
    for result in results:
        row.update({f"{result.name}/{k}": round(result.metrics[k], 4) for k in ("kappa", "acc", "f1_macro")})
    return row
