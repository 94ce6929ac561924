"""Evaluation metrics of the tasks (torchmetrics, synchronised over processes).

Each task names the metrics of an evaluation stage
(:meth:`polymodal.tasks.base.PolymodalTask.evaluation_metrics`); the task
base holds them in one ``MetricCollection(prefix="<stage>/")`` per stage,
updates them with named inputs and logs them. The pieces:

* :class:`EvaluationLoss`: the sample-weighted mean loss (``loss``), and of
  each named loss term on request.
* :class:`PerModality`: one metric per modality, on the samples that hold it
  (``<name>/<modality>``).
* :class:`KappaWithHeads`: Cohen's κ of the prediction, of each unimodal head,
  and their mean.
* :func:`supervised_metrics` and :func:`sleep_metrics`: the metrics of the
  supervised and sleep tasks.

Keys follow the public interface: ``<stage>/acc``, ``<stage>/f1_macro`` for the
fused prediction and ``<stage>/acc/<modality>`` for each unimodal head
(regression: ``mse``, ``mae`` and ``mse/<modality>``); sleep staging adds
``<stage>/kappa``, ``<stage>/kappa/<modality>``, ``<stage>/kappa_all`` and
``<stage>/f1/<class>``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
from torch import Tensor, nn
from torchmetrics import MeanAbsoluteError, MeanMetric, MeanSquaredError, Metric
from torchmetrics.classification import (
    MulticlassAccuracy,
    MulticlassCohenKappa,
    MulticlassConfusionMatrix,
    MulticlassF1Score,
)
from torchmetrics.wrappers import ClasswiseWrapper
from torchmetrics.wrappers.abstract import WrapperMetric

HeadInputs = Mapping[str, tuple[Tensor, Tensor]]
"""modality → ``(preds, target)`` of its unimodal head on the samples that hold the modality."""


class EvaluationLoss(WrapperMetric):
    """Sample-weighted mean of the evaluation loss (``loss``); with ``terms=True`` also of each named term.

    Update inputs: ``loss`` (the batch's mean loss), ``batch_size`` and
    ``terms`` (name → the batch's mean term), as the task base provides them.
    """

    full_state_update = False

    def __init__(self, terms: bool = False) -> None:
        super().__init__()
        self.loss = MeanMetric()
        self.with_terms = terms
        self.term_names: list[str] = []
        self.term_means = nn.ModuleList()

    def update(self, loss: Tensor, batch_size: int, terms: Mapping[str, Tensor] | None = None) -> None:
        self.loss.update(loss, weight=batch_size)
        if not self.with_terms:
            return
        for name, value in (terms or {}).items():
            if name not in self.term_names:  # the objective's terms, in the order it returns them
                self.term_names.append(name)
                self.term_means.append(MeanMetric().to(value.device))
            self.term_means[self.term_names.index(name)].update(value, weight=batch_size)

    def compute(self) -> dict[str, Tensor]:
        return {"loss": self.loss.compute(),
                **{name: mean.compute() for name, mean in zip(self.term_names, self.term_means)}}

    def reset(self) -> None:
        super().reset()
        self.loss.reset()
        for mean in self.term_means:
            mean.reset()


class PerModality(WrapperMetric):
    """One metric per modality, as ``<name>/<modality>``, for each modality that had samples.

    Update input: ``unimodal`` (:data:`HeadInputs`).
    """

    full_state_update = False

    def __init__(self, name: str, metric: Callable[[], Metric], modalities: Sequence[str]) -> None:
        super().__init__()
        self.key = name
        self.modalities = tuple(modalities)
        self.per_modality = nn.ModuleList([metric() for _ in self.modalities])

    def update(self, unimodal: HeadInputs) -> None:
        for m, metric in zip(self.modalities, self.per_modality):
            if m in unimodal and len(unimodal[m][1]):
                metric.update(*unimodal[m])

    def compute(self) -> dict[str, Tensor]:
        return {f"{self.key}/{m}": metric.compute() for m, metric in zip(self.modalities, self.per_modality)
                if metric.update_count}

    def reset(self) -> None:
        super().reset()
        for metric in self.per_modality:
            metric.reset()


class KappaWithHeads(WrapperMetric):
    """Cohen's κ of the prediction (``kappa``), of each unimodal head on the samples holding its modality
    (``kappa/<modality>``), and ``kappa_all``: the mean of the prediction's κ and of every head's κ that
    saw a sample (the prediction's κ alone for a model without heads).

    Update inputs: ``preds``, ``target`` and ``unimodal`` (:data:`HeadInputs`).
    """

    full_state_update = False

    def __init__(self, num_classes: int, modalities: Sequence[str]) -> None:
        super().__init__()
        self.pooled = MulticlassCohenKappa(num_classes)
        self.heads = PerModality("kappa", lambda: MulticlassCohenKappa(num_classes), modalities)

    def update(self, preds: Tensor, target: Tensor, unimodal: HeadInputs) -> None:
        self.pooled.update(preds, target)
        self.heads.update(unimodal)

    def compute(self) -> dict[str, Tensor]:
        values = {"kappa": self.pooled.compute(), **self.heads.compute()}
        values["kappa_all"] = torch.stack(list(values.values())).mean()
        return values

    def reset(self) -> None:
        super().reset()
        self.pooled.reset()
        self.heads.reset()


def head_inputs(unimodal: Mapping[str, Tensor], target: Tensor, present: Mapping[str, Tensor],
                modalities: Sequence[str]) -> dict[str, tuple[Tensor, Tensor]]:
    """:data:`HeadInputs` of ``modalities``: each head's predictions and the targets where its modality is present."""
    heads = {}
    for m in modalities:
        mask = present.get(m)
        heads[m] = (unimodal[m], target) if mask is None else (unimodal[m][mask], target[mask])
    return heads


def supervised_metrics(num_classes: int, modalities: Sequence[str]) -> dict[str, Metric]:
    """Loss; accuracy and macro-F1 of the prediction and accuracy of each unimodal head (``num_classes == 0``:
    MSE and MAE, and each head's MSE).

    Update inputs: ``loss``, ``batch_size``, ``preds``, ``target``, ``unimodal`` (:data:`HeadInputs`).
    """
    if num_classes == 0:
        fused: dict[str, Metric] = {"mse": MeanSquaredError(), "mae": MeanAbsoluteError()}
        heads = PerModality("mse", MeanSquaredError, modalities)
    else:
        fused = {"acc": MulticlassAccuracy(num_classes, average="micro"),
                 "f1_macro": MulticlassF1Score(num_classes, average="macro")}
        heads = PerModality("acc", lambda: MulticlassAccuracy(num_classes, average="micro"), modalities)
    return {"loss": EvaluationLoss(), **fused, "heads": heads}


def sleep_metrics(class_names: Sequence[str], modalities: Sequence[str]) -> dict[str, Metric]:
    """Loss; pooled accuracy, macro-F1, per-class F1 (``f1/<class>``), confusion matrix (``confusion``,
    ``[C, C]``, rows: true class); κ (:class:`KappaWithHeads`) and accuracy of each unimodal head.

    Update inputs: ``loss``, ``batch_size``, ``preds`` ``[n, C]``, ``target`` ``[n]``
    (every epoch of the batch), ``unimodal`` (:data:`HeadInputs`).
    """
    n = len(class_names)
    return {
        "loss": EvaluationLoss(),
        "acc": MulticlassAccuracy(n, average="micro"),
        "f1_macro": MulticlassF1Score(n, average="macro"),
        "f1": ClasswiseWrapper(MulticlassF1Score(n, average="none"), labels=list(class_names), prefix="f1/"),
        "kappas": KappaWithHeads(n, modalities),
        "heads": PerModality("acc", lambda: MulticlassAccuracy(n, average="micro"), modalities),
        "confusion": MulticlassConfusionMatrix(n),
    }


def as_floats(metrics: dict[str, Tensor | float]) -> dict[str, float]:
    """Plain floats for JSON."""
    return {k: float(v.item() if isinstance(v, torch.Tensor) else v) for k, v in metrics.items()}
