"""XOR triples at the spec's scale: 2→1 top-1 of ConFu against pairwise and Symile.

Binary XOR with d = 5 bits (chance 1/32), 2-layer MLP encoders, embedding
16; the optimum of ``m0+m1->m2`` top-1 is ``p̂ + (1 − p̂)/2^d``. Scored with
content keys against every test sample (any candidate with the right bits is
a hit), as choosing among all 2^d values.

Run: ``python benchmarks/contrastive_xor.py [--objectives confu pairwise symile] [--epochs 60] [--xor-probability 1.0]``
"""

from __future__ import annotations

import argparse
import logging
import time

import lightning as L
import torch

from polymodal.data.contrastive_synthetic import XorTriplesDataModule
from polymodal.tasks.contrastive import ContrastiveTask

DIRECTION = "test/retrieval/m0+m1->m2/R@1"


def fused_top1(objective: str, args: argparse.Namespace) -> float:
    L.seed_everything(args.seed, verbose=False)
    data = XorTriplesDataModule(bits=args.bits, xor_probability=args.xor_probability, train_size=args.train_size,
                                val_size=0, test_size=args.test_size, batch_size=args.batch_size, seed=args.seed)
    task = ContrastiveTask(objective=objective, encoder_options={"hidden_dim": args.hidden, "depth": 2, "dropout": 0.0},
                           embed_dim=args.embed_dim, fusion_hidden_dim=args.hidden, lr=args.lr,
                           data_info=data.info.to_dict())
    trainer = L.Trainer(max_epochs=args.epochs, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, limit_val_batches=0, accelerator=args.accelerator)
    trainer.fit(task, datamodule=data)
    return trainer.test(task, datamodule=data, verbose=False)[0][DIRECTION]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objectives", nargs="+", default=["confu", "pairwise", "symile"])
    parser.add_argument("--bits", type=int, default=5)
    parser.add_argument("--xor-probability", type=float, default=1.0)
    parser.add_argument("--train-size", type=int, default=20000)
    parser.add_argument("--test-size", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--embed-dim", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--accelerator", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)

    optimum = args.xor_probability + (1 - args.xor_probability) / 2**args.bits
    print(f"XOR d={args.bits}, p̂={args.xor_probability}: chance {1 / 2**args.bits:.3f}, optimum {optimum:.3f}; "
          f"{args.train_size} samples, {args.epochs} epochs, batch {args.batch_size}, lr {args.lr}")
    for objective in args.objectives:
        start = time.perf_counter()
        top1 = fused_top1(objective, args)
        print(f"{objective:>9}: m0+m1->m2 top-1 {top1:.3f}  ({time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
