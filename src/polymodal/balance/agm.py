"""AGM: adaptive gradient modulation with Shapley-style unimodal outputs.

Li et al., "Boosting Multi-modal Model Performance with Adaptive Gradient
Modulation", ICCV 2023 (arXiv 2308.07686).

* **Unimodal outputs by zeroing**: for two modalities
  ``o_a = ½(f − f(a←0) + f(v←0))``, where ``f(a←0)`` is the fused output with
  modality a's features zeroed (and marked absent). For M modalities this is
  the Shapley value of modality m in the game ``S ↦ f(S)`` (``f(S)``: only the
  modalities in S kept) plus an equal share of ``f(∅)``, so ``Σ_m o_m = f``
  exactly and the two-modality formula is recovered. All ``2^M`` subset
  outputs come from ONE batched call of the fusion head.
* **Scores**: ``s_m`` = mean cross-entropy of ``o_m`` (each sample's
  probability floored at 1e-8, as in the official code).
* **Ratios and coefficients** (official ``GradMod`` / ``CREMAD_main.py``):
  ``r_m = exp(mean_{j≠m} s_j − s_m)`` (above 1 when modality m fits better
  than the others; for two modalities ``exp(s_v − s_a)``), ``S_m`` the running
  mean of the *scores* over the optimizer steps so far (starting at 0),
  ``r*_m = exp(mean_{j≠m} S_j − S_m)`` from the means before this step, and
  ``k_m = exp(α·min(r*_m − r_m, 10))``. ``reference="ratio_mean"`` uses the
  running mean of the ratios instead, with ``k_m = 1`` on the first step
  (a variant without the cap).
* **Application**: the training loss is ``CE(Σ_m o_m)``, whose value equals
  ``CE(f)``; each ``o_m`` passes through an identity whose backward multiplies
  the gradient by ``k_m`` (the backward hook on the unimodal output path).
* **Gradient clipping** to total norm ``clip_norm`` (1) over all model
  parameters when a fusion-head weight's gradient has an entry beyond
  ``±clip_norm`` (``clip="fusion_weight"``, the official rule), on every
  step (``clip="always"``), or never (``clip="off"``); once per optimizer
  step on the unscaled (AMP) and accumulated gradients.

Scale: ``k_m`` multiplies a backward path, so it must be known before the
backward pass: it comes from the scores of the current batch, averaged over
all processes (so every DDP replica uses the same ``k`` and the result
equals one process on the global batch). Under gradient accumulation each
micro-batch uses its own scores (per micro-batch by definition); the
running means advance once per optimizer step, from the scores of all its
micro-batches.

Evaluation losses are the plain fused cross-entropy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import Tensor

from polymodal.balance.base import BALANCERS, BalancerLoss
from polymodal.balance.context import StepContext
from polymodal.balance.joint import Joint
from polymodal.balance.losses import mean_scores, per_sample_loss, score_sums, supervised_loss
from polymodal.balance.modulation import check_choice, mean_of_others
from polymodal.balance.view import ModelView
from polymodal.data.contract import Batch, presence
from polymodal.errors import PolymodalError
from polymodal.models.output import ModelOutput


REFERENCES = ("score_means", "ratio_mean")
CLIPS = ("fusion_weight", "always", "off")
EXPONENT_CAP = 10.0
"""Cap of ``r*_m − r_m`` in the exponent (official code)."""
PROBABILITY_FLOOR_CE = -math.log(1e-8)
"""A sample's cross-entropy is at most ``−log 1e-8`` (official code floors the probability)."""


def subset_table(count: int) -> Tensor:
    """``[2^M, M]`` bool: row s keeps modality m when bit m of s is set."""
    rows = torch.arange(2**count)[:, None]
    return (rows >> torch.arange(count)[None, :]) & 1 == 1


def shapley_matrix(count: int) -> Tensor:
    """``[M, 2^M]`` weights W with ``o = W @ f(S)`` (Shapley value + ``f(∅)/M``)."""
    keep = subset_table(count)
    sizes = keep.sum(1)
    weight = torch.zeros(count, 2**count, dtype=torch.float64)
    for m in range(count):
        for s in range(2**count):
            if keep[s, m]:  # f(S) with m ∈ S enters with + |S∖m|!(M−|S∖m|−1)!/M!
                k = int(sizes[s]) - 1
                weight[m, s] += math.factorial(k) * math.factorial(count - k - 1) / math.factorial(count)
            else:  # f(S) with m ∉ S enters with − |S|!(M−|S|−1)!/M!
                k = int(sizes[s])
                weight[m, s] -= math.factorial(k) * math.factorial(count - k - 1) / math.factorial(count)
    weight[:, 0] += 1.0 / count
    return weight.float()


def subset_outputs(view: ModelView, features: Mapping[str, Tensor], present: Mapping[str, Tensor]) -> Tensor:
    """``[2^M, B, C]`` fused outputs with every subset of modalities kept, in one fusion call."""
    modalities = list(features)
    keep = subset_table(len(modalities)).to(next(iter(features.values())).device)
    count, batch = keep.shape[0], next(iter(features.values())).shape[0]
    stacked, masks = {}, {}
    for i, m in enumerate(modalities):
        z = features[m]
        gate = keep[:, i].view(count, *([1] * z.dim())).to(z.dtype)
        stacked[m] = (z.unsqueeze(0) * gate).reshape(count * batch, *z.shape[1:])
        masks[m] = (present[m].unsqueeze(0) & keep[:, i].view(count, *([1] * present[m].dim()))).reshape(
            count * batch, *present[m].shape[1:]
        )
    return view.fuse(stacked, masks).reshape(count, batch, -1)


