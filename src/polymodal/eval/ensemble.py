"""The ensemble of separately trained unimodal models (the bar to beat).

Two ways to combine the members' logits ``[N, C]``, both independent of
how the evaluation data is batched:

* ``"soft_vote"`` (default): the mean of the members' class probabilities,
  as in the MCR release (``Evaluator.py``) — soft voting, so a confident
  strong member outweighs an unsure weak one;
* ``"zscore"``: the sum of the members' logits, each standardized by a mean
  and standard deviation fixed beforehand (balancing.md, "Ensemble
  baseline"): over all samples and classes of a reference set (for the
  bench: the member's own test logits as a whole) or, inside a training
  run, running statistics of the training batches. Standardizing puts
  members on one scale without changing any member's own ranking of the
  classes, but gives a weak member an equal vote.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torchmetrics.functional.classification import multiclass_accuracy, multiclass_f1_score

from polymodal.errors import PolymodalError

COMBINATIONS = ("soft_vote", "zscore")


def soft_vote(members: Sequence[Tensor]) -> Tensor:
    """Mean of the members' softmax probabilities ``[N, C]``."""
    if not members:
        raise ValueError("an ensemble needs at least one member")
    return torch.stack([m.float().softmax(-1) for m in members]).mean(0)


def zscore_sum(members: Sequence[Tensor], means: Sequence[Tensor | float], stds: Sequence[Tensor | float]) -> Tensor:
    """Sum of the members' logits, member k standardized by ``(means[k], stds[k])``."""
    if not members:
        raise ValueError("an ensemble needs at least one member")
    return torch.stack([(m.float() - mu) / torch.as_tensor(sd).clamp_min(1e-12)
                        for m, mu, sd in zip(members, means, stds, strict=True)]).sum(0)


def ensemble_prediction(members: Sequence[Tensor], combine: str = "soft_vote") -> Tensor:
    """Combine whole-set member logits; ``zscore`` standardizes each over all its entries."""
    if combine not in COMBINATIONS:
        raise PolymodalError(f"unknown ensemble combination {combine!r}; choose one of: {', '.join(COMBINATIONS)}")
    if combine == "zscore":
        return zscore_sum(members, [m.float().mean() for m in members], [m.float().std() for m in members])
    return soft_vote(members)


def ensemble_metrics(members: Sequence[Tensor], targets: Tensor, num_classes: int,
                     combine: str = "soft_vote") -> dict[str, float]:
    """Test accuracy and macro-F1 of the combined members."""
    prediction = ensemble_prediction(members, combine)
    return {
        "test/acc": float(multiclass_accuracy(prediction, targets, num_classes, average="micro")),
        "test/f1_macro": float(multiclass_f1_score(prediction, targets, num_classes, average="macro")),
    }
