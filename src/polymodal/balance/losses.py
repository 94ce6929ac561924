"""Supervised loss terms and additive per-modality scores shared by the balancing methods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def per_sample_loss(prediction: Tensor, target: Tensor) -> Tensor:
    """``[B]`` cross-entropy (integer targets) or squared error (float targets)."""
    if target.dtype == torch.long:
        return F.cross_entropy(prediction, target, reduction="none")
    return F.mse_loss(prediction.reshape(target.shape), target, reduction="none")


def supervised_loss(prediction: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """:func:`per_sample_loss` averaged over masked-in samples.

    ``mask`` (``[B]`` bool) drops samples where the head's modality is absent;
    with no sample left the loss is an exact zero that still carries the graph.
    """
    per_sample = per_sample_loss(prediction, target)
    if mask is None:
        return per_sample.mean()
    weights = mask.to(per_sample.dtype)
    return (per_sample * weights).sum() / weights.sum().clamp_min(1.0)


def true_class_probabilities(logits: Tensor, target: Tensor) -> Tensor:
    """Per-sample ``softmax(logits)[y]`` ``[B]`` (in float32 whatever the autocast dtype)."""
    return logits.float().softmax(-1).gather(1, target[:, None]).squeeze(1)


def score_sums(per_sample: Tensor, mask: Tensor | None, name: str) -> dict[str, Tensor]:
    """Additive statistics ``{score/<name>: Σ score, count/<name>: n}`` over masked-in samples (detached).

    Sums, not means, so that the statistics of the micro-batches of one
    optimizer step and of every process add up to those of the global batch.
    """
    per_sample = per_sample.detach().float()
    weight = torch.ones_like(per_sample) if mask is None else mask.to(per_sample.dtype)
    return {f"score/{name}": (per_sample * weight).sum(), f"count/{name}": weight.sum()}


def mean_scores(statistics: Mapping[str, Tensor], names: Sequence[str]) -> Tensor:
    """``[M]`` means ``Σ score / n`` from :func:`score_sums` statistics (0 for a modality never present)."""
    return torch.stack([statistics[f"score/{m}"] / statistics[f"count/{m}"].clamp_min(1.0) for m in names])
