"""Training-step time of each balancing method relative to joint training.

Every method runs on the same model architecture (same seed), the same batch
and the same optimizer; one step = forward, the method's loss, its per-term
gradients (MMPareto), the backward pass, its once-per-step gradient change
(``Balancer.step``) and an AdamW step — the hooks
:class:`~polymodal.tasks.SupervisedTask` calls, on one process. Methods are timed in interleaved rounds
(one step of each in turn, rotating the order) so that machine load affects them alike; the median step time is reported as
a ratio to ``joint``. Targets: MLB and OGM-GE ≤ 1.10×, MCR (P = 32) ≤ 2.0×.

Usage::

    python benchmarks/balance_speed.py [--batch 64] [--hidden 256] [--steps 30] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from polymodal.balance import ModelView, StepContext, build_balancer
from polymodal.data.contract import DataInfo
from polymodal.models.classifier import MultimodalClassifier

METHODS: dict[str, tuple[str, dict, str]] = {  # row label → (method, options, fusion)
    "joint": ("joint", {}, "late"),
    "multiloss": ("multiloss", {}, "late"),
    "mlb": ("mlb", {"alpha": 0.8}, "late"),
    "ogm_ge": ("ogm_ge", {"alpha": 0.8}, "late"),
    "ogm (no GE)": ("ogm_ge", {"alpha": 0.8, "ge": False}, "late"),
    "agm": ("agm", {}, "late"),
    "mslr": ("mslr", {}, "late"),
    "pmr": ("pmr", {}, "late"),
    "mmcosine": ("mmcosine", {}, "cosine"),
    "mmpareto": ("mmpareto", {}, "late"),
    "mcr": ("mcr", {"permutations": 32}, "late"),
    "mcr (PD only)": ("mcr", {"permutations": 32, "lambda_con": 0.0, "lambda_ceb": 0.0}, "late"),
    "joint/mid_mlp": ("joint", {}, "mid_mlp"),
    "mcr/mid_mlp": ("mcr", {"permutations": 32}, "mid_mlp"),
}
"""Ratios are to ``joint`` with the same fusion head (late, or mid-MLP for the ``/mid_mlp`` rows)."""
TARGETS = {"mlb": 1.10, "ogm_ge": 1.10, "mcr": 2.0}


def build(label: str, info: DataInfo, hidden: int):
    method, options, fusion = METHODS[label]
    torch.manual_seed(0)
    model = MultimodalClassifier.from_info(info, fusion=fusion, encoder_options={"hidden_dim": hidden, "dropout": 0.0})
    balancer = build_balancer(method, **options)
    view = ModelView(model)
    balancer.setup(view)
    optimizer = torch.optim.AdamW(list(model.parameters()) + list(balancer.parameters()), lr=1e-3)
    return model, view, balancer, optimizer


def train_step(model, view, balancer, optimizer, batch) -> None:
    optimizer.zero_grad(set_to_none=True)
    context = StepContext()
    output = model(batch["inputs"], batch["present"])
    result = balancer.loss(output, batch, view, context)
    statistics = {**result.statistics, **balancer.term_gradients(result.terms, view)}
    result.total.backward()
    balancer.step(statistics, view, context)
    optimizer.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--input-dim", type=int, default=512)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--modalities", type=int, default=2)
    parser.add_argument("--steps", type=int, default=30, help="timed steps per method per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    names = [f"m{i}" for i in range(args.modalities)]
    info = DataInfo(tuple(names), {m: (args.input_dim,) for m in names}, args.classes)
    g = torch.Generator().manual_seed(0)
    batch = {
        "inputs": {m: torch.randn(args.batch, args.input_dim, generator=g) for m in names},
        "target": torch.randint(0, args.classes, (args.batch,), generator=g),
        "present": {m: torch.ones(args.batch, dtype=torch.bool) for m in names},
    }
    runs = {label: build(label, info, args.hidden) for label in METHODS}
    times: dict[str, list[float]] = {label: [] for label in METHODS}
    for run in runs.values():  # warm-up
        for _ in range(3):
            train_step(*run, batch)
    labels = list(runs)
    for turn in range(args.rounds * args.steps):  # round-robin, one step per method, rotating the order
        shift = turn % len(labels)
        for label in labels[shift:] + labels[:shift]:
            start = time.perf_counter()
            train_step(*runs[label], batch)
            times[label].append(time.perf_counter() - start)

    baseline = {"late": "joint", "cosine": "joint", "mid_mlp": "joint/mid_mlp"}
    print(f"batch {args.batch}, {args.modalities} modalities, MLP {args.input_dim}->{args.hidden}x2, "
          f"{args.threads} thread(s); median over {args.rounds}x{args.steps} steps")
    print(f"{'method':<14} {'ms/step':>8} {'× joint':>8} {'target':>8}")
    for label in METHODS:
        median = statistics.median(times[label])
        base = statistics.median(times[baseline[METHODS[label][2]]])
        target = f"≤{TARGETS[label]:.2f}" if label in TARGETS else ""
        print(f"{label:<14} {1e3 * median:8.2f} {median / base:8.2f} {target:>8}")


if __name__ == "__main__":
    main()
