"""Benchmark figures (PNG): accuracy per method, unimodal accuracies, MLB's k_m."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from polymodal.bench.report import Row  # noqa: E402


def value_range(lows: Sequence[float], highs: Sequence[float], floor: float = 0.0, ceiling: float = 1.0) -> tuple[float, float]:
    """A y-range around ``[min(lows), max(highs)]`` with a margin, within ``[floor, ceiling]``,
    so that differences between bars stay visible."""
    finite = [v for v in (*lows, *highs) if math.isfinite(v)]
    if not finite:
        return floor, ceiling
    low, high = min(finite), max(finite)
    pad = max(0.1 * (high - low), 0.01)
    return max(floor, low - pad), min(ceiling, high + pad)


def outside_legend(ax: plt.Axes) -> None:
    """The legend to the right of the axes, off the bars and lines."""
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


def bar_panels(summary: Sequence[Row], metric: str, path: Path, ylabel: str, chance: dict[str, float] | None = None) -> None:
    """One panel per dataset: mean ``metric`` per method with std error bars;
    ``chance`` maps a dataset to its Bayes-optimal accuracy (a dashed line)."""
    datasets = list(dict.fromkeys(r["dataset"] for r in summary))
    width = max(5, 1 + 0.7 * len(summary) / len(datasets))
    fig, axes = plt.subplots(1, len(datasets), figsize=(width * len(datasets), 4), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        rows = [r for r in summary if r["dataset"] == dataset and r.get(metric)]
        means = [r[metric][0] for r in rows]
        stds = [r[metric][1] for r in rows]
        ax.bar(range(len(rows)), means, yerr=stds, capsize=3, color="tab:blue")
        ax.set_xticks(range(len(rows)), [r["method"] for r in rows], rotation=45, ha="right")
        extra = [chance[dataset]] if chance and dataset in chance else []
        ax.set_ylim(*value_range([m - s for m, s in zip(means, stds, strict=True)] + extra,
                                 [m + s for m, s in zip(means, stds, strict=True)] + extra))
        if extra:
            ax.axhline(extra[0], color="gray", ls="--", lw=1, label="Bayes-optimal")
            outside_legend(ax)
        ax.set_title(dataset)
        ax.set_xlabel("method")
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", alpha=0.3)
    save(fig, path)


def unimodal_panels(summary: Sequence[Row], modalities: dict[str, list[str]], path: Path) -> None:
    """Per dataset: each modality's unimodal-head accuracy (the table's ``acc/<modality>``), grouped by method."""
    datasets = list(modalities)
    fig, axes = plt.subplots(1, len(datasets), figsize=(7 * len(datasets), 4), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        keys = [f"acc/{m}" for m in modalities[dataset]]
        rows = [r for r in summary if r["dataset"] == dataset and any(r.get(k) for k in keys)]
        width = 0.8 / max(1, len(keys))
        lows, highs = [], []
        for j, key in enumerate(keys):
            values = [r.get(key) or (float("nan"), 0.0) for r in rows]
            lows += [m - s for m, s in values]
            highs += [m + s for m, s in values]
            ax.bar([i + j * width for i in range(len(rows))], [v[0] for v in values], width,
                   yerr=[v[1] for v in values], capsize=2, label=key)
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(rows))], [r["method"] for r in rows], rotation=45, ha="right")
        ax.set_ylim(*value_range(lows, highs))
        ax.set_title(f"{dataset}: unimodal accuracy")
        ax.set_xlabel("method")
        ax.set_ylabel("test accuracy of the modality's head")
        outside_legend(ax)
        ax.grid(axis="y", alpha=0.3)
    save(fig, path)


def save(fig: plt.Figure, path: Path) -> None:
    """Write ``fig`` as a PNG with its outside legends, and close it."""
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
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
        ax.set_xlabel("training step")
        ax.set_ylabel(ylabel)
        outside_legend(ax)
    save(fig, path)
    return True
