"""Optimizers and learning-rate schedules of the supervised task.

* ``adamw`` (decoupled weight decay), ``adam`` (L2 weight decay, as the
  balancing references: Adam with ε 1e-7 and weight decay 1e-4), ``sgd``
  (momentum 0.9). Adam-type optimizers normalize each parameter's gradient
  scale, which largely cancels gradient-scaling methods (MLB, OGM-GE, MSLR).
* ``constant`` learning rate, or ``cosine_restarts``: a constant warm phase
  of ``warmup_steps`` optimizer steps, then cosine annealing with warm
  restarts (SGDR, Loshchilov & Hutter, arXiv 1608.03983, Eq. 5) with a first
  period of ``restart_steps`` steps multiplied by ``restart_mult`` after each
  restart — the balancing references' schedule, stepped every optimizer step.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn
from torch.optim.lr_scheduler import ConstantLR, CosineAnnealingWarmRestarts, SequentialLR

from polymodal.errors import PolymodalError

OPTIMIZERS = ("adamw", "adam", "sgd")
SCHEDULES = ("constant", "cosine_restarts")


def check_optimization(optimizer: str, schedule: str, lr: float, weight_decay: float, eps: float,
                       warmup_steps: int, restart_steps: int, restart_mult: int, min_lr: float) -> None:
    """Raise naming the option when one is unknown or out of range."""
    if optimizer not in OPTIMIZERS:
        raise PolymodalError(f"unknown optimizer {optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}")
    if schedule not in SCHEDULES:
        raise PolymodalError(f"unknown lr_schedule {schedule!r}; choose one of: {', '.join(SCHEDULES)}")
    check_rates(lr, weight_decay, min_lr)
    check_ranges({
        "eps": (eps, eps > 0, "> 0"),
        "warmup_steps": (warmup_steps, warmup_steps >= 0, ">= 0"),
        "restart_steps": (restart_steps, restart_steps >= 1, ">= 1"),
        "restart_mult": (restart_mult, restart_mult >= 1, ">= 1"),
    })


def check_rates(lr: float, weight_decay: float, min_lr: float = 0.0) -> None:
    """The learning rate is positive; weight decay and the final learning rate are not negative."""
    check_ranges({
        "lr": (lr, lr > 0, "> 0"),
        "weight_decay": (weight_decay, weight_decay >= 0, ">= 0"),
        "min_lr": (min_lr, min_lr >= 0, ">= 0"),
    })


def check_ranges(ranges: dict[str, tuple[float, bool, str]]) -> None:
    """Raise naming the first option whose value is out of its range (name → (value, in range, rule))."""
    for name, (value, in_range, rule) in ranges.items():
        if not in_range:
            raise PolymodalError(f"{name} must be {rule}, got {value}")


def build_optimizer(parameters: Iterable[nn.Parameter], name: str, lr: float, weight_decay: float,
                    eps: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=0.9, weight_decay=weight_decay)
    cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
    return cls(parameters, lr=lr, weight_decay=weight_decay, eps=eps)


def build_schedule(optimizer: torch.optim.Optimizer, warmup_steps: int, restart_steps: int, restart_mult: int,
                   min_lr: float) -> dict[str, Any]:
    """The warm phase then SGDR, as a Lightning scheduler config stepped every optimizer step."""
    restarts = CosineAnnealingWarmRestarts(optimizer, T_0=restart_steps, T_mult=restart_mult, eta_min=min_lr)
    if warmup_steps:
        warm = ConstantLR(optimizer, factor=1.0, total_iters=warmup_steps)
        restarts = SequentialLR(optimizer, [warm, restarts], milestones=[warmup_steps])
    return {"scheduler": restarts, "interval": "step"}
