"""Ensemble of unimodal models trained side by side in one run.

Each encoder and its unimodal head are trained only by their own loss
``CE(h_m(z_m), y)``: no gradient crosses modalities, so this is separate
unimodal training sharing only the batch order. The prediction is the sum of
the heads' logits, each z-scored over the evaluation batch
(balancing.md, "Ensemble baseline"). The fusion head is not used.
``polymodal bench balance`` computes the same baseline from separately
trained runs, z-scoring over the whole test set.
"""

from __future__ import annotations

from torch import Tensor, nn

from polymodal.balance.base import BALANCERS, Balancer, unimodal_masks
from polymodal.balance.losses import supervised_loss
from polymodal.eval.ensemble import ensemble_logits
from polymodal.data.contract import Batch
from polymodal.models.output import ModelOutput


@BALANCERS.register("ensemble")
class Ensemble(Balancer):
    name = "ensemble"
    needs_unimodal_heads = True
    supports_regression = False
    min_modalities = 2

    def loss(self, output: ModelOutput, batch: Batch, model: nn.Module) -> dict[str, Tensor]:
        target = batch["target"]
        return {f"uni/{m}": supervised_loss(output.unimodal[m], target, mask)
                for m, mask in unimodal_masks(output, batch).items()}

    def predict(self, output: ModelOutput) -> Tensor:
        return ensemble_logits(list(output.unimodal.values()))
