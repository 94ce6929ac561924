"""Evaluation metrics of supervised tasks (torchmetrics, DDP-safe).

Keys follow the public interface: ``<stage>/acc``, ``<stage>/f1_macro`` for the
fused prediction and ``<stage>/acc/<modality>`` for each unimodal head;
regression reports ``mse`` and ``mae`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torchmetrics import MeanAbsoluteError, MeanSquaredError, MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score


def fused_metrics(num_classes: int) -> MetricCollection:
    """Accuracy and macro-F1 (classification) or MSE and MAE (``num_classes == 0``)."""
    if num_classes == 0:
        return MetricCollection({"mse": MeanSquaredError(), "mae": MeanAbsoluteError()})
    return MetricCollection(
        {
            "acc": MulticlassAccuracy(num_classes, average="micro"),
            "f1_macro": MulticlassF1Score(num_classes, average="macro"),
        }
    )


class SupervisedMetrics(nn.Module):
    """Fused metrics plus one accuracy (or MSE) per unimodal head, for one stage."""

    def __init__(self, stage: str, num_classes: int, modalities: Sequence[str]) -> None:
        super().__init__()
        self.stage = stage
        self.regression = num_classes == 0
        self.fused = fused_metrics(num_classes)
        single = (lambda: MeanSquaredError()) if self.regression else (lambda: MulticlassAccuracy(num_classes, average="micro"))
        self.unimodal = nn.ModuleDict({m: single() for m in modalities})

    def update(self, logits: Tensor, unimodal: dict[str, Tensor], target: Tensor, present: dict[str, Tensor]) -> None:
        self.fused.update(self._prepare(logits, target), target)
        for m, metric in self.unimodal.items():
            mask = present.get(m)
            pred, tgt = self._prepare(unimodal[m], target), target
            if mask is not None:
                pred, tgt = pred[mask], tgt[mask]
            if len(tgt):
                metric.update(pred, tgt)

    def _prepare(self, prediction: Tensor, target: Tensor) -> Tensor:
        return prediction.reshape(target.shape) if self.regression else prediction

    def compute(self) -> dict[str, Tensor]:
        out = {f"{self.stage}/{k}": v for k, v in self.fused.compute().items()}
        name = "mse" if self.regression else "acc"
        for m, metric in self.unimodal.items():
            if metric.update_count:
                out[f"{self.stage}/{name}/{m}"] = metric.compute()
        return out

    def reset(self) -> None:
        self.fused.reset()
        for metric in self.unimodal.values():
            metric.reset()


def as_floats(metrics: dict[str, Tensor | float]) -> dict[str, float]:
    """Plain floats for JSON."""
    return {k: float(v.item() if isinstance(v, torch.Tensor) else v) for k, v in metrics.items()}
