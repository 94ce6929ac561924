"""Joint-embedding model for contrastive objectives (ConFu, arXiv 2511.21331, Sec. 3).

Per modality m: encoder ``e_m = f_m(x_m)`` and unimodal embedding
``z_m = normalize(W_m e_m)``. Per fused pair (i, j): ``z_ij =
normalize(F_ij([e_i ‖ e_j]))`` with ``F_ij`` an MLP on the concatenated
**encoder outputs** (not on the projections, which made training collapse in
a later study): Linear(D_i+D_j → H) → ReLU → Dropout(0.1) → Linear(H → E) →
LeakyReLU(0.2) → Dropout(0.1); separate heads per pair. Objectives that need
a joint embedding of all modalities (CoMM) get one head of the same form over
all encoder outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from polymodal.contrastive.base import Embeddings, Pair
from polymodal.data.contract import DataInfo
from polymodal.encoders import build_modality_encoders
from polymodal.errors import PolymodalError


class FusedHead(nn.Module):
    """ConFu's fusion MLP on concatenated encoder outputs (unnormalized output)."""

    def __init__(self, input_dim: int, hidden_dim: int, embed_dim: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(input_dim, hidden_dim), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden_dim, embed_dim), nn.LeakyReLU(0.2), nn.Dropout(dropout),
        )

    def forward(self, features: Sequence[Tensor]) -> Tensor:
        return self.net(torch.cat(list(features), dim=-1))


def head_key(pair: Pair) -> str:
    return f"{pair[0]}+{pair[1]}"


class ContrastiveModel(nn.Module):
    """Encoders, linear projections, fused-pair heads and an optional joint head.

    Args:
        encoders: modality → encoder with an ``output_dim`` attribute.
        embed_dim: E, the shared embedding size.
        fused_pairs: pairs that get a fused head (none for baselines).
        joint: build a head embedding all modalities together (CoMM).
        fusion_hidden_dim: H of the fused heads (512 in the reference).
        fusion_dropout: dropout of the fused heads.
    """

    def __init__(self, encoders: Mapping[str, nn.Module], embed_dim: int = 128, fused_pairs: Sequence[Pair] = (),
                 joint: bool = False, fusion_hidden_dim: int = 512, fusion_dropout: float = 0.1) -> None:
        super().__init__()
        self.modalities = tuple(encoders)
        for pair in fused_pairs:
            unknown = [m for m in pair if m not in encoders]
            if unknown or pair[0] == pair[1]:
                raise PolymodalError(f"fused pair {pair} must name two different modalities of: "
                                     f"{', '.join(self.modalities)}")
        self.embed_dim = embed_dim
        self.encoders = nn.ModuleDict(encoders)
        self.projections = nn.ModuleDict({m: nn.Linear(e.output_dim, embed_dim) for m, e in encoders.items()})
        self.fused_pairs = tuple(tuple(p) for p in fused_pairs)
        dims = {m: e.output_dim for m, e in encoders.items()}
        self.fused_heads = nn.ModuleDict({
            head_key(p): FusedHead(dims[p[0]] + dims[p[1]], fusion_hidden_dim, embed_dim, fusion_dropout)
            for p in self.fused_pairs
        })
        self.joint_head = (FusedHead(sum(dims.values()), fusion_hidden_dim, embed_dim, fusion_dropout)
                           if joint else None)

    @classmethod
    def from_info(cls, info: DataInfo, encoder: str | Mapping[str, str] = "mlp",
                  encoder_options: Mapping[str, Any] | None = None, **options: Any) -> ContrastiveModel:
        """One encoder per modality of ``info``; ``encoder`` and ``encoder_options``
        as in :meth:`MultimodalClassifier.from_info` (shared, or per modality name)."""
        return cls(build_modality_encoders(info, encoder, encoder_options), **options)

    def _check(self, inputs: Mapping[str, Tensor], modalities: Sequence[str]) -> None:
        for m in modalities:
            if m not in self.encoders:
                raise PolymodalError(f"unknown modality {m!r}; the model has: {', '.join(self.modalities)}")
            if m not in inputs:
                raise PolymodalError(f"modality {m!r} is missing from the inputs (given: {', '.join(inputs)})")

    def forward(self, inputs: Mapping[str, Tensor]) -> Embeddings:
        """Embed every modality in ``inputs``, every fused pair whose two modalities
        are there, and the joint embedding when all modalities are there."""
        features = {m: self.encoders[m](inputs[m]) for m in self.modalities if m in inputs}
        unimodal = {m: F.normalize(self.projections[m](e), dim=-1) for m, e in features.items()}
        fused = {p: F.normalize(self.fused_heads[head_key(p)]((features[p[0]], features[p[1]])), dim=-1)
                 for p in self.fused_pairs if p[0] in features and p[1] in features}
        joint = None
        if self.joint_head is not None and len(features) == len(self.modalities):
            joint = F.normalize(self.joint_head([features[m] for m in self.modalities]), dim=-1)
        return Embeddings(unimodal, fused, joint)

    def embed(self, inputs: Mapping[str, Tensor], modalities: Sequence[str]) -> Tensor:
        """The embedding of one modality, or of a pair: its fused head where the
        model has one, else ``normalize(z_i + z_j)``. Only the named inputs are used."""
        modalities = tuple(modalities)
        if len(modalities) not in (1, 2):
            raise PolymodalError(f"embed takes one modality or a pair, got {len(modalities)}: {modalities}")
        self._check(inputs, modalities)
        embeddings = self({m: inputs[m] for m in modalities})
        if len(modalities) == 1:
            return embeddings.unimodal[modalities[0]]
        return embeddings.pair_query((modalities[0], modalities[1]))
