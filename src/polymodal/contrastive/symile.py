"""Symile: contrast with the multilinear inner product, arXiv 2411.01053.

The multilinear inner product (MIP) of M vectors is ``Σ_d Π_m z_m[d]``
(Sec. 3, Eq. 2). Each modality in turn is the anchor and is contrasted
against the elementwise product of the others (Eq. 4); the loss is the mean
cross-entropy over anchors. Negatives (Sec. 3.3):

* ``"n"`` (O(N)): the non-anchor modalities are each shuffled by an
  independent random permutation, giving ``B − 1`` negatives per positive;
* ``"n_squared"``: every combination of non-anchor rows, ``B^(M−1) − 1``
  negatives per positive (memory ``B^(M−1)·E``: keep batches small).

Retrieval scores a pair against a candidate with the same MIP.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from polymodal.contrastive.base import OBJECTIVES, ContrastiveObjective, Embeddings, LogitScale
from polymodal.errors import PolymodalError

NEGATIVES = ("n", "n_squared")


def symile_logits_shuffled(anchor: Tensor, others: Sequence[Tensor], permutations: Sequence[Tensor]) -> Tensor:
    """O(N) logits ``[B, B]``: row i holds MIP(anchor_i, shuffled others_j) off the
    diagonal and the positive MIP(anchor_i, others_i) on it."""
    shuffled = math.prod(other[order] for other, order in zip(others, permutations, strict=True))
    positives = (anchor * math.prod(others)).sum(-1)
    return (anchor @ shuffled.T).diagonal_scatter(positives)


def symile_logits_all(anchor: Tensor, others: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
    """O(N²) logits ``[B, B^(M−1)]`` over every combination of non-anchor rows,
    and the column of each row's positive (all indices equal to i)."""
    size, dim = anchor.shape
    combos = others[0]
    for other in others[1:]:
        combos = (combos[:, None, :] * other[None, :, :]).reshape(-1, dim)
    stride = sum(size**k for k in range(len(others)))
    return anchor @ combos.T, torch.arange(size, device=anchor.device) * stride


@OBJECTIVES.register("symile")
class Symile(ContrastiveObjective):
    """Symile's total-correlation objective.

    Args:
        modalities: the data's modality names.
        negatives: ``"n"`` (O(N) shuffled negatives) or ``"n_squared"`` (all combinations).
        temperature: initial τ of the logit scale.
        learnable_temperature: learn ``log(1/τ)`` (as the reference does) or keep τ fixed.
    """

    name = "symile"

    def __init__(self, modalities: Sequence[str], negatives: str = "n", temperature: float = 0.07,
                 learnable_temperature: bool = True) -> None:
        super().__init__(modalities)
        if negatives not in NEGATIVES:
            raise PolymodalError(f"symile: unknown negatives {negatives!r}; choose one of: {', '.join(NEGATIVES)}")
        self.negatives = negatives
        self.logit_scale = LogitScale(temperature, learnable_temperature)

    def anchor_logits(self, anchor: Tensor, others: list[Tensor]) -> tuple[Tensor, Tensor]:
        """Logits of one anchor modality and the column index of each row's positive."""
        if self.negatives == "n_squared":
            return symile_logits_all(anchor, others)
        permutations = [torch.randperm(len(anchor), device=anchor.device) for _ in others]
        return symile_logits_shuffled(anchor, others, permutations), torch.arange(len(anchor), device=anchor.device)

    def loss(self, embeddings: Embeddings) -> dict[str, Tensor]:
        scale = self.logit_scale()
        terms = {}
        for m in self.modalities:
            others = [embeddings.unimodal[o] for o in self.modalities if o != m]
            logits, targets = self.anchor_logits(embeddings.unimodal[m], others)
            terms[f"symile/{m}"] = F.cross_entropy(scale * logits, targets) / len(self.modalities)
        return terms

    def pair_scores(self, first: Tensor, second: Tensor, fused: Tensor | None, candidates: Tensor) -> Tensor:
        """MIP(first_i, second_i, candidate_j)."""
        return (first * second) @ candidates.T
