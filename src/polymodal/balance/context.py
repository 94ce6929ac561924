"""What a balancing method receives with each batch: the engine's collectives and randomness.

Under DDP every process sees one shard of the global batch. Terms that take
other samples of the batch as negatives or permutation partners (MCR's
permutation divergence and contrastive term) or that compute batch
statistics used in the forward pass (AGM's scores) must see the global
batch; :class:`StepContext` gives them that without their knowing about the
engine:

* :meth:`StepContext.gather` concatenates a tensor over the processes, with
  gradients flowing back to each owner (identity on one process);
* :meth:`StepContext.mean` averages a tensor over the processes;
* :meth:`StepContext.generator` is a random generator seeded identically on
  every process for the current optimizer step, so random choices that
  index into the gathered batch (permutations) or change gradients
  (OGM-GE's noise) are the same everywhere.

Within one optimizer step, every micro-batch of gradient accumulation gets
the same generator seed, exactly as every process does under DDP: a method
whose terms are per micro-batch therefore computes under accumulation what
it computes under DDP without gathering.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor


def _identity(tensor: Tensor) -> Tensor:
    return tensor


def step_generator(seed: int, step: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A generator whose state depends only on ``(seed, step)``."""
    generator = torch.Generator(device=device)
    generator.manual_seed((seed * 1_000_003 + step) % (2**63 - 1))
    return generator


@dataclass
class StepContext:
    """Collectives and randomness for one training or evaluation batch (defaults: one process).

    Attributes:
        training: True for a training batch.
        gather: tensor ``[b, ...]`` → ``[world·b, ...]``, differentiable.
        mean: tensor → its mean over the processes.
        seed: the run's seed.
        step: the optimizer step this batch belongs to.
    """

    training: bool = True
    gather: Callable[[Tensor], Tensor] = _identity
    mean: Callable[[Tensor], Tensor] = _identity
    seed: int = 0
    step: int = 0

    def generator(self, device: torch.device | str = "cpu") -> torch.Generator:
        """A generator on ``device`` shared by all processes (and micro-batches) of this step."""
        return step_generator(self.seed, self.step, device)
