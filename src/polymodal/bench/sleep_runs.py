"""The runs of ``polymodal bench sleep``: the task factory and row summariser of the grid runner.

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

from polymodal.bench.grid import Cell, Fit, Outcome
from polymodal.bench.protocol import require_positive
from polymodal.bench.report import Row
from polymodal.data.sleep.datamodule import SleepDataModule
from polymodal.data.sleep.corruptions import parse_conditions
from polymodal.eval.sleep_eval import (
    ConditionResult,
    applicable,
    evaluate_condition,
    held_out_windows,
    save_results,
)
from polymodal.models.sleep_registry import SLEEP_MODELS, UNIMODAL
from polymodal.tasks.sleep import SleepTask

EVALUATION_FILE = "evaluation.json"


@dataclass(frozen=True)
class SleepProtocol:
    """Shared settings of every run of the sleep benchmark.

    Attributes:
        max_epochs: epochs at most per run
        patience: early-stopping patience (epochs) on the monitored validation κ
        batch_size: sequences per batch
        lr: learning rate
        weight_decay: weight decay
        preset: model size preset
        sizes: size overrides, e.g. '{"d_model": 32}'
        seq_len: epochs per sequence
        train_stride: stride of the training windows (epochs)
        eval_stride: stride of the evaluation windows (epochs)
        test_fraction: share of subjects held out for testing
        missing_eeg_fraction: share of training nights made to miss the EEG (fusion models)
        missing_eog_fraction: share of training nights made to miss the EOG (fusion models)
        unimodal_complete: train the unimodal baselines on every night of their modality (false: on the incomplete nights too)
        monitor: checkpoint selection: fused (validation κ of the prediction) or all (its mean with the unimodal heads' κ)
        train_corruption_probability: share of training sequences given one of train_corruptions
        train_corruptions: corruptions of one modality for training, e.g. eeg_gauss_snr-5to10,eog_gauss_snr-5to10
        accelerator: Lightning accelerator (cpu, gpu, auto)
    """

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

    def __post_init__(self) -> None:
        require_positive(self, "max_epochs", "batch_size", "lr", "seq_len", "train_stride", "eval_stride")

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
    unimodal = (model == UNIMODAL or model not in SLEEP_MODELS) and protocol.unimodal_complete  # a modality's name
    return SleepDataModule(
        str(cache), seq_len=protocol.seq_len, train_stride=protocol.train_stride, eval_stride=protocol.eval_stride,
        test_fraction=protocol.test_fraction,
        missing_eeg_fraction=0.0 if unimodal else protocol.missing_eeg_fraction,
        missing_eog_fraction=0.0 if unimodal else protocol.missing_eog_fraction,
        train_corruption_probability=protocol.train_corruption_probability,
        train_corruptions=list(protocol.train_corruptions),
        batch_size=protocol.batch_size, seed=seed,
    )


def build_fit(cell: Cell, cache: Path, protocol: SleepProtocol) -> Fit:
    """The task factory: the cell's sleep model on the benchmark's data, with a throughput meter."""
    model = cell.key["model"]
    data = sleep_data(cache, model, protocol, cell.seed)
    task = SleepTask(model=model, preset=protocol.preset, sizes=dict(protocol.sizes), monitor=protocol.monitor,
                     lr=protocol.lr, weight_decay=protocol.weight_decay, data_info=data.info.to_dict())
    return Fit(task, data, protocol.max_epochs, protocol.accelerator, protocol.patience, [TrainingThroughput()])


def summarise(cell: Cell, outcome: Outcome, conditions: list[str], protocol: SleepProtocol) -> Row:
    """The row summariser: training figures, then the best checkpoint evaluated under every applicable
    condition (saved next to the run as JSON) and its κ, accuracy and macro F1 per condition."""
    trainer, fit = outcome.trainer, outcome.fit
    throughput = next(c for c in fit.callbacks if isinstance(c, TrainingThroughput))
    score = trainer.checkpoint_callback.best_model_score
    row: Row = {
        "wall_s": round(outcome.wall_s, 1),
        "train_seq_per_s": round(throughput.rate, 2),
        "epochs_trained": trainer.current_epoch,
        "best_val_score": round(float(score), 4) if score is not None else None,
        "params": sum(p.numel() for p in fit.task.parameters()),
    }
    task = SleepTask.load_from_checkpoint(outcome.best_path, map_location="cpu") if outcome.best_path else fit.task
    base = held_out_windows(fit.data)
    results: list[ConditionResult] = [
        evaluate_condition(task, base, condition, protocol.batch_size, cell.seed)
        for condition in applicable(parse_conditions(conditions, base.modalities), task.model.modalities)
    ]
    save_results(results, {"class_names": list(task.data_info.class_names),
                           "modalities": list(task.model.modalities)}, cell.run_dir / EVALUATION_FILE)
    for result in results:
        row.update({f"{result.name}/{k}": round(result.metrics[k], 4) for k in ("kappa", "acc", "f1_macro")})
    return row
