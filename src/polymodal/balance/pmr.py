"""PMR: prototypical modal rebalance.

Fan et al., "PMR: Prototypical Modal Rebalance for Multimodal Learning",
CVPR 2023 (arXiv 2211.07089).

* **Prototypes**: ``c_m[k]`` = mean feature ``z_m`` of class k. The
  features seen during a training epoch are summed per class (detached) and
  become the prototypes at the end of the epoch, so epoch e uses the
  prototypes of epoch e − 1 (no prototype term in the first epoch; a class
  not seen yet has no prototype and gets probability 0).
* **Prototype logits**: ``−‖z_m − c_m[k]‖₂``; prototypical cross-entropy
  ``CE_proto,m`` over them.
* **Imbalance**: ``s_m`` = batch mean of the prototype probability of
  the true class; ``ρ_m = s_m / mean_{j≠m} s_j``. A weaker modality
  (``ρ_m < 1``) gets ``α·CE_proto,m`` added to the fused cross-entropy.
* Only within ``[start_epoch, end_epoch)`` (the paper rebalances in the early
  epochs only).

Scale: the per-class feature sums are statistics of each optimizer step,
summed over micro-batches and processes, so every DDP replica holds the same
prototypes. The scores ``s_m`` that pick the weaker modality are averaged
over the processes before the choice (one process on the global batch);
under gradient accumulation each micro-batch chooses from its own scores.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from polymodal.balance.base import BALANCERS, BalancerLoss
from polymodal.balance.context import StepContext
from polymodal.balance.joint import Joint
from polymodal.balance.losses import supervised_loss, true_class_probabilities
from polymodal.balance.modulation import (
    EPS,
    check_epoch_window,
    in_epoch_window,
    mean_of_others,
)
from polymodal.balance.view import ModelView
from polymodal.data.contract import Batch, presence
from polymodal.errors import PolymodalError
from polymodal.models.output import ModelOutput


def prototype_logits(features: Tensor, prototypes: Tensor, known: Tensor) -> Tensor:
    """``[B, C]`` negative Euclidean distances; classes without a prototype get ``-inf``."""
    logits = -torch.cdist(features, prototypes.to(features.dtype))
    return logits.masked_fill(~known[None, :], float("-inf"))


@BALANCERS.register("pmr")
class PMR(Joint):
    """Fused CE plus prototypical CE for the weaker modalities.

    Args:
        alpha: weight α of the prototypical cross-entropy.
        start_epoch: first epoch with the prototype term.
        end_epoch: first epoch without it (``None``: never stops).
    """

    name = "pmr"
    supports_regression = False
    min_modalities = 2

    def __init__(self, alpha: float = 1.0, start_epoch: int = 0, end_epoch: int | None = None) -> None:
        super().__init__()
        if alpha < 0:
            raise PolymodalError(f"method 'pmr': alpha must be >= 0, got {alpha}")
        check_epoch_window(self.name, start_epoch, end_epoch)
        self.alpha = alpha
        self.start_epoch = start_epoch
        self.end_epoch = end_epoch
        self.modalities: tuple[str, ...] = ()

    def setup(self, view: ModelView) -> None:
        super().setup(view)
        self.modalities = view.modalities
        classes = view.num_outputs
        for m, dim in view.feature_dims.items():
            self.register_buffer(f"prototypes_{m}", torch.zeros(classes, dim))
            self.register_buffer(f"known_{m}", torch.zeros(classes, dtype=torch.bool))
            self.register_buffer(f"sums_{m}", torch.zeros(classes, dim), persistent=False)
            self.register_buffer(f"counts_{m}", torch.zeros(classes), persistent=False)

    def prototypes(self, modality: str) -> tuple[Tensor, Tensor]:
        """``([C, D], [C] bool)``: modality's prototypes and which classes have one."""
        return self.get_buffer(f"prototypes_{modality}"), self.get_buffer(f"known_{modality}")

    def class_sums(self, output: ModelOutput, batch: Batch) -> dict[str, Tensor]:
        """Per-class feature sums and counts of the batch (detached statistics)."""
        target = batch["target"]
        statistics = {}
        for m in self.modalities:
            mask = presence(batch, m).float()
            z = output.features[m].detach().float() * mask[:, None]
            sums, counts = self.get_buffer(f"sums_{m}"), self.get_buffer(f"counts_{m}")
            statistics[f"sums/{m}"] = torch.zeros_like(sums).index_add_(0, target, z)
            statistics[f"counts/{m}"] = torch.zeros_like(counts).index_add_(0, target, mask)
        return statistics

    def step(self, statistics: Mapping[str, Tensor], view: ModelView, context: StepContext) -> dict[str, Tensor]:
        for m in self.modalities:
            self.get_buffer(f"sums_{m}").add_(statistics[f"sums/{m}"])
            self.get_buffer(f"counts_{m}").add_(statistics[f"counts/{m}"])
        return {}

    def train_epoch_end(self) -> dict[str, Tensor]:
        for m in self.modalities:
            sums, counts = self.get_buffer(f"sums_{m}"), self.get_buffer(f"counts_{m}")
            seen = counts > 0
            prototypes, known = self.prototypes(m)
            prototypes[seen] = sums[seen] / counts[seen, None]
            known |= seen
            sums.zero_()
            counts.zero_()
        return {}

    def loss(self, output: ModelOutput, batch: Batch, view: ModelView, context: StepContext) -> BalancerLoss:
        result = super().loss(output, batch, view, context)
        if not context.training:
            return result
        result.statistics |= self.class_sums(output, batch)
        if not in_epoch_window(self.current_epoch, self.start_epoch, self.end_epoch):
            return result
        if not all(bool(self.prototypes(m)[1].any()) for m in self.modalities):
            return result
        target = batch["target"]
        losses, totals, counts = [], [], []
        for m in self.modalities:
            prototypes, known = self.prototypes(m)
            logits = prototype_logits(output.features[m], prototypes, known)
            usable = presence(batch, m) & known[target]
            weight = usable.float()
            totals.append((true_class_probabilities(logits.detach(), target) * weight).sum())
            counts.append(weight.sum())
            safe = torch.where(usable[:, None], logits, torch.zeros_like(logits))  # no -inf into CE
            losses.append(supervised_loss(safe, target, usable))
        scores = context.mean(torch.stack(totals)) / context.mean(torch.stack(counts)).clamp_min(1.0)
        ratio = scores / mean_of_others(scores).clamp_min(EPS)
        for m, r, proto_loss in zip(self.modalities, ratio, losses):
            result.terms[f"proto/{m}"] = self.alpha * (r < 1.0).to(proto_loss.dtype) * proto_loss
        return result
