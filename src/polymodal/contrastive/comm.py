"""CoMM (simplified): contrastive multimodal learning with a joint embedding, arXiv 2409.07402.

A joint head embeds all modalities together. Two randomly augmented views of
the batch are embedded; the loss aligns the joint embeddings of the two views
(Sec. 3.2, Eq. 3, the redundancy-and-synergy term) and each modality's
unimodal embedding with the joint embedding of the other view (the
simplified form of the per-modality terms, which in the paper use the joint
head on one unmasked modality). As in the official code
(``losses/comm_loss.py``, ``CoMMLoss``), every term is SimCLR's NT-Xent
(arXiv 2002.05709, Eq. 1) over the 2N embeddings of both sides, so the
other samples of the *same* side are negatives too,

    nt(a, b) = −(1/2N) Σ_i [log e^{s·a_i·b_i} / (Σ_j e^{s·a_i·b_j} + Σ_{k≠i} e^{s·a_i·a_k})
                            + log e^{s·b_i·a_i} / (Σ_j e^{s·b_i·a_j} + Σ_{k≠i} e^{s·b_i·b_k})],

and the M + 1 terms are averaged uniformly:

    L = 1/(M+1) · (nt(h', h'') + Σ_m ½[nt(z'_m, h'') + nt(z''_m, h')]).

``formulation="clip"`` keeps this project's earlier form,
``L = ℓ(h', h'') + (1/M) Σ_m ½[ℓ(z'_m, h'') + ℓ(z''_m, h')]`` with ℓ the
CLIP-style symmetric InfoNCE (N-way, no same-side negatives). The
augmentation of a view adds Gaussian noise and zeroes a random share of the
input entries of every modality.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from polymodal.contrastive.base import AUGMENTED, JOINT, OBJECTIVES, ContrastiveObjective, Embeddings, LogitScale
from polymodal.contrastive.infonce import symmetric_infonce
from polymodal.errors import PolymodalError

FORMULATIONS = ("nt_xent", "clip")
"""``nt_xent``: the official 2N-way NT-Xent, uniform mean over the M + 1 terms; ``clip``: N-way symmetric
InfoNCE, joint term weight 1, modality terms ½/M per direction."""


def nt_xent(a: Tensor, b: Tensor, logit_scale: Tensor | float) -> Tensor:
    """SimCLR's NT-Xent of positives ``(a_i, b_i)`` with the other 2N − 2 embeddings of both sides as negatives."""
    n = a.shape[0]
    same = torch.eye(n, dtype=torch.bool, device=a.device)
    cross = logit_scale * a @ b.T
    within_a = (logit_scale * a @ a.T).masked_fill(same, float("-inf"))
    within_b = (logit_scale * b @ b.T).masked_fill(same, float("-inf"))
    logits = torch.cat([torch.cat([cross, within_a], dim=1), torch.cat([cross.T, within_b], dim=1)])
    return F.cross_entropy(logits, torch.arange(n, device=a.device).repeat(2))


@OBJECTIVES.register("comm")
class CoMM(ContrastiveObjective):
    """Simplified CoMM over two augmented views.

    Args:
        modalities: the modality names.
        temperature: τ (0.1 in the reference).
        learnable_temperature: learn ``log(1/τ)`` instead of keeping τ fixed.
        noise_std: standard deviation of the Gaussian noise added to every input.
        mask_probability: probability of zeroing each input entry.
        formulation: ``nt_xent`` (default): the official loss; ``clip``: this
            project's earlier form, kept because it shares ℓ with the pairwise,
            ConFu and Symile objectives (so losses compare across objectives) and
            because the recorded benchmarks used it.
    """

    name = "comm"
    needs_joint = True
    needs_augmented = True

    def __init__(self, modalities: Sequence[str], temperature: float = 0.1, learnable_temperature: bool = False,
                 noise_std: float = 0.1, mask_probability: float = 0.2, formulation: str = "nt_xent") -> None:
        super().__init__(modalities)
        if formulation not in FORMULATIONS:
            raise PolymodalError(f"comm: unknown formulation {formulation!r}; choose one of: {', '.join(FORMULATIONS)}")
        self.formulation = formulation
        if noise_std < 0 or not 0.0 <= mask_probability < 1.0:
            raise PolymodalError(f"comm: need noise_std >= 0 and 0 <= mask_probability < 1, "
                                 f"got {noise_std} and {mask_probability}")
        self.noise_std = noise_std
        self.mask_probability = mask_probability
        self.logit_scale = LogitScale(temperature, learnable_temperature)

    def augment(self, inputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """One random view: ``(x + σ·ε) ⊙ keep`` with ``keep ~ Bernoulli(1 − p)``."""
        return {m: (x + self.noise_std * torch.randn_like(x))
                * (torch.rand_like(x) >= self.mask_probability).to(x.dtype) for m, x in inputs.items()}

    def embed(self, model: nn.Module, inputs: Mapping[str, Tensor]) -> Embeddings:
        first = model(self.augment(inputs))
        first.augmented = model(self.augment(inputs))
        return first

    def loss(self, embeddings: Embeddings) -> dict[str, Tensor]:
        other = embeddings.augmented
        if embeddings.joint is None or other is None or other.joint is None:
            raise PolymodalError(f"comm needs the joint embeddings of two augmented views ({JOINT!r} and {AUGMENTED!r}; "
                                 f"CoMM.embed computes both)")
        count = len(self.modalities)
        joint, share = (1.0, 0.5 / count) if self.formulation == "clip" else (1.0 / (count + 1), 0.5 / (count + 1))
        pair_loss = symmetric_infonce if self.formulation == "clip" else nt_xent
        scale = self.logit_scale()
        terms = {"comm/joint": joint * pair_loss(embeddings.joint, other.joint, scale)}
        for m in self.modalities:
            terms[f"comm/{m}"] = share * (pair_loss(embeddings.unimodal[m], other.joint, scale)
                                          + pair_loss(other.unimodal[m], embeddings.joint, scale))
        return terms
