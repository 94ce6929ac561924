"""MMPareto: Pareto-combined fused and unimodal gradients for each encoder.

Wei & Hu, "MMPareto: Boosting Multimodal Learning with Innocent Unimodal
Assistance", ICML 2024 (arXiv 2405.17730). The objective is
the multi-loss one (fused + unimodal losses). For each encoder ``f_m`` let
``g_f`` be the gradient of the fused loss and ``g_u`` the gradient of its
unimodal loss (flattened over the encoder's parameters):

* ``cos(g_f, g_u) > 0`` → weights ½, ½;
* otherwise the min-norm (Pareto) weights of the two-task MGDA problem,
  ``w_f = clip(((g_u − g_f)·g_u) / ‖g_f − g_u‖², 0, 1)``, ``w_u = 1 − w_f``;
* the combination ``w_f·g_f + w_u·g_u`` is rescaled to the norm of the plain
  sum ``‖g_f + g_u‖`` (so with ½/½ it equals the plain sum).

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
from polymodal.balance.modulation import EPS
from polymodal.balance.multiloss import MultiLoss
from polymodal.balance.view import ModelView


def pareto_combination(fused: Tensor, unimodal: Tensor) -> tuple[Tensor, Tensor]:
    """Combined flat gradient and the weight of the fused gradient ``w_f``."""
    total = fused + unimodal
    cosine = torch.dot(fused, unimodal) / (fused.norm() * unimodal.norm()).clamp_min(EPS)
    if cosine > 0:
        weight = torch.tensor(0.5, dtype=fused.dtype, device=fused.device)
    else:
        difference = fused - unimodal
        weight = (torch.dot(unimodal - fused, unimodal) / difference.dot(difference).clamp_min(EPS)).clamp(0.0, 1.0)
    combined = weight * fused + (1.0 - weight) * unimodal
    return combined * (total.norm() / combined.norm().clamp_min(EPS)), weight


def flat_gradients(grads: list[Tensor | None], params: list[Tensor]) -> Tensor:
    """One flat vector of ``grads`` (zeros where a parameter got none)."""
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for g, p in zip(grads, params)])


@BALANCERS.register("mmpareto")
class MMPareto(MultiLoss):
    """Multi-loss objective with per-encoder Pareto gradient combination.

    Args:
        fused_weight: weight of the fused loss.
        unimodal_weight: weight of each unimodal loss (a value or modality → value).
    """

    name = "mmpareto"
    min_modalities = 2

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
            combined, weights[f"w_fused/{m}"] = pareto_combination(fused, unimodal)
            for p, chunk in zip(encoder, combined.split([p.numel() for p in encoder])):
                if p.grad is None:
                    p.grad = chunk.view_as(p).to(p.dtype)
                else:
                    p.grad.copy_(chunk.view_as(p))
        return weights
