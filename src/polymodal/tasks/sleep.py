"""Sleep staging as a LightningModule: CoRe-Sleep and its baselines (arXiv 2304.06485).

Batches are sequences of epochs: ``inputs[m]`` is ``[B, L, frames, bins]``,
``target`` ``[B, L]`` (0..4 = W, N1, N2, N3, REM) and ``present[m]``
``[B, L]``; the modalities are those of the data. The task builds a model
from :data:`polymodal.models.SLEEP_MODELS` over them,
trains it with the masked CoRe-Sleep objective
(:class:`polymodal.models.sleep_losses.SleepLoss`) and evaluates the
fallback prediction (:func:`polymodal.models.predict`) pooled over all epochs.

Checkpoint selection: ``monitor="fused"`` selects on the κ of that
prediction (``val/kappa``); ``monitor="all"`` on ``val/kappa_all``, the mean of
that κ and each unimodal head's κ (on the epochs holding its modality), so
each modality's fallback counts as much as the fused prediction.
A model without unimodal heads gets ``val/kappa_all == val/kappa``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric

from polymodal.data.contract import Batch
from polymodal.encoders.sleep_transformer import SleepSizes
from polymodal.errors import PolymodalError
from polymodal.eval.metrics import head_inputs, sleep_metrics
from polymodal.models import SleepOutput, build_sleep_model, predict
from polymodal.models.sleep_losses import SleepLoss, check_class_weights
from polymodal.models.sleep_output import epoch_masks
from polymodal.models.sleep_registry import resolve_sleep_model
from polymodal.tasks.base import Evaluation, PolymodalTask
from polymodal.tasks.optimization import check_rates
from polymodal.tasks.registry import TASKS

STAGES = ("W", "N1", "N2", "N3", "REM")
MONITORS = {"fused": "val/kappa", "all": "val/kappa_all"}
"""Checkpoint-selection rule → the validation metric it maximises."""
AUXILIARY_DEFAULTS = {"w_uni": 1.0, "w_align": 0.1}
"""CoRe-Sleep's loss weights when not given (a reference checkpoint: w_uni = 1, w_align = 0.1)."""


