"""``polymodal demo``: the main job of the README on real data.

On UCI Multiple Features (real handwritten-digit features, six views that
differ a lot in strength) it trains each single view, the ensemble of those
unimodal models, and fusion with joint, multi-loss and the balancing methods,
all under one protocol, then prints the table of test accuracy (fused and per
view) and saves a PNG bar chart.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from polymodal.bench.options import comma_list

DEMO_DATASET = "mfeat:fou+kar+mor"
DEMO_METHODS = "unimodal,ensemble,joint,multiloss,ogm_ge,agm,mlb,mcr"


def demo_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="polymodal demo", description=__doc__.split("\n\n")[1])
    parser.add_argument("--out", type=Path, default=Path("demo_out"))
    parser.add_argument("--dataset", default=DEMO_DATASET, help="NAME:view+view of a built-in dataset")
    parser.add_argument("--methods", type=comma_list, default=comma_list(DEMO_METHODS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max_epochs", type=int, default=30)
    parser.add_argument("--optimizer", default="sgd", choices=("adamw", "sgd"),
                        help="SGD by default: Adam-type optimizers largely cancel gradient-scaling methods")
    parser.add_argument("--lr", type=float, default=0.02)
    args = parser.parse_args(argv)
    from polymodal.bench.balance import run_balance

    return run_balance(["--datasets", args.dataset, "--methods", ",".join(args.methods),
                        "--seeds", str(args.seeds), "--max_epochs", str(args.max_epochs),
                        "--optimizer", args.optimizer, "--lr", str(args.lr), "--out", str(args.out)])
