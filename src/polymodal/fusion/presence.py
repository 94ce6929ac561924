"""Per-sample presence of each modality as one boolean matrix, for fusion heads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

from polymodal.errors import PolymodalError


def presence_matrix(
    modalities: Sequence[str], features: Mapping[str, Tensor], present: Mapping[str, Tensor] | None
) -> Tensor:
    """Bool ``[B, M]``: True where modality ``modalities[j]`` is present in sample b.

    A modality without a mask in ``present`` (or ``present=None``) counts as
    present everywhere, as in :meth:`MultimodalClassifier.encode`.
    """
    reference = features[modalities[0]]
    all_present = torch.ones(reference.shape[0], dtype=torch.bool, device=reference.device)
    columns = []
    for m in modalities:
        mask = all_present if present is None or m not in present else present[m]
        if mask.dim() != 1:
            raise PolymodalError(
                f"presence mask of modality {m!r} has shape {tuple(mask.shape)}; "
                "fusion heads take one flag per sample [B]"
            )
        columns.append(mask.to(torch.bool))
    return torch.stack(columns, dim=1)
