"""PMR: prototypical modal rebalance.

Fan et al., "PMR: Prototypical Modal Rebalance for Multimodal Learning",
CVPR 2023 (arXiv 2211.07089; official ``main_Prototype_grad.py``).

* **Prototypes** ``c_m[k]``: the mean feature ``z_m`` of class k.
  ``prototypes="published"`` (default, the official code): before every
  epoch the model embeds the first ``prototype_fraction`` (10%) of the
  training batches in evaluation mode, without gradients, and the class
  means become the prototypes — blended with the previous ones as
  ``0.8·new + 0.2·old`` from the third epoch on (the official update after
  the first epoch skips the momentum). ``prototypes="previous_epoch"``: the
  features seen while training an epoch (detached) are summed per class and
  become the prototypes at its end, so epoch e uses those of epoch e − 1
  and the first epoch has no prototype term.
* **Prototype logits**: ``−‖z_m − c_m[k]‖₂``; prototypical cross-entropy
  ``CE_proto,m`` over them (a class without a prototype gets probability 0).
* **Imbalance**: ``s_m`` = batch mean of the prototype probability of
  the true class; ``ρ_m = s_m / mean_{j≠m} s_j`` (for two modalities the
  official ``Σ softmax(sim_a)[y] / Σ softmax(sim_v)[y]``). A weaker modality
  (``ρ_m < 1``) gets ``α·CE_proto,m`` added to the fused cross-entropy.
* Only within ``[start_epoch, end_epoch)``.

Scale: the prototype pass runs on the same batches in every process, and
the per-class sums of ``"previous_epoch"`` are statistics of each optimizer
step (summed over micro-batches, averaged over processes), so every DDP
replica holds the same prototypes. The scores that pick the weaker modality
are averaged over the processes before the choice (one process on the
global batch); under gradient accumulation each micro-batch chooses from its
own scores.
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
    check_choice,
    check_epoch_window,
    in_epoch_window,
    mean_of_others,
)
from polymodal.balance.view import ModelView
from polymodal.data.contract import Batch, presence
from polymodal.errors import PolymodalError
from polymodal.models.output import ModelOutput


PROTOTYPES = ("published", "previous_epoch")


def prototype_logits(features: Tensor, prototypes: Tensor, known: Tensor) -> Tensor:
    """``[B, C]`` negative Euclidean distances; classes without a prototype get ``-inf``."""
    logits = -torch.cdist(features, prototypes.to(features.dtype))
    return logits.masked_fill(~known[None, :], float("-inf"))


@BALANCERS.register("pmr")
class PMR(Joint):
    """Fused CE plus prototypical CE for the weaker modalities.

    Args:
        alpha: weight α of the prototypical cross-entropy.
        prototypes: ``"published"`` or ``"previous_epoch"`` (see the module docstring).
        prototype_fraction: share of the training batches embedded for the published prototypes.
        momentum: weight of the previous prototypes in the published update (0.2).
        start_epoch: first epoch with the prototype term.
        end_epoch: first epoch without it (``None``: never stops).
    """

    name = "pmr"
    supports_regression = False
    min_modalities = 2

    def __init__(self, alpha: float = 1.0, prototypes: str = "published", prototype_fraction: float = 0.1,
                 momentum: float = 0.2, start_epoch: int = 0, end_epoch: int | None = None) -> None:
        super().__init__()
        if alpha < 0:
            raise PolymodalError(f"method 'pmr': alpha must be >= 0, got {alpha}")
        check_choice(self.name, "prototypes", prototypes, PROTOTYPES)
        if not 0 < prototype_fraction <= 1 or not 0 <= momentum < 1:
            raise PolymodalError(f"method 'pmr': need 0 < prototype_fraction <= 1 and 0 <= momentum < 1, "
                                 f"got {prototype_fraction} and {momentum}")
        check_epoch_window(self.name, start_epoch, end_epoch)
        self.alpha = alpha
        self.prototype_source = prototypes
        self.prototype_fraction = prototype_fraction
        self.momentum = momentum
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

    @property
    def epoch_feature_fraction(self) -> float:
        return self.prototype_fraction if self.prototype_source == "published" else 0.0

    def epoch_features(self, statistics: Mapping[str, Tensor], epoch: int) -> None:
        """Published prototypes from the class sums of the evaluation-mode pass before ``epoch``."""
        blend = self.momentum if epoch >= 2 else 0.0
        for m in self.modalities:
            self._set_prototypes(m, statistics[f"sums/{m}"], statistics[f"counts/{m}"], blend)

    def step(self, statistics: Mapping[str, Tensor], view: ModelView, context: StepContext) -> dict[str, Tensor]:
        if self.prototype_source == "previous_epoch":
            for m in self.modalities:
                self.get_buffer(f"sums_{m}").add_(statistics[f"sums/{m}"])
                self.get_buffer(f"counts_{m}").add_(statistics[f"counts/{m}"])
        return {}

    def train_epoch_end(self) -> dict[str, Tensor]:
        if self.prototype_source == "previous_epoch":
            for m in self.modalities:
                sums, counts = self.get_buffer(f"sums_{m}"), self.get_buffer(f"counts_{m}")
                self._set_prototypes(m, sums, counts, 0.0)
                sums.zero_()
                counts.zero_()
        return {}

    def _set_prototypes(self, modality: str, sums: Tensor, counts: Tensor, blend: float) -> None:
        """Class means of the seen classes, blended as ``(1 − blend)·new + blend·old`` where a prototype exists."""
        prototypes, known = self.prototypes(modality)
        seen = counts > 0
        means = sums[seen] / counts[seen, None]
        old = prototypes[seen]
        prototypes[seen] = torch.where(known[seen, None], (1 - blend) * means + blend * old, means)
        known |= seen

    def loss(self, output: ModelOutput, batch: Batch, view: ModelView, context: StepContext) -> BalancerLoss:
        result = super().loss(output, batch, view, context)
        if not context.training:
            return result
        if self.prototype_source == "previous_epoch":
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
