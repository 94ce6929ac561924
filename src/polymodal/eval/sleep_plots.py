"""Sleep-staging figures (PNG): hypnograms true vs predicted, confusion matrix, κ versus noise.

The hypnogram is what sleep users look at (CoRe-Sleep, arXiv 2304.06485,
"Evaluation"): stages drawn top to bottom as W, REM, N1, N2, N3, the
scorer's line above the model's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from polymodal.data.sleep.corruptions import BOTH, parse_condition, snr_of  # noqa: E402
from polymodal.eval.sleep_eval import ConditionResult, NightPrediction  # noqa: E402

HYPNOGRAM_ORDER = ("W", "REM", "N1", "N2", "N3")
"""Stages from the top of a hypnogram to the bottom (the clinical convention)."""
EPOCH_MINUTES = 0.5


def hypnogram_order(class_names: Sequence[str]) -> list[str]:
    """Stage names top to bottom: :data:`HYPNOGRAM_ORDER`, then other names in class order."""
    return [n for n in HYPNOGRAM_ORDER if n in class_names] + [n for n in class_names if n not in HYPNOGRAM_ORDER]


def hypnogram_levels(stages: np.ndarray, class_names: Sequence[str]) -> np.ndarray:
    """Vertical level of each epoch's stage (0 = top)."""
    order = hypnogram_order(class_names)
    level_of_class = np.array([order.index(name) for name in class_names])
    return level_of_class[stages]


def plot_hypnogram(night: NightPrediction, class_names: Sequence[str], path: Path, title: str = "") -> None:
    """Two stacked hypnograms of one night (scored, predicted) with the epoch accuracy in the title."""
    order = hypnogram_order(class_names)
    hours = np.arange(len(night.target) + 1) * EPOCH_MINUTES / 60
    fig, axes = plt.subplots(2, 1, figsize=(10, 4), sharex=True)
    for ax, stages, label, color in ((axes[0], night.target, "scored", "black"),
                                     (axes[1], night.predicted, "predicted", "tab:blue")):
        levels = hypnogram_levels(stages, class_names)
        ax.stairs(levels, hours, baseline=None, color=color, lw=1)
        ax.set_yticks(range(len(order)), order)
        ax.set_ylim(len(order) - 0.5, -0.5)
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    accuracy = float(np.mean(night.target == night.predicted))
    axes[0].set_title(f"{title or night.night_id}: accuracy {accuracy:.3f}")
    axes[1].set_xlabel("hours from the first kept epoch")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confusion(confusion: np.ndarray, class_names: Sequence[str], path: Path, title: str) -> None:
    """Row-normalised confusion matrix (rows: scored stage) with the counts written in each cell."""
    totals = confusion.sum(axis=1, keepdims=True)
    rates = np.divide(confusion, totals, out=np.zeros(confusion.shape, dtype=float), where=totals > 0)
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(confusion):
        ax.text(j, i, f"{rates[i, j]:.2f}\n({int(count)})", ha="center", va="center", fontsize=7,
                color="white" if rates[i, j] > 0.6 else "black")
    ax.set_xticks(range(len(class_names)), class_names)
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("scored")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_kappa_vs_noise(panels: Mapping[str, Mapping[str, Sequence[tuple[float, float]]]], path: Path,
                        clean: Mapping[str, float] | None = None) -> None:
    """One panel per noisy modality: κ against its SNR (dB), a line per model; each model's clean κ dotted."""
    models = list(dict.fromkeys(label for curves in panels.values() for label in curves))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False, sharey=True)
    for ax, (modality, curves) in zip(axes[0], panels.items(), strict=True):
        for label, points in curves.items():
            color = f"C{models.index(label)}"
            snr, kappa = zip(*sorted(points), strict=True)
            ax.plot(snr, kappa, marker="o", color=color, label=label)
            if clean and label in clean:
                ax.axhline(clean[label], color=color, ls=":", lw=1)
        ax.set_xlabel(f"SNR of the {modality.upper()} (dB)")
        ax.set_title(f"Gaussian noise on {modality.upper()} (dotted: no noise)", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("Cohen's κ")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def noise_curves(results: Sequence[ConditionResult], modalities: Sequence[str]) -> dict[str, list[tuple[float, float]]]:
    """Noisy modality → ``(SNR dB, κ)`` of the Gaussian-noise conditions among ``results``."""
    curves: dict[str, list[tuple[float, float]]] = {}
    for result in results:
        noisy = snr_of(parse_condition(result.name, modalities))
        if noisy is not None:
            curves.setdefault(noisy[0], []).append((noisy[1], result.metrics["kappa"]))
    return curves


def plot_evaluation(results: Sequence[ConditionResult], class_names: Sequence[str], modalities: Sequence[str],
                    out: Path, label: str, max_nights: int = 3) -> list[Path]:
    """Hypnograms of the first nights (first condition), a confusion matrix per condition, κ versus noise."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for night in results[0].nights[:max_nights]:
        paths.append(out / f"hypnogram_{night.night_id}.png")
        plot_hypnogram(night, class_names, paths[-1], f"{label}, {results[0].name}: {night.night_id}")
    for result in results:
        paths.append(out / f"confusion_{result.name}.png")
        plot_confusion(result.confusion, class_names, paths[-1],
                       f"{label}, {result.name}: κ {result.metrics['kappa']:.3f}")
    curves = noise_curves(results, modalities)
    if curves:
        paths.append(out / "kappa_vs_noise.png")
        clean = {label: r.metrics["kappa"] for r in results if r.name == BOTH}
        plot_kappa_vs_noise({m: {label: points} for m, points in curves.items()}, paths[-1], clean)
    return paths
