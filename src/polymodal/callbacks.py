"""Checkpoint selection and early stopping that wait for a task's first stage to end.

A task may start with a stage that is not yet its method — the unimodal
first stage of :class:`~polymodal.tasks.SupervisedTask`, where the encoders
train alone and the fusion head learns on frozen features. A checkpoint
from that stage would report the frozen-encoder model under the method's
name, and early stopping there would end the run before the method starts.
These callbacks treat a module whose ``selecting`` attribute is False as
not yet comparable: no best checkpoint is kept and no patience is used up
(``last.ckpt`` is still written, so a run can resume).
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


class PatientEarlyStopping(EarlyStopping):
    """:class:`EarlyStopping` whose patience starts with the method's stage."""

    def _run_early_stopping_check(self, trainer: L.Trainer, *args: Any, **kwargs: Any) -> None:
        if selecting(trainer):
            super()._run_early_stopping_check(trainer, *args, **kwargs)
