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
* **Scores**: ``s_m`` = mean cross-entropy of ``o_m``.
* **Ratios and coefficients**: ``r_m = exp(mean_{j≠m} s_j − s_m)``
  (above 1 when modality m fits better than the others), ``r̄_m`` its running
  mean over the training steps so far, and ``k_m = exp(α·(r̄_m − r_m))``;
  the first step uses ``r̄_m = r_m`` (``k_m = 1``), then ``r̄_m`` is updated.
* **Application**: the training loss is ``CE(Σ_m o_m)``, whose value equals
  ``CE(f)``; each ``o_m`` passes through an identity whose backward multiplies
  the gradient by ``k_m`` (the backward hook on the unimodal output path).
* **Gradient clipping** at norm ``clip_norm`` (1 by default) over all model
  parameters happens in :meth:`AGM.after_backward`, i.e. before the optimizer
  step; with ``clip_norm=None`` use Lightning's ``gradient_clip_val`` instead.

Evaluation losses are the plain fused cross-entropy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import Tensor, nn

from polymodal.balance.base import BALANCERS
from polymodal.balance.joint import Joint
from polymodal.balance.losses import supervised_loss
from polymodal.balance.modulation import mean_of_others
from polymodal.data.contract import Batch, presence
from polymodal.errors import PolymodalError
from polymodal.models.output import ModelOutput


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


def subset_outputs(model: nn.Module, features: Mapping[str, Tensor], present: Mapping[str, Tensor]) -> Tensor:
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
    return model.fuse(stacked, masks).reshape(count, batch, -1)


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
        clip_norm: gradient-norm clip applied after backward (``None``: off).
    """

    name = "agm"
    supports_regression = False
    min_modalities = 2

    def __init__(self, alpha: float = 2.0, clip_norm: float | None = 1.0) -> None:
        super().__init__()
        if clip_norm is not None and clip_norm <= 0:
            raise PolymodalError(f"method 'agm': clip_norm must be > 0 or None, got {clip_norm}")
        self.alpha = alpha
        self.clip_norm = clip_norm
        self.modalities: tuple[str, ...] = ()
        self._state: dict[str, float] = {}

    def check(self, model: nn.Module) -> None:
        super().check(model)
        self.modalities = tuple(model.modalities)
        count = len(self.modalities)
        self.register_buffer("weights", shapley_matrix(count), persistent=False)
        self.register_buffer("ratio_mean", torch.zeros(count))
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))

    def unimodal_outputs(self, model: nn.Module, output: ModelOutput, batch: Batch) -> Tensor:
        """``[M, B, C]`` Shapley unimodal outputs ``o_m``."""
        present = {m: presence(batch, m) for m in self.modalities}
        subsets = subset_outputs(model, {m: output.features[m] for m in self.modalities}, present)
        return torch.einsum("ms,sbc->mbc", self.weights.to(subsets.dtype), subsets)

    def coefficients(self, scores: Tensor) -> Tensor:
        """``k_m`` from this step's scores; updates the running mean of ``r_m``."""
        ratios = agm_ratios(scores)
        steps = int(self.steps)
        reference = ratios if steps == 0 else self.ratio_mean
        k = torch.exp(self.alpha * (reference - ratios))
        self.ratio_mean.copy_((self.ratio_mean * steps + ratios) / (steps + 1))
        self.steps.add_(1)
        return k

    def loss(self, output: ModelOutput, batch: Batch, model: nn.Module) -> dict[str, Tensor]:
        if not self.training:
            return super().loss(output, batch, model)
        target = batch["target"]
        unimodal = self.unimodal_outputs(model, output, batch)
        with torch.no_grad():
            scores = torch.stack([supervised_loss(o, target) for o in unimodal])
            k = self.coefficients(scores)
        fused = torch.stack([scale_backward(o, k_m) for o, k_m in zip(unimodal, k)]).sum(0)
        self._state = {f"s/{m}": float(s) for m, s in zip(self.modalities, scores)}
        self._state |= {f"k/{m}": float(k_m) for m, k_m in zip(self.modalities, k)}
        return {"fused": supervised_loss(fused, target)}

    def after_backward(self, model: nn.Module) -> dict[str, float]:
        if self.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), self.clip_norm)
        state, self._state = self._state, {}
        return state