@TASKS.register("sleep")
class SleepTask(PolymodalTask):
    """Train and evaluate a sleep-staging model on sequences of epochs.

    Args:
        model: sleep model name (``core``, ``early``, ``midlate``, ``unimodal``), or the name of
            one of the data's modalities (e.g. ``eeg``) for the unimodal model over it.
        preset: sizes preset, ``"small"`` (trains on a CPU) or ``"reference"``
            (d 128, 4 layers, 8 heads, FFN 1024, dropout 0.3, heads 1024).
        sizes: fields of :class:`~polymodal.encoders.sleep_transformer.SleepSizes` overriding the preset.
        w_uni: weight of the unimodal cross-entropies (``None``: 1 for ``core``, 0 otherwise).
        w_align: weight of the alignment loss (``None``: 0.1 for ``core``, 0 otherwise).
        class_weights: optional per-stage weights of every cross-entropy.
        align_temperature: temperature of the alignment logits.
        monitor: checkpoint selection, ``"fused"`` (κ of the prediction, ``val/kappa``) or
            ``"all"`` (mean of that κ and each unimodal head's κ, ``val/kappa_all``).
        lr: Adam learning rate.
        weight_decay: Adam weight decay (L2, as in the reference).
        data_info: modalities, shapes and classes of the data (set by the CLI;
            the frames × bins of each epoch come from the shapes' last two axes).
    """

    task_name = "sleep"
    default_data = "polymodal.data.sleep.SleepDataModule"

    def __init__(
        self,
        model: str = "core",
        preset: str = "small",
        sizes: dict[str, Any] | None = None,
        w_uni: float | None = None,
        w_align: float | None = None,
        class_weights: list[float] | None = None,
        align_temperature: float = 0.1,
        monitor: str = "fused",
        lr: float = 1e-4,
        weight_decay: float = 1e-4,
        data_info: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        data_info = self.plain_data_info(data_info)
        self.save_hyperparameters()
        check_rates(lr, weight_decay)
        if monitor not in MONITORS:
            raise PolymodalError(f"unknown monitor {monitor!r}; choose one of: {', '.join(MONITORS)}")
        self.data_info = self.resolve_data_info(data_info)
        _, used = resolve_sleep_model(model, self.data_info.modalities)
        self.model = build_sleep_model(model, self._sizes(preset, dict(sizes or {}), used),
                                       self.data_info.num_classes, self.data_info.modalities)
        weights = self._loss_weights(model, w_uni, w_align)
        self.loss = SleepLoss(**weights, class_weights=check_class_weights(class_weights, self.data_info.num_classes),
                              temperature=align_temperature)
        n = self.data_info.num_classes
        self.class_names = tuple(self.data_info.class_names or (STAGES if n == len(STAGES) else map(str, range(n))))
        self.scored_heads = tuple(self.model.heads) if self.model.auxiliary_losses else ()
        """The unimodal heads with metrics of their own (``acc/<m>``, ``kappa/<m>``)."""
        self.confusion_matrices: dict[str, Tensor] = {}
        """Stage → the ``[C, C]`` confusion matrix of its last evaluation (rows: true stage)."""

    def _sizes(self, preset: str, sizes: dict[str, Any], modalities: tuple[str, ...]) -> SleepSizes:
        """The preset's sizes with the frames × bins of the epochs of ``modalities`` (which must agree)."""
        for m in modalities:
            shape = self.data_info.shapes[m]
            if len(shape) < 2:
                raise PolymodalError(f"sleep models take epochs of frames × bins; modality {m!r} has shape {shape}")
            frames, bins = shape[-2:]
            for name, value in (("num_frames", frames), ("num_bins", bins)):
                if sizes.setdefault(name, value) != value:
                    raise PolymodalError(f"sizes.{name}={sizes[name]} but the {m!r} data has {value}")
        if self.data_info.num_classes < 2:
            raise PolymodalError(f"sleep staging needs >= 2 classes, the data has {self.data_info.num_classes}")
        return SleepSizes.from_options(preset, **sizes)

    def _loss_weights(self, model: str, w_uni: float | None, w_align: float | None) -> dict[str, float]:
        given = {"w_uni": w_uni, "w_align": w_align}
        if self.model.auxiliary_losses:
            return {k: AUXILIARY_DEFAULTS[k] if v is None else v for k, v in given.items()}
        nonzero = [f"{k}={v}" for k, v in given.items() if v]
        if nonzero:
            raise PolymodalError(f"{nonzero[0]} needs unimodal heads and alignment, which model {model!r} lacks; "
                                 f"choose model 'core' or set it to 0")
        return {"w_uni": 0.0, "w_align": 0.0}

    @property
    def monitor(self) -> tuple[str, str]:
        """The validation metric that selects the best checkpoint (``monitor`` option), and its mode."""
        return MONITORS[self.hparams.monitor], "max"

    def _masks(self, batch: Batch) -> dict[str, Tensor]:
        return epoch_masks(batch["inputs"], batch.get("present"), self.model.modalities, self.model.sizes)

    def forward(self, batch: Batch) -> SleepOutput:
        return self.model(batch["inputs"], self._masks(batch))

    def training_loss(self, batch: Batch) -> dict[str, Tensor]:
        masks = self._masks(batch)
        return self.loss(self.model(batch["inputs"], masks), batch["target"], masks)

    def evaluation_metrics(self, stage: str) -> dict[str, Metric]:
        return sleep_metrics(self.class_names, self.scored_heads)

    def evaluate(self, batch: Batch, stage: str) -> Evaluation:
        """The loss and the prediction pooled over every epoch; each scored head on the epochs holding its modality."""
        masks = self._masks(batch)
        output = self.model(batch["inputs"], masks)
        target = batch["target"]
        return Evaluation(self.loss(output, target, masks), {
            "preds": predict(output, masks).flatten(0, 1), "target": target.flatten(),
            "unimodal": head_inputs(output.unimodal, target, masks, self.scored_heads),
        })

    def evaluation_end(self, stage: str, values: dict[str, Tensor]) -> None:
        self.confusion_matrices[stage] = values[f"{stage}/confusion"].cpu()

    def predict(self, batch: Batch) -> Tensor:
        """Per-epoch stage probabilities ``[B, L, C]`` (fused where both present, else the available head)."""
        masks = self._masks(batch)
        return predict(self.model(batch["inputs"], masks), masks)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
