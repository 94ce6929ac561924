"""OGM-GE: on-the-fly gradient modulation with generalization enhancement.

Peng et al., "Balanced Multimodal Learning via On-the-fly Gradient
Modulation", CVPR 2022 (arXiv 2203.15332). The loss is the
fused cross-entropy only. Each modality's discrepancy score comes from its
additive share of a sum-of-modalities fusion head
(``model.fusion.modality_logits``; late-linear: ``W_m z_m + b/M``):

* ``s_m = Σ_i softmax(o_m,i)[y_i]`` (averaged over the samples where
  the modality is present — with every modality present this is the
  reference's batch sum divided by B, so the ratios are the same);
* ``ρ_m = s_m / mean_{j≠m} s_j`` (for two modalities ``s_a / s_v``;
  the one-vs-mean-of-others form extends it to M > 2);
* ``k_m = 1 − tanh(α·(ρ_m − 1))`` for a dominant modality (``ρ_m > 1``),
  1 otherwise;
* gradient of each modulated parameter ``θ`` of modality m:
  ``g ← k_m·g + ε``, ``ε ~ N(0, std(g)²)`` with the std of the unmodulated
  gradient (GE; ``ge=False`` gives plain OGM).

Which parameters are modulated (``scope``):

* ``"all"`` (default): modality m's whole group, ``model.modality_parameters(m)``
  — encoder, unimodal head (unused by this loss) and its slice of the fusion head;
* ``"conv"``: only the convolution kernels of that group (weights with 3 or
  more dimensions: 1-D, 2-D and 3-D convolutions), which covers the
  reference implementation's choice of 4-D conv weights; a group with none
  is an error.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from polymodal.balance.base import BALANCERS
from polymodal.balance.joint import Joint
from polymodal.balance.losses import true_class_probability
from polymodal.balance.modulation import (
    EPS,
    check_choice,
    check_epoch_window,
    in_epoch_window,
    mean_of_others,
)
from polymodal.data.contract import Batch, presence
from polymodal.errors import PolymodalError
from polymodal.models.output import ModelOutput

SCOPES = ("all", "conv")


def ogm_coefficients(scores: Tensor, alpha: float) -> Tensor:
    """``k_m`` (one-vs-mean-of-others for M > 2) from ``[M]`` scores."""
    ratio = scores / mean_of_others(scores).clamp_min(EPS)
    slowed = 1.0 - torch.tanh(alpha * (ratio - 1.0))
    return torch.where(ratio > 1.0, slowed, torch.ones_like(ratio))


@BALANCERS.register("ogm_ge")
class OGMGE(Joint):
    """Fused CE; the dominant modality's gradients are slowed, plus Gaussian noise.

    Args:
        alpha: modulation strength α.
        ge: add generalization-enhancement noise.
        scope: ``"all"`` modality parameters or ``"conv"`` (convolution kernels only).
        start_epoch: first epoch with modulation.
        end_epoch: first epoch without modulation (``None``: never stops).
    """

    name = "ogm_ge"
    supported_fusions = frozenset({"late", "logit_sum", "cosine"})
    supports_regression = False
    min_modalities = 2

    def __init__(
        self,
        alpha: float = 0.8,
        ge: bool = True,
        scope: str = "all",
        start_epoch: int = 0,
        end_epoch: int | None = None,
    ) -> None:
        super().__init__()
        check_choice(self.name, "scope", scope, SCOPES)
        check_epoch_window(self.name, start_epoch, end_epoch)
        self.alpha = alpha
        self.ge = ge
        self.scope = scope
        self.start_epoch = start_epoch
        self.end_epoch = end_epoch
        self._scores: dict[str, Tensor] = {}

    def modulated_parameters(self, model: nn.Module, modality: str) -> list[nn.Parameter]:
        """The parameters of ``modality`` whose gradients are modulated (see ``scope``)."""
        group = model.modality_parameters(modality)
        return group if self.scope == "all" else [p for p in group if p.dim() >= 3]

    def check(self, model: nn.Module) -> None:
        super().check(model)
        for m in model.modalities:
            if not self.modulated_parameters(model, m):
                raise PolymodalError(
                    f"method 'ogm_ge': scope 'conv' but modality {m!r} has no convolution weights; use scope 'all'"
                )

    def loss(self, output: ModelOutput, batch: Batch, model: nn.Module) -> dict[str, Tensor]:
        if self.training:
            with torch.no_grad():
                shares = model.fusion.modality_logits(output.features)
                target = batch["target"]
                self._scores = {m: true_class_probability(o, target, presence(batch, m)) for m, o in shares.items()}
        return super().loss(output, batch, model)

    def after_backward(self, model: nn.Module) -> dict[str, float]:
        if not self._scores:
            return {}
        modalities = list(self._scores)
        scores = torch.stack([self._scores[m] for m in modalities])
        active = in_epoch_window(self.current_epoch, self.start_epoch, self.end_epoch)
        coefficients = ogm_coefficients(scores, self.alpha) if active else torch.ones_like(scores)
        state: dict[str, float] = {}
        for m, k, s in zip(modalities, coefficients, scores):
            if active:
                self._modulate(self.modulated_parameters(model, m), k)
            state[f"s/{m}"] = float(s)
            state[f"k/{m}"] = float(k)
        self._scores = {}
        return state

    def _modulate(self, parameters: list[nn.Parameter], coefficient: Tensor) -> None:
        for p in parameters:
            if p.grad is None:
                continue
            spread = p.grad.std(correction=0) if self.ge else None
            p.grad.mul_(coefficient)
            if spread is not None:
                p.grad.add_(torch.randn_like(p.grad).mul_(spread))
