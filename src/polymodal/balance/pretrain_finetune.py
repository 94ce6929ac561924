"""Pretrain-then-finetune: encoders initialized from unimodal checkpoints.

Each modality's encoder (and unimodal head, when both models have one) is
loaded from a checkpoint of a unimodal run (``--method unimodal --modality
m``), then the multimodal model is trained with the ``base`` objective
(``joint`` or ``multiloss``), with the encoders frozen or fine-tuned
(balancing.md, "Pretrain-then-finetune"; MCR's best runs start this way).
Weights are loaded when training starts, and not when a run resumes from its
own checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from polymodal.balance.base import BALANCERS, Balancer
from polymodal.balance.losses import supervised_loss
from polymodal.balance.multiloss import multiloss_terms
from polymodal.balance.modulation import check_choice
from polymodal.data.contract import Batch
from polymodal.errors import PolymodalError
from polymodal.models.output import ModelOutput

BASES = ("joint", "multiloss")


def unimodal_state(path: str | Path, modality: str) -> dict[str, dict[str, Tensor]]:
    """The encoder (and head, if any) weights of ``modality`` in a unimodal checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise PolymodalError(f"{path}: no such checkpoint (pretrained {modality!r} encoder)")
    state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    parts: dict[str, dict[str, Tensor]] = {}
    for part in ("encoders", "heads"):
        prefix = f"model.{part}.{modality}."
        parts[part] = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if not parts["encoders"]:
        raise PolymodalError(f"{path}: holds no encoder for modality {modality!r}")
    return parts


@BALANCERS.register("pretrain_finetune")
class PretrainFinetune(Balancer):
    """Start from unimodal encoders, then train the fusion model.

    Args:
        checkpoints: modality → unimodal checkpoint; every modality of the model needs one.
        freeze: keep the pretrained encoders fixed (train fusion and heads only).
        base: objective after loading, ``joint`` or ``multiloss``.
    """

    name = "pretrain_finetune"

    def __init__(self, checkpoints: dict[str, str] | None = None, freeze: bool = False, base: str = "multiloss") -> None:
        super().__init__()
        check_choice(self.name, "base", base, BASES)
        self.checkpoints = dict(checkpoints or {})
        self.freeze = freeze
        self.base = base

    @property
    def needs_unimodal_heads(self) -> bool:  # type: ignore[override]
        return self.base == "multiloss"

    def check(self, model: nn.Module) -> None:
        super().check(model)
        missing = [m for m in model.modalities if m not in self.checkpoints]
        unknown = [m for m in self.checkpoints if m not in model.modalities]
        if missing or unknown:
            raise PolymodalError(
                f"method 'pretrain_finetune': checkpoints must name exactly the modalities "
                f"{', '.join(model.modalities)} (missing: {missing}, unknown: {unknown})"
            )
        if self.freeze:
            for m in model.modalities:
                model.encoders[m].requires_grad_(False)

    def on_fit_start(self, task: Any) -> None:
        if task.trainer.ckpt_path is not None:
            return  # resuming: the run's own checkpoint holds the weights
        model = task.model
        for m, path in self.checkpoints.items():
            parts = unimodal_state(path, m)
            model.encoders[m].load_state_dict(parts["encoders"])
            if parts["heads"] and m in model.heads:
                model.heads[m].load_state_dict(parts["heads"])

    def loss(self, output: ModelOutput, batch: Batch, model: nn.Module) -> dict[str, Tensor]:
        if self.base == "joint":
            return {"fused": supervised_loss(output.logits, batch["target"])}
        return multiloss_terms(output, batch)
