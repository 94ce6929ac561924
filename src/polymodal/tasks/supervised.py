"""Supervised multimodal training as a LightningModule.

The task builds a :class:`~polymodal.models.MultimodalClassifier` sized from
the data and delegates the objective to a balancing method
(:mod:`polymodal.balance`): the method returns named loss terms, which the
task sums and logs, and additive statistics, which the task sums over the
micro-batches of an optimizer step, averages over the processes and hands
back to the method once per step — after gradient accumulation, AMP
unscaling and DDP's gradient averaging (``on_before_optimizer_step``) — so
gradient changes are the same on every process and do not depend on how the
global batch was split.
"""

from __future__ import annotations

import math
import os
from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric

from polymodal.balance import Balancer, BalancerLoss, BalancerSpec, resolve_balancer
from polymodal.balance.context import StepContext
from polymodal.balance.unimodal_stage import probe_terms, unimodal_stage_loss
from polymodal.balance.view import ModelView
from polymodal.encoders.base import EncoderSpec
from polymodal.data.contract import Batch
from polymodal.errors import PolymodalError
from polymodal.fusion.base import FusionSpec
from polymodal.eval.metrics import head_inputs, supervised_metrics
from polymodal.models import ModelOutput, MultimodalClassifier
from polymodal.models.pretrained import check_pretrained, load_pretrained
from polymodal.tasks.base import Evaluation, Loss, PolymodalTask
from polymodal.tasks.optimization import build_optimizer, build_schedule, check_optimization
from polymodal.tasks.registry import TASKS

PROGRESS_EVERY = 10
"""Steps between updates of the training loss in the progress bar."""


def add_into(totals: dict[str, Tensor], values: dict[str, Tensor]) -> None:
    """``totals[k] += values[k]`` for every key (a new key starts at its value)."""
    for key, value in values.items():
        totals[key] = totals[key] + value if key in totals else value


