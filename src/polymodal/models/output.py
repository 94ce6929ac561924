"""The structured output of the supervised classifier (:class:`~polymodal.models.MultimodalClassifier`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor


@dataclass
class ModelOutput:
    """What a multimodal classifier computes for one batch.

    Attributes:
        logits: fused prediction ``[B, C]`` (``[B, 1]`` for regression).
        unimodal: modality → its unimodal head's prediction ``[B, C]``.
        features: modality → pooled encoder features ``[B, D_m]`` (the input of
            the fusion head; absent modalities are zeroed).
    """

    logits: Tensor
    unimodal: dict[str, Tensor] = field(default_factory=dict)
    features: dict[str, Tensor] = field(default_factory=dict)
