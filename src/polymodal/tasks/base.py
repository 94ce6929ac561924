"""What every polymodal task shares: data info, its checkpoint record, the monitor.

A task is sized from the data's :class:`~polymodal.data.DataInfo` (the CLI
links it from the DataModule). Checkpoints record the data info among the
hyperparameters (as plain types, so ``weights_only=True`` loading reads it)
and the task's registry name, so ``Task.load_from_checkpoint(path)`` and
``polymodal test --ckpt FILE`` rebuild the task without the training data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import lightning as L
import torch
from torch import Tensor

from polymodal.data.contract import DataInfo
from polymodal.errors import PolymodalError
from polymodal.tasks.registry import TASK_KEY


class PolymodalTask(L.LightningModule):
    """Base LightningModule of the supervised, contrastive and sleep tasks."""

    task_name: ClassVar[str]
    """The name the task is registered under in :data:`~polymodal.tasks.registry.TASKS`."""
    needs_labels: ClassVar[bool] = True
    """Whether the task trains on targets (unlabelled data is refused when it does)."""
    default_data: ClassVar[str] = "polymodal.data.npz.NpzDataModule"
    """The data class ``polymodal test --ckpt_path`` uses for this task unless told otherwise."""

    @staticmethod
    def plain_data_info(data_info: DataInfo | dict[str, Any] | None) -> dict[str, Any] | None:
        """The data info as plain values: it is a hyperparameter, stored in checkpoints without pickling."""
        return data_info.to_dict() if isinstance(data_info, DataInfo) else data_info

    def resolve_data_info(self, data_info: DataInfo | dict[str, Any] | None,
                          modalities: Sequence[str] | None = None) -> DataInfo:
        """The data info (optionally restricted to ``modalities``); required, and labelled where the task needs it."""
        if data_info is None:
            raise PolymodalError(f"{type(self).__name__} needs data_info (the CLI sets it from the data)")
        info = data_info if isinstance(data_info, DataInfo) else DataInfo.from_dict(data_info)
        if self.needs_labels and not info.labelled:
            raise PolymodalError(f"the {self.task_name} task needs targets; the data has none (no 'y' array)")
        return info.select(modalities) if modalities else info

    # --- collectives (identity on one process) -----------------------------------
    @property
    def distributed(self) -> bool:
        """True when attached to a trainer with more than one process."""
        return self._trainer is not None and self.trainer.world_size > 1

    def gather_batch(self, tensor: Tensor) -> Tensor:
        """Concatenate every process's ``[b, ...]`` along dim 0; gradients flow back to each owner."""
        if tensor.dtype == torch.bool:
            return self.gather_batch(tensor.to(torch.uint8)).bool()
        return self.all_gather(tensor, sync_grads=tensor.requires_grad).flatten(0, 1)

    def mean_over_processes(self, tensor: Tensor) -> Tensor:
        return self.trainer.strategy.reduce(tensor, reduce_op="mean")

    @property
    def monitor(self) -> tuple[str, str]:
        """The validation metric that selects the best checkpoint, and its mode."""
        return "val/loss", "min"

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Record the task's registry name (the data info is a hyperparameter: :meth:`plain_data_info`)."""
        checkpoint[TASK_KEY] = self.task_name
