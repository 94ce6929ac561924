"""``polymodal demo``: the main job of the README on real data.

On UCI Multiple Features (real handwritten-digit features, six views that
differ a lot in strength) it trains each single view, the ensemble of those
unimodal models, and fusion with joint, multi-loss and the balancing methods,
all under one protocol, then prints the table of test accuracy (fused and per
view) and saves a PNG bar chart. It is ``polymodal bench balance`` with the
demo's settings, so each finished run prints its line (result, time, ETA).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from polymodal.bench.options import Names, parse_options

DEMO_DATASET = "mfeat:fou+kar+mor"
DEMO_METHODS = "unimodal,ensemble,joint,multiloss,ogm_ge,agm,mlb,mcr"


@dataclass
class DemoOptions:
    """Balancing methods on UCI Multiple Features, under one protocol.

    Args:
        out: folder of the tables, figures and runs (rerunning skips finished runs)
        dataset: NAME:view+view of a built-in dataset
        methods: the methods, comma-separated (or a YAML list in a config)
        seeds: number of seeds (0..N-1)
        max_epochs: epochs of each run
        optimizer: SGD by default: Adam-type optimizers largely cancel gradient-scaling methods
        lr: learning rate
    """

    out: Path = Path("demo_out")
    dataset: str = DEMO_DATASET
    methods: Names = field(default_factory=lambda: Names(DEMO_METHODS.split(",")))
    seeds: int = 3
    max_epochs: int = 30
    optimizer: Literal["sgd", "adamw"] = "sgd"
    lr: float = 0.02

    def bench_arguments(self) -> list[str]:
        """The same run as ``polymodal bench balance`` options."""
        return ["--datasets", self.dataset, "--methods", ",".join(self.methods), "--seeds", str(self.seeds),
                "--max_epochs", str(self.max_epochs), "--optimizer", self.optimizer, "--lr", str(self.lr),
                "--out", str(self.out)]


def demo_main(argv: Sequence[str]) -> int:
    """Parse the demo's options (``--config FILE.yaml`` too) and run the balance benchmark with them."""
    options = parse_options(DemoOptions, argv, "polymodal demo")
    from polymodal.bench.cli import bench_main

    return bench_main(["balance", *options.bench_arguments()])
