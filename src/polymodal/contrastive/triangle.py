"""TRIANGLE: triangle-area similarity for three modalities, arXiv 2509.24734.

The three normalized embeddings of a sample span a triangle; aligned samples
span a small one. With ``u = z1_i − z2_j`` and ``v = z1_i − z3_j`` the
score is minus the area,

    area² = (|u|²|v|² − (u·v)²) / 2,

and the loss is the symmetric cross-entropy over ``−area/τ`` between the
anchor modality (rows) and the pair of the other two (columns), with label
smoothing 0.1. The area is symmetric in the three vertices, so retrieval
scores a query pair against a candidate with the same formula.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from polymodal.contrastive.base import OBJECTIVES, ContrastiveObjective, Embeddings, LogitScale
from polymodal.contrastive.infonce import symmetric_cross_entropy
from polymodal.errors import PolymodalError

STABILITY_EPS = 1e-8
"""Added under square roots: the area of an aligned triple is 0, where √ has an infinite slope."""


def triangle_areas(first: Tensor, second: Tensor, candidates: Tensor) -> Tensor:
    """Areas ``[n, N]`` of the triangles ``(first_i, second_i, candidates_j)``, by
    the spec's ``area² = (|u|²|v|² − (u·v)²)/2``, ``u = first_i − second_i``,
    ``v = first_i − candidates_j``, from matrix products only."""
    u = first - second
    uu = (u * u).sum(-1, keepdim=True)
    first_sq = (first * first).sum(-1, keepdim=True)
    vv = first_sq + (candidates * candidates).sum(-1) - 2 * first @ candidates.T
    uv = (u * first).sum(-1, keepdim=True) - u @ candidates.T
    return ((uu * vv - uv * uv).clamp_min(0) / 2 + STABILITY_EPS).sqrt()


@OBJECTIVES.register("triangle")
class Triangle(ContrastiveObjective):
    """TRIANGLE's area-based contrastive loss (exactly three modalities).

    Args:
        modalities: the three modality names.
        anchor: the modality contrasted against the pair of the others (default: the first).
        temperature: τ of ``−area/τ``.
        learnable_temperature: learn ``log(1/τ)`` instead of keeping τ fixed.
        label_smoothing: of the cross-entropy (0.1 in the reference).
    """

    name = "triangle"
    min_modalities = 3
    max_modalities = 3

    def __init__(self, modalities: Sequence[str], anchor: str | None = None, temperature: float = 0.07,
                 learnable_temperature: bool = False, label_smoothing: float = 0.1) -> None:
        super().__init__(modalities)
        self.anchor = anchor or self.modalities[0]
        if self.anchor not in self.modalities:
            raise PolymodalError(f"triangle: anchor {self.anchor!r} is not a modality; choose one of: "
                                 f"{', '.join(self.modalities)}")
        self.label_smoothing = label_smoothing
        self.logit_scale = LogitScale(temperature, learnable_temperature)

    def loss(self, embeddings: Embeddings) -> dict[str, Tensor]:
        second, third = (embeddings.unimodal[m] for m in self.modalities if m != self.anchor)
        # row i, column j: area(anchor_i, second_j, third_j)
        areas = triangle_areas(second, third, embeddings.unimodal[self.anchor]).T
        logits = -self.logit_scale() * areas
        return {"triangle": symmetric_cross_entropy(logits, self.label_smoothing)}

    def pair_scores(self, first: Tensor, second: Tensor, fused: Tensor | None, candidates: Tensor) -> Tensor:
        """Minus the area of (first_i, second_i, candidate_j)."""
        return -triangle_areas(first, second, candidates)
