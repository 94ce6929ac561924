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
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from polymodal.balance.base import BALANCERS
from polymodal.balance.modulation import EPS
from polymodal.balance.multiloss import MultiLoss


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


def _flat(grads: list[Tensor | None], params: list[nn.Parameter]) -> Tensor:
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for g, p in zip(grads, params)])


def _accumulate(param: nn.Parameter, grad: Tensor) -> None:
    param.grad = grad.clone() if param.grad is None else param.grad + grad


@BALANCERS.register("mmpareto")
class MMPareto(MultiLoss):
    """Multi-loss objective with per-encoder Pareto gradient combination.

    Args:
        fused_weight: weight of the fused loss.
        unimodal_weight: weight of each unimodal loss (a value or modality → value).
    """

    name = "mmpareto"
    min_modalities = 2

    def __init__(self, fused_weight: float = 1.0, unimodal_weight: float | dict[str, float] = 1.0) -> None:
        super().__init__(fused_weight, unimodal_weight)
        self._weights: dict[str, float] = {}

    def backward(self, total: Tensor, terms: dict[str, Tensor], model: nn.Module) -> None:
        params = [p for p in model.parameters() if p.requires_grad]
        fused = torch.autograd.grad(terms["fused"], params, retain_graph=True, allow_unused=True)
        plain = {id(p): g for p, g in zip(params, fused) if g is not None}
        encoder_ids: set[int] = set()
        heads = list(model.heads)
        for index, m in enumerate(heads):
            encoder = [p for p in model.encoders[m].parameters() if p.requires_grad]
            head = [p for p in model.heads[m].parameters() if p.requires_grad]
            last = index == len(heads) - 1
            uni = torch.autograd.grad(terms[f"uni/{m}"], encoder + head, retain_graph=not last, allow_unused=True)
            for p, g in zip(head, uni[len(encoder):]):
                if g is not None:
                    plain[id(p)] = plain[id(p)] + g if id(p) in plain else g
            if not encoder:
                continue
            combined, weight = pareto_combination(
                _flat([plain.get(id(p)) for p in encoder], encoder), _flat(list(uni[: len(encoder)]), encoder)
            )
            self._weights[m] = float(weight)
            for p, chunk in zip(encoder, combined.split([p.numel() for p in encoder])):
                _accumulate(p, chunk.view_as(p))
                encoder_ids.add(id(p))
        for p in params:
            if id(p) not in encoder_ids and id(p) in plain:
                _accumulate(p, plain[id(p)])

    def after_backward(self, model: nn.Module) -> dict[str, float]:
        state = {f"w_fused/{m}": w for m, w in self._weights.items()}
        self._weights = {}
        return state
