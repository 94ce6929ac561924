"""Initialize a multimodal classifier's encoders from unimodal checkpoints.

Each modality's encoder (and unimodal head, when both models have one) is
loaded from a checkpoint of a unimodal run (``--method unimodal --modality
m``); the multimodal model is then trained with any method, with those
encoders frozen or fine-tuned (balancing.md, "Pretrain-then-finetune"; MCR's
best runs start this way). Checkpoints are read with
``torch.load(weights_only=True)``: tensors and plain containers only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor

from polymodal.errors import PolymodalError
from polymodal.models.classifier import MultimodalClassifier


def unimodal_state(path: str | Path, modality: str) -> dict[str, dict[str, Tensor]]:
    """The encoder (and head, if any) weights of ``modality`` in a unimodal checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise PolymodalError(f"{path}: no such checkpoint (pretrained {modality!r} encoder)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    except Exception as err:  # torch raises several types for a file that is not a checkpoint
        raise PolymodalError(f"{path}: not a readable checkpoint ({type(err).__name__})") from None
    parts: dict[str, dict[str, Tensor]] = {}
    for part in ("encoders", "heads"):
        prefix = f"model.{part}.{modality}."
        parts[part] = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if not parts["encoders"]:
        raise PolymodalError(f"{path}: holds no encoder for modality {modality!r}")
    return parts


def check_pretrained(model: MultimodalClassifier, checkpoints: Mapping[str, str]) -> None:
    """Every named modality must be one of the model's."""
    unknown = [m for m in checkpoints if m not in model.modalities]
    if unknown:
        raise PolymodalError(f"pretrained names unknown modality {unknown[0]!r}; the model has: "
                             f"{', '.join(model.modalities)}")


def load_pretrained(model: MultimodalClassifier, checkpoints: Mapping[str, str]) -> None:
    """Load each named modality's encoder (and unimodal head) from its unimodal checkpoint."""
    check_pretrained(model, checkpoints)
    for m, path in checkpoints.items():
        parts = unimodal_state(path, m)
        try:
            model.encoders[m].load_state_dict(parts["encoders"])
            if parts["heads"] and m in model.heads:
                model.heads[m].load_state_dict(parts["heads"])
        except RuntimeError as err:
            raise PolymodalError(f"{path}: the {m!r} encoder does not match this model "
                                 f"({str(err).splitlines()[0]})") from None
