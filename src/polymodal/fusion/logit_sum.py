"""Sum of per-modality linear classifiers (the additive "sum fusion" of OGM-GE, arXiv 2203.15332).

``g(z) = Σ_m (W_m z_m + b_m)``: each modality has its own linear classifier
with its own bias, and the fused logits are the plain sum of their outputs.
:meth:`modality_logits` returns each term ``W_m z_m + b_m`` (they sum to the
forward output exactly), which is the per-modality output OGM-GE's
discrepancy ratio needs (Sec. 3.2); :meth:`modality_parameters` returns
``(W_m, b_m)``. An absent modality's features arrive zeroed (the classifier
zeroes them), so its term reduces to its bias ``b_m``.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from polymodal.fusion.base import FUSIONS, FusionHead


@FUSIONS.register("logit_sum")
class LogitSumFusion(FusionHead):
    """One linear classifier per modality; fused logits are their sum.

    Args:
        feature_dims: modality → feature size.
        num_outputs: classes (or regression outputs).
    """

    name = "logit_sum"

    def __init__(self, feature_dims: Mapping[str, int], num_outputs: int) -> None:
        super().__init__(feature_dims, num_outputs)
        self.classifiers = nn.ModuleDict({m: nn.Linear(d, num_outputs) for m, d in feature_dims.items()})

    def forward(self, features: Mapping[str, Tensor], present: Mapping[str, Tensor] | None = None) -> Tensor:
        return torch.stack(list(self.modality_logits(features).values())).sum(0)

    def modality_parameters(self, modality: str) -> list[nn.Parameter]:
        return list(self.classifiers[modality].parameters())

    def modality_logits(self, features: Mapping[str, Tensor]) -> dict[str, Tensor]:
        return {m: self.classifiers[m](features[m]) for m in self.modalities}
