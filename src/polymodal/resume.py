"""Exact resume: a fit resumed from ``last.ckpt`` continues as the uninterrupted fit would have.

Lightning's checkpoint restores the weights, optimizer, schedulers and loop
counters, but not the global random states that dropout, augmentation and
random objectives draw from. :class:`ExactResume` saves them with every
checkpoint and puts them back when the resumed fit starts training, where
the uninterrupted fit was when it saved ``last.ckpt`` (at the end of an
epoch; nothing draws between that save and the next epoch's first batch,
and nothing a resumed fit does before training draws from them after the
restore). The other parts of the state live with their owners: the training
order with the DataModule (:meth:`MultimodalDataModule.state_dict`), the
balancing methods' per-step randomness is seeded by ``(seed, step)``
(:mod:`polymodal.balance.context`), and ``metrics.csv`` keeps the rows
logged before the checkpoint (:class:`polymodal.csv_log.ResumableCSVLogger`).

Under DDP every process has its own random states: a checkpoint holds all of
them, gathered in rank order, and each process of the resumed fit takes its
own (rank 0's when the fit resumes on more processes than it saved).
The states of DataLoader worker processes are not saved: with
``num_workers > 0``, randomness drawn inside the workers (augmentation)
does not resume exactly.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import numpy as np
import torch
import torch.distributed as dist
from lightning.fabric.utilities.seed import _collect_rng_states, _set_rng_states
from lightning.pytorch.trainer.states import TrainerFn

from polymodal.csv_log import ResumableCSVLogger
from polymodal.distributed import is_distributed

RandomStates = dict[str, Any]


def portable(states: RandomStates) -> RandomStates:
    """The states with numpy's key array as a tensor, so ``torch.load(weights_only=True)`` reads them."""
    name, key, position, has_gauss, gauss = states["numpy"]
    return {**states, "numpy": (name, torch.from_numpy(key.astype(np.int64)), position, has_gauss, gauss)}


def from_portable(states: RandomStates) -> RandomStates:
    """The inverse of :func:`portable`."""
    name, key, position, has_gauss, gauss = states["numpy"]
    return {**states, "numpy": (name, key.numpy().astype(np.uint32), position, has_gauss, gauss)}


def gather_over_processes(states: RandomStates) -> list[RandomStates]:
    """Every process's states, in rank order (a list of one on one process)."""
    if not is_distributed():
        return [states]
    gathered: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, states)
    return gathered


class ExactResume(L.Callback):
    """Saves every process's global random states (torch, CUDA, numpy, Python) in checkpoints and restores
    them, and tells a :class:`ResumableCSVLogger` where the fit resumes."""

    def __init__(self) -> None:
        self._saved: list[RandomStates] | None = None

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._saved = None  # states loaded by an earlier run of this trainer are not this run's

    def state_dict(self) -> dict[str, Any]:
        return {"random_states": gather_over_processes(portable(_collect_rng_states(include_cuda=True)))}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._saved = state_dict.get("random_states")

    def on_load_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
        if trainer.state.fn != TrainerFn.FITTING:
            return
        for logger in trainer.loggers:
            if isinstance(logger, ResumableCSVLogger):
                logger.resume_after(checkpoint["epoch"], checkpoint["global_step"])

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._saved:
            rank = trainer.global_rank
            _set_rng_states(from_portable(self._saved[rank if rank < len(self._saved) else 0]))
            self._saved = None
