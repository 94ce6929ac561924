"""Run by ``test_ddp.py`` under ``torch.distributed.run`` (2 CPU processes, gloo): the DDP side of the scale tests.

Each process trains every method of :data:`harness.METHODS` (and MCR without
gathering, and the first contrastive steps) with 2 devices and saves its
final parameters and buffers to ``OUT/rank<r>.pt``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

from harness import METHODS, first_contrastive_step, fit_supervised


def main(out: Path) -> None:
    results = {name: fit_supervised(name, devices=2, epochs=3 if name == "mslr" else 2) for name in METHODS}
    results["mcr_no_gather"] = fit_supervised("mcr", devices=2, gather=False)
    for objective in ("confu", "pairwise"):
        results[f"contrastive_{objective}"] = first_contrastive_step(objective, devices=2)
    torch.save(results, out / f"rank{os.environ['RANK']}.pt")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
