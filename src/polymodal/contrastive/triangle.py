"""TRIANGLE: triangle-area similarity for three modalities, arXiv 2509.24734.

The three normalized embeddings of a sample span a triangle; aligned samples
span a small one. With ``u = z1_i − z2_j`` and ``v = z1_i − z3_j``,

    area² = (|u|²|v|² − (u·v)²) / 2

(the project spec's scaling: the geometric area is ½·√(|u|²|v|² − (u·v)²),
so this ``area`` is √2 times it). The paper scores a triple by minus its
area (Sec. 3); the official code (``utils/area.py``, ``area_computation``,
"I remove sqrt calculation") scores it by ``−area²`` and trains on
``−area²/τ``. The loss is the symmetric cross-entropy over the scores
divided by τ between the anchor modality (rows) and the pair of the other
two (columns), with label smoothing 0.1 (``model/triangle.py``). The area
is symmetric in the three vertices, so retrieval scores a query pair
against a candidate with the same formula.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from polymodal.contrastive.base import OBJECTIVES, ContrastiveObjective, Embeddings, LogitScale
from polymodal.contrastive.infonce import symmetric_cross_entropy
from polymodal.errors import PolymodalError

STABILITY_EPS = 1e-8
"""Added under square roots: the area of an aligned triple is 0, where √ has an infinite slope."""
SCORES = ("area_squared", "area")
"""``area_squared``: −area², the official code (default); ``area``: −area, √2 × the paper's geometric area."""


def triangle_squared_areas(first: Tensor, second: Tensor, candidates: Tensor) -> Tensor:
    """``area²`` ``[n, N]`` of the triangles ``(first_i, second_i, candidates_j)``:
    ``(|u|²|v|² − (u·v)²)/2`` with ``u = first_i − second_i``, ``v = first_i −
    candidates_j``, from matrix products only."""
    u = first - second
    uu = (u * u).sum(-1, keepdim=True)
    first_sq = (first * first).sum(-1, keepdim=True)
    vv = first_sq + (candidates * candidates).sum(-1) - 2 * first @ candidates.T
    uv = (u * first).sum(-1, keepdim=True) - u @ candidates.T
    return (uu * vv - uv * uv).clamp_min(0) / 2


def triangle_areas(first: Tensor, second: Tensor, candidates: Tensor) -> Tensor:
    """``area`` ``[n, N]``: the square root of :func:`triangle_squared_areas` (stabilized at 0)."""
    return (triangle_squared_areas(first, second, candidates) + STABILITY_EPS).sqrt()


@OBJECTIVES.register("triangle")
class Triangle(ContrastiveObjective):
    """TRIANGLE's area-based contrastive loss (exactly three modalities).

    Args:
        modalities: the three modality names.
        anchor: the modality contrasted against the pair of the others (default: the first).
        temperature: τ of ``score/τ`` (0.07 in the reference, learned there).
        learnable_temperature: learn ``log(1/τ)`` instead of keeping τ fixed.
        label_smoothing: of the cross-entropy (0.1 in the reference).
        score: ``area_squared`` (default): ``−area²``, as the official code trains
            and retrieves; ``area``: ``−area``, the paper's geometric area up to
            the factor √2 (a rescaled τ) and this project's earlier default, kept
            because the recorded benchmarks used it and because its pull does not
            vanish as a triple aligns (the gradient of ``area²`` goes to 0 with
            the area).
    """

    name = "triangle"
    min_modalities = 3
    max_modalities = 3

    def __init__(self, modalities: Sequence[str], anchor: str | None = None, temperature: float = 0.07,
                 learnable_temperature: bool = False, label_smoothing: float = 0.1,
                 score: str = "area_squared") -> None:
        super().__init__(modalities)
        if score not in SCORES:
            raise PolymodalError(f"triangle: unknown score {score!r}; choose one of: {', '.join(SCORES)}")
        self.score = score
        self.anchor = self.modalities[0] if anchor is None else anchor
        if self.anchor not in self.modalities:
            raise PolymodalError(f"triangle: anchor {self.anchor!r} is not a modality; choose one of: "
                                 f"{', '.join(self.modalities)}")
        self.label_smoothing = label_smoothing
        self.logit_scale = LogitScale(temperature, learnable_temperature)

    def loss(self, embeddings: Embeddings) -> dict[str, Tensor]:
        second, third = (embeddings.unimodal[m] for m in self.modalities if m != self.anchor)
        # row i, column j: score(anchor_i, second_j, third_j)
        scores = self.pair_scores(second, third, None, embeddings.unimodal[self.anchor]).T
        return {"triangle": symmetric_cross_entropy(self.logit_scale() * scores, self.label_smoothing)}

    def pair_scores(self, first: Tensor, second: Tensor, fused: Tensor | None, candidates: Tensor) -> Tensor:
        """Minus the area² (or area) of (first_i, second_i, candidate_j)."""
        size = triangle_squared_areas if self.score == "area_squared" else triangle_areas
        return -size(first, second, candidates)
