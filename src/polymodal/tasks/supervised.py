"""Supervised multimodal training as a LightningModule.

The task builds a :class:`~polymodal.models.MultimodalClassifier` sized from
the data and delegates the objective to a balancing method
(:mod:`polymodal.balance`): the method returns named loss terms, the task sums
them, logs each one, and calls the method's backward and gradient hooks.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import Tensor

from polymodal.balance import build_balancer
from polymodal.data.contract import Batch
from polymodal.errors import PolymodalError
from polymodal.eval.metrics import SupervisedMetrics
from polymodal.models import ModelOutput, MultimodalClassifier
from polymodal.tasks.base import PolymodalTask
from polymodal.tasks.registry import TASKS

OPTIMIZERS = ("adamw", "sgd")
PROGRESS_EVERY = 10
"""Steps between updates of the training loss in the progress bar."""

# The CPU shortcut below is deliberate; Lightning would warn about it on every run.
warnings.filterwarnings("ignore", message="You have overridden `transfer_batch_to_device`")


@TASKS.register("supervised")
class SupervisedTask(PolymodalTask):
    """Classification or regression with a balancing method.

    Args:
        method: balancing method name (``polymodal.balance.BALANCERS``).
        fusion: fusion head name (``polymodal.fusion.FUSIONS``).
        encoder: encoder name for every modality (``polymodal.encoders.ENCODERS``).
        method_options: keyword options of the method (unknown names raise).
        encoder_options: encoder options; a modality's name maps to options for it alone.
        fusion_options: fusion head options.
        lr: learning rate.
        weight_decay: weight decay (decoupled for AdamW, L2 for SGD).
        optimizer: ``adamw`` or ``sgd`` (momentum 0.9). Adam-type optimizers
            normalize each parameter's gradient scale, which largely cancels
            gradient-scaling methods (MLB, OGM-GE, MSLR); SGD applies them as is.
        modalities: use only these modalities of the data (default: all); a
            name the data lacks is an error. ``unimodal`` training uses one.
        data_info: modalities, shapes and classes of the data (set by the CLI
            from the DataModule; stored in checkpoints).
    """

    task_name = "supervised"

    def __init__(
        self,
        method: str = "joint",
        fusion: str = "late",
        encoder: str = "mlp",
        method_options: dict[str, Any] | None = None,
        encoder_options: dict[str, Any] | None = None,
        fusion_options: dict[str, Any] | None = None,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        optimizer: str = "adamw",
        modalities: list[str] | None = None,
        data_info: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["data_info"])
        self.data_info = self.resolve_data_info(data_info, modalities)
        if optimizer not in OPTIMIZERS:
            raise PolymodalError(f"unknown optimizer {optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}")
        self.balancer = build_balancer(method, **(method_options or {}))
        self.model = MultimodalClassifier.from_info(
            self.data_info, encoder=encoder, fusion=fusion,
            encoder_options=encoder_options, fusion_options=fusion_options,
            unimodal_heads=self.balancer.needs_unimodal_heads,
        )
        self.balancer.check(self.model)
        modalities = list(self.model.heads)
        self.metrics = torch.nn.ModuleDict(
            {s: SupervisedMetrics(s, self.data_info.num_classes, modalities) for s in ("val", "test")}
        )
        self._terms: dict[str, Tensor] = {}

    @property
    def monitor(self) -> tuple[str, str]:
        """The validation metric that selects the best checkpoint, and its mode."""
        return ("val/loss", "min") if self.data_info.num_classes == 0 else ("val/acc", "max")


    def forward(self, batch: Batch) -> ModelOutput:
        return self.model(batch["inputs"], batch.get("present"))

    # --- training ----------------------------------------------------------------
    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        output = self(batch)
        self._terms = self.balancer.loss(output, batch, self.model)
        total = torch.stack(list(self._terms.values())).sum()
        if self.global_step % PROGRESS_EVERY == 0:  # each self.log call costs about a millisecond
            self.log("train/loss", total, prog_bar=True, logger=False, batch_size=len(batch["target"]))
        self._log_training_state({"loss": total, **self._terms})
        return total

    def _log_training_state(self, values: dict[str, Tensor | float]) -> None:
        """Per-step state (loss terms, balancing coefficients) every ``log_every_n_steps`` steps.

        Written straight to the loggers: ``self.log`` costs milliseconds per
        call, which is most of a small model's step.
        """
        if not values or not self.loggers or self.global_step % self.trainer.log_every_n_steps:
            return
        metrics = {f"train/{k}": float(v.detach() if isinstance(v, Tensor) else v) for k, v in values.items()}
        for logger in self.loggers:
            logger.log_metrics(metrics, step=self.global_step)

    def transfer_batch_to_device(self, batch: Batch, device: torch.device, dataloader_idx: int) -> Batch:
        if device.type == "cpu":  # already there: skip the recursive walk over the batch
            return batch
        return super().transfer_batch_to_device(batch, device, dataloader_idx)

    def backward(self, loss: Tensor, *args: Any, **kwargs: Any) -> None:
        self.balancer.backward(loss, self._terms, self.model)

    def on_after_backward(self) -> None:
        self._log_training_state(self.balancer.after_backward(self.model))

    def on_fit_start(self) -> None:
        self.balancer.on_fit_start(self)

    def on_train_epoch_start(self) -> None:
        self.balancer.on_train_epoch_start(self)

    def on_train_epoch_end(self) -> None:
        self._log_state(self.balancer.on_train_epoch_end(self))

    def on_validation_epoch_end(self) -> None:
        if not self.trainer.sanity_checking:  # before the metrics are reset: MSLR reads them
            self._log_state(self.balancer.on_validation_epoch_end(self))
        self._log_metrics("val")

    def _log_state(self, state: dict[str, float]) -> None:
        if state:
            self.log_dict({f"train/{k}": float(v) for k, v in state.items()})

    # --- evaluation --------------------------------------------------------------
    def _evaluate(self, batch: Batch, stage: str) -> None:
        output = self(batch)
        terms = self.balancer.loss(output, batch, self.model)
        self.log(f"{stage}/loss", torch.stack(list(terms.values())).sum(), prog_bar=stage == "val",
                 batch_size=len(batch["target"]), sync_dist=True)
        self.metrics[stage].update(self.balancer.predict(output), output.unimodal, batch["target"], batch.get("present", {}))

    def _log_metrics(self, stage: str) -> None:
        metrics = self.metrics[stage]
        self.log_dict(metrics.compute(), prog_bar=stage == "val", sync_dist=True)
        metrics.reset()

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch, "test")

    def on_test_epoch_end(self) -> None:
        self._log_metrics("test")

    def predict_step(self, batch: Batch, batch_idx: int) -> Tensor:
        return self.balancer.predict(self(batch))

    # --- setup -------------------------------------------------------------------
    def configure_optimizers(self) -> torch.optim.Optimizer:
        lr, decay = self.hparams.lr, self.hparams.weight_decay
        if self.hparams.optimizer == "sgd":
            return torch.optim.SGD(self.parameters(), lr=lr, momentum=0.9, weight_decay=decay)
        return torch.optim.AdamW(self.parameters(), lr=lr, weight_decay=decay)

