"""The task base: one training step, one evaluation, one way of logging, for every polymodal task.

A task fills in hooks; the base runs them through Lightning:

* :meth:`PolymodalTask.training_loss` — a batch's named loss terms
  (optionally a :class:`Loss` with extra values to log). The base sums them
  into the training loss and logs ``train/loss`` and each term
  (:meth:`PolymodalTask.log_training`, which a task may override).
* :meth:`PolymodalTask.evaluation_metrics` — the metrics of an evaluation
  stage (``val``, ``test``). The base holds one
  ``torchmetrics.MetricCollection(prefix=f"{stage}/")`` per stage
  (:meth:`PolymodalTask.stage_metrics`), so a metric ``acc`` is logged as
  ``val/acc`` and ``test/acc``; a metric that returns a dict (per-class,
  per-modality) is logged as ``<stage>/<key>`` for each key.
* :meth:`PolymodalTask.evaluate` — a batch's :class:`Evaluation`: its loss
  terms and the named inputs of the stage's metrics. In ``validation_step``
  and ``test_step`` the base updates the stage's collection with those
  inputs (each metric takes the ones its ``update`` names) plus ``loss``
  (the sum of the terms), ``terms`` and ``batch_size``.
  At the end of the epoch it computes the collection once — torchmetrics
  synchronises the metric states over processes, so under DDP every sample
  counts once — logs the scalars (``sync_dist=True``), hands all values to
  :meth:`PolymodalTask.evaluation_end` and resets the collection. Metrics
  over a whole split (retrieval on every embedding) are metrics whose
  state is a list concatenated across processes (:mod:`polymodal.eval.embeddings`).
* :meth:`PolymodalTask.predict` — what ``predict_step`` returns.

Every task is sized from the data's :class:`~polymodal.data.DataInfo` (the
CLI links it from the DataModule). Checkpoints record the data info among
the hyperparameters (as plain types, so ``weights_only=True`` loading reads
it) and the task's registry name, so ``Task.load_from_checkpoint(path)`` and
``polymodal test --ckpt FILE`` rebuild the task without the training data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import lightning as L
import torch
from torch import Tensor, nn
from torchmetrics import Metric, MetricCollection

from polymodal.data.contract import Batch, DataInfo
from polymodal.errors import PolymodalError
from polymodal.tasks.registry import TASK_KEY

EVALUATION_STAGES = ("val", "test")
"""The stages with a metric collection each."""


@dataclass
class Loss:
    """A batch's named loss terms (their sum is the loss) and extra values to log with them.

    Attributes:
        terms: name → scalar loss term.
        logs: name → value logged next to the terms (not part of the loss).
    """

    terms: dict[str, Tensor]
    logs: dict[str, Tensor | float] = field(default_factory=dict)

    @property
    def total(self) -> Tensor:
        return torch.stack(list(self.terms.values())).sum()


@dataclass
class Evaluation:
    """What :meth:`PolymodalTask.evaluate` returns for one batch.

    Attributes:
        terms: the batch's named loss terms, or None where the stage has no
            loss; the stage's metrics get their sum as ``loss`` and the
            detached terms as ``terms``.
        inputs: named inputs of the stage's metrics (``preds``, ``target``, ...).
    """

    terms: Mapping[str, Tensor] | None = None
    inputs: dict[str, Any] = field(default_factory=dict)


class PolymodalTask(L.LightningModule):
    """Base LightningModule of the supervised, contrastive and sleep tasks (see the module docstring).

    Subclasses implement :meth:`training_loss`, :meth:`evaluation_metrics`,
    :meth:`evaluate` and :meth:`predict`, and may override
    :meth:`log_training`, :meth:`evaluation_end`, :meth:`batch_size` and :attr:`monitor`.
    """

    task_name: ClassVar[str]
    """The name the task is registered under in :data:`~polymodal.tasks.registry.TASKS`."""
    needs_labels: ClassVar[bool] = True
    """Whether the task trains on targets (unlabelled data is refused when it does)."""
    default_data: ClassVar[str] = "polymodal.data.npz.NpzDataModule"
    """The data class ``polymodal test --ckpt_path`` uses for this task unless told otherwise."""

    # --- hooks -------------------------------------------------------------------
    def training_loss(self, batch: Batch) -> Loss | Mapping[str, Tensor]:
        """The batch's named loss terms (or a :class:`Loss`); their sum is what is minimised."""
        raise NotImplementedError(f"{type(self).__name__} does not implement training_loss")

    def evaluation_metrics(self, stage: str) -> Mapping[str, Metric]:
        """The metrics of evaluation stage ``stage`` (``val`` or ``test``), by name, without the stage prefix.

        :class:`~polymodal.eval.metrics.EvaluationLoss` as ``loss`` gives
        ``<stage>/loss``. Called once per stage; each stage gets its own objects.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement evaluation_metrics")

    def evaluate(self, batch: Batch, stage: str) -> Evaluation:
        """The batch's loss terms and the inputs of the stage's metrics (:class:`Evaluation`)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement evaluate")

    def predict(self, batch: Batch) -> Any:
        """What ``predict_step`` returns for the batch."""
        raise NotImplementedError(f"{type(self).__name__} does not implement predict")

    def log_training(self, loss: Loss, total: Tensor, batch_size: int) -> None:
        """Log a training step: ``train/loss`` (also in the progress bar) and ``train/<term>`` per term and value."""
        self.log("train/loss", total, prog_bar=True, batch_size=batch_size)
        values = {**loss.terms, **loss.logs}
        if values:
            self.log_dict({f"train/{k}": v.detach() if isinstance(v, Tensor) else v for k, v in values.items()},
                          batch_size=batch_size)

    def evaluation_end(self, stage: str, values: dict[str, Any]) -> None:
        """After the stage's metrics are computed (synchronised over processes), before they are logged.

        ``values`` holds every result keyed ``<stage>/...``, including those that
        are not logged because they are not scalars (a confusion matrix).
        """

    def batch_size(self, batch: Batch) -> int:
        """The number of samples of a batch (of sequences for sequence data)."""
        return len(next(iter(batch["inputs"].values())))

    # --- the steps -----------------------------------------------------------------
    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        loss = self.training_loss(batch)
        loss = loss if isinstance(loss, Loss) else Loss(dict(loss))
        total = loss.total
        self.log_training(loss, total, self.batch_size(batch))
        return total

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch, "test")

    def predict_step(self, batch: Batch, batch_idx: int) -> Any:
        return self.predict(batch)

    def _evaluate(self, batch: Batch, stage: str) -> None:
        evaluation = self.evaluate(batch, stage)
        inputs = {"batch_size": self.batch_size(batch), **evaluation.inputs}
        if evaluation.terms is not None:
            terms = {k: v.detach() for k, v in evaluation.terms.items()}
            inputs |= {"loss": torch.stack(list(terms.values())).sum().float(), "terms": terms}
        self.stage_metrics(stage).update(**inputs)
        self._evaluated[stage] = True

    # --- the stages' metrics ---------------------------------------------------------
    def stage_metrics(self, stage: str) -> MetricCollection:
        """The ``MetricCollection`` of an evaluation stage, prefixed ``<stage>/`` (built on first use)."""
        if "metrics" not in self._modules:
            self.metrics = nn.ModuleDict({
                s: MetricCollection(dict(self.evaluation_metrics(s)), prefix=f"{s}/", compute_groups=False)
                for s in EVALUATION_STAGES
            }).to(self.device)
            self._evaluated = dict.fromkeys(EVALUATION_STAGES, False)
        return self.metrics[stage]

    def setup(self, stage: str) -> None:
        self.stage_metrics("val")  # built before Lightning moves the task to its device

    def _start_stage(self, stage: str) -> None:
        self.stage_metrics(stage).reset()
        self._evaluated[stage] = False

    def _end_stage(self, stage: str) -> None:
        """Compute the stage's metrics once (synchronised over processes), log the scalars, reset."""
        metrics = self.stage_metrics(stage)
        if not self._evaluated[stage]:  # no batch this epoch: nothing to report
            return
        values = metrics.compute()
        metrics.reset()
        self._evaluated[stage] = False
        self.evaluation_end(stage, values)
        scalars = {k: v for k, v in values.items() if not isinstance(v, Tensor) or v.numel() == 1}
        self.log_dict(scalars, prog_bar=stage == "val", sync_dist=True)

    def on_validation_epoch_start(self) -> None:
        self._start_stage("val")

    def on_validation_epoch_end(self) -> None:
        self._end_stage("val")

    def on_test_epoch_start(self) -> None:
        self._start_stage("test")

    def on_test_epoch_end(self) -> None:
        self._end_stage("test")

    # --- data info ---------------------------------------------------------------------
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
