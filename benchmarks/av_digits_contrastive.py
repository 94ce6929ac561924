"""ConFu against pairwise (and Symile) on av-digits' (audio, image, caption): 2→1 and 1→1 retrieval.

Trains ``configs/av-digits/<objective>.yaml`` (ResNet-18 width 8 for audio
and image, a 2-layer transformer over the caption's tokens, embedding 32,
AdamW lr 1e-4, batch 128, 20 epochs, best validation checkpoint tested) for
each objective and seed, and prints a markdown table of the test retrieval
R@1 per direction with the mean ± std over seeds. A hit is any candidate of
the query's digit (every modality's content key is the digit).

    OMP_NUM_THREADS=1 python benchmarks/av_digits_contrastive.py --root /work/shared/data/fsdd \
        --objectives confu,pairwise --seeds 3 --out OUT
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
from pathlib import Path

import torch

from polymodal.cli import main as polymodal

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "av-digits"
DIRECTIONS = ("audio+image->caption", "audio+caption->image", "image+caption->audio",
              "audio->image", "image->audio", "audio->caption", "image->caption")


def run(objective: str, seed: int, args: argparse.Namespace) -> dict[str, float]:
    out = args.out / f"{objective}-seed{seed}"
    if not (out / "metrics.json").is_file():
        code = polymodal(["fit", "--config", str(CONFIGS / f"{objective}.yaml"), "--data.root", args.root,
                          "--seed", str(seed), "--max_epochs", str(args.max_epochs), "--out", str(out),
                          "--overwrite", "--trainer.enable_progress_bar", "false",
                          "--trainer.enable_model_summary", "false"])
        if code:
            raise SystemExit(code)
    return json.loads((out / "metrics.json").read_text())


def mean_std(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {spread:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True, help="the FSDD folder (holding recordings/)")
    parser.add_argument("--objectives", default="confu,pairwise")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max_epochs", type=int, default=20)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    objectives = args.objectives.split(",")
    results = {o: [run(o, seed, args) for seed in range(args.seeds)] for o in objectives}
    print(f"| objective | {' | '.join(f'{d} R@1' for d in DIRECTIONS)} |")
    print("|---" * (len(DIRECTIONS) + 1) + "|")
    for objective, runs in results.items():
        cells = [mean_std([r[f"test/retrieval/{d}/R@1"] for r in runs]) for d in DIRECTIONS]
        print(f"| {objective} | {' | '.join(cells)} |")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"\nCPU time of the whole benchmark: {usage.ru_utime + usage.ru_stime:.0f} s")


if __name__ == "__main__":
    main()
