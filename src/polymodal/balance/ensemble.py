"""Ensemble of unimodal models trained side by side in one run.

Each encoder and its unimodal head are trained only by their own loss
``CE(h_m(z_m), y)``: no gradient crosses modalities, so this is separate
unimodal training sharing only the batch order. The fusion head is not used.
The prediction combines the heads (:mod:`polymodal.eval.ensemble`):

* ``combine="soft_vote"`` (default, as in the MCR release): the mean of the
  heads' class probabilities;
* ``combine="zscore"``: the sum of the heads' logits, each standardized by
  running statistics (mean and std over samples and classes, momentum
  ``momentum``, like batch normalization's running statistics) of the
  training batches, stored with the model.

Either way a sample's prediction does not depend on the other samples of
its evaluation batch. ``polymodal bench balance`` computes the same
baseline from separately trained runs.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from polymodal.balance.base import BALANCERS, Balancer, BalancerLoss, unimodal_masks
from polymodal.balance.context import StepContext
from polymodal.balance.losses import supervised_loss
from polymodal.balance.modulation import check_choice
from polymodal.balance.view import ModelView
from polymodal.data.contract import Batch
from polymodal.errors import PolymodalError
from polymodal.eval.ensemble import COMBINATIONS, soft_vote, zscore_sum
from polymodal.models.output import ModelOutput


@BALANCERS.register("ensemble")
class Ensemble(Balancer):
    """Unimodal losses only; the prediction combines the unimodal heads.

    Args:
        combine: ``"soft_vote"`` or ``"zscore"``.
        momentum: update rate of the z-score running statistics.
    """

    name = "ensemble"
    needs_unimodal_heads = True
    uses_fusion_head = False
    supports_regression = False
    min_modalities = 2

    def __init__(self, combine: str = "soft_vote", momentum: float = 0.1) -> None:
        super().__init__()
        check_choice(self.name, "combine", combine, COMBINATIONS)
        if not 0.0 < momentum <= 1.0:
            raise PolymodalError(f"method 'ensemble': momentum must lie in (0, 1], got {momentum}")
        self.combine = combine
        self.momentum = momentum
        self.modalities: tuple[str, ...] = ()

    def setup(self, view: ModelView) -> None:
        super().setup(view)
        self.modalities = view.unimodal_heads
        count = len(self.modalities)
        self.register_buffer("running_mean", torch.zeros(count))
        self.register_buffer("running_std", torch.ones(count))

    def loss(self, output: ModelOutput, batch: Batch, view: ModelView, context: StepContext) -> BalancerLoss:
        target = batch["target"]
        terms = {f"uni/{m}": supervised_loss(output.unimodal[m], target, mask)
                 for m, mask in unimodal_masks(output, batch).items()}
        statistics = {}
        if context.training and self.combine == "zscore":
            for m, mask in unimodal_masks(output, batch).items():
                logits = output.unimodal[m].detach().float()[mask]
                statistics |= {f"sum/{m}": logits.sum(), f"sumsq/{m}": logits.pow(2).sum(),
                               f"entries/{m}": torch.tensor(float(logits.numel()), device=logits.device)}
        return BalancerLoss(terms, statistics)

    def step(self, statistics: Mapping[str, Tensor], view: ModelView, context: StepContext) -> dict[str, Tensor]:
        if self.combine != "zscore":
            return {}
        for i, m in enumerate(self.modalities):
            n = statistics[f"entries/{m}"]
            if float(n) < 2:
                continue
            mean = statistics[f"sum/{m}"] / n
            var = (statistics[f"sumsq/{m}"] / n - mean**2).clamp_min(0.0)  # ratios of sums: exact under DDP
            self.running_mean[i].lerp_(mean, self.momentum)
            self.running_std[i].lerp_(var.sqrt(), self.momentum)
        return {}

    def predict(self, output: ModelOutput) -> Tensor:
        members = [output.unimodal[m] for m in self.modalities]
        if self.combine == "zscore":
            return zscore_sum(members, list(self.running_mean), list(self.running_std))
        return soft_vote(members)
