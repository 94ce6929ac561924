"""MLB: multi-loss balanced gradient modulation (arXiv 2405.07930).

Training uses the multi-loss objective (:class:`MultiLoss`).
After every backward pass each modality's performance is estimated from its
unimodal head:

* classification: ``s_m`` = batch mean of ``softmax(h_m(z_m))[y]``;
  ``r_m = mean_{j≠m} s_j / s_m`` (for M = 2, ``s_other / s_m``);
* regression: ``s_m`` = the head's MSE (lower is better), so the ratio is
  inverted: ``r_m = s_m / mean_{j≠m} s_j``.

``r_m > 1`` marks a lagging modality. The coefficient is

* default form: ``k_m = 1 + tanh(α·(r_m − 1))`` ∈ (0, 2);
* final form with an acceleration cap (``beta_max`` set):
  ``k_m = 1 + (β_m − 1)·tanh(α·(r_m − 1))``, ``β_m = β_max`` if ``r_m > 1``
  else 2,

and every gradient of modality m's group (``model.modality_parameters(m)``:
encoder, unimodal head, its slice of a linear fusion head) is multiplied by
``k_m``; shared fusion parameters are not scaled. As all heads fit,
``r_m → 1`` and ``k_m → 1``: no schedule is needed, though start and end
epochs may be set. ``s/<m>`` and ``k/<m>`` are logged every step.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from polymodal.balance.base import BALANCERS, BalancerLoss, unimodal_masks
from polymodal.balance.context import StepContext
from polymodal.balance.losses import mean_scores, per_sample_loss, score_sums, true_class_probabilities
from polymodal.balance.modulation import (
    EPS,
    check_epoch_window,
    in_epoch_window,
    mean_of_others,
    scale_gradients,
)
from polymodal.balance.multiloss import MultiLoss, multiloss_terms
from polymodal.balance.view import ModelView
from polymodal.data.contract import Batch
from polymodal.errors import PolymodalError
from polymodal.models.output import ModelOutput


@torch.no_grad()
def unimodal_performance(output: ModelOutput, batch: Batch) -> dict[str, Tensor]:
    """Additive statistics of ``s_m`` per unimodal head: true-class probability, or squared error for regression."""
    target = batch["target"]
    statistics: dict[str, Tensor] = {}
    for m, mask in unimodal_masks(output, batch).items():
        if target.dtype == torch.long:
            per_sample = true_class_probabilities(output.unimodal[m], target)
        else:
            per_sample = per_sample_loss(output.unimodal[m].float(), target.float())
        statistics |= score_sums(per_sample, mask, m)
    return statistics


def mlb_ratios(scores: Tensor, regression: bool = False) -> Tensor:
    """``r_m``: above 1 for a lagging modality. ``scores`` is ``[M]``."""
    others = mean_of_others(scores)
    if regression:
        return scores / others.clamp_min(EPS)
    return others / scores.clamp_min(EPS)


def mlb_coefficients(ratios: Tensor, alpha: float, beta_max: float | None = None) -> Tensor:
    """``k_m`` from ``r_m``: default form, or the capped form when ``beta_max`` is set."""
    bend = torch.tanh(alpha * (ratios - 1.0))
    if beta_max is None:
        return 1.0 + bend
    beta = torch.where(ratios > 1.0, torch.full_like(ratios, beta_max), torch.full_like(ratios, 2.0))
    return 1.0 + (beta - 1.0) * bend


@BALANCERS.register("mlb")
class MLB(MultiLoss):
    """Multi-loss objective plus per-modality gradient scaling by ``k_m``.

    ``s_m`` is the mean over every sample of the optimizer step: all
    micro-batches of gradient accumulation and all processes.

    Args:
        alpha: steepness α of the coefficient (0 turns modulation off).
        beta_max: acceleration cap of the final form; ``None`` uses the default form.
        start_epoch: first epoch with modulation.
        end_epoch: first epoch without modulation (``None``: never stops).
        fused_weight: weight of the fused loss.
        unimodal_weight: weight of each unimodal loss (a value or modality → value).
    """

    name = "mlb"
    min_modalities = 2

    def __init__(
        self,
        alpha: float = 0.8,
        beta_max: float | None = None,
        start_epoch: int = 0,
        end_epoch: int | None = None,
        fused_weight: float = 1.0,
        unimodal_weight: float | dict[str, float] = 1.0,
    ) -> None:
        super().__init__(fused_weight, unimodal_weight)
        if alpha < 0:
            raise PolymodalError(f"method 'mlb': alpha must be >= 0, got {alpha}")
        check_epoch_window(self.name, start_epoch, end_epoch)
        self.alpha = alpha
        self.beta_max = beta_max
        self.start_epoch = start_epoch
        self.end_epoch = end_epoch
        self.regression = False

    def setup(self, view: ModelView) -> None:
        super().setup(view)
        self.regression = view.num_outputs == 1

    def loss(self, output: ModelOutput, batch: Batch, view: ModelView, context: StepContext) -> BalancerLoss:
        terms = multiloss_terms(output, batch, self.fused_weight, self.unimodal_weight)
        return BalancerLoss(terms, unimodal_performance(output, batch) if context.training else {})

    def coefficients(self, scores: Tensor) -> Tensor:
        """``k_m`` from the ``[M]`` scores ``s_m``."""
        return mlb_coefficients(mlb_ratios(scores, self.regression), self.alpha, self.beta_max)

    def step(self, statistics: Mapping[str, Tensor], view: ModelView, context: StepContext) -> dict[str, Tensor]:
        modalities = view.unimodal_heads
        scores = mean_scores(statistics, modalities)
        k = self.coefficients(scores)
        if not in_epoch_window(self.current_epoch, self.start_epoch, self.end_epoch):
            k = torch.ones_like(k)
        for m, k_m in zip(modalities, k):
            scale_gradients(view.modality_parameters(m), k_m)
        return {**{f"s/{m}": s for m, s in zip(modalities, scores)}, **{f"k/{m}": k_m for m, k_m in zip(modalities, k)}}
