"""Test quality of one process vs 2-process DDP vs gradient accumulation, on the same data and seeds.

For MLB and MCR on UCI Multiple Features (kar + mor, SGD, the bench
protocol's model) and ConFu on XOR triples (the reference protocol of
``configs/contrastive/confu.yaml``), each run through ``polymodal fit``:

* ``single``: one process, batch B;
* ``ddp``: ``--trainer.strategy ddp --trainer.devices 2``, batch B/2 per process;
* ``accumulate``: one process, batch B/2, ``--trainer.accumulate_grad_batches 2``.

The global batch is B in all three; the runs should agree within seed noise.
Results go to ``OUT/results.md`` (mean ± std over seeds).

Usage::

    python benchmarks/scale_agreement.py --out runs/scale --seeds 3 [--epochs 20] \
        [--experiments mlb,mcr,confu] [--confu_seeds 1] [--confu_epochs 30]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

MODES = {
    "single": ("{batch}", []),
    "ddp": ("{half}", ["--trainer.strategy", "ddp", "--trainer.devices", "2", "--trainer.accelerator", "cpu"]),
    "accumulate": ("{half}", ["--trainer.accumulate_grad_batches", "2"]),
}
CONFU = Path(__file__).resolve().parents[1] / "configs" / "contrastive" / "confu.yaml"


def experiments(epochs: int, confu_epochs: int) -> dict[str, tuple[list[str], int, str]]:
    """Name → (fit arguments without batch size, global batch, metric)."""
    balance = ["--dataset", "mfeat:kar+mor", "--model.optimizer", "sgd", "--model.lr", "0.05",
               "--encoder_options.hidden_dim", "128", "--max_epochs", str(epochs)]
    return {
        "mlb": ([*balance, "--method", "mlb"], 64, "test/acc"),
        "mcr": ([*balance, "--method", "mcr"], 64, "test/acc"),
        "confu": (["--config", str(CONFU), "--max_epochs", str(confu_epochs)], 256, "test/retrieval/m0+m1->m2/R@1"),
    }


def run(args: list[str], out: Path) -> tuple[dict[str, float], float]:
    if (out / "metrics.json").is_file():
        return json.loads((out / "metrics.json").read_text()), 0.0
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "polymodal", "fit", *args, "--out", str(out),
                           "--trainer.enable_progress_bar", "false"],
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return json.loads((out / "metrics.json").read_text()), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--experiments", default="mlb,mcr,confu")
    parser.add_argument("--confu_seeds", type=int, default=1)
    parser.add_argument("--confu_epochs", type=int, default=30)
    options = parser.parse_args()
    rows = []
    chosen = options.experiments.split(",")
    for name, (args, batch, metric) in experiments(options.epochs, options.confu_epochs).items():
        if name not in chosen:
            continue
        values: dict[str, list[float]] = {mode: [] for mode in MODES}
        for seed in range(options.confu_seeds if name == "confu" else options.seeds):
            for mode, (size, extra) in MODES.items():
                size = size.format(batch=batch, half=batch // 2)
                metrics, wall = run([*args, "--data.batch_size", size, "--seed", str(seed), *extra],
                                    options.out / name / mode / f"seed{seed}")
                values[mode].append(metrics[metric])
                print(f"{name} {mode} seed {seed}: {metric} {metrics[metric]:.4f} ({wall:.0f} s)", flush=True)
        rows.append((name, metric, values))
    lines = ["| experiment | metric | " + " | ".join(MODES) + " |", "|---|---|" + "---|" * len(MODES)]
    for name, metric, values in rows:
        cells = [f"{statistics.mean(v):.3f} ± {statistics.stdev(v) if len(v) > 1 else 0:.3f}" for v in values.values()]
        lines.append(f"| {name} | `{metric}` | " + " | ".join(cells) + " |")
    (options.out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
