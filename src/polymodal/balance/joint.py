"""Joint (single-loss) training: cross-entropy of the fused prediction only."""

from __future__ import annotations

from polymodal.balance.base import BALANCERS, Balancer, BalancerLoss
from polymodal.balance.context import StepContext
from polymodal.balance.losses import supervised_loss
from polymodal.balance.view import ModelView
from polymodal.data.contract import Batch
from polymodal.models.output import ModelOutput


@BALANCERS.register("joint")
class Joint(Balancer):
    """``L = CE(g(z), y)``: the baseline every balancing method is compared to."""

    name = "joint"

    def loss(self, output: ModelOutput, batch: Batch, view: ModelView, context: StepContext) -> BalancerLoss:
        return BalancerLoss({"fused": supervised_loss(output.logits, batch["target"])})
