"""Evaluation across processes: each sample scored exactly once.

Lightning pads evaluation shards under DDP (``DistributedSampler`` repeats
samples so every process gets as many), which would count some samples
twice in retrieval and pooled metrics. Evaluation loaders here use
Lightning's ``UnrepeatedDistributedSampler`` instead (shards differ by at most
one sample); the metrics' states are then reduced over the processes by
torchmetrics (sums, or lists of per-sample values concatenated across
processes: :mod:`polymodal.eval.embeddings`). A training loader that asks for
no shuffling keeps its order under DDP (:func:`ordered_training_sampler`).
Both samplers are None on one process.
"""

from __future__ import annotations

import torch.distributed as dist
from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler
from torch.utils.data import Dataset, DistributedSampler, Sampler


def is_distributed() -> bool:
    """True inside an initialized process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def evaluation_sampler(dataset: Dataset) -> Sampler | None:
    """A sampler giving each process a disjoint, unpadded shard in order (None on one process)."""
    return UnrepeatedDistributedSampler(dataset, shuffle=False) if is_distributed() else None


def ordered_training_sampler(dataset: Dataset) -> Sampler | None:
    """Equal, unshuffled shards for training (Lightning would shuffle a training loader it shards itself)."""
    return DistributedSampler(dataset, shuffle=False) if is_distributed() else None

