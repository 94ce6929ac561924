"""XOR triples at the spec's scale: 2→1 top-1 of ConFu against the baselines.

Binary XOR with d = 5 bits (chance 1/32) under the suite's reference
protocol (:class:`polymodal.bench.contrastive.ContrastiveProtocol`: 2-layer
MLP encoders of width 64, embedding 16, fused heads with H = 512, AdamW lr
1e-4 with cosine decay to 1e-6, batch 256); the optimum of ``m0+m1->m2``
top-1 is ``p̂ + (1 − p̂)/2^d``. Scored with content keys against every test
sample (any candidate with the right bits is a hit), as choosing among all
2^d values. Trains for all epochs without validation (the last model is
tested).

Run: ``python benchmarks/contrastive_xor.py [--objectives confu pairwise symile] [--epochs 60] [--xor-probability 1.0]``
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time

import lightning as L
import torch

from polymodal.bench.contrastive import ContrastiveProtocol
from polymodal.data.contrastive_synthetic import XorTriplesDataModule
from polymodal.tasks.contrastive import ContrastiveTask

DIRECTION = "test/retrieval/m0+m1->m2/R@1"


def fused_top1(objective: str, args: argparse.Namespace, protocol: ContrastiveProtocol) -> float:
    L.seed_everything(args.seed, verbose=False)
    data = XorTriplesDataModule(bits=args.bits, xor_probability=args.xor_probability, train_size=args.train_size,
                                val_size=0, test_size=args.test_size, batch_size=protocol.batch_size, seed=args.seed)
    task = ContrastiveTask(objective=objective, data_info=data.info.to_dict(), **protocol.task_options())
    trainer = L.Trainer(max_epochs=protocol.max_epochs, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0,
                        accelerator=protocol.accelerator)
    trainer.fit(task, datamodule=data)
    return trainer.test(task, datamodule=data, verbose=False)[0][DIRECTION]


def main() -> None:
    defaults = ContrastiveProtocol()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objectives", nargs="+", default=["confu", "pairwise", "symile"])
    parser.add_argument("--bits", type=int, default=5)
    parser.add_argument("--xor-probability", type=float, default=1.0)
    parser.add_argument("--train-size", type=int, default=20000)
    parser.add_argument("--test-size", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=defaults.max_epochs)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--fusion-hidden", type=int, default=defaults.fusion_hidden_dim)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--accelerator", default=defaults.accelerator)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    protocol = dataclasses.replace(defaults, max_epochs=args.epochs, lr=args.lr, fusion_hidden_dim=args.fusion_hidden,
                                   accelerator=args.accelerator)

    optimum = args.xor_probability + (1 - args.xor_probability) / 2**args.bits
    print(f"XOR d={args.bits}, p̂={args.xor_probability}: chance {1 / 2**args.bits:.3f}, optimum {optimum:.3f}; "
          f"{args.train_size} samples; {protocol}")
    for objective in args.objectives:
        start = time.perf_counter()
        top1 = fused_top1(objective, args, protocol)
        print(f"{objective:>9}: m0+m1->m2 top-1 {top1:.3f}  ({time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
