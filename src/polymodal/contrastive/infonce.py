"""Symmetric InfoNCE and the pairwise (CLIP / Tri-CLIP) objective.

InfoNCE (arXiv 1807.03748, Eq. 4) in CLIP's symmetric form (arXiv
2103.00020, Fig. 3): for L2-normalized ``a, b`` of shape ``[B, E]`` and
logit scale ``s = 1/τ``,

    ℓ(a, b) = ½ [CE(s·a bᵀ, I) + CE(s·b aᵀ, I)].

The pairwise objective averages ℓ over all modality pairs (Tri-CLIP for three
modalities, ImageBind-style for more).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from polymodal.contrastive.base import OBJECTIVES, ContrastiveObjective, Embeddings, LogitScale, all_pairs

WeightedPair = tuple[str, Tensor, Tensor, float]
"""``(term name, anchors [B, E], positives [B, E], weight)``."""


def symmetric_cross_entropy(logits: Tensor, label_smoothing: float = 0.0) -> Tensor:
    """½[CE over rows + CE over columns] of square logits ``[B, B]`` whose
    diagonal holds the positives."""
    targets = torch.arange(logits.shape[0], device=logits.device)
    return (F.cross_entropy(logits, targets, label_smoothing=label_smoothing)
            + F.cross_entropy(logits.T, targets, label_smoothing=label_smoothing)) / 2


def symmetric_infonce(anchors: Tensor, positives: Tensor, logit_scale: Tensor | float) -> Tensor:
    """ℓ(a, b) for one pair of ``[B, E]`` embeddings."""
    return symmetric_cross_entropy(logit_scale * anchors @ positives.T)


def weighted_infonce_terms(pairs: Sequence[WeightedPair], logit_scale: Tensor) -> dict[str, Tensor]:
    """``weight · ℓ(a, b)`` for every entry, summed per term name (entries may
    share a name). One plain call per pair: on CPU this beats a batched
    ``[P, B, B]`` computation, whose large intermediates fall out of cache."""
    terms: dict[str, Tensor] = {}
    for name, anchors, positives, weight in pairs:
        value = weight * symmetric_infonce(anchors, positives, logit_scale)
        terms[name] = terms[name] + value if name in terms else value
    return terms


def pairwise_entries(embeddings: Embeddings, modalities: Sequence[str], weight: float) -> list[WeightedPair]:
    """Every unimodal pair ``(i, j)`` as a term ``pair/i-j`` with weight ``weight / #pairs``."""
    pairs = all_pairs(modalities)
    return [(f"pair/{i}-{j}", embeddings.unimodal[i], embeddings.unimodal[j], weight / len(pairs))
            for i, j in pairs]


@OBJECTIVES.register("pairwise")
class PairwiseInfoNCE(ContrastiveObjective):
    """Mean symmetric InfoNCE over all modality pairs (CLIP / Tri-CLIP).

    Args:
        modalities: the data's modality names.
        temperature: initial τ (CLIP starts at 0.07).
        learnable_temperature: learn ``log(1/τ)`` (CLIP's default) or keep τ fixed.
    """

    name = "pairwise"

    def __init__(self, modalities: Sequence[str], temperature: float = 0.07,
                 learnable_temperature: bool = True) -> None:
        super().__init__(modalities)
        self.logit_scale = LogitScale(temperature, learnable_temperature)

    def loss(self, embeddings: Embeddings) -> dict[str, Tensor]:
        return weighted_infonce_terms(pairwise_entries(embeddings, self.modalities, 1.0), self.logit_scale())
