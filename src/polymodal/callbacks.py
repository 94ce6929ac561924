"""Checkpoint selection and early stopping that wait for a task's first stage to end.

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

from typing import Any

import lightning as L
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from torch import Tensor


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
