"""Baselines of CoRe-Sleep (arXiv 2304.06485, Sec. 4.2): early, mid-late and unimodal models.

- ``early``: one SleepTransformer over the concatenated frame tokens of both
  modalities (one stream each, with stream embeddings); absent streams are
  hidden as keys, so it stages any epoch with at least one modality.
- ``midlate``: two independent SleepTransformers; their epoch outputs are
  summed (an absent modality contributes zero) and fed to one head.
- ``unimodal``: one modality's SleepTransformer and head (the task also
  takes a modality's name, e.g. ``eeg``, for the unimodal model over it).

Each is built over the modalities of the data (batch keys).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from polymodal.encoders.sleep_transformer import SleepSizes, SleepTransformer
from polymodal.errors import PolymodalError
from polymodal.models.sleep_head import StageHead
from polymodal.models.sleep_output import SleepOutput, epoch_masks
from polymodal.models.sleep_registry import SLEEP_MODELS, UNIMODAL


def _head(sizes: SleepSizes, num_classes: int) -> StageHead:
    return StageHead(sizes.d_model, sizes.head_hidden, num_classes, sizes.dropout)


@SLEEP_MODELS.register("early")
class EarlyFusionSleep(nn.Module):
    """One transformer over ``[CLS; frames of a; frames of b]`` per epoch, then over epochs."""

    auxiliary_losses = False

    def __init__(self, sizes: SleepSizes, num_classes: int, modalities: Sequence[str]) -> None:
        super().__init__()
        self.sizes = sizes
        self.modalities = tuple(modalities)
        self.encoder = SleepTransformer(sizes, streams=len(self.modalities))
        self.head = _head(sizes, num_classes)

    def forward(self, inputs: Mapping[str, Tensor], present: Mapping[str, Tensor] | None = None) -> SleepOutput:
        masks = epoch_masks(inputs, present, self.modalities, self.sizes)
        encoding = self.encoder([inputs[m] for m in self.modalities], [masks[m] for m in self.modalities])
        return SleepOutput(logits=self.head(encoding.epochs), fused_mask=encoding.present)


@SLEEP_MODELS.register("midlate")
class MidLateFusionSleep(nn.Module):
    """Independent encoders; the sum of the present modalities' epoch outputs feeds one head."""

    auxiliary_losses = False

    def __init__(self, sizes: SleepSizes, num_classes: int, modalities: Sequence[str]) -> None:
        super().__init__()
        self.sizes = sizes
        self.modalities = tuple(modalities)
        self.encoders = nn.ModuleDict({m: SleepTransformer(sizes) for m in self.modalities})
        self.head = _head(sizes, num_classes)

    def forward(self, inputs: Mapping[str, Tensor], present: Mapping[str, Tensor] | None = None) -> SleepOutput:
        masks = epoch_masks(inputs, present, self.modalities, self.sizes)
        summed = sum(
            torch.where(masks[m][..., None], self.encoders[m]([inputs[m]], [masks[m]]).epochs, 0.0)
            for m in self.modalities
        )
        fused_mask = torch.stack([masks[m] for m in self.modalities]).any(dim=0)
        return SleepOutput(logits=self.head(summed), fused_mask=fused_mask)


@SLEEP_MODELS.register(UNIMODAL)
class UnimodalSleep(nn.Module):
    """One modality's SleepTransformer and head; it stages the epochs where that modality is present."""

    auxiliary_losses = False

    def __init__(self, sizes: SleepSizes, num_classes: int, modalities: Sequence[str]) -> None:
        super().__init__()
        if len(modalities) != 1:
            raise PolymodalError(f"model {UNIMODAL!r} stages from one modality; the data has {len(modalities)} "
                                 f"({', '.join(modalities)}): name one as the model or choose it with --data.modalities")
        self.sizes = sizes
        (modality,) = modalities
        self.modality = modality
        self.modalities = (modality,)
        self.encoder = SleepTransformer(sizes)
        self.head = _head(sizes, num_classes)

    def forward(self, inputs: Mapping[str, Tensor], present: Mapping[str, Tensor] | None = None) -> SleepOutput:
        mask = epoch_masks(inputs, present, (self.modality,), self.sizes)[self.modality]
        encoding = self.encoder([inputs[self.modality]], [mask])
        return SleepOutput(logits=self.head(encoding.epochs), fused_mask=mask)

