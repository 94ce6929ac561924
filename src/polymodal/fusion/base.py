"""The fusion-head interface and its registry.

A fusion head maps per-modality pooled features ``{m: [B, D_m]}`` to fused
outputs ``[B, C]``. Heads are built with ``cls(feature_dims, num_outputs,
**options)`` and work for any number of modalities ≥ 2. A head that keeps
parameters belonging to one modality only (the modality's slice of a linear
layer) returns them from :meth:`FusionHead.modality_parameters` so that
balancing methods can scale that modality's gradients by group.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from torch import Tensor, nn

from polymodal.errors import PolymodalError
from polymodal.components import Component, build_component
from polymodal.registry import Registry


class FusionHead(Component, nn.Module):
    """Base class of fusion heads: a component (:mod:`polymodal.components`) whose sizes come from the data.

    Args:
        feature_dims: modality → feature size ``D_m``, in a fixed order.
        num_outputs: classes (or regression outputs).
    """

    name: str = "fusion"
    supplied_args = ("feature_dims", "num_outputs")

    def __init__(self, feature_dims: Mapping[str, int], num_outputs: int) -> None:
        super().__init__()
        if len(feature_dims) < 1:
            raise PolymodalError(f"{self.name} fusion needs at least one modality")
        self.feature_dims = dict(feature_dims)
        self.modalities = tuple(feature_dims)
        self.num_outputs = num_outputs

    def forward(self, features: Mapping[str, Tensor], present: Mapping[str, Tensor] | None = None) -> Tensor:
        raise NotImplementedError

    def modality_parameters(self, modality: str) -> list[nn.Parameter]:
        """Parameters that act on ``modality`` only (empty for fully shared heads)."""
        return []

    @property
    def is_additive(self) -> bool:
        """True for heads whose output is a sum of per-modality terms (they define :meth:`modality_logits`)."""
        return type(self).modality_logits is not FusionHead.modality_logits

    def modality_logits(self, features: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Each modality's additive contribution to the fused logits.

        Defined only for heads whose output is a sum over modalities (late
        linear, logit sum); methods such as OGM-GE need it.
        """
        raise PolymodalError(
            f"{self.name} fusion is not a sum of per-modality terms, so it has no per-modality logits; "
            f"use fusion 'late' or 'logit_sum'"
        )


FUSIONS: Registry[type[FusionHead]] = Registry("fusion")


FusionSpec = str | Callable[[Mapping[str, int], int], FusionHead]
"""A fusion head as a task accepts it: a registry name or import path (with ``fusion_options``), or a
factory taking the feature sizes and the number of outputs (``--model.fusion CLASS --model.fusion.OPTION
V``). A ``{class_path, init_args}`` mapping — what checkpoints store — is accepted too."""


def build_fusion(spec: FusionSpec, feature_dims: Mapping[str, int], num_outputs: int, **options: Any) -> FusionHead:
    """The fusion head ``spec`` names, over ``feature_dims``; an unknown option is an error naming it."""
    return build_component(spec, FUSIONS, FusionHead, dict(feature_dims), num_outputs, what="fusion", **options)
