"""The structured output every model returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor


@dataclass
class ModelOutput:
    """What a multimodal model computes for one batch.

    Attributes:
        logits: fused prediction ``[B, C]`` (``[B, 1]`` for regression).
        unimodal: modality → its unimodal head's prediction ``[B, C]``.
        features: modality → pooled encoder features ``[B, D_m]`` (the input of
            the fusion head; absent modalities are zeroed).
        tokens: optional modality → token features ``[B, T, D]``.
        embeddings: optional named embeddings (contrastive models).
    """

    logits: Tensor
    unimodal: dict[str, Tensor] = field(default_factory=dict)
    features: dict[str, Tensor] = field(default_factory=dict)
    tokens: dict[str, Tensor] | None = None
    embeddings: dict[str, Tensor] | None = None
