"""Fusion heads: late-linear, mid-MLP, FiLM, gated, transformer, logit sum."""

from polymodal.fusion import late_linear  # noqa: F401  (registers)
from polymodal.fusion.base import FUSIONS, FusionHead, build_fusion

__all__ = ["FUSIONS", "FusionHead", "build_fusion"]