def scale_backward(x: Tensor, factor: Tensor) -> Tensor:
    """Identity in the forward pass; the backward pass multiplies the gradient by ``factor``."""
    return x * factor + x.detach() * (1.0 - factor)


def agm_ratios(scores: Tensor) -> Tensor:
    """``r_m = exp(mean_{j≠m} s_j − s_m)`` from ``[M]`` cross-entropy scores."""
    return torch.exp(mean_of_others(scores) - scores)


@BALANCERS.register("agm")
class AGM(Joint):
    """Fused CE through Shapley unimodal outputs whose gradients are scaled by ``k_m``.

    Args:
        alpha: modulation strength α.
        reference: ``"score_means"`` (official) or ``"ratio_mean"``.
        clip: ``"fusion_weight"`` (official), ``"always"`` or ``"off"``.
        clip_norm: the total gradient norm clipped to (and the fusion-weight threshold).
    """

    name = "agm"
    supports_regression = False
    min_modalities = 2

    def __init__(self, alpha: float = 2.0, reference: str = "score_means", clip: str = "fusion_weight",
                 clip_norm: float = 1.0) -> None:
        super().__init__()
        check_choice(self.name, "reference", reference, REFERENCES)
        check_choice(self.name, "clip", clip, CLIPS)
        if clip_norm <= 0:
            raise PolymodalError(f"method 'agm': clip_norm must be > 0, got {clip_norm}")
        self.alpha = alpha
        self.reference = reference
        self.clip = clip
        self.clip_norm = clip_norm
        self.modalities: tuple[str, ...] = ()

    def setup(self, view: ModelView) -> None:
        super().setup(view)
        self.modalities = view.modalities
        count = len(self.modalities)
        self.register_buffer("weights", shapley_matrix(count), persistent=False)
        self.register_buffer("running", torch.zeros(count))  # S_m (score_means) or r̄_m (ratio_mean)
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))

    def unimodal_outputs(self, view: ModelView, output: ModelOutput, batch: Batch) -> Tensor:
        """``[M, B, C]`` Shapley unimodal outputs ``o_m``."""
        present = {m: presence(batch, m) for m in self.modalities}
        subsets = subset_outputs(view, {m: output.features[m] for m in self.modalities}, present)
        return torch.einsum("ms,sbc->mbc", self.weights.to(subsets.dtype), subsets)

    def coefficients(self, scores: Tensor) -> Tensor:
        """``k_m`` from the ``[M]`` scores of the current batch and the running means before this step."""
        ratios = agm_ratios(scores)
        if self.reference == "ratio_mean":
            reference = ratios if int(self.steps) == 0 else self.running
            return torch.exp(self.alpha * (reference - ratios))
        return torch.exp(self.alpha * (agm_ratios(self.running) - ratios).clamp_max(EXPONENT_CAP))

    def loss(self, output: ModelOutput, batch: Batch, view: ModelView, context: StepContext) -> BalancerLoss:
        if not context.training:
            return super().loss(output, batch, view, context)
        target = batch["target"]
        unimodal = self.unimodal_outputs(view, output, batch)
        with torch.no_grad():
            statistics: dict[str, Tensor] = {}
            for m, o in zip(self.modalities, unimodal):
                per_sample = per_sample_loss(o.float(), target).clamp_max(PROBABILITY_FLOOR_CE)
                statistics |= score_sums(per_sample, None, m)
            totals = context.mean(torch.stack([statistics[f"score/{m}"] for m in self.modalities]))
            counts = context.mean(torch.stack([statistics[f"count/{m}"] for m in self.modalities]))
            scores = totals / counts.clamp_min(1.0)
            k = self.coefficients(scores)
        fused = torch.stack([scale_backward(o, k_m) for o, k_m in zip(unimodal, k)]).sum(0)
        logs = {**{f"s/{m}": s for m, s in zip(self.modalities, scores)},
                **{f"k/{m}": k_m for m, k_m in zip(self.modalities, k)}}
        return BalancerLoss({"fused": supervised_loss(fused, target)}, statistics, logs)

    def step(self, statistics: Mapping[str, Tensor], view: ModelView, context: StepContext) -> dict[str, Tensor]:
        scores = mean_scores(statistics, self.modalities)
        value = agm_ratios(scores) if self.reference == "ratio_mean" else scores
        steps = int(self.steps)
        self.running.copy_((self.running * steps + value) / (steps + 1))
        self.steps.add_(1)
        if self.clip == "always" or (self.clip == "fusion_weight" and self.fusion_weight_exceeds(view)):
            torch.nn.utils.clip_grad_norm_(list(view.parameters()), self.clip_norm)
        return {}

    def fusion_weight_exceeds(self, view: ModelView) -> bool:
        """Whether a fusion-head weight (matrix) has a gradient entry beyond ``±clip_norm``."""
        grads = [p.grad for p in view.fusion_parameters() if p.grad is not None and p.dim() >= 2]
        return any(bool(g.abs().max() > self.clip_norm) for g in grads)
