"""The contrastive-objective interface, the embeddings it reads, and its registry.

A :class:`ContrastiveModel <polymodal.models.contrastive.ContrastiveModel>`
turns a batch into :class:`Embeddings`: one L2-normalized embedding per
modality, fused-pair embeddings where the model has pair heads, and a joint
embedding of all modalities where the objective asks for one. An objective
turns those into named loss terms (summed and logged by the task) and says how
retrieval scores a pair of modalities against a third, so that evaluation uses
the similarity the objective trained.

Objectives are built with ``cls(modalities, **options)``; unknown names and
options raise :class:`~polymodal.errors.PolymodalError`. Calling an
objective works on plain tensors, without a model::

    objective = Symile(["audio", "image", "caption"])
    terms = objective({"audio": za, "image": zi, "caption": zc})   # each [B, E]
    loss = sum(terms.values())

The mapping holds one ``[B, E]`` embedding per modality and, for objectives
that train learnable fusion outputs, those outputs explicitly: ``(i, j)`` →
the fused embedding of a pair (ConFu; either order), ``"joint"`` → the joint
embedding of all modalities and ``"augmented"`` → a mapping of the same form
for a second augmented view (CoMM). An :class:`Embeddings` is accepted as
well. Every embedding is L2-normalized before the loss (the objectives are
defined on the unit sphere; normalized inputs are unchanged); a missing or
unknown entry, or embeddings of different shapes, raise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import combinations
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from polymodal.errors import PolymodalError
from polymodal.components import Component, build_component
from polymodal.registry import Registry

Pair = tuple[str, str]
JOINT = "joint"
"""The mapping entry of the joint embedding of all modalities."""
AUGMENTED = "augmented"
"""The mapping entry of a second augmented view (a mapping of the same form)."""


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

    def named(self) -> Iterator[tuple[str, Tensor]]:
        """Every embedding of this view and of the augmented one, with a display name."""
        yield from self.unimodal.items()
        yield from (("+".join(p), z) for p, z in self.fused.items())
        if self.joint is not None:
            yield JOINT, self.joint
        if self.augmented is not None:
            yield from ((f"{AUGMENTED}/{name}", z) for name, z in self.augmented.named())

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


class ContrastiveObjective(Component, nn.Module):
    """Base class of contrastive objectives (an ``nn.Module`` so a learnable
    temperature is trained and checkpointed with the model).

    Calling the objective on an :class:`Embeddings` or on a mapping of plain
    tensors (see the module docstring) checks and normalizes the embeddings
    and returns :meth:`loss`'s named terms.

    Subclasses implement :meth:`loss` and may override :meth:`pair_scores`
    (retrieval with the objective's own similarity), :meth:`embed` (objectives
    that need augmented views, with :attr:`needs_augmented`), :attr:`fused_pairs`
    and :attr:`needs_joint` (the heads the model must build).

    Args:
        modalities: the data's modality names, in order.
    """

    name: ClassVar[str] = "objective"
    supplied_args = ("modalities",)
    min_modalities: ClassVar[int] = 2
    max_modalities: ClassVar[int | None] = None
    needs_joint: ClassVar[bool] = False
    needs_augmented: ClassVar[bool] = False

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

    def forward(self, embeddings: Embeddings | Mapping[str | Pair, Any]) -> dict[str, Tensor]:
        """Named loss terms of a batch of embeddings; their sum is the training loss."""
        given = as_embeddings(embeddings, self.modalities)
        self.check(given)
        return self.loss(given.apply(partial(F.normalize, dim=-1)))

    def check(self, embeddings: Embeddings, view: str = "") -> None:
        """Raise naming the first embedding the objective needs and ``embeddings`` lacks, or a shape mismatch."""
        where = f" of the {view} view" if view else ""
        missing = [m for m in self.modalities if m not in embeddings.unimodal]
        if missing:
            raise PolymodalError(f"objective {self.name!r} needs the embedding of every modality; "
                                 f"{missing[0]!r}{where} is missing")
        absent = [p for p in self.fused_pairs if embeddings.fused_or_none(p) is None]
        if absent:
            raise PolymodalError(f"objective {self.name!r} needs the fused embedding of the pair {absent[0]}{where} "
                                 f"(the output of a fusion head)")
        if self.needs_joint and embeddings.joint is None:
            raise PolymodalError(f"objective {self.name!r} needs the {JOINT!r} embedding of all modalities{where}")
        if self.needs_augmented and not view:
            if embeddings.augmented is None:
                raise PolymodalError(f"objective {self.name!r} needs a second view ({AUGMENTED!r})")
            self.check(embeddings.augmented, AUGMENTED)
        shapes = {name: tuple(z.shape) for name, z in embeddings.named()}
        first = next(iter(shapes.values()))
        odd = next((name for name, shape in shapes.items() if len(shape) != 2 or shape != first), None)
        if odd is not None:
            raise PolymodalError(f"embeddings must all be [B, E] of one shape; {odd!r} is {list(shapes[odd])}, "
                                 f"{next(iter(shapes))!r} is {list(first)}")

    def loss(self, embeddings: Embeddings) -> dict[str, Tensor]:
        """Named loss terms of checked, normalized embeddings; their sum is the training loss."""
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


def canonical_pair(pair: tuple, modalities: Sequence[str]) -> Pair:
    """``pair`` with its two modalities in data order; anything else raises."""
    if len(pair) != 2 or pair[0] == pair[1] or any(m not in modalities for m in pair):
        raise PolymodalError(f"fused pair {pair} must name two different modalities of: {', '.join(modalities)}")
    first, second = sorted(pair, key=list(modalities).index)
    return first, second


def as_embeddings(value: Embeddings | Mapping[str | Pair, Any], modalities: Sequence[str]) -> Embeddings:
    """``value`` as :class:`Embeddings` with fused pairs keyed in data order.

    A mapping holds modality → ``[B, E]``, ``(i, j)`` → fused-pair embedding,
    :data:`JOINT` → joint embedding and :data:`AUGMENTED` → a mapping of the
    same form for a second view (a modality of either name takes the key);
    other keys and values that are not tensors raise.
    """
    if isinstance(value, Embeddings):
        unimodal, fused, joint, augmented = value.unimodal, value.fused, value.joint, value.augmented
    elif isinstance(value, Mapping):
        unimodal, fused, joint, augmented = {}, {}, None, None
        for key, z in value.items():
            if key == AUGMENTED and key not in modalities:
                augmented = z
                continue
            if not isinstance(z, Tensor):
                raise PolymodalError(f"embedding {key!r} must be a tensor, got {type(z).__name__}")
            if isinstance(key, tuple):
                fused[key] = z
            elif key in modalities:
                unimodal[key] = z
            elif key == JOINT:
                joint = z
            else:
                raise PolymodalError(f"unknown embedding {key!r}; expected a modality ({', '.join(modalities)}), "
                                     f"a pair (i, j), {JOINT!r} or {AUGMENTED!r}")
    else:
        raise PolymodalError(f"embeddings must be a mapping or an Embeddings, got {type(value).__name__}")
    pairs = {canonical_pair(p, modalities): z for p, z in fused.items()}
    if len(pairs) != len(fused):
        raise PolymodalError(f"a fused pair is given in both orders: {', '.join(map(str, fused))}")
    return Embeddings(dict(unimodal), pairs, joint, None if augmented is None else as_embeddings(augmented, modalities))


ObjectiveSpec = str | Callable[[Sequence[str]], ContrastiveObjective]
"""An objective as a task accepts it: a registry name or import path (with ``objective_options``), or a
factory taking the modality names (``--model.objective ConFu --model.objective.fused_weight 0.5``). A
``{class_path, init_args}`` mapping — what checkpoints store — is accepted too."""


def build_objective(spec: ObjectiveSpec, modalities: Sequence[str], **options: Any) -> ContrastiveObjective:
    """The objective ``spec`` names, over ``modalities``; unknown options raise."""
    return build_component(spec, OBJECTIVES, ContrastiveObjective, tuple(modalities), what="objective", **options)
