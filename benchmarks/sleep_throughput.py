"""Training throughput of the sleep models (sequences per second) on the CPU.

One training step = forward, masked CoRe-Sleep loss, backward, Adam step, on a
random batch of B sequences × L epochs × 29 frames × 128 bins with both
modalities present. Run:

    python benchmarks/sleep_throughput.py --threads 1 2 --models core early midlate eeg
"""

from __future__ import annotations

import argparse
import time

import torch

from polymodal.encoders.sleep_transformer import SleepSizes
from polymodal.models import SLEEP_MODELS, build_sleep_model
from polymodal.models.sleep_losses import SleepLoss


def make_batch(sizes: SleepSizes, batch: int, length: int) -> tuple[dict, dict, torch.Tensor]:
    shape = (batch, length, sizes.num_frames, sizes.num_bins)
    inputs = {m: torch.randn(shape) for m in ("eeg", "eog")}
    present = {m: torch.ones(batch, length, dtype=torch.bool) for m in ("eeg", "eog")}
    return inputs, present, torch.randint(0, 5, (batch, length))


def sequences_per_second(name: str, sizes: SleepSizes, batch: int, length: int, steps: int, warmup: int) -> float:
    """``steps × batch`` over the wall time of ``steps`` training steps run after ``warmup`` ones."""
    torch.manual_seed(0)
    model = build_sleep_model(name, sizes, 5, ("eeg", "eog")).train()
    auxiliary = model.auxiliary_losses
    loss_fn = SleepLoss(w_uni=1.0 if auxiliary else 0.0, w_align=0.1 if auxiliary else 0.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-4)
    inputs, present, target = make_batch(sizes, batch, length)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        terms = loss_fn(model(inputs, present), target, present)
        torch.stack(list(terms.values())).sum().backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["core"], choices=[*SLEEP_MODELS.names(), "eeg", "eog"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--preset", default="small", choices=["small", "reference"])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--length", type=int, default=21)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()
    sizes = SleepSizes.from_options(args.preset)
    print(f"preset {args.preset}, B={args.batch}, L={args.length}, torch {torch.__version__}")
    print("| model | threads | params | sequences/s | epochs/s |")
    print("|---|---|---|---|---|")
    for name in args.models:
        params = sum(p.numel() for p in build_sleep_model(name, sizes, 5, ("eeg", "eog")).parameters())
        for threads in args.threads:
            torch.set_num_threads(threads)
            rate = sequences_per_second(name, sizes, args.batch, args.length, args.steps, args.warmup)
            print(f"| {name} | {threads} | {params:,} | {rate:.1f} | {rate * args.length:.0f} |", flush=True)


if __name__ == "__main__":
    main()
