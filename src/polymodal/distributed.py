"""Evaluation across processes: each sample scored exactly once, results gathered.

Lightning pads evaluation shards under DDP (``DistributedSampler`` repeats
samples so every process gets as many), which would count some samples
twice in retrieval and pooled metrics. Evaluation loaders here use
Lightning's ``UnrepeatedDistributedSampler`` instead (shards differ by at most
one sample), and :func:`gather_uneven` concatenates per-process results of
different lengths. A training loader that asks for no shuffling keeps its
order under DDP (:func:`ordered_training_sampler`). All are the identity on
one process.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler
from torch import Tensor
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


def gather_uneven(tensor: Tensor) -> Tensor:
    """Concatenate every process's ``[n_r, ...]`` tensor along dim 0, in rank order (no gradient)."""
    if not is_distributed():
        return tensor
    world = dist.get_world_size()
    size = torch.tensor([tensor.shape[0]], device=tensor.device)
    sizes = [torch.zeros_like(size) for _ in range(world)]
    dist.all_gather(sizes, size)
    longest = int(max(s.item() for s in sizes))
    padded = torch.zeros((longest, *tensor.shape[1:]), dtype=tensor.dtype, device=tensor.device)
    padded[: tensor.shape[0]] = tensor
    parts = [torch.empty_like(padded) for _ in range(world)]
    dist.all_gather(parts, padded.contiguous())
    return torch.cat([part[: int(s.item())] for part, s in zip(parts, sizes)])
