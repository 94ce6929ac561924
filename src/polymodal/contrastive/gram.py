"""GRAM: Gramian volume similarity, arXiv 2412.11959.

The normalized embeddings of a sample span a parallelotope whose volume is
``√det G`` for the Gram matrix ``G`` of the vectors (Sec. 3, Eq. 4); aligned
samples span a small one. The score of the anchor ``z1_i`` against the other
modalities of sample j is ``−√|det G([z1_i, z2_j, ..., zM_j])|``, and the
loss is the symmetric cross-entropy over ``score/τ`` (anchor→data and
data→anchor, Eq. 6) with label smoothing 0.1. Retrieval scores a query pair
against a candidate with the volume of the three vectors.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from polymodal.contrastive.base import OBJECTIVES, ContrastiveObjective, Embeddings, LogitScale
from polymodal.contrastive.infonce import symmetric_cross_entropy
from polymodal.contrastive.triangle import STABILITY_EPS
from polymodal.errors import PolymodalError


def gram_volumes(fixed: Sequence[Tensor], candidates: Tensor) -> Tensor:
    """Volumes ``[n, N]`` spanned by ``fixed_1[i], ..., fixed_K[i], candidates[j]``.

    The ``(K+1)×(K+1)`` Gram matrices are assembled from matrix products
    and their determinants taken in one batched call.
    """
    vectors = torch.stack(list(fixed), dim=1)  # [n, K, E]
    n, k, _ = vectors.shape
    count = candidates.shape[0]
    among_fixed = (vectors @ vectors.transpose(1, 2))[:, None].expand(n, count, k, k)
    with_candidate = torch.einsum("nke,me->nmk", vectors, candidates)  # [n, N, K]
    candidate_sq = (candidates * candidates).sum(-1)[None, :, None, None].expand(n, count, 1, 1)
    gram = torch.cat([
        torch.cat([among_fixed, with_candidate[..., None]], dim=-1),
        torch.cat([with_candidate[..., None, :], candidate_sq], dim=-1),
    ], dim=-2)
    return (torch.linalg.det(gram).abs() + STABILITY_EPS).sqrt()


@OBJECTIVES.register("gram")
class Gram(ContrastiveObjective):
    """GRAM's volume-based contrastive loss (three or more modalities).

    Args:
        modalities: the modality names.
        anchor: the modality contrasted against all the others (default: the first).
        temperature: τ of ``−volume/τ``.
        learnable_temperature: learn ``log(1/τ)`` instead of keeping τ fixed.
        label_smoothing: of the cross-entropy (0.1 in the reference).
    """

    name = "gram"
    min_modalities = 3

    def __init__(self, modalities: Sequence[str], anchor: str | None = None, temperature: float = 0.07,
                 learnable_temperature: bool = False, label_smoothing: float = 0.1) -> None:
        super().__init__(modalities)
        self.anchor = self.modalities[0] if anchor is None else anchor
        if self.anchor not in self.modalities:
            raise PolymodalError(f"gram: anchor {self.anchor!r} is not a modality; choose one of: "
                                 f"{', '.join(self.modalities)}")
        self.label_smoothing = label_smoothing
        self.logit_scale = LogitScale(temperature, learnable_temperature)

    def loss(self, embeddings: Embeddings) -> dict[str, Tensor]:
        others = [embeddings.unimodal[m] for m in self.modalities if m != self.anchor]
        # row i, column j: volume(anchor_i, others_j)
        volumes = gram_volumes(others, embeddings.unimodal[self.anchor]).T
        return {"gram": symmetric_cross_entropy(-self.logit_scale() * volumes, self.label_smoothing)}

    def pair_scores(self, first: Tensor, second: Tensor, fused: Tensor | None, candidates: Tensor) -> Tensor:
        """Minus the volume spanned by (first_i, second_i, candidate_j)."""
        return -gram_volumes([first, second], candidates)
