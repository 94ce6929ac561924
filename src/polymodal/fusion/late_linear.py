"""Late fusion: concatenation of modality features followed by one linear layer.

``g(z) = W [z_1 ‖ … ‖ z_M] + b = Σ_m W_m z_m + b``. The weight is stored as one
block ``W_m`` per modality, which is the same layer but gives each modality
its own parameter: balancing methods (MLB, OGM-GE) scale ``W_m``'s gradient
with modality m, and ``modality_logits`` returns ``W_m z_m + b / M`` (the
per-modality output of OGM-GE, Peng et al., CVPR 2022, Sec. 3.2).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from polymodal.fusion.base import FUSIONS, FusionHead


@FUSIONS.register("late")
class LateLinearFusion(FusionHead):
    name = "late"

    def __init__(self, feature_dims: Mapping[str, int], num_outputs: int) -> None:
        super().__init__(feature_dims, num_outputs)
        self.blocks = nn.ModuleDict({m: nn.Linear(d, num_outputs, bias=False) for m, d in feature_dims.items()})
        self.bias = nn.Parameter(torch.zeros(num_outputs))
        fan_in = sum(feature_dims.values())
        for block in self.blocks.values():  # the init of one Linear(fan_in, C)
            nn.init.uniform_(block.weight, -fan_in**-0.5, fan_in**-0.5)

    def forward(self, features: Mapping[str, Tensor], present: Mapping[str, Tensor] | None = None) -> Tensor:
        return torch.stack([self.blocks[m](features[m]) for m in self.modalities]).sum(0) + self.bias

    def modality_parameters(self, modality: str) -> list[nn.Parameter]:
        return list(self.blocks[modality].parameters())

    def modality_logits(self, features: Mapping[str, Tensor]) -> dict[str, Tensor]:
        share = self.bias / len(self.modalities)
        return {m: self.blocks[m](features[m]) + share for m in self.modalities}
