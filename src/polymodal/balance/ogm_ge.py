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
* ``k_m = 1 − tanh(α·ρ_m)`` for a dominant modality (``ρ_m > 1``), 1
  otherwise (paper Eq. 10; the official ``main.py``:
  ``1 - tanh(alpha * relu(ratio))``). Note the jump from 1 to
  ``1 − tanh(α)`` at ``ρ = 1``: that is the published rule.
  ``coefficient="continuous"`` gives ``1 − tanh(α·(ρ_m − 1))`` instead, which
  is continuous at ``ρ = 1`` and slows a barely dominant modality barely
  (a variant, not the paper's);
* gradient of each modulated parameter ``θ`` of every modality:
  ``g ← k_m·g + ε``, ``ε ~ N(0, (std(g) + 1e-8)²)`` with the unbiased std of
  the unmodulated gradient (GE, as in the official code; ``ge=False`` gives
  plain OGM). The noise is drawn from a generator shared by all processes,
  so DDP replicas stay identical.

The scores are sums over every sample of the optimizer step (all
micro-batches of gradient accumulation, all processes), and the modulation
is applied once per optimizer step.

Which parameters are modulated (``scope``):

* ``"all"`` (default): modality m's whole group, ``model.modality_parameters(m)``
  — encoder, unimodal head (unused by this loss) and its slice of the fusion head;
* ``"conv"``: only the convolution kernels of that group (weights with 3 or
  more dimensions: 1-D, 2-D and 3-D convolutions), which covers the
  reference implementation's choice of 4-D conv weights; a group with none
  is an error.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from polymodal.balance.base import BALANCERS, BalancerLoss
from polymodal.balance.context import StepContext
from polymodal.balance.joint import Joint
from polymodal.balance.losses import mean_scores, score_sums, true_class_probabilities
from polymodal.balance.modulation import (
    EPS,
    check_choice,
    check_epoch_window,
    in_epoch_window,
    mean_of_others,
)
from polymodal.balance.view import ModelView
from polymodal.data.contract import Batch, presence
from polymodal.errors import PolymodalError
from polymodal.models.output import ModelOutput

SCOPES = ("all", "conv")
COEFFICIENTS = ("published", "continuous")
NOISE_FLOOR = 1e-8
"""Added to the gradient's std in the GE noise (official code)."""


def ogm_coefficients(scores: Tensor, alpha: float, form: str = "published") -> Tensor:
    """``k_m`` (one-vs-mean-of-others for M > 2) from ``[M]`` scores."""
    ratio = scores / mean_of_others(scores).clamp_min(EPS)
    slowed = 1.0 - torch.tanh(alpha * (ratio if form == "published" else ratio - 1.0))
    return torch.where(ratio > 1.0, slowed, torch.ones_like(ratio))


@BALANCERS.register("ogm_ge")
class OGMGE(Joint):
    """Fused CE; the dominant modality's gradients are slowed, plus Gaussian noise.

    Args:
        alpha: modulation strength α.
        ge: add generalization-enhancement noise.
        scope: ``"all"`` modality parameters or ``"conv"`` (convolution kernels only).
        coefficient: ``"published"`` (paper Eq. 10) or ``"continuous"`` (``1 − tanh(α(ρ−1))``).
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
        coefficient: str = "published",
        start_epoch: int = 0,
        end_epoch: int | None = None,
    ) -> None:
        super().__init__()
        check_choice(self.name, "scope", scope, SCOPES)
        check_choice(self.name, "coefficient", coefficient, COEFFICIENTS)
        check_epoch_window(self.name, start_epoch, end_epoch)
        self.alpha = alpha
        self.ge = ge
        self.scope = scope
        self.coefficient = coefficient
        self.start_epoch = start_epoch
        self.end_epoch = end_epoch

    def modulated_parameters(self, view: ModelView, modality: str) -> list[nn.Parameter]:
        """The parameters of ``modality`` whose gradients are modulated (see ``scope``)."""
        group = view.modality_parameters(modality)
        return group if self.scope == "all" else [p for p in group if p.dim() >= 3]

    def setup(self, view: ModelView) -> None:
        super().setup(view)
        for m in view.modalities:
            if not self.modulated_parameters(view, m):
                raise PolymodalError(
                    f"method 'ogm_ge': scope 'conv' but modality {m!r} has no convolution weights; use scope 'all'"
                )

    def loss(self, output: ModelOutput, batch: Batch, view: ModelView, context: StepContext) -> BalancerLoss:
        result = super().loss(output, batch, view, context)
        if context.training:
            with torch.no_grad():
                shares = view.modality_logits(output.features)
                target = batch["target"]
                for m, logits in shares.items():
                    result.statistics |= score_sums(true_class_probabilities(logits, target), presence(batch, m), m)
        return result

    def step(self, statistics: Mapping[str, Tensor], view: ModelView, context: StepContext) -> dict[str, Tensor]:
        modalities = view.modalities
        scores = mean_scores(statistics, modalities)
        active = in_epoch_window(self.current_epoch, self.start_epoch, self.end_epoch)
        coefficients = ogm_coefficients(scores, self.alpha, self.coefficient) if active else torch.ones_like(scores)
        if active:
            generator = context.generator(scores.device)
            for m, k in zip(modalities, coefficients):
                self._modulate(self.modulated_parameters(view, m), k, generator)
        return {**{f"s/{m}": s for m, s in zip(modalities, scores)},
                **{f"k/{m}": k for m, k in zip(modalities, coefficients)}}

    def _modulate(self, parameters: list[nn.Parameter], coefficient: Tensor, generator: torch.Generator) -> None:
        for p in parameters:
            if p.grad is None:
                continue
            spread = p.grad.std() + NOISE_FLOOR if self.ge and p.grad.numel() > 1 else None
            p.grad.mul_(coefficient)
            if spread is not None:
                noise = torch.randn(p.grad.shape, generator=generator, device=p.grad.device, dtype=p.grad.dtype)
                p.grad.add_(noise.mul_(spread))
