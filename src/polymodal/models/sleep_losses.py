"""The CoRe-Sleep objective with presence masks (arXiv 2304.06485, Sec. 3.3, Eq. 1–3).

``Loss = CE(fused) + w_uni · Σ_m CE(m) + w_align · L_align`` where

- ``CE(fused)`` is averaged over the epochs where the fused head is defined
  (CoRe-Sleep: both modalities present),
- ``CE(m)`` over the epochs where modality m is present,
- ``L_align`` is the symmetric CLIP-style loss (arXiv 2103.00020, Fig. 3)
  between the two modalities' unimodal epoch embeddings of each sequence,
  over the epochs where both are present.

Cross-entropies are pooled over every epoch of the batch, optionally
class-weighted (a weighted mean, as ``torch.nn.functional.cross_entropy``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from polymodal.errors import PolymodalError
from polymodal.models.sleep_output import SleepOutput


def masked_cross_entropy(logits: Tensor, target: Tensor, mask: Tensor, class_weights: Tensor | None = None) -> Tensor:
    """(Weighted) mean cross-entropy of ``logits [B, L, C]`` over the epochs where ``mask [B, L]`` holds.

    Masked-out epochs contribute exactly nothing, to the value or the
    gradient; with no epoch left the loss is an exact zero.
    """
    per_epoch = F.cross_entropy(logits.flatten(0, 1), target.flatten(), weight=class_weights, reduction="none")
    weights = per_epoch.new_ones(per_epoch.shape) if class_weights is None else class_weights[target.flatten()]
    keep = mask.flatten()
    total = torch.where(keep, per_epoch, 0.0).sum()
    return total / torch.where(keep, weights, 0.0).sum().clamp_min(torch.finfo(per_epoch.dtype).tiny)


def alignment_loss(first: Tensor, second: Tensor, both: Tensor, temperature: float) -> Tensor:
    """Symmetric contrastive alignment of two modalities' epoch embeddings ``[B, L, D]``.

    Each embedding is L2-normalised along the **feature** axis, so
    ``S[b, i, j] = cos(first[b, i], second[b, j]) / τ`` for the L × L epochs of
    sequence b. Row i's target is the diagonal j = i; the negatives are the
    other epochs of the same sequence. Rows and columns of epochs where
    ``both [B, L]`` is False are left out. The two cross-entropies (first →
    second over rows, second → first over columns) are averaged over the
    kept epochs of the batch.
    """
    first = F.normalize(first, dim=-1)
    second = F.normalize(second, dim=-1)
    similarity = first @ second.transpose(1, 2) / temperature
    pairs = both[:, :, None] & both[:, None, :]
    similarity = similarity.masked_fill(~pairs, float("-inf"))
    diagonal = torch.arange(both.shape[1], device=both.device).expand_as(both)[both]
    forward = F.cross_entropy(similarity[both], diagonal, reduction="sum")
    backward = F.cross_entropy(similarity.transpose(1, 2)[both], diagonal, reduction="sum")
    return (forward + backward) / (2 * both.sum().clamp_min(1))


def check_class_weights(class_weights: Sequence[float] | None, num_classes: int) -> Tensor | None:
    """The class weights as a tensor; wrong length or non-positive values raise."""
    if class_weights is None:
        return None
    weights = torch.as_tensor(class_weights, dtype=torch.float32)
    if weights.shape != (num_classes,):
        raise PolymodalError(f"class_weights needs {num_classes} values (one per stage), got {list(class_weights)}")
    if not bool(torch.isfinite(weights).all() & (weights > 0).all()):
        raise PolymodalError(f"class_weights must be finite and > 0, got {list(class_weights)}")
    return weights


class SleepLoss(nn.Module):
    """Masked CoRe-Sleep objective returning its weighted terms.

    Args:
        w_uni: weight of the unimodal heads' cross-entropies.
        w_align: weight of the alignment loss (0: not computed).
        class_weights: optional ``[C]`` per-stage weights of every cross-entropy.
        temperature: τ of the alignment logits.
    """

    def __init__(
        self, w_uni: float = 1.0, w_align: float = 0.0, class_weights: Tensor | None = None, temperature: float = 0.1
    ) -> None:
        super().__init__()
        if w_uni < 0 or w_align < 0 or temperature <= 0:
            raise PolymodalError(
                f"need w_uni >= 0, w_align >= 0, temperature > 0; got {w_uni}, {w_align}, {temperature}"
            )
        self.w_uni = w_uni
        self.w_align = w_align
        self.temperature = temperature
        self.register_buffer("class_weights", class_weights)

    def forward(self, output: SleepOutput, target: Tensor, present: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Named weighted terms (their sum is the loss): ``ce_fused``, ``ce_<m>``, ``align``."""
        terms = {"ce_fused": masked_cross_entropy(output.logits, target, output.fused_mask, self.class_weights)}
        if self.w_uni > 0:
            for m, logits in output.unimodal.items():
                terms[f"ce_{m}"] = self.w_uni * masked_cross_entropy(logits, target, present[m], self.class_weights)
        if self.w_align > 0:
            if len(output.embeddings) != 2:
                raise PolymodalError("w_align > 0 needs a model with two unimodal embeddings (model 'core')")
            (a, first), (b, second) = output.embeddings.items()
            terms["align"] = self.w_align * alignment_loss(first, second, present[a] & present[b], self.temperature)
        return terms
