"""Cosine fusion: the MMCosine head (Xu et al., ICASSP 2023, arXiv 2303.05338).

``g(z) = s · Σ_m cos(z_m, W_m)``: per modality, the L2-normalized features
are scored against L2-normalized class weights ``W_m`` (``[C, D_m]``), and the
cosine logits are summed and multiplied by a fixed scale ``s``. Normalizing
both sides keeps every modality's logits on the same range, so no modality
wins by growing its feature or weight norms. An absent modality (zeroed
features) contributes zero. ``W_m`` is modality m's own parameter, so
balancing methods scale it with the modality's group.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from polymodal.errors import PolymodalError
from polymodal.fusion.base import FUSIONS, FusionHead


@FUSIONS.register("cosine")
class CosineFusion(FusionHead):
    """Sum of scaled per-modality cosine logits.

    Args:
        feature_dims: modality → feature size.
        num_outputs: classes.
        scale: the logit scale ``s``.
    """

    name = "cosine"

    def __init__(self, feature_dims: Mapping[str, int], num_outputs: int, scale: float = 10.0) -> None:
        super().__init__(feature_dims, num_outputs)
        if num_outputs < 2:
            raise PolymodalError("cosine fusion needs class labels (at least 2 classes); it does not support regression")
        if scale <= 0:
            raise PolymodalError(f"cosine fusion: scale must be > 0, got {scale}")
        self.scale = scale
        self.weights = nn.ParameterDict(
            {m: nn.Parameter(torch.empty(num_outputs, d)) for m, d in feature_dims.items()}
        )
        for w in self.weights.values():
            nn.init.kaiming_uniform_(w, a=5**0.5)

    def modality_logits(self, features: Mapping[str, Tensor]) -> dict[str, Tensor]:
        return {
            m: self.scale * F.normalize(features[m], dim=-1) @ F.normalize(self.weights[m], dim=-1).T
            for m in self.modalities
        }

    def forward(self, features: Mapping[str, Tensor], present: Mapping[str, Tensor] | None = None) -> Tensor:
        return torch.stack(list(self.modality_logits(features).values())).sum(0)

    def modality_parameters(self, modality: str) -> list[nn.Parameter]:
        return [self.weights[modality]]
