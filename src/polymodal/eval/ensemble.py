"""The ensemble of separately trained unimodal models (the bar to beat).

Prediction = Σ_m zscore(logits_m), each member's logits standardized over the
evaluation set (balancing.md, "Ensemble baseline"). We standardize each
member's logit matrix by its mean and standard deviation over all samples and
classes, which puts members on one scale without changing any member's own
ranking of the classes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torchmetrics.functional.classification import multiclass_accuracy, multiclass_f1_score


def zscore(logits: Tensor) -> Tensor:
    """Standardize a ``[N, C]`` logit matrix over all its entries."""
    return (logits - logits.mean()) / logits.std().clamp_min(1e-12)


def ensemble_logits(members: Sequence[Tensor]) -> Tensor:
    """Sum of the members' z-scored logits."""
    if not members:
        raise ValueError("an ensemble needs at least one member")
    return torch.stack([zscore(m) for m in members]).sum(0)


def ensemble_metrics(members: Sequence[Tensor], targets: Tensor, num_classes: int) -> dict[str, float]:
    """Test accuracy and macro-F1 of the z-scored logit sum."""
    prediction = ensemble_logits(members)
    return {
        "test/acc": float(multiclass_accuracy(prediction, targets, num_classes, average="micro")),
        "test/f1_macro": float(multiclass_f1_score(prediction, targets, num_classes, average="macro")),
    }
