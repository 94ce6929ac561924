"""CoMM (simplified): contrastive multimodal learning with a joint embedding, arXiv 2409.07402.

A joint head embeds all modalities together. Two randomly augmented views of
the batch are embedded; the loss aligns the joint embeddings of the two views
(Sec. 3.2, Eq. 3, the redundancy-and-synergy term) and each modality's
unimodal embedding with the joint embedding of the other view (the
simplified form of the per-modality terms, which in the paper use the joint
head on one unmasked modality):

    L = ℓ(h', h'') + (1/M) Σ_m ½[ℓ(z'_m, h'') + ℓ(z''_m, h')]

with ℓ the symmetric InfoNCE. The augmentation of a view adds Gaussian noise
and zeroes a random share of the input entries of every modality.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from polymodal.contrastive.base import OBJECTIVES, ContrastiveObjective, Embeddings, LogitScale
from polymodal.contrastive.infonce import WeightedPair, weighted_infonce_terms
from polymodal.errors import PolymodalError


@OBJECTIVES.register("comm")
class CoMM(ContrastiveObjective):
    """Simplified CoMM over two augmented views.

    Args:
        modalities: the modality names.
        temperature: τ (0.1 in the reference).
        learnable_temperature: learn ``log(1/τ)`` instead of keeping τ fixed.
        noise_std: standard deviation of the Gaussian noise added to every input.
        mask_probability: probability of zeroing each input entry.
    """

    name = "comm"
    needs_joint = True

    def __init__(self, modalities: Sequence[str], temperature: float = 0.1, learnable_temperature: bool = False,
                 noise_std: float = 0.1, mask_probability: float = 0.2) -> None:
        super().__init__(modalities)
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
            raise PolymodalError("comm needs joint embeddings of two augmented views (use CoMM.embed)")
        share = 0.5 / len(self.modalities)
        entries: list[WeightedPair] = [("comm/joint", embeddings.joint, other.joint, 1.0)]
        for m in self.modalities:
            entries += [(f"comm/{m}", embeddings.unimodal[m], other.joint, share),
                        (f"comm/{m}", other.unimodal[m], embeddings.joint, share)]
        return weighted_infonce_terms(entries, self.logit_scale())
