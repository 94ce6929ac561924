"""MSLR: modality-specific learning rates from validation accuracy.

Yao & Mihalcea, "Modality-specific Learning Rates for Effective Multimodal
Additive Late-fusion", Findings of ACL 2022 ("dynamic" variant). The
loss is the fused cross-entropy only. After each validation epoch, every
modality's coefficient is

    ``k_m = (acc_m / mean of the last K values of acc_m) · lr0_m``

where ``acc_m`` is the validation accuracy of modality m's unimodal head
(``val/acc/<m>``, synchronised over processes, handed in by the task) and
``lr0_m`` its initial rate multiplier. Until K past accuracies exist the
coefficient stays ``lr0_m`` (the paper adapts only once the window is
full; ``warmup="partial"`` averages over the accuracies seen so far
instead). During the next epoch every gradient of modality m's group
(``modality_parameters(m)``) is multiplied by ``k_m``, once per optimizer
step.

The unimodal heads are linear probes: they are trained by their own
cross-entropy on the *detached* features (terms ``probe/<m>``), so they
measure each encoder's current quality without changing what the encoders
learn (the training objective of the encoders and the fusion head is the
fused cross-entropy alone).

Note: the coefficient scales gradients, as specified for this project. With
an adaptive optimizer (AdamW, the task's default) a gradient scale that stays
constant for an epoch is largely normalized away; with SGD it acts exactly
as a per-modality learning rate.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from polymodal.balance.base import BALANCERS, BalancerLoss
from polymodal.balance.context import StepContext
from polymodal.balance.joint import Joint
from polymodal.balance.unimodal_stage import probe_terms
from polymodal.balance.modulation import EPS, check_choice, scale_gradients
from polymodal.balance.view import ModelView
from polymodal.data.contract import Batch
from polymodal.errors import PolymodalError
from polymodal.models.output import ModelOutput

WARMUPS = ("full_window", "partial")


def mslr_coefficients(accuracy: Tensor, history: Tensor, filled: int, initial: Tensor,
                      warmup: str = "full_window") -> Tensor:
    """``k_m`` from current ``[M]`` accuracies and the ``[M, K]`` history whose last ``filled`` columns are set."""
    if filled == 0 or (warmup == "full_window" and filled < history.shape[1]):
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
        warmup: ``"full_window"`` (paper: adapt once K accuracies exist) or ``"partial"``.
    """

    name = "mslr"
    needs_unimodal_heads = True
    supports_regression = False
    min_modalities = 2

    def __init__(self, window: int = 5, initial_scale: float | dict[str, float] = 1.0,
                 warmup: str = "full_window") -> None:
        super().__init__()
        if window < 1:
            raise PolymodalError(f"method 'mslr': window must be >= 1, got {window}")
        check_choice(self.name, "warmup", warmup, WARMUPS)
        self.window = window
        self.initial_scale = initial_scale
        self.warmup = warmup
        self.modalities: tuple[str, ...] = ()

    def setup(self, view: ModelView) -> None:
        super().setup(view)
        self.modalities = view.unimodal_heads
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

    def loss(self, output: ModelOutput, batch: Batch, view: ModelView, context: StepContext) -> BalancerLoss:
        result = super().loss(output, batch, view, context)
        result.terms |= probe_terms(output, batch, view)
        return result

    def validation_end(self, metrics: Mapping[str, Tensor]) -> dict[str, Tensor]:
        missing = [m for m in self.modalities if f"val/acc/{m}" not in metrics]
        if missing:
            raise PolymodalError(f"method 'mslr': no validation accuracy for modality {missing[0]!r}")
        accuracy = torch.stack([torch.as_tensor(metrics[f"val/acc/{m}"]).float().to(self.history.device)
                                for m in self.modalities])
        filled = int(self.filled)
        self.coefficient.copy_(mslr_coefficients(accuracy, self.history, filled, self.initial, self.warmup))
        self.history.copy_(torch.cat([self.history[:, 1:], accuracy[:, None]], dim=1))
        self.filled.fill_(min(filled + 1, self.window))
        return {f"k/{m}": k for m, k in zip(self.modalities, self.coefficient)}

    def step(self, statistics: Mapping[str, Tensor], view: ModelView, context: StepContext) -> dict[str, Tensor]:
        for m, k in zip(self.modalities, self.coefficient):
            scale_gradients(view.modality_parameters(m), k)
        return {}
