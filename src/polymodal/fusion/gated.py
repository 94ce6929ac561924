"""Gated fusion: the gated multimodal unit (Arevalo et al., ICLR-W 2017, arXiv 1702.01992).

The paper's GMU for two modalities is ``h_m = tanh(W_m z_m)``,
``g = σ(W_g [z_1 ‖ z_2])``, ``h = g ⊙ h_1 + (1 − g) ⊙ h_2``. For M modalities
the gate becomes a softmax over modalities, per hidden unit:

    h_m = tanh(W_m z_m + b_m)                          (``hidden_dim`` each)
    a   = W_g [z_1 ‖ … ‖ z_M] + b_g  ∈ R^{M × hidden_dim}
    α   = softmax over m of a, restricted to present modalities
    g(z) = W_o (Σ_m α_m ⊙ h_m) + b_o

For M = 2 the softmax equals the paper's sigmoid gate of the logit
difference. Absent modalities (``present`` False) get gate weight exactly 0
and their features are zeroed before the gate, so they cannot influence the
output; a sample with no modality present gets ``h = 0`` (output ``b_o``).
``W_m, b_m`` are modality m's own parameters (:meth:`modality_parameters`).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from polymodal.fusion.base import FUSIONS, FusionHead
from polymodal.fusion.presence import presence_matrix


@FUSIONS.register("gated")
class GatedFusion(FusionHead):
    """Softmax-gated sum of per-modality tanh features, then a linear layer.

    Args:
        feature_dims: modality → feature size.
        num_outputs: classes (or regression outputs).
        hidden_dim: width of the gated features.
        dropout: dropout on the gated features.
    """

    name = "gated"

    def __init__(
        self,
        feature_dims: Mapping[str, int],
        num_outputs: int,
        hidden_dim: int = 128,
        dropout: float = 0.0,
    ) -> None:
        super().__init__(feature_dims, num_outputs)
        self.hidden_dim = hidden_dim
        self.projections = nn.ModuleDict({m: nn.Linear(d, hidden_dim) for m, d in feature_dims.items()})
        self.gate = nn.Linear(sum(feature_dims.values()), len(self.modalities) * hidden_dim)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden_dim, num_outputs)

    def _gates(
        self, features: Mapping[str, Tensor], present: Mapping[str, Tensor] | None
    ) -> tuple[Tensor, list[Tensor]]:
        """Gate weights ``α`` ``[B, M, hidden_dim]`` and the features with absent ones zeroed."""
        mask = presence_matrix(self.modalities, features, present)  # [B, M]
        masked = [features[m].masked_fill(~mask[:, j, None], 0.0) for j, m in enumerate(self.modalities)]
        logits = self.gate(torch.cat(masked, dim=1)).unflatten(1, (len(self.modalities), self.hidden_dim))
        absent = ~mask[:, :, None]
        # A finite fill keeps all-absent samples finite (uniform weights, then zeroed below).
        weights = logits.masked_fill(absent, torch.finfo(logits.dtype).min).softmax(dim=1)
        return weights.masked_fill(absent, 0.0), masked

    def gate_weights(self, features: Mapping[str, Tensor], present: Mapping[str, Tensor] | None = None) -> Tensor:
        """Each modality's gate ``α_m`` per hidden unit, ``[B, M, hidden_dim]``; sums to 1 over present modalities."""
        return self._gates(features, present)[0]

    def forward(self, features: Mapping[str, Tensor], present: Mapping[str, Tensor] | None = None) -> Tensor:
        weights, masked = self._gates(features, present)
        hidden = torch.stack([torch.tanh(self.projections[m](z)) for m, z in zip(self.modalities, masked)], dim=1)
        return self.output(self.dropout((weights * hidden).sum(dim=1)))

    def modality_parameters(self, modality: str) -> list[nn.Parameter]:
        return list(self.projections[modality].parameters())
