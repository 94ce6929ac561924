"""Outputs of the sleep-staging models, presence masks, and fallback inference.

CoRe-Sleep (arXiv 2304.06485, Sec. 3.3) predicts with the fused head where
both modalities are present and with the available unimodal head elsewhere;
:func:`predict` applies that rule per epoch, for every sleep model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from polymodal.encoders.sleep_transformer import SleepSizes
from polymodal.errors import PolymodalError


@dataclass
class SleepOutput:
    """Per-epoch predictions of a sleep model for a batch of sequences.

    Attributes:
        logits: ``[B, L, C]`` the main (fused) head.
        fused_mask: ``[B, L]`` epochs on which ``logits`` may be used and trained
            (CoRe-Sleep: both modalities present; early / mid-late fusion: any).
        unimodal: modality → ``[B, L, C]`` its unimodal head.
        embeddings: modality → ``[B, L, D]`` unimodal epoch embeddings (aligned by CoRe-Sleep).
    """

    logits: Tensor
    fused_mask: Tensor
    unimodal: dict[str, Tensor] = field(default_factory=dict)
    embeddings: dict[str, Tensor] = field(default_factory=dict)


def epoch_masks(
    inputs: Mapping[str, Tensor], present: Mapping[str, Tensor] | None, modalities: Sequence[str], sizes: SleepSizes
) -> dict[str, Tensor]:
    """Check each modality's ``[B, L, frames, bins]`` input and return its ``[B, L]`` presence mask.

    A missing mask means present everywhere; a per-sequence ``[B]`` mask
    applies to every epoch of the sequence.
    """
    masks = {}
    for m in modalities:
        if m not in inputs:
            raise PolymodalError(f"the batch has no modality {m!r}; it has: {', '.join(inputs)}")
        x = inputs[m]
        expected = (sizes.num_frames, sizes.num_bins)
        if x.dim() != 4 or tuple(x.shape[2:]) != expected:
            raise PolymodalError(
                f"input {m!r} has shape {tuple(x.shape)}; expected [B, L, {expected[0]}, {expected[1]}]"
            )
        mask = (present or {}).get(m)
        if mask is None:
            mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
        if mask.dtype != torch.bool:
            raise PolymodalError(f"presence mask of {m!r} has dtype {mask.dtype}; expected torch.bool")
        if mask.dim() == 1:
            mask = mask[:, None].expand(x.shape[:2])
        if tuple(mask.shape) != tuple(x.shape[:2]):
            raise PolymodalError(f"presence mask of {m!r} has shape {tuple(mask.shape)}; expected {tuple(x.shape[:2])}")
        masks[m] = mask
    return masks


def predict(output: SleepOutput, present: Mapping[str, Tensor]) -> Tensor:
    """Per-epoch class probabilities ``[B, L, C]``.

    The fused head where ``output.fused_mask`` holds, else the unimodal head
    of a present modality (in the order of ``output.unimodal``). An epoch that
    no head covers raises: the model cannot stage it.
    """
    probs = output.logits.softmax(dim=-1)
    covered = output.fused_mask
    for m, logits in output.unimodal.items():
        fallback = present[m] & ~covered
        probs = torch.where(fallback[..., None], logits.softmax(dim=-1), probs)
        covered = covered | present[m]
    if not bool(covered.all()):
        missing = int((~covered).sum())
        heads = ", ".join(output.unimodal) or "none"
        raise PolymodalError(
            f"{missing} epochs have no modality this model can stage from (unimodal heads: {heads})"
        )
    return probs
