"""``polymodal demo``: the main job of the README on real data.

On UCI Multiple Features (real handwritten-digit features, six views that
differ a lot in strength) it trains each single view, the ensemble of those
unimodal models, and fusion with joint, multi-loss and the balancing methods,
all under one protocol, then prints the table of test accuracy (fused and per
view) and saves a PNG bar chart. It is ``polymodal bench balance`` with the
demo's settings, so each finished run prints its line (result, time, ETA).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from jsonargparse import ActionConfigFile, ArgumentParser

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
    methods: list[str] | str = DEMO_METHODS
    seeds: int = 3
    max_epochs: int = 30
    optimizer: Literal["sgd", "adamw"] = "sgd"
    lr: float = 0.02

    def bench_arguments(self) -> list[str]:
        """The same run as ``polymodal bench balance`` options."""
        methods = self.methods if isinstance(self.methods, str) else ",".join(self.methods)
        return ["--datasets", self.dataset, "--methods", methods, "--seeds", str(self.seeds),
                "--max_epochs", str(self.max_epochs), "--optimizer", self.optimizer, "--lr", str(self.lr),
                "--out", str(self.out)]


def demo_parser() -> ArgumentParser:
    """``polymodal demo``'s options (the fields of :class:`DemoOptions`), and ``--config FILE.yaml``."""
    parser = ArgumentParser(prog="polymodal demo", description=DemoOptions.__doc__.split("\n\n")[0],
                            exit_on_error=False)
    parser.add_argument("--config", action=ActionConfigFile, help="a YAML file of these options")
    parser.add_class_arguments(DemoOptions, as_group=False)
    return parser


def demo_main(argv: Sequence[str]) -> int:
    """Parse the demo's options and run the balance benchmark with them."""
    config = demo_parser().parse_args(list(argv))
    options = DemoOptions(**{field.name: config[field.name] for field in dataclasses.fields(DemoOptions)})
    from polymodal.bench.cli import bench_main

    return bench_main(["balance", *options.bench_arguments()])
