"""The unimodal first stage: pretrain-then-train inside one run.

MCR's reference runs (arXiv 2411.07335) start from unimodal checkpoints:
each encoder is first trained alone with its own head, then the multimodal
model is trained with the regularizer. Within one ``fit`` run the first
stage trains every encoder and its unimodal head with their own
cross-entropy only — no gradient crosses modalities, exactly separate
unimodal training on shared batches — while the fusion head learns on the
*detached* features (so validation accuracy is meaningful from the first
epoch and every parameter is used, as DDP requires). The second stage is the
method's own objective. A method without unimodal heads keeps the heads as
linear probes on detached features in the second stage (terms
``probe/<m>``), which report per-modality accuracy without changing what
the encoders learn.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from polymodal.balance.base import BalancerLoss, unimodal_masks
from polymodal.balance.losses import supervised_loss
from polymodal.balance.view import ModelView
from polymodal.data.contract import Batch
from polymodal.models.output import ModelOutput


def unimodal_stage_loss(output: ModelOutput, batch: Batch, view: ModelView,
                        idle: Sequence[nn.Parameter] = ()) -> BalancerLoss:
    """``Σ_m CE(h_m(z_m))`` plus the fusion head's cross-entropy on detached features.

    ``idle`` parameters (a method's own learnable parts, such as MCR's CEB
    decoder) join the graph with weight 0: unchanged, but used, as DDP requires.
    """
    target = batch["target"]
    terms = {f"uni/{m}": supervised_loss(output.unimodal[m], target, mask)
             for m, mask in unimodal_masks(output, batch).items()}
    probe = supervised_loss(view.fuse(output.features, batch.get("present"), detach=True), target)
    terms["fusion_probe"] = probe + sum((0.0 * p.sum() for p in idle), torch.zeros((), device=probe.device))
    return BalancerLoss(terms)


def probe_terms(output: ModelOutput, batch: Batch, view: ModelView) -> dict[str, Tensor]:
    """Cross-entropy of each unimodal head on detached features (``probe/<m>``)."""
    return {f"probe/{m}": supervised_loss(view.unimodal_head(m, output.features[m].detach()), batch["target"], mask)
            for m, mask in unimodal_masks(output, batch).items()}
