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

import torch
from torch import Tensor, nn

from polymodal.balance.base import BALANCERS, unimodal_masks
from polymodal.balance.losses import supervised_loss, true_class_probability
from polymodal.balance.modulation import (
    EPS,
    check_epoch_window,
    in_epoch_window,
    mean_of_others,
    scale_gradients,
)
from polymodal.balance.multiloss import MultiLoss
from polymodal.data.contract import Batch
from polymodal.errors import PolymodalError
from polymodal.models.output import ModelOutput


def unimodal_performance(output: ModelOutput, batch: Batch) -> dict[str, Tensor]:
    """Detached ``s_m`` per unimodal head: true-class probability, or MSE for regression."""
    target = batch["target"]
    masks = unimodal_masks(output, batch)
    with torch.no_grad():
        if target.dtype == torch.long:
            return {m: true_class_probability(output.unimodal[m], target, masks[m]) for m in masks}
        return {m: supervised_loss(output.unimodal[m], target, masks[m]) for m in masks}


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
        self._scores: dict[str, Tensor] = {}
        self._regression = False

    def loss(self, output: ModelOutput, batch: Batch, model: nn.Module) -> dict[str, Tensor]:
        if self.training:
            self._scores = unimodal_performance(output, batch)
            self._regression = batch["target"].dtype != torch.long
        return super().loss(output, batch, model)

    def coefficients(self) -> dict[str, Tensor]:
        """``k_m`` for the scores of the last training batch."""
        modalities = list(self._scores)
        scores = torch.stack([self._scores[m] for m in modalities])
        k = mlb_coefficients(mlb_ratios(scores, self._regression), self.alpha, self.beta_max)
        return dict(zip(modalities, k))

    def after_backward(self, model: nn.Module) -> dict[str, float]:
        if not self._scores:
            return {}
        active = in_epoch_window(self.current_epoch, self.start_epoch, self.end_epoch)
        coefficients = self.coefficients()
        state = {f"s/{m}": float(s) for m, s in self._scores.items()}
        for m, k in coefficients.items():
            applied = k if active else torch.ones_like(k)
            scale_gradients(model.modality_parameters(m), applied)
            state[f"k/{m}"] = float(applied)
        self._scores = {}
        return state
