"""Validation curves of a `polymodal bench balance` output: why a method did or did not help.

Plots, per method, the fused validation accuracy and each unimodal head's
validation accuracy over epochs (mean over seeds), from the runs' CSV logs.

    python benchmarks/balance_curves.py BENCH_OUT --dataset synthetic-imbalance \
        --methods multiloss,mlb,mcr --out benchmarks/balance/sgd/curves_synthetic.png
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from polymodal.bench.balance import run_dir_of  # noqa: E402


def epoch_curves(metrics_csv: Path) -> dict[str, dict[int, float]]:
    """``val/...`` column → {epoch: value} from one run's CSV log."""
    curves: dict[str, dict[int, float]] = defaultdict(dict)
    with metrics_csv.open() as handle:
        for row in csv.DictReader(handle):
            for key, value in row.items():
                if key.startswith("val/acc") and value:
                    curves[key][int(row["epoch"])] = float(value)
    return curves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bench", type=Path)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--methods", default="multiloss,mlb,mcr")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    methods = args.methods.split(",")
    fig, axes = plt.subplots(1, len(methods), figsize=(5 * len(methods), 3.6), squeeze=False, sharey=True)
    for ax, method in zip(axes[0], methods, strict=True):
        pooled: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
        for seed in range(args.seeds):
            log = run_dir_of(args.bench, args.dataset, method, seed) / "metrics.csv"
            if log.is_file():
                for key, curve in epoch_curves(log).items():
                    for epoch, value in curve.items():
                        pooled[key][epoch].append(value)
        for key, curve in sorted(pooled.items()):
            epochs = sorted(curve)
            ax.plot(epochs, [sum(curve[e]) / len(curve[e]) for e in epochs], label=key.removeprefix("val/"))
        ax.set_title(f"{args.dataset}: {method}")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("validation accuracy (mean over seeds)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
