"""FiLM fusion: feature-wise linear modulation (Perez et al., AAAI 2018, arXiv 1709.07871).

FiLM modulates features ``h`` by a conditioning input: ``FiLM(h) = γ ⊙ h + β``
with ``(γ, β)`` a learned function of the conditioning input (Eq. 1–3). For
M ≥ 2 modalities every modality is modulated by all the others:

    h_m          = P_m z_m                                  (projection to ``hidden_dim``)
    (Δγ_m, β_m)  = C_m([z_{m'} for m' ≠ m], concatenated)   (linear conditioning)
    u_m          = ReLU((1 + Δγ_m) ⊙ h_m + β_m)
    g(z)         = W [u_1 ‖ … ‖ u_M] + b

``γ = 1 + Δγ`` centres the modulation on the identity at initialisation.
For M = 2 this is FiLM in both directions.
``P_m`` takes only modality m's features and is its own parameter
(:meth:`modality_parameters`); ``C_m`` and ``W`` are shared. An absent
modality's features arrive zeroed (the classifier zeroes them): it then
conditions the others through ``C_m``'s bias only, and its own term is
``ReLU((1 + Δγ_m) ⊙ b_{P_m} + β_m)``, a function of the present modalities.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from polymodal.errors import PolymodalError
from polymodal.fusion.base import FUSIONS, FusionHead


@FUSIONS.register("film")
class FiLMFusion(FusionHead):
    """Each modality's projected features FiLM-modulated by the other modalities.

    Args:
        feature_dims: modality → feature size (at least two modalities).
        num_outputs: classes (or regression outputs).
        hidden_dim: width of each modality's modulated features.
        dropout: dropout on the concatenated modulated features.
    """

    name = "film"

    def __init__(
        self,
        feature_dims: Mapping[str, int],
        num_outputs: int,
        hidden_dim: int = 128,
        dropout: float = 0.0,
    ) -> None:
        super().__init__(feature_dims, num_outputs)
        if len(self.modalities) < 2:
            raise PolymodalError("film fusion needs at least two modalities (one conditions the other)")
        total = sum(feature_dims.values())
        self.projections = nn.ModuleDict({m: nn.Linear(d, hidden_dim) for m, d in feature_dims.items()})
        self.conditioners = nn.ModuleDict({m: nn.Linear(total - d, 2 * hidden_dim) for m, d in feature_dims.items()})
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(len(self.modalities) * hidden_dim, num_outputs)

    def forward(self, features: Mapping[str, Tensor], present: Mapping[str, Tensor] | None = None) -> Tensor:
        modulated = []
        for m in self.modalities:
            context = torch.cat([features[other] for other in self.modalities if other != m], dim=1)
            delta_gamma, beta = self.conditioners[m](context).chunk(2, dim=1)
            modulated.append(torch.relu((1 + delta_gamma) * self.projections[m](features[m]) + beta))
        return self.output(self.dropout(torch.cat(modulated, dim=1)))

    def modality_parameters(self, modality: str) -> list[nn.Parameter]:
        return list(self.projections[modality].parameters())
