"""Supervised loss terms shared by the balancing methods."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def supervised_loss(prediction: Tensor, target: Tensor, mask: Tensor | None = None, regression: str = "mse") -> Tensor:
    """Cross-entropy (integer targets) or MSE / L1 (float targets), averaged over masked-in samples.

    ``mask`` (``[B]`` bool) drops samples where the head's modality is absent;
    with no sample left the loss is an exact zero that still carries the graph.
    """
    if target.dtype == torch.long:
        per_sample = F.cross_entropy(prediction, target, reduction="none")
    else:
        prediction = prediction.reshape(target.shape)
        per_sample = (F.l1_loss if regression == "l1" else F.mse_loss)(prediction, target, reduction="none")
    if mask is None:
        return per_sample.mean()
    weights = mask.to(per_sample.dtype)
    return (per_sample * weights).sum() / weights.sum().clamp_min(1.0)


def true_class_probability(logits: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """Batch mean of ``softmax(logits)[y]`` over masked-in samples (detached)."""
    with torch.no_grad():
        p = logits.softmax(-1).gather(1, target[:, None]).squeeze(1)
        if mask is None:
            return p.mean()
        w = mask.to(p.dtype)
        return (p * w).sum() / w.sum().clamp_min(1.0)
