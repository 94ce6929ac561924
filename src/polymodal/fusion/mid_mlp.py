"""Intermediate fusion: concatenated modality features through an MLP.

``g(z) = MLP([z_1 ‖ … ‖ z_M])`` with first layer
``h = ReLU(Σ_m W_m z_m + b)`` (the concatenation layer written per block, as
in late fusion), then ``depth − 1`` further hidden layers and a linear output.
``W_m`` is modality m's own parameter (:meth:`modality_parameters`); the rest
of the MLP is shared. An absent modality's features arrive zeroed (the
classifier zeroes them), so its block contributes nothing to ``h``.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from polymodal.errors import PolymodalError
from polymodal.fusion.base import FUSIONS, FusionHead


@FUSIONS.register("mid_mlp")
class MidMLPFusion(FusionHead):
    """Concatenation → ``depth`` hidden layers of ``hidden_dim`` → outputs.

    Args:
        feature_dims: modality → feature size.
        num_outputs: classes (or regression outputs).
        hidden_dim: width of every hidden layer.
        depth: number of hidden layers (≥ 1).
        dropout: dropout after each hidden activation.
    """

    name = "mid_mlp"

    def __init__(
        self,
        feature_dims: Mapping[str, int],
        num_outputs: int,
        hidden_dim: int = 256,
        depth: int = 1,
        dropout: float = 0.1,
    ) -> None:
        super().__init__(feature_dims, num_outputs)
        if depth < 1:
            raise PolymodalError(f"mid_mlp depth must be >= 1, got {depth}")
        self.input_blocks = nn.ModuleDict({m: nn.Linear(d, hidden_dim, bias=False) for m, d in feature_dims.items()})
        bound = sum(feature_dims.values()) ** -0.5  # the init of one Linear(Σ D_m, hidden_dim)
        for block in self.input_blocks.values():
            nn.init.uniform_(block.weight, -bound, bound)
        self.input_bias = nn.Parameter(torch.empty(hidden_dim).uniform_(-bound, bound))
        layers: list[nn.Module] = [nn.ReLU(), nn.Dropout(dropout)]
        for _ in range(depth - 1):
            layers += [nn.Linear(hidden_dim, hidden_dim), nn.ReLU(), nn.Dropout(dropout)]
        layers.append(nn.Linear(hidden_dim, num_outputs))
        self.trunk = nn.Sequential(*layers)

    def forward(self, features: Mapping[str, Tensor], present: Mapping[str, Tensor] | None = None) -> Tensor:
        hidden = torch.stack([self.input_blocks[m](features[m]) for m in self.modalities]).sum(0) + self.input_bias
        return self.trunk(hidden)

    def modality_parameters(self, modality: str) -> list[nn.Parameter]:
        return list(self.input_blocks[modality].parameters())
