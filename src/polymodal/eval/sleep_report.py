"""``polymodal test --conditions``: condition-grid metrics, a per-night table and the sleep figures of one checkpoint."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import torch

from polymodal.data.sleep.datamodule import SleepDataModule
from polymodal.eval.sleep_eval import ConditionResult, evaluate_conditions, flat_metrics, pooled_metrics
from polymodal.eval.sleep_plots import plot_evaluation

PER_NIGHT_FILE = "per_night.csv"
PLOTS_FOLDER = "plots"


def write_per_night(results: Sequence[ConditionResult], class_names: Sequence[str], path: Path) -> None:
    """One row per (condition, night): epochs, accuracy, macro-F1, κ."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["condition", "night", "epochs", "acc", "f1_macro", "kappa"])
        for result in results:
            for night in result.nights:
                scores = pooled_metrics(torch.from_numpy(night.predicted), torch.from_numpy(night.target), class_names)
                writer.writerow([result.name, night.night_id, len(night.target),
                                 *(f"{scores[k]:.4f}" for k in ("acc", "f1_macro", "kappa"))])


def evaluate_and_plot(task: torch.nn.Module, data: SleepDataModule, conditions: str | Sequence[str], out: Path,
                      label: str | None = None) -> dict[str, float]:
    """Evaluate under ``conditions``; write ``per_night.csv`` and ``plots/`` into ``out``; return the flat metrics."""
    results = evaluate_conditions(task, data, conditions)
    class_names = tuple(task.data_info.class_names) or tuple(map(str, range(task.data_info.num_classes)))
    out.mkdir(parents=True, exist_ok=True)
    write_per_night(results, class_names, out / PER_NIGHT_FILE)
    plot_evaluation(results, class_names, task.data_info.modalities, out / PLOTS_FOLDER,
                    label or task.hparams.model)
    return flat_metrics(results)