@TASKS.register("supervised")
class SupervisedTask(PolymodalTask):
    """Classification or regression with a balancing method.

    Args:
        balancer: the balancing method — a :class:`~polymodal.balance.Balancer`
            (on the command line a class name or import path with its options:
            ``--model.balancer MLB --model.balancer.alpha 0.8``; short form
            ``--method mlb --method_options.alpha 0.8``), a registry name
            (``polymodal.balance.BALANCERS``), or ``{class_path, init_args}``.
        fusion: the fusion head — a registry name (``polymodal.fusion.FUSIONS``) or
            import path with ``fusion_options`` (short form ``--fusion mid_mlp
            --fusion_options.hidden_dim 64``), a class with its options on the
            command line (``--model.fusion MidMLPFusion --model.fusion.hidden_dim
            64``), or ``{class_path, init_args}``.
        encoder: the encoder of every modality, or a modality → encoder map: a registry
            name (``polymodal.encoders.ENCODERS``) or import path with
            ``encoder_options``, or a class with its options on the command line
            (``--model.encoder ResNet18Encoder --model.encoder.width 8``).
        encoder_options: options of encoders given by name; a modality's name maps to options for it alone.
        fusion_options: options of a fusion head given by name.
        lr: learning rate.
        weight_decay: weight decay (decoupled for AdamW, L2 for SGD).
        optimizer: ``adamw``, ``adam`` (L2 weight decay) or ``sgd`` (momentum 0.9)
            (:mod:`polymodal.tasks.optimization`). Adam-type optimizers
            normalize each parameter's gradient scale, which largely cancels
            gradient-scaling methods (MLB, OGM-GE, MSLR); SGD applies them as is.
        eps: ε of the Adam-type optimizers (1e-7 in the balancing references).
        lr_schedule: ``constant`` or ``cosine_restarts`` (a constant warm phase,
            then cosine annealing with warm restarts, stepped every optimizer step).
        warmup_steps: optimizer steps of the constant warm phase.
        restart_steps: the first cosine period in optimizer steps (T0).
        restart_mult: factor of each following period (T_mult).
        min_lr: the learning rate at the bottom of each cosine period.
        pretrained: modality → checkpoint of a unimodal run whose encoder (and
            head) initialize that modality when training starts (not when a run
            resumes); pretrain-then-finetune with any method.
        freeze_pretrained: keep the pretrained encoders fixed.
        unimodal_epochs: length of the unimodal first stage, in epochs
            (:mod:`polymodal.balance.unimodal_stage`: each encoder trained alone
            with its head, then the method). ``None``: the method's default
            share of ``max_epochs`` (half for MCR, none for the others; none
            when ``pretrained`` is given).
        gather: under DDP, let the method's loss see the global batch (features
            gathered from every process for batch-level terms such as MCR's,
            batch scores averaged, as AGM's); off, each loss uses its shard.
            The statistics of the per-step gradient changes are averaged over
            the processes either way, so replicas never drift apart.
        modalities: use only these modalities of the data (default: all); a
            name the data lacks is an error. ``unimodal`` training uses one.
        data_info: modalities, shapes and classes of the data (set by the CLI
            from the DataModule; stored in checkpoints).
    """

    task_name = "supervised"

    def __init__(
        self,
        balancer: BalancerSpec = "joint",
        fusion: FusionSpec = "late",
        encoder: EncoderSpec | dict[str, EncoderSpec] = "mlp",
        encoder_options: dict[str, Any] | None = None,
        fusion_options: dict[str, Any] | None = None,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        optimizer: str = "adamw",
        eps: float = 1e-8,
        lr_schedule: str = "constant",
        warmup_steps: int = 0,
        restart_steps: int = 4,
        restart_mult: int = 2,
        min_lr: float = 0.0,
        pretrained: dict[str, str] | None = None,
        freeze_pretrained: bool = False,
        unimodal_epochs: int | None = None,
        gather: bool = True,
        modalities: list[str] | None = None,
        data_info: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.balancer = resolve_balancer(balancer)
        self.data_info = self.resolve_data_info(data_info, modalities)
        check_optimization(optimizer, lr_schedule, lr, weight_decay, eps, warmup_steps, restart_steps, restart_mult,
                           min_lr)
        if unimodal_epochs is not None and unimodal_epochs < 0:
            raise PolymodalError(f"unimodal_epochs must be >= 0, got {unimodal_epochs}")
        staged = bool(unimodal_epochs) or (unimodal_epochs is None and self.balancer.unimodal_stage > 0
                                           and not pretrained)
        self.model = MultimodalClassifier.from_info(
            self.data_info, encoder=encoder, fusion=fusion,
            encoder_options=encoder_options, fusion_options=fusion_options,
            unimodal_heads=self.balancer.needs_unimodal_heads or staged,
        )
        # hyperparameters hold plain mappings (the components' {class_path, init_args}), never pickled modules
        balancer, fusion, fusion_options = self.balancer.config(), self.model.fusion.config(), None
        encoder, encoder_options = {m: e.config() for m, e in self.model.encoders.items()}, None
        data_info = self.plain_data_info(data_info)
        self.save_hyperparameters()
        self._probe_heads = staged and not self.balancer.needs_unimodal_heads
        self._stage_epochs = 0
        if not self.balancer.uses_fusion_head:  # no gradient would reach it (and DDP requires every one)
            self.model.fusion.requires_grad_(False)
        self.view = ModelView(self.model)
        self.balancer.setup(self.view)
        check_pretrained(self.model, pretrained or {})
        if freeze_pretrained:
            for m in pretrained or {}:
                self.model.encoders[m].requires_grad_(False)
        self._terms: dict[str, Tensor] = {}
        self._statistics: dict[str, Tensor] = {}
        self._needs_term_gradients = type(self.balancer).term_gradients is not Balancer.term_gradients

    @property
    def monitor(self) -> tuple[str, str]:
        """The validation metric that selects the best checkpoint, and its mode."""
        return ("val/loss", "min") if self.data_info.num_classes == 0 else ("val/acc", "max")

    def forward(self, batch: Batch) -> ModelOutput:
        return self.model(batch["inputs"], batch.get("present"))

    # --- the engine's collectives, handed to the method ---------------------------
    def _context(self, training: bool) -> StepContext:
        seed = int(os.environ.get("PL_GLOBAL_SEED", 0))
        step = self.global_step if self._trainer is not None else 0
        if training and self.hparams.gather and self.distributed:
            return StepContext(training, gather=self.gather_batch, mean=self.mean_over_processes, seed=seed, step=step)
        return StepContext(training, seed=seed, step=step)

    def _mean_over_processes(self, statistics: dict[str, Tensor]) -> dict[str, Tensor]:
        """Every statistic averaged over the processes, in one collective."""
        if not statistics or not self.distributed:
            return statistics
        keys = sorted(statistics)
        flat = self.mean_over_processes(torch.cat([statistics[k].float().reshape(-1) for k in keys]))
        sizes = [statistics[k].numel() for k in keys]
        return {k: chunk.view_as(statistics[k]) for k, chunk in zip(keys, flat.split(sizes))}

    def _reduced_statistics(self) -> dict[str, Tensor]:
        """The step's statistics (summed over micro-batches), averaged over processes."""
        statistics, self._statistics = self._statistics, {}
        return self._mean_over_processes(statistics)

    def _add_statistics(self, statistics: dict[str, Tensor]) -> None:
        add_into(self._statistics, {key: value.detach() for key, value in statistics.items()})

    def _loss_scale(self) -> tuple[float, float]:
        """``(factor, amp)``: Lightning backpropagates ``total · factor``, of which ``amp`` is the AMP loss scale."""
        scaler = getattr(self.trainer.precision_plugin, "scaler", None)
        amp = float(scaler.get_scale()) if scaler is not None else 1.0
        return amp / self.trainer.accumulate_grad_batches, amp

    # --- training ----------------------------------------------------------------
    @property
    def in_unimodal_stage(self) -> bool:
        """True during the unimodal first stage."""
        return self.current_epoch < self._stage_epochs

    @property
    def selecting(self) -> bool:
        """Whether checkpoint selection and early stopping may look at this epoch (not in the first stage)."""
        return not self.in_unimodal_stage

    def _resolve_unimodal_stage(self) -> int:
        """Epochs of the unimodal first stage for this fit."""
        epochs = self.hparams.unimodal_epochs
        if epochs is not None:
            return epochs
        share = 0.0 if self.hparams.pretrained else self.balancer.unimodal_stage
        if share == 0.0:
            return 0
        max_epochs = self.trainer.max_epochs
        if max_epochs is None or max_epochs < 1:
            raise PolymodalError(f"method {self.balancer.name!r} starts with a unimodal stage of a share of "
                                 f"max_epochs; set trainer.max_epochs or model.unimodal_epochs")
        return round(share * max_epochs)

    def _loss(self, output: ModelOutput, batch: Batch, context: StepContext) -> BalancerLoss:
        """The unimodal stage's objective, or the method's (with probe heads where it has none)."""
        if context.training and self.in_unimodal_stage:
            return unimodal_stage_loss(output, batch, self.view, idle=list(self.balancer.parameters()))
        result = self.balancer.loss(output, batch, self.view, context)
        if self._probe_heads:
            result.terms |= probe_terms(output, batch, self.view)
        return result

    def training_loss(self, batch: Batch) -> Loss:
        """The method's terms; its statistics are kept for the optimizer step, the terms for :meth:`backward`."""
        result = self._loss(self(batch), batch, self._context(training=True))
        self._add_statistics(result.statistics)
        self._terms = result.terms
        return Loss(result.terms, result.logs)

    def log_training(self, loss: Loss, total: Tensor, batch_size: int) -> None:
        """The loss in the progress bar every :data:`PROGRESS_EVERY` steps (each ``self.log`` call costs about a
        millisecond); the loss, terms and logs written to the loggers (:meth:`_log_training_state`)."""
        if self.global_step % PROGRESS_EVERY == 0:
            self.log("train/loss", total, prog_bar=True, logger=False, batch_size=batch_size)
        self._log_training_state({"loss": total, **loss.terms, **loss.logs})

    def backward(self, loss: Tensor, *args: Any, **kwargs: Any) -> None:
        terms, self._terms = self._terms, {}
        if self._needs_term_gradients and not self.in_unimodal_stage:
            factor, amp = self._loss_scale()
            gradients = self.balancer.term_gradients({k: v * factor for k, v in terms.items()}, self.view)
            self._add_statistics({k: g / amp for k, g in gradients.items()})
        super().backward(loss, *args, **kwargs)

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        statistics = self._reduced_statistics()
        if not self.in_unimodal_stage:
            self._log_training_state(self.balancer.step(statistics, self.view, self._context(training=True)))

    def _log_training_state(self, values: dict[str, Tensor | float]) -> None:
        """Per-step state (loss terms, balancing coefficients) every ``log_every_n_steps`` steps.

        Written straight to the loggers: ``self.log`` costs milliseconds per
        call, which is most of a small model's step.
        """
        if not values or not self.loggers or self.global_step % self.trainer.log_every_n_steps:
            return
        if not self.trainer.is_global_zero:
            return
        metrics = {f"train/{k}": float(v.detach() if isinstance(v, Tensor) else v) for k, v in values.items()}
        for logger in self.loggers:
            logger.log_metrics(metrics, step=self.global_step)

    def on_fit_start(self) -> None:
        self._stage_epochs = self._resolve_unimodal_stage()
        if self.hparams.pretrained and self.trainer.ckpt_path is None:  # a resumed run holds its own weights
            load_pretrained(self.model, self.hparams.pretrained)

    def on_train_epoch_start(self) -> None:
        self.balancer.epoch_start(self.current_epoch)
        if self.balancer.epoch_feature_fraction > 0 and not self.in_unimodal_stage:
            self.balancer.epoch_features(self._epoch_feature_sums(self.balancer.epoch_feature_fraction),
                                         self.current_epoch)

    @torch.no_grad()
    def _epoch_feature_sums(self, fraction: float) -> dict[str, Tensor]:
        """The method's class sums over the first ``fraction`` of the training batches, in evaluation mode.

        The share counts optimizer steps (whole groups of accumulated
        micro-batches) of the datamodule's own training loader, and the sums
        are averaged over the processes, so every process gets the same
        result, equal to one process on the global batch.
        """
        data = self.trainer.datamodule
        if data is None:
            raise PolymodalError(f"method {self.balancer.name!r} embeds training batches before each epoch "
                                 f"and needs the data as a DataModule")
        loader = data.train_dataloader()
        group = self.trainer.accumulate_grad_batches
        count = max(1, math.ceil(fraction * len(loader) / group)) * group
        self.model.eval()
        totals: dict[str, Tensor] = {}
        for batch, _ in zip(loader, range(count)):
            batch = self.trainer.strategy.batch_to_device(batch)
            add_into(totals, self.balancer.class_sums(self(batch), batch))
        self.model.train()
        return self._mean_over_processes(totals)

    def on_train_epoch_end(self) -> None:
        self._log_state(self.balancer.train_epoch_end())

    def evaluation_end(self, stage: str, values: dict[str, Tensor]) -> None:
        """The method sees the synchronised validation metrics (not those of the sanity check)."""
        if stage == "val" and not self.trainer.sanity_checking:
            self._log_state(self.balancer.validation_end(values))

    def _log_state(self, state: dict[str, Tensor]) -> None:
        if state:
            self.log_dict({f"train/{k}": torch.as_tensor(v, dtype=torch.float32) for k, v in state.items()})

    # --- evaluation --------------------------------------------------------------
    def evaluation_metrics(self, stage: str) -> dict[str, Metric]:
        return supervised_metrics(self.data_info.num_classes, list(self.model.heads))

    def evaluate(self, batch: Batch, stage: str) -> Evaluation:
        output = self(batch)
        result = self._loss(output, batch, self._context(training=False))
        target = batch["target"]
        shaped = (lambda p: p.reshape(target.shape)) if self.data_info.num_classes == 0 else (lambda p: p)
        unimodal = {m: shaped(output.unimodal[m]) for m in self.model.heads}
        return Evaluation(result.terms, {
            "preds": shaped(self.balancer.predict(output)), "target": target,
            "unimodal": head_inputs(unimodal, target, batch.get("present", {}), list(self.model.heads)),
        })

    def predict(self, batch: Batch) -> Tensor:
        return self.balancer.predict(self(batch))

    # --- setup -------------------------------------------------------------------
    def configure_optimizers(self) -> torch.optim.Optimizer | dict[str, Any]:
        h = self.hparams
        optimizer = build_optimizer(self.parameters(), h.optimizer, h.lr, h.weight_decay, h.eps)
        if h.lr_schedule == "constant":
            return optimizer
        return {"optimizer": optimizer,
                "lr_scheduler": build_schedule(optimizer, h.warmup_steps, h.restart_steps, h.restart_mult, h.min_lr)}
