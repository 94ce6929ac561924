"""Multi-loss training: fused plus per-modality unimodal losses.

``L = w_f·CE(g(z), y) + Σ_m w_m·CE(h_m(z_m), y)`` (MLB, arXiv 2405.07930,
Eq. 1; also the base of MCR). A unimodal term averages over the samples
where its modality is present.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor

from polymodal.balance.base import BALANCERS, Balancer, BalancerLoss, unimodal_masks
from polymodal.balance.context import StepContext
from polymodal.balance.losses import supervised_loss
from polymodal.balance.view import ModelView
from polymodal.data.contract import Batch
from polymodal.errors import PolymodalError
from polymodal.models.output import ModelOutput


def multiloss_terms(
    output: ModelOutput, batch: Batch, fused_weight: float = 1.0, unimodal_weights: Mapping[str, float] | float = 1.0
) -> dict[str, Tensor]:
    """``{"fused": w_f·CE(g), "uni/<m>": w_m·CE(h_m)}`` for every unimodal head."""
    target = batch["target"]
    terms = {"fused": fused_weight * supervised_loss(output.logits, target)}
    for m, mask in unimodal_masks(output, batch).items():
        w = unimodal_weights.get(m, 1.0) if isinstance(unimodal_weights, Mapping) else unimodal_weights
        terms[f"uni/{m}"] = w * supervised_loss(output.unimodal[m], target, mask)
    return terms


@BALANCERS.register("multiloss")
class MultiLoss(Balancer):
    """Fused + unimodal losses, no gradient modulation.

    Args:
        fused_weight: ``w_f``.
        unimodal_weight: ``w_m``, one value for all modalities or a modality → weight map.
    """

    name = "multiloss"
    needs_unimodal_heads = True

    def __init__(self, fused_weight: float = 1.0, unimodal_weight: float | dict[str, float] = 1.0) -> None:
        super().__init__()
        self.fused_weight = fused_weight
        self.unimodal_weight = unimodal_weight

    def setup(self, view: ModelView) -> None:
        super().setup(view)
        if isinstance(self.unimodal_weight, Mapping):
            unknown = set(self.unimodal_weight) - set(view.unimodal_heads)
            if unknown:
                raise PolymodalError(f"unimodal_weight names unknown modality {sorted(unknown)[0]!r}; "
                                     f"model has: {', '.join(view.unimodal_heads)}")

    def loss(self, output: ModelOutput, batch: Batch, view: ModelView, context: StepContext) -> BalancerLoss:
        return BalancerLoss(multiloss_terms(output, batch, self.fused_weight, self.unimodal_weight))
