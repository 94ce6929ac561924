"""Contrastive Fusion (ConFu), arXiv 2511.21331.

Unimodal embeddings ``z_m`` and fused-pair embeddings ``z_ij`` (from a head
on the concatenated encoder outputs) share one space. For three modalities
the official code (``src/modules/models/confu.py``,
``pairwise_contrastive_loss``) trains on

    L = [(1−λ)·(ℓ(z1,z2) + ℓ(z2,z3) + ℓ(z3,z1)) + λ·(ℓ(z12,z3) + ℓ(z13,z2) + ℓ(z23,z1))] / 6   (λ > 0)
    L = [ℓ(z1,z2) + ℓ(z2,z3) + ℓ(z3,z1)] / 3                                                  (λ = 0)

with ℓ the symmetric InfoNCE, i.e. half of
``(1−λ)·mean(pairwise) + λ·mean(fused)`` for λ > 0 and the whole mean of the
pairwise terms at λ = 0: the reference loss jumps by a factor 2 at λ = 0.
That is the default here (``scale="reference"``); ``scale="mean"`` keeps
``(1−λ)·mean(pairwise) + λ·mean(fused)`` for every λ. For M modalities the
pairwise term has all M(M−1)/2 pairs and the fused term every pair (i, j)
against every k ∉ {i, j}: M(M−1)(M−2)/2 terms, so its cost grows as M³;
``fused_terms`` restricts that set. The two group means are weighted as
above whatever their sizes (for three modalities and every fused term this
is the reference's division by 6). λ = 0 is the pairwise (Tri-CLIP)
baseline and builds no fusion heads.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from polymodal.contrastive.base import OBJECTIVES, ContrastiveObjective, Embeddings, LogitScale, Pair, all_pairs
from polymodal.contrastive.infonce import pairwise_entries, weighted_infonce_terms
from polymodal.errors import PolymodalError

FusedTerm = tuple[Pair, str]
"""A fused pair and the modality it is contrasted with."""
SCALES = ("reference", "mean")
"""``reference``: the official code's ½ of the weighted means when λ > 0 (1 at λ = 0); ``mean``: 1 for every λ."""


def parse_fused_term(text: str, modalities: Sequence[str]) -> FusedTerm:
    """``"a+b->c"`` → ``((a, b), c)`` with the pair in data order; bad names raise."""
    try:
        pair_text, target = text.split("->")
        first, second = pair_text.split("+")
    except ValueError:
        raise PolymodalError(f"fused term {text!r} is not of the form 'a+b->c'") from None
    names = (first.strip(), second.strip(), target.strip())
    for name in names:
        if name not in modalities:
            raise PolymodalError(f"fused term {text!r}: unknown modality {name!r}; "
                                 f"the data has: {', '.join(modalities)}")
    if len(set(names)) != 3:
        raise PolymodalError(f"fused term {text!r} must name three different modalities")
    pair = tuple(sorted(names[:2], key=modalities.index))
    return (pair[0], pair[1]), names[2]


def every_fused_term(modalities: Sequence[str]) -> list[FusedTerm]:
    """Every pair (i, j) against every k ∉ {i, j}."""
    return [((i, j), k) for i, j in all_pairs(modalities) for k in modalities if k not in (i, j)]


@OBJECTIVES.register("confu")
class ConFu(ContrastiveObjective):
    """ConFu's mixed unimodal / fused-pair contrastive loss.

    Args:
        modalities: the data's modality names (three or more when λ > 0).
        fused_weight: λ in [0, 1]; 0.5 throughout the paper.
        fused_terms: restrict the fused term to these ``"a+b->c"`` entries
            (default: every pair against every other modality).
        temperature: τ (0.07 in the reference).
        learnable_temperature: learn ``log(1/τ)`` instead of keeping τ fixed.
        scale: ``reference`` (default): the official code's constant, ½ when
            λ > 0 and 1 at λ = 0; ``mean``: 1 for every λ, this project's earlier
            default, kept because it is continuous in λ (a λ sweep compares
            losses on one scale, and λ → 0 tends to the pairwise baseline) and
            because the recorded benchmarks used it. The constant does not move
            the optimum; under plain SGD the reference's ½ halves the effective
            learning rate (Adam-type optimizers are almost invariant to it).
    """

    name = "confu"

    def __init__(self, modalities: Sequence[str], fused_weight: float = 0.5, fused_terms: list[str] | None = None,
                 temperature: float = 0.07, learnable_temperature: bool = False, scale: str = "reference") -> None:
        super().__init__(modalities)
        if scale not in SCALES:
            raise PolymodalError(f"confu: unknown scale {scale!r}; choose one of: {', '.join(SCALES)}")
        if not 0.0 <= fused_weight <= 1.0:
            raise PolymodalError(f"confu: fused_weight (λ) must lie in [0, 1], got {fused_weight}")
        if fused_weight > 0 and len(self.modalities) < 3:
            raise PolymodalError(f"confu: fused terms need at least three modalities, got {len(self.modalities)} "
                                 f"({', '.join(self.modalities)}); set fused_weight to 0 for pairwise training")
        if fused_terms is not None and not fused_terms:
            raise PolymodalError("confu: fused_terms is empty; omit it to use every pair against every other modality")
        self.fused_weight = fused_weight
        self.constant = 0.5 if scale == "reference" and fused_weight > 0 else 1.0
        terms = (every_fused_term(self.modalities) if fused_terms is None
                 else [parse_fused_term(t, self.modalities) for t in fused_terms])
        self.terms: list[FusedTerm] = terms if fused_weight > 0 else []
        self.logit_scale = LogitScale(temperature, learnable_temperature)

    @property
    def fused_pairs(self) -> tuple[Pair, ...]:
        return tuple(dict.fromkeys(pair for pair, _ in self.terms))

    def loss(self, embeddings: Embeddings) -> dict[str, Tensor]:
        pairwise_weight = self.constant * (1.0 - self.fused_weight)
        entries = pairwise_entries(embeddings, self.modalities, pairwise_weight) if pairwise_weight > 0 else []
        entries += [(f"fused/{i}+{j}->{k}", embeddings.fused[(i, j)], embeddings.unimodal[k],
                     self.constant * self.fused_weight / len(self.terms)) for (i, j), k in self.terms]
        return weighted_infonce_terms(entries, self.logit_scale())
