"""Benchmark figures (PNG): accuracy per method, unimodal accuracies, MLB's k_m."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from polymodal.bench.report import Row  # noqa: E402


def bar_panels(summary: Sequence[Row], metric: str, path: Path, ylabel: str, chance: dict[str, float] | None = None) -> None:
    """One panel per dataset: mean ``metric`` per method with std error bars."""
    datasets = list(dict.fromkeys(r["dataset"] for r in summary))
    fig, axes = plt.subplots(1, len(datasets), figsize=(max(5, 1 + 0.7 * len(summary) / len(datasets)) * len(datasets), 4),
                             squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        rows = [r for r in summary if r["dataset"] == dataset and r.get(metric)]
        means = [r[metric][0] for r in rows]
        stds = [r[metric][1] for r in rows]
        ax.bar(range(len(rows)), means, yerr=stds, capsize=3, color="tab:blue")
        ax.set_xticks(range(len(rows)), [r["method"] for r in rows], rotation=45, ha="right")
        low = min(means) if means else 0
        ax.set_ylim(max(0.0, low - 0.1), 1.0)
        if chance and dataset in chance:
            ax.axhline(chance[dataset], color="gray", ls="--", lw=1, label="Bayes-optimal")
            ax.legend(loc="lower right")
        ax.set_title(dataset)
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def unimodal_panels(summary: Sequence[Row], modalities: dict[str, list[str]], path: Path) -> None:
    """Per dataset: each modality's unimodal-head accuracy, grouped by method."""
    datasets = list(modalities)
    fig, axes = plt.subplots(1, len(datasets), figsize=(6 * len(datasets), 4), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        rows = [r for r in summary if r["dataset"] == dataset]
        mods = modalities[dataset]
        width = 0.8 / max(1, len(mods))
        for j, m in enumerate(mods):
            values = [r.get(f"acc/{m}") or (float("nan"), 0.0) for r in rows]
            ax.bar([i + j * width for i in range(len(rows))], [v[0] for v in values], width,
                   yerr=[v[1] for v in values], capsize=2, label=m)
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(rows))], [r["method"] for r in rows], rotation=45, ha="right")
        ax.set_title(f"{dataset}: unimodal accuracy")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def logged_curves(metrics_csv: Path, prefix: str) -> dict[str, tuple[list[int], list[float]]]:
    """Series ``step → value`` of every logged column that starts with ``prefix``."""
    curves: dict[str, tuple[list[int], list[float]]] = {}
    if not metrics_csv.is_file():
        return curves
    with metrics_csv.open() as handle:
        for row in csv.DictReader(handle):
            for key, value in row.items():
                if key.startswith(prefix) and value not in ("", None):
                    steps, values = curves.setdefault(key[len(prefix):], ([], []))
                    steps.append(int(row["step"]))
                    values.append(float(value))
    return curves


def curve_panels(runs: dict[str, Path], prefix: str, path: Path, ylabel: str) -> bool:
    """One panel per run: the logged ``prefix*`` series over training steps; False if none."""
    series = {name: logged_curves(csv_path, prefix) for name, csv_path in runs.items()}
    series = {name: c for name, c in series.items() if c}
    if not series:
        return False
    fig, axes = plt.subplots(1, len(series), figsize=(5 * len(series), 3.5), squeeze=False)
    for ax, (name, curves) in zip(axes[0], series.items(), strict=True):
        for label, (steps, values) in curves.items():
            ax.plot(steps, values, label=label, lw=1)
        ax.axhline(1.0, color="gray", lw=0.8, ls=":")
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True
