"""Condition-grid evaluation of a sleep-staging model on the test nights (CoRe-Sleep, arXiv 2304.06485).

For each condition (:mod:`polymodal.data.sleep.corruptions`) the test windows are
staged with the model's fallback rule (fused head where both modalities are
present, else the available unimodal head), window probabilities are
averaged per epoch (SleepTransformer's sliding evaluation, arXiv
2105.11043, Sec. III-D, when the data's ``eval_stride`` is 1; with
non-overlapping windows only the last window of a night overlaps), and the
metrics are computed pooled over all epochs and per night: accuracy,
macro-F1, Cohen's κ, per-stage F1 and the confusion matrix (torchmetrics).

Flat keys: ``test/<condition>/acc|f1_macro|kappa``, ``test/<condition>/f1/<stage>``,
``test/<condition>/night_acc_median``, ``test/<condition>/night_kappa_median``
and ``test/<condition>/epochs``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader
from torchmetrics.functional.classification import (
    multiclass_accuracy,
    multiclass_cohen_kappa,
    multiclass_confusion_matrix,
    multiclass_f1_score,
)

from polymodal.data.contract import collate_items
from polymodal.data.sleep.cache import open_night
from polymodal.data.sleep.conditions import ConditionDataset
from polymodal.data.sleep.corruptions import Condition, parse_conditions
from polymodal.data.sleep.datamodule import SleepDataModule
from polymodal.data.sleep.dataset import SleepSequenceDataset
from polymodal.data.sleep.windows import average_over_windows
from polymodal.errors import PolymodalError

STAGE = "test"


@dataclass
class NightPrediction:
    """True and predicted stages ``[n]`` of one test night (epochs no window covers are left out)."""

    night_id: str
    target: np.ndarray
    predicted: np.ndarray


@dataclass
class ConditionResult:
    """Metrics, confusion matrix ``[C, C]`` (rows: true stage) and night predictions of one condition."""

    name: str
    metrics: dict[str, float]
    confusion: np.ndarray
    nights: list[NightPrediction]


def save_results(results: Sequence[ConditionResult], extra: dict[str, Any], path: Path) -> None:
    """Write condition results (and JSON-able ``extra`` fields) as plain JSON: nothing executable to load."""
    payload = {**extra, "results": [
        {"name": r.name, "metrics": r.metrics, "confusion": r.confusion.tolist(),
         "nights": [{"night_id": n.night_id, "target": n.target.tolist(), "predicted": n.predicted.tolist()}
                    for n in r.nights]}
        for r in results]}
    path.write_text(json.dumps(payload))


def load_results(path: Path) -> tuple[list[ConditionResult], dict[str, Any]]:
    """The results and extra fields written by :func:`save_results`."""
    payload = json.loads(path.read_text())
    results = [ConditionResult(r["name"], r["metrics"], np.asarray(r["confusion"]),
                               [NightPrediction(n["night_id"], np.asarray(n["target"], dtype=np.int64),
                                                np.asarray(n["predicted"], dtype=np.int64)) for n in r["nights"]])
               for r in payload.pop("results")]
    return results, payload


def pooled_metrics(predicted: Tensor, target: Tensor, class_names: Sequence[str]) -> dict[str, float]:
    """Accuracy, macro-F1, κ and per-stage F1 of integer predictions."""
    n = len(class_names)
    scores = {
        "acc": multiclass_accuracy(predicted, target, n, average="micro"),
        "f1_macro": multiclass_f1_score(predicted, target, n, average="macro"),
        "kappa": multiclass_cohen_kappa(predicted, target, n),
    }
    per_class = multiclass_f1_score(predicted, target, n, average="none")
    scores.update({f"f1/{name}": value for name, value in zip(class_names, per_class, strict=True)})
    return {k: float(v) for k, v in scores.items()}


def check_condition(condition: Condition, model_modalities: Sequence[str]) -> None:
    """A condition must leave the model a modality it stages from on every epoch."""
    if set(model_modalities) <= condition.erased:
        raise PolymodalError(f"condition {condition.name!r} leaves epochs without any modality the model uses "
                             f"({', '.join(model_modalities)})")


def applicable(conditions: Sequence[Condition], model_modalities: Sequence[str]) -> list[Condition]:
    """The conditions that leave the model a modality on every epoch."""
    return [c for c in conditions if not set(model_modalities) <= c.erased]


def held_out_windows(data: SleepDataModule) -> SleepSequenceDataset:
    """The test split's sequence dataset."""
    if not data.has_split("test"):
        raise PolymodalError(f"{data.describe()}: no test nights (set test_fraction > 0 or a split file with 'test')")
    dataset = data.splits["test"]
    if not isinstance(dataset, SleepSequenceDataset):
        raise PolymodalError("condition evaluation needs both sleep modalities (do not select data.modalities)")
    return dataset


