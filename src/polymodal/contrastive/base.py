"""The contrastive-objective interface, the embeddings it reads, and its registry.

A :class:`ContrastiveModel <polymodal.models.contrastive.ContrastiveModel>`
turns a batch into :class:`Embeddings`: one L2-normalized embedding per
modality, fused-pair embeddings where the model has pair heads, and a joint
embedding of all modalities where the objective asks for one. An objective
turns those into named loss terms (summed and logged by the task) and says how
retrieval scores a pair of modalities against a third, so that evaluation uses
the similarity the objective trained.

Objectives are built with ``cls(modalities, **options)``; unknown names and
options raise :class:`~polymodal.errors.PolymodalError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from polymodal.errors import PolymodalError
from polymodal.registry import Registry

Pair = tuple[str, str]


@dataclass
class Embeddings:
    """Embeddings of one batch, each ``[B, E]``.

    Attributes:
        unimodal: modality → normalized projection of its encoder output.
        fused: (i, j) → normalized fused-pair embedding (models with pair heads).
        joint: normalized embedding of all modalities together (CoMM).
        augmented: the same batch embedded from a second augmented view (CoMM).
    """

    unimodal: dict[str, Tensor]
    fused: dict[Pair, Tensor] = field(default_factory=dict)
    joint: Tensor | None = None
    augmented: Embeddings | None = None

    def apply(self, fn: Callable[[Tensor], Tensor]) -> Embeddings:
        """The same embeddings with ``fn`` applied to every tensor (e.g. gathering over processes)."""
        return Embeddings(
            {m: fn(z) for m, z in self.unimodal.items()},
            {p: fn(z) for p, z in self.fused.items()},
            None if self.joint is None else fn(self.joint),
            None if self.augmented is None else self.augmented.apply(fn),
        )

    def fused_or_none(self, pair: Pair) -> Tensor | None:
        """The fused embedding of ``pair`` in either order, or None without a head."""
        if pair in self.fused:
            return self.fused[pair]
        return self.fused.get((pair[1], pair[0]))

    def pair_query(self, pair: Pair) -> Tensor:
        """The pair's fused embedding, else ``normalize(z_i + z_j)`` (the spec's baseline query)."""
        fused = self.fused_or_none(pair)
        if fused is not None:
            return fused
        return F.normalize(self.unimodal[pair[0]] + self.unimodal[pair[1]], dim=-1)


class LogitScale(nn.Module):
    """The inverse temperature ``1/τ``, fixed or learned in log space.

    CLIP (arXiv 2103.00020, Sec. 2.5) learns ``log(1/τ)`` from ``1/0.07`` and
    clamps the scale at 100 to keep training stable; the same clamp is used here.
    """

    def __init__(self, temperature: float = 0.07, learnable: bool = False, max_scale: float = 100.0) -> None:
        super().__init__()
        if not temperature > 0:
            raise PolymodalError(f"temperature must be > 0, got {temperature}")
        value = torch.tensor(math.log(1.0 / temperature))
        if learnable:
            self.log_scale = nn.Parameter(value)
        else:
            self.register_buffer("log_scale", value)
        self.max_scale = max_scale

    def forward(self) -> Tensor:
        return self.log_scale.exp().clamp(max=self.max_scale)


class ContrastiveObjective(nn.Module):
    """Base class of contrastive objectives (an ``nn.Module`` so a learnable
    temperature is trained and checkpointed with the model).

    Subclasses implement :meth:`loss` and may override :meth:`pair_scores`
    (retrieval with the objective's own similarity), :meth:`embed` (objectives
    that need augmented views), :attr:`fused_pairs` and :attr:`needs_joint`
    (the heads the model must build).

    Args:
        modalities: the data's modality names, in order.
    """

    name: ClassVar[str] = "objective"
    min_modalities: ClassVar[int] = 2
    max_modalities: ClassVar[int | None] = None
    needs_joint: ClassVar[bool] = False

    def __init__(self, modalities: Sequence[str]) -> None:
        super().__init__()
        self.modalities = tuple(modalities)
        count = len(self.modalities)
        if count < self.min_modalities or (self.max_modalities is not None and count > self.max_modalities):
            allowed = (f"exactly {self.min_modalities}" if self.max_modalities == self.min_modalities
                       else f"at least {self.min_modalities}")
            raise PolymodalError(f"objective {self.name!r} needs {allowed} modalities, got {count}: "
                                 f"{', '.join(self.modalities)}")

    @property
    def fused_pairs(self) -> tuple[Pair, ...]:
        """Pairs whose fused heads the model must build (none by default)."""
        return ()

    def embed(self, model: nn.Module, inputs: Mapping[str, Tensor]) -> Embeddings:
        """Embed a training batch (objectives with augmented views override this)."""
        return model(inputs)

    def loss(self, embeddings: Embeddings) -> dict[str, Tensor]:
        """Named loss terms; their sum is the training loss."""
        raise NotImplementedError

    def pair_scores(self, first: Tensor, second: Tensor, fused: Tensor | None, candidates: Tensor) -> Tensor:
        """Scores ``[n, N]`` of query pairs ``(first_i, second_i)`` against each candidate.

        Default: the fused embedding (or ``normalize(first + second)`` without
        a head) dotted with the candidates.
        """
        query = fused if fused is not None else F.normalize(first + second, dim=-1)
        return query @ candidates.T


OBJECTIVES: Registry[type[ContrastiveObjective]] = Registry("objective")


def all_pairs(modalities: Sequence[str]) -> list[Pair]:
    """Unordered pairs ``(i, j)`` with i before j in ``modalities``."""
    return list(combinations(modalities, 2))


def build_objective(name: str, modalities: Sequence[str], **options) -> ContrastiveObjective:
    """Instantiate the objective registered as ``name``; unknown options raise."""
    cls = OBJECTIVES.get(name)
    try:
        return cls(modalities, **options)
    except TypeError as err:
        raise PolymodalError(f"objective {name!r}: {err}") from None
