"""Transformer fusion: one token per modality plus a CLS token (Vaswani et al., 2017, arXiv 1706.03762).

Each modality's pooled features become one token
``t_m = P_m z_m + e_m`` (a bias-free projection to ``d_model`` plus a
learnable modality embedding ``e_m``), a learnable CLS token is prepended, a
pre-norm transformer encoder runs over ``[CLS, t_1, …, t_M]``, and the CLS
output goes through a linear layer (the BERT / ViT classification readout,
arXiv 1810.04805). Absent modalities (``present`` False) are masked out of
attention with ``src_key_padding_mask``, so no token attends to them and
they cannot influence the output; the CLS token is never masked, so a
sample with no modality present still has a finite output.
``P_m`` and ``e_m`` are modality m's own parameters (:meth:`modality_parameters`).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from polymodal.errors import PolymodalError
from polymodal.fusion.base import FUSIONS, FusionHead
from polymodal.fusion.presence import presence_matrix


@FUSIONS.register("transformer")
class TransformerFusion(FusionHead):
    """Self-attention over modality tokens; the CLS token's output → linear.

    Args:
        feature_dims: modality → feature size.
        num_outputs: classes (or regression outputs).
        d_model: token width.
        num_layers: transformer layers.
        num_heads: attention heads (must divide ``d_model``).
        feedforward_dim: hidden width of each layer's MLP (``4 · d_model`` if None).
        dropout: dropout inside the layers.
    """

    name = "transformer"

    def __init__(
        self,
        feature_dims: Mapping[str, int],
        num_outputs: int,
        d_model: int = 64,
        num_layers: int = 2,
        num_heads: int = 4,
        feedforward_dim: int | None = None,
        dropout: float = 0.1,
    ) -> None:
        super().__init__(feature_dims, num_outputs)
        if d_model % num_heads:
            raise PolymodalError(f"transformer fusion num_heads {num_heads} does not divide d_model {d_model}")
        self.projections = nn.ModuleDict({m: nn.Linear(d, d_model, bias=False) for m, d in feature_dims.items()})
        self.modality_embeddings = nn.ParameterDict(
            {m: nn.Parameter(nn.init.trunc_normal_(torch.empty(d_model), std=0.02)) for m in feature_dims}
        )
        self.cls_token = nn.Parameter(nn.init.trunc_normal_(torch.empty(1, 1, d_model), std=0.02))
        layer = nn.TransformerEncoderLayer(
            d_model, num_heads, feedforward_dim or 4 * d_model, dropout,
            activation="gelu", batch_first=True, norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False)
        self.output = nn.Linear(d_model, num_outputs)

    def forward(self, features: Mapping[str, Tensor], present: Mapping[str, Tensor] | None = None) -> Tensor:
        tokens = torch.stack(
            [self.projections[m](features[m]) + self.modality_embeddings[m] for m in self.modalities], dim=1
        )
        batch_size = tokens.shape[0]
        sequence = torch.cat([self.cls_token.expand(batch_size, -1, -1), tokens], dim=1)
        absent = ~presence_matrix(self.modalities, features, present)
        padding = torch.cat([absent.new_zeros(batch_size, 1), absent], dim=1)
        return self.output(self.encoder(sequence, src_key_padding_mask=padding)[:, 0])

    def modality_parameters(self, modality: str) -> list[nn.Parameter]:
        return [*self.projections[modality].parameters(), self.modality_embeddings[modality]]
