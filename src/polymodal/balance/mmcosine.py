"""MMCosine: fused cross-entropy over cosine logits (Xu et al., ICASSP 2023, arXiv 2303.05338).

The method is a fusion head plus the plain fused loss: logits are
``s · Σ_m cos(z_m, W_m)`` with L2-normalized features and class weights
(:class:`polymodal.fusion.cosine.CosineFusion`, fusion ``"cosine"``,
scale set with ``fusion_options={"scale": s}``, default 10). Normalization
stops a modality from dominating the fused logits through larger feature or
weight norms. The method therefore requires the ``cosine`` fusion head and
raises for any other.
"""

from __future__ import annotations

from polymodal.balance.base import BALANCERS
from polymodal.balance.joint import Joint


@BALANCERS.register("mmcosine")
class MMCosine(Joint):
    """``L = CE(s · Σ_m cos(z_m, W_m), y)``; needs ``fusion="cosine"``."""

    name = "mmcosine"
    supported_fusions = frozenset({"cosine"})
    supports_regression = False
    min_modalities = 2
