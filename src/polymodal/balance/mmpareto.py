"""MMPareto: Pareto-combined fused and unimodal gradients for each encoder.

Wei & Hu, "MMPareto: Boosting Multimodal Learning with Innocent Unimodal
Assistance", ICML 2024 (arXiv 2405.17730; official ``code/MMPareto.py``).
The objective is the multi-loss one (fused + unimodal losses). For each
encoder ``f_m`` let ``g_f`` be the gradient of the fused loss and ``g_u`` the
gradient of its unimodal loss:

* the weights: ``cos(g_f, g_u) > 0`` (over the encoder's flattened
  parameters) → ½, ½; otherwise the min-norm (MGDA) weights of the two
  tasks, ``w_f = ((g_u − g_f)·g_u) / ‖g_f − g_u‖²`` — with the official
  solver's edge cases ``w_f = 0.999`` when ``g_f·g_u ≥ ‖g_f‖²`` and
  ``0.001`` when ``g_f·g_u ≥ ‖g_u‖²`` — and ``w_u = 1 − w_f``;
* ``rescale="published"`` (default, the official code): per parameter
  tensor, ``g = 2(w_f g_f + w_u g_u)`` is scaled by
  ``γ · max(1, ‖g_f + g_u‖ / ‖g‖)`` with ``γ = 1.5`` — only ever upward, and
  every encoder tensor gets the factor γ;
* ``rescale="sum_norm"``: the combination ``w_f g_f + w_u g_u`` of the whole
  encoder is rescaled to the norm of the plain sum ``‖g_f + g_u‖``, up or
  down (so with ½/½ it is exactly the plain multi-loss gradient) — a
  variant without the extra step size γ.

Every other parameter (fusion head, unimodal heads) gets its plain gradient.

Scale: only ``g_u`` is computed apart (one backward pass through each
encoder, :meth:`MMPareto.term_gradients`), from the terms multiplied by the
engine's loss scale; the main backward pass runs as usual, so DDP averages
and AMP scales it. Once per optimizer step, after unscaling and
accumulation, ``g_f = grad − g_u`` with ``g_u`` summed over the micro-batches
and averaged over the processes exactly like ``grad`` itself, and the
encoder's gradient is replaced by the combination — identically on every
process.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from polymodal.balance.base import BALANCERS
from polymodal.balance.context import StepContext
from polymodal.balance.modulation import EPS, check_choice
from polymodal.balance.multiloss import MultiLoss
from polymodal.balance.view import ModelView

RESCALES = ("published", "sum_norm")


def pareto_weight(fused: Tensor, unimodal: Tensor) -> Tensor:
    """``w_f``: ½ when the flat gradients agree (cosine > 0), else the two-task min-norm weight."""
    dot = torch.dot(fused, unimodal)
    if dot / (fused.norm() * unimodal.norm()).clamp_min(EPS) > 0:
        return torch.tensor(0.5, dtype=fused.dtype, device=fused.device)
    if dot >= fused.dot(fused):
        return torch.tensor(0.999, dtype=fused.dtype, device=fused.device)
    if dot >= unimodal.dot(unimodal):
        return torch.tensor(0.001, dtype=fused.dtype, device=fused.device)
    difference = fused - unimodal
    return (torch.dot(unimodal - fused, unimodal) / difference.dot(difference).clamp_min(EPS)).clamp(0.0, 1.0)


def pareto_combination(fused: Tensor, unimodal: Tensor) -> tuple[Tensor, Tensor]:
    """``sum_norm`` variant: the weighted combination rescaled to ``‖g_f + g_u‖``, and ``w_f``."""
    weight = pareto_weight(fused, unimodal)
    combined = weight * fused + (1.0 - weight) * unimodal
    return combined * ((fused + unimodal).norm() / combined.norm().clamp_min(EPS)), weight


def published_combination(fused: Tensor, unimodal: Tensor, weight: Tensor, gamma: float) -> Tensor:
    """One tensor's gradient in the official rule: ``γ · g · max(1, ‖g_f + g_u‖ / ‖g‖)``, ``g = 2(w_f g_f + w_u g_u)``."""
    combined = 2.0 * (weight * fused + (1.0 - weight) * unimodal)
    return gamma * combined * ((fused + unimodal).norm() / combined.norm().clamp_min(EPS)).clamp_min(1.0)


def flat_gradients(grads: list[Tensor | None], params: list[Tensor]) -> Tensor:
    """One flat vector of ``grads`` (zeros where a parameter got none)."""
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for g, p in zip(grads, params)])


@BALANCERS.register("mmpareto")
class MMPareto(MultiLoss):
    """Multi-loss objective with per-encoder Pareto gradient combination.

    Args:
        rescale: ``"published"`` (per tensor, ×γ, only upward) or ``"sum_norm"``.
        gamma: γ of the published rule (1.5 in the official code).
        fused_weight: weight of the fused loss.
        unimodal_weight: weight of each unimodal loss (a value or modality → value).
    """

    name = "mmpareto"
    min_modalities = 2

    def __init__(self, rescale: str = "published", gamma: float = 1.5, fused_weight: float = 1.0,
                 unimodal_weight: float | dict[str, float] = 1.0) -> None:
        super().__init__(fused_weight, unimodal_weight)
        check_choice(self.name, "rescale", rescale, RESCALES)
        self.rescale = rescale
        self.gamma = gamma

    def term_gradients(self, terms: Mapping[str, Tensor], view: ModelView) -> dict[str, Tensor]:
        """``g_u`` of every encoder: the gradient of its unimodal loss alone, flattened."""
        grads = {}
        for m in view.unimodal_heads:
            encoder = view.encoder_parameters(m)
            if encoder:
                uni = torch.autograd.grad(terms[f"uni/{m}"], encoder, retain_graph=True, allow_unused=True)
                grads[f"grad_uni/{m}"] = flat_gradients(list(uni), encoder).float()
        return grads

    def step(self, statistics: Mapping[str, Tensor], view: ModelView, context: StepContext) -> dict[str, Tensor]:
        weights = {}
        for m in view.unimodal_heads:
            encoder = view.encoder_parameters(m)
            if not encoder:
                continue
            unimodal = statistics[f"grad_uni/{m}"]
            fused = flat_gradients([p.grad for p in encoder], encoder).float() - unimodal
            sizes = [p.numel() for p in encoder]
            if self.rescale == "published":
                weight = pareto_weight(fused, unimodal)
                combined = torch.cat([published_combination(f, u, weight, self.gamma)
                                      for f, u in zip(fused.split(sizes), unimodal.split(sizes))])
            else:
                combined, weight = pareto_combination(fused, unimodal)
            weights[f"w_fused/{m}"] = weight
            for p, chunk in zip(encoder, combined.split(sizes)):
                if p.grad is None:
                    p.grad = chunk.view_as(p).to(p.dtype)
                else:
                    p.grad.copy_(chunk.view_as(p))
        return weights
