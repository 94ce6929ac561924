"""The CLI's callbacks: checkpoint selection and early stopping that wait for a task's first stage to
end, and the files an evaluation or prediction writes.

A task may start with a stage that is not yet its method — the unimodal
first stage of :class:`~polymodal.tasks.SupervisedTask`, where the encoders
train alone and the fusion head learns on frozen features. A checkpoint
from that stage would report the frozen-encoder model under the method's
name, and early stopping there would end the run before the method starts.
These callbacks treat a module whose ``selecting`` attribute is False as
not yet comparable: no best checkpoint is kept and no patience is used up
(``last.ckpt`` is still written, so a run can resume).

``last.ckpt`` is written at every save point (each epoch's end), as
``--ckpt_path last`` expects; Lightning's :class:`ModelCheckpoint` writes it
only when it also writes a best checkpoint.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import BasePredictionWriter, Callback, EarlyStopping, ModelCheckpoint
from lightning.pytorch.trainer.states import TrainerFn
from torch import Tensor

from polymodal.errors import PolymodalError
from polymodal.eval.metrics import as_floats
from polymodal.eval.summary import print_summary


def selecting(trainer: L.Trainer) -> bool:
    """Whether the module's current stage may be selected (True unless it says otherwise)."""
    return bool(getattr(trainer.lightning_module, "selecting", True))


class BestCheckpoint(ModelCheckpoint):
    """:class:`ModelCheckpoint` that keeps no best checkpoint before the method's stage."""

    def _save_topk_checkpoint(self, trainer: L.Trainer, monitor_candidates: dict[str, Tensor]) -> None:
        if selecting(trainer):
            super()._save_topk_checkpoint(trainer, monitor_candidates)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if self._should_save_on_train_epoch_end(trainer):
            self._save_last_if_not_saved(trainer)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        if not self._should_save_on_train_epoch_end(trainer):
            self._save_last_if_not_saved(trainer)

    def _save_last_if_not_saved(self, trainer: L.Trainer) -> None:
        """Write ``last.ckpt`` unless this step was saved already (with a best checkpoint) or must not be."""
        if self.save_last and not self._should_skip_saving_checkpoint(trainer):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))


class PatientEarlyStopping(EarlyStopping):
    """:class:`EarlyStopping` whose patience starts with the method's stage."""

    def _run_early_stopping_check(self, trainer: L.Trainer, *args: Any, **kwargs: Any) -> None:
        if selecting(trainer):
            super()._run_early_stopping_check(trainer, *args, **kwargs)


class MetricsFile(Callback):
    """After an evaluation (``test``, or a stand-alone ``validate``), write ``<out>/metrics.json`` and print it.

    The metrics are what the task logged for the stage, reduced over
    processes by Lightning; one process writes the file.
    """

    FILE = "metrics.json"

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.report(trainer)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.state.fn == TrainerFn.VALIDATING:
            self.report(trainer)

    def report(self, trainer: L.Trainer) -> None:
        if trainer.is_global_zero:
            self.publish(self.out, as_floats(dict(trainer.callback_metrics)), trainer.ckpt_path)

    @classmethod
    def publish(cls, out: Path, metrics: dict[str, float], checkpoint: str | None) -> None:
        """Write ``metrics.json`` (flat keys, sorted) into ``out`` and print the metrics."""
        out.mkdir(parents=True, exist_ok=True)
        path = out / cls.FILE
        path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
        print_summary(metrics, f"checkpoint: {checkpoint or 'the current weights'}", f"metrics: {path}")


class PredictionsFile(BasePredictionWriter):
    """``polymodal predict``: the predictions of every sample in ``<out>/predictions.npz`` (one file per process
    under DDP, ``predictions-rank<k>.npz``, each with the dataset indices it holds)."""

    def __init__(self, out: str | Path) -> None:
        super().__init__(write_interval="epoch")
        self.out = Path(out)

    def write_on_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, predictions: Sequence[Any],
                           batch_indices: Sequence[Any]) -> None:
        if not all(isinstance(p, Tensor) for p in predictions):
            raise PolymodalError(f"{type(pl_module).__name__} predicts no tensors: polymodal predict does not apply")
        self.out.mkdir(parents=True, exist_ok=True)
        name = "predictions.npz" if trainer.world_size == 1 else f"predictions-rank{trainer.global_rank}.npz"
        indices = [np.asarray(batch, dtype=np.int64) for loader in batch_indices for batch in loader]  # one loader
        indices = np.concatenate(indices) if indices else np.zeros(0, np.int64)
        np.savez(self.out / name, predictions=torch.cat(list(predictions)).float().cpu().numpy(), index=indices)
        print(f"predictions: {self.out / name}")
