"""Unimodal training: one encoder and its head (the ensemble's members).

Select the modality with the task's ``modalities`` option (CLI: ``--method
unimodal --modality NAME``); the model then holds that encoder only, and the
loss is the cross-entropy of its prediction.
"""

from __future__ import annotations

from torch import Tensor, nn

from polymodal.balance.base import BALANCERS, Balancer
from polymodal.balance.losses import supervised_loss
from polymodal.data.contract import Batch
from polymodal.errors import PolymodalError
from polymodal.models.output import ModelOutput


@BALANCERS.register("unimodal")
class Unimodal(Balancer):
    name = "unimodal"

    def check(self, model: nn.Module) -> None:
        super().check(model)
        if len(model.modalities) != 1:
            raise PolymodalError(
                f"method 'unimodal' trains one modality, the model has {len(model.modalities)} "
                f"({', '.join(model.modalities)}); choose one with --modality NAME"
            )

    def loss(self, output: ModelOutput, batch: Batch, model: nn.Module) -> dict[str, Tensor]:
        return {"fused": supervised_loss(output.logits, batch["target"])}
