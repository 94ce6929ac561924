"""MSLR: modality-specific learning rates from validation accuracy.

Yao & Mihalcea, "Modality-specific Learning Rates for Effective Multimodal
Additive Late-fusion", Findings of ACL 2022 ("dynamic" variant). The
loss is the fused cross-entropy only. After each validation epoch, every
modality's coefficient is

    ``k_m = (acc_m / mean of the last K values of acc_m) · lr0_m``

where ``acc_m`` is the validation accuracy of modality m's unimodal head
(read from the task's validation metrics, ``val/acc/<m>``) and ``lr0_m`` its
initial rate multiplier; before any history exists ``k_m = lr0_m``. During
the next epoch every gradient of modality m's group
(``model.modality_parameters(m)``) is multiplied by ``k_m``.

Note: the coefficient scales gradients, as specified for this project. With
an adaptive optimizer (AdamW, the task's default) a gradient scale that stays
constant for an epoch is largely normalized away; with SGD it acts exactly
as a per-modality learning rate.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from polymodal.balance.base import BALANCERS
from polymodal.balance.joint import Joint
from polymodal.balance.modulation import EPS, scale_gradients
from polymodal.errors import PolymodalError


def mslr_coefficients(accuracy: torch.Tensor, history: torch.Tensor, filled: int, initial: torch.Tensor) -> torch.Tensor:
    """``k_m`` from current ``[M]`` accuracies and the ``[M, K]`` history whose last ``filled`` columns are set."""
    if filled == 0:
        return initial.clone()
    past = history[:, history.shape[1] - filled:].mean(1)
    ratio = torch.where(past > EPS, accuracy / past.clamp_min(EPS), torch.ones_like(accuracy))
    return ratio * initial


@BALANCERS.register("mslr")
class MSLR(Joint):
    """Fused CE; per-modality gradient scales set once per epoch from validation accuracy.

    Args:
        window: K, how many past validation accuracies are averaged.
        initial_scale: ``lr0_m``, one value or a modality → value map.
    """

    name = "mslr"
    needs_unimodal_heads = True
    supports_regression = False
    min_modalities = 2

    def __init__(self, window: int = 5, initial_scale: float | dict[str, float] = 1.0) -> None:
        super().__init__()
        if window < 1:
            raise PolymodalError(f"method 'mslr': window must be >= 1, got {window}")
        self.window = window
        self.initial_scale = initial_scale
        self.modalities: tuple[str, ...] = ()

    def check(self, model: nn.Module) -> None:
        super().check(model)
        self.modalities = tuple(model.heads)
        scales = self.initial_scale
        if isinstance(scales, dict):
            unknown = set(scales) - set(self.modalities)
            if unknown:
                raise PolymodalError(f"method 'mslr': initial_scale names unknown modality {sorted(unknown)[0]!r}")
            scales = [scales.get(m, 1.0) for m in self.modalities]
        else:
            scales = [scales] * len(self.modalities)
        self.register_buffer("initial", torch.tensor(scales, dtype=torch.float32))
        self.register_buffer("coefficient", self.initial.clone())
        self.register_buffer("history", torch.zeros(len(self.modalities), self.window))
        self.register_buffer("filled", torch.zeros((), dtype=torch.long))

    def on_validation_epoch_end(self, task: Any) -> dict[str, float]:
        computed = task.metrics["val"].compute()
        missing = [m for m in self.modalities if f"val/acc/{m}" not in computed]
        if missing:
            raise PolymodalError(f"method 'mslr': no validation accuracy for modality {missing[0]!r}")
        accuracy = torch.stack([computed[f"val/acc/{m}"].float() for m in self.modalities]).to(self.history.device)
        filled = int(self.filled)
        self.coefficient.copy_(mslr_coefficients(accuracy, self.history, filled, self.initial))
        self.history.copy_(torch.cat([self.history[:, 1:], accuracy[:, None]], dim=1))
        self.filled.fill_(min(filled + 1, self.window))
        return {f"k/{m}": float(k) for m, k in zip(self.modalities, self.coefficient)}

    def after_backward(self, model: nn.Module) -> dict[str, float]:
        for m, k in zip(self.modalities, self.coefficient):
            scale_gradients(model.modality_parameters(m), k)
        return {}
