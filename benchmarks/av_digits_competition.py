"""Is there modality competition on av-digits? Joint fusion against the ensemble of unimodal models.

Trains ``configs/av-digits/<method>.yaml`` (ResNet-18 width 8 per modality,
late fusion, AdamW) for ``joint``, ``ensemble`` and any other ``--methods``
on each variant and seed, and prints a markdown table of fused test
accuracy per method and of each unimodal member of the ensemble (trained
only by its own loss). Competition is real where joint < ensemble.

    OMP_NUM_THREADS=1 python benchmarks/av_digits_competition.py --root /work/shared/data/fsdd \
        --variants clean,hard --seeds 2 --max_epochs 10 --out /tmp/av_digits_competition
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from polymodal.cli import main as polymodal

VARIANTS = {"clean": [], "hard": ["--data.image_energy", "0.25"], "noisy-audio": ["--data.audio_snr_db", "0"]}
"""Variant name → data options (``hard`` is the registered ``av-digits:hard``)."""
CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "av-digits"


def run(method: str, variant: str, seed: int, args: argparse.Namespace) -> dict[str, float]:
    out = args.out / variant / f"{method}-seed{seed}"
    if not (out / "metrics.json").is_file():
        code = polymodal(["fit", "--config", str(CONFIGS / f"{method}.yaml"), "--data.root", args.root,
                          *VARIANTS[variant], "--seed", str(seed), "--max_epochs", str(args.max_epochs),
                          "--early_stopping", str(args.patience), "--out", str(out),
                          "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"])
        if code:
            raise SystemExit(code)
    return json.loads((out / "metrics.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True, help="the FSDD folder (holding recordings/)")
    parser.add_argument("--variants", default="clean,hard")
    parser.add_argument("--methods", default="", help="more configs to run besides joint and ensemble, e.g. mlb,mcr")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--first_seed", type=int, default=0, help="seeds first_seed .. first_seed + seeds − 1")
    parser.add_argument("--max_epochs", type=int, default=10)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    methods = ["joint", "ensemble", *filter(None, args.methods.split(","))]
    print(f"| variant | seed | {' | '.join(methods)} | audio alone | image alone |")
    print("|---" * (len(methods) + 4) + "|")
    for variant in args.variants.split(","):
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            metrics = {method: run(method, variant, seed, args) for method in methods}
            fused = " | ".join(f"{metrics[m]['test/acc']:.3f}" for m in methods)
            members = metrics["ensemble"]
            print(f"| {variant} | {seed} | {fused} | {members['test/acc/audio']:.3f} | {members['test/acc/image']:.3f} |")


if __name__ == "__main__":
    main()
