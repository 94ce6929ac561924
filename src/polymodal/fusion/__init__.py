"""Fusion heads: late-linear, mid-MLP, FiLM, gated, transformer, logit sum, cosine."""

from polymodal.fusion import (  # noqa: F401  (registers)
    cosine,
    film,
    gated,
    late_linear,
    logit_sum,
    mid_mlp,
    transformer,
)
from polymodal.fusion.base import FUSIONS, FusionHead, build_fusion

__all__ = ["FUSIONS", "FusionHead", "build_fusion"]