def predict_probabilities(task: L.LightningModule, loader: DataLoader) -> Tensor:
    """The task's ``predict_step`` over ``loader`` through Lightning, on the device the task is on."""
    device = next(task.parameters()).device
    trainer = L.Trainer(accelerator="gpu" if device.type == "cuda" else "cpu", devices=1, logger=False,
                        enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False)
    return torch.cat([p.float().cpu() for p in trainer.predict(task, dataloaders=loader)])


def evaluate_condition(task: L.LightningModule, base: SleepSequenceDataset, condition: Condition,
                       batch_size: int, seed: int = 0) -> ConditionResult:
    """Stage every test window under ``condition``; pooled and per-night metrics."""
    check_condition(condition, task.model.modalities)
    loader = DataLoader(ConditionDataset(base, condition, seed), batch_size=batch_size, collate_fn=collate_items)
    per_night = average_over_windows(predict_probabilities(task, loader), base.windows, base.night_lengths)
    nights = []
    for night_id, path, night_probs in zip(base.night_ids, base.paths, per_night, strict=True):
        covered = ~torch.isnan(night_probs).any(dim=1)
        if covered.any():
            target = np.asarray(open_night(path)["y"], dtype=np.int64)[covered.numpy()]
            nights.append(NightPrediction(night_id, target, night_probs[covered].argmax(dim=1).numpy()))
    predicted = torch.from_numpy(np.concatenate([n.predicted for n in nights]))
    target = torch.from_numpy(np.concatenate([n.target for n in nights]))
    class_names = tuple(task.data_info.class_names) or tuple(map(str, range(task.data_info.num_classes)))
    metrics = pooled_metrics(predicted, target, class_names)
    night_scores = [pooled_metrics(torch.from_numpy(n.predicted), torch.from_numpy(n.target), class_names) for n in nights]
    metrics["night_acc_median"] = float(np.median([s["acc"] for s in night_scores]))
    metrics["night_kappa_median"] = float(np.nanmedian([s["kappa"] for s in night_scores]))
    metrics["epochs"] = float(len(target))
    confusion = multiclass_confusion_matrix(predicted, target, len(class_names)).numpy()
    return ConditionResult(condition.name, metrics, confusion, nights)


def evaluate_conditions(task: torch.nn.Module, data: SleepDataModule, conditions: str | Sequence[str],
                        batch_size: int | None = None, seed: int = 0) -> list[ConditionResult]:
    """Evaluate ``task`` (a :class:`~polymodal.tasks.SleepTask`) on the test nights under each condition."""
    base = held_out_windows(data)
    parsed = parse_conditions(conditions, base.modalities)
    for condition in parsed:
        check_condition(condition, task.model.modalities)
    return [evaluate_condition(task, base, c, batch_size or data.batch_size, seed) for c in parsed]


def flat_metrics(results: Sequence[ConditionResult]) -> dict[str, float]:
    """``test/<condition>/<metric>`` for every condition."""
    return {f"{STAGE}/{r.name}/{k}": v for r in results for k, v in r.metrics.items()}
