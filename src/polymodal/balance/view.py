"""The narrow view of a model that a balancing method sees.

A method needs to know the modalities, the sizes of their features and
outputs, to rerun only the fusion head (``fuse``), to read a sum-of-modalities
head's per-modality logits (``modality_logits``), and to reach each
modality's parameter group (``modality_parameters``). It never sees the task,
the trainer or the optimizer: everything else it needs comes in as an
argument (:class:`~polymodal.balance.context.StepContext`, validation metrics).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping

from torch import Tensor, nn

from polymodal.models.classifier import MultimodalClassifier


class ModelView:
    """What a balancer may use of a :class:`~polymodal.models.MultimodalClassifier`."""

    def __init__(self, model: MultimodalClassifier) -> None:
        self._model = model
        self._groups: dict[str, list[nn.Parameter]] = {}

    @property
    def modalities(self) -> tuple[str, ...]:
        return self._model.modalities

    @property
    def unimodal_heads(self) -> tuple[str, ...]:
        """Modalities with a unimodal head (``output.unimodal`` keys)."""
        return tuple(self._model.heads)

    @property
    def num_outputs(self) -> int:
        """Classes, or 1 for scalar regression."""
        return self._model.num_outputs

    @property
    def fusion_name(self) -> str:
        return self._model.fusion.name

    @property
    def feature_dims(self) -> dict[str, int]:
        """Modality → size of its pooled encoder features."""
        return {m: self._model.encoders[m].output_dim for m in self.modalities}

    def fuse(self, features: Mapping[str, Tensor], present: Mapping[str, Tensor] | None = None,
             detach: bool | Collection[str] = ()) -> Tensor:
        """Rerun only the fusion head (see :meth:`MultimodalClassifier.fuse`)."""
        return self._model.fuse(features, present, detach)

    @property
    def additive_fusion(self) -> bool:
        """True when the fusion head is a sum of per-modality terms (it has ``modality_logits``)."""
        return self._model.fusion.is_additive

    def unimodal_head(self, modality: str, features: Tensor) -> Tensor:
        """Modality m's unimodal head applied to ``features`` (e.g. detached ones)."""
        return self._model.heads[modality](features)

    def modality_logits(self, features: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Each modality's additive share of the fused logits (sum-of-modalities heads only)."""
        return self._model.fusion.modality_logits(features)

    def modality_parameters(self, modality: str) -> list[nn.Parameter]:
        """Modality m's group: encoder, unimodal head, its slice of the fusion head (found once)."""
        if modality not in self._groups:
            self._groups[modality] = self._model.modality_parameters(modality)
        return self._groups[modality]

    def encoder_parameters(self, modality: str) -> list[nn.Parameter]:
        """The trainable parameters of modality m's encoder."""
        return [p for p in self._model.encoders[modality].parameters() if p.requires_grad]

    def fusion_parameters(self) -> list[nn.Parameter]:
        """The fusion head's parameters."""
        return list(self._model.fusion.parameters())

    def parameters(self) -> Iterator[nn.Parameter]:
        """Every parameter of the model."""
        return self._model.parameters()
