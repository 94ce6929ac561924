"""Multimodal classifier: per-modality encoders, a fusion head, unimodal heads.

``f_m`` encodes modality m into ``z_m``; the fusion head ``g`` gives fused
logits ``g(z_1..z_M)``; a separate linear unimodal head ``h_m`` gives
``h_m(z_m)`` (the multi-loss objective of MLB, arXiv 2405.07930, Sec. 3, and
MCR, arXiv 2411.07335). Features of a modality that is absent for a sample
(presence mask False) are zeroed before fusion.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

from torch import Tensor, nn

from polymodal.data.contract import DataInfo
from polymodal.encoders import build_modality_encoders
from polymodal.fusion import build_fusion
from polymodal.fusion.base import FusionHead, FusionSpec
from polymodal.models.output import ModelOutput


class MultimodalClassifier(nn.Module):
    """Encoders + fusion head + per-modality unimodal heads.

    Args:
        encoders: modality → encoder module with an ``output_dim`` attribute.
        fusion: fusion head over the encoders' features.
        num_outputs: classes (1 for scalar regression).
        unimodal_heads: add a linear head per modality.
    """

    def __init__(
        self,
        encoders: Mapping[str, nn.Module],
        fusion: FusionHead,
        num_outputs: int,
        unimodal_heads: bool = True,
    ) -> None:
        super().__init__()
        self.modalities = tuple(encoders)
        self.encoders = nn.ModuleDict(encoders)
        self.fusion = fusion
        self.num_outputs = num_outputs
        self.heads = nn.ModuleDict(
            {m: nn.Linear(enc.output_dim, num_outputs) for m, enc in encoders.items()} if unimodal_heads else {}
        )

    @classmethod
    def from_info(
        cls,
        info: DataInfo,
        encoder: str | Mapping[str, str] = "mlp",
        fusion: FusionSpec = "late",
        encoder_options: Mapping[str, Any] | None = None,
        fusion_options: Mapping[str, Any] | None = None,
        unimodal_heads: bool = True,
    ) -> MultimodalClassifier:
        """Size encoders from the data: one encoder per modality in ``info``.

        ``encoder`` is one name for all modalities or a modality → name map;
        ``encoder_options`` likewise holds shared options, or per-modality
        options under the modality's name.
        """
        encoders = build_modality_encoders(info, encoder, encoder_options)
        num_outputs = info.num_classes or 1
        head = build_fusion(fusion, {m: e.output_dim for m, e in encoders.items()}, num_outputs,
                            **dict(fusion_options or {}))
        return cls(encoders, head, num_outputs, unimodal_heads)

    def encode(self, inputs: Mapping[str, Tensor], present: Mapping[str, Tensor] | None = None) -> dict[str, Tensor]:
        """Pooled features per modality; absent samples' features are zeroed."""
        features = {}
        for m in self.modalities:
            z = self.encoders[m](inputs[m])
            if present is not None and m in present:
                z = z * present[m].reshape(-1, *([1] * (z.dim() - 1))).to(z.dtype)
            features[m] = z
        return features

    def fuse(
        self,
        features: Mapping[str, Tensor],
        present: Mapping[str, Tensor] | None = None,
        detach: bool | Collection[str] = (),
    ) -> Tensor:
        """Run only the fusion head, optionally on detached features.

        ``detach=True`` detaches every modality; a collection detaches the
        named ones (so the gradient reaches only the others' encoders; used by
        MCR's per-player game and AGM's estimators).
        """
        names = set(self.modalities) if detach is True else set(detach or ())
        feats = {m: (z.detach() if m in names else z) for m, z in features.items()}
        return self.fusion(feats, present)

    def forward(self, inputs: Mapping[str, Tensor], present: Mapping[str, Tensor] | None = None) -> ModelOutput:
        features = self.encode(inputs, present)
        return ModelOutput(
            logits=self.fuse(features, present),
            unimodal={m: head(features[m]) for m, head in self.heads.items()},
            features=features,
        )

    def modality_parameters(self, modality: str) -> list[nn.Parameter]:
        """Modality m's group: encoder, unimodal head, its slice of the fusion head."""
        params = list(self.encoders[modality].parameters())
        if modality in self.heads:
            params += list(self.heads[modality].parameters())
        return params + self.fusion.modality_parameters(modality)

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters in no modality's group (shared fusion parameters)."""
        owned = {id(p) for m in self.modalities for p in self.modality_parameters(m)}
        return (p for p in self.parameters() if id(p) not in owned)

