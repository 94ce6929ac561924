"""Per-modality encoders: MLP, 1-D CNN, 2-D ResNet-18, transformer."""

from polymodal.encoders import cnn1d, mlp, resnet, transformer  # noqa: F401  (registers)
from polymodal.encoders.base import ENCODERS, Encoder, EncoderSpec, build_encoder, build_modality_encoders

__all__ = ["ENCODERS", "Encoder", "EncoderSpec", "build_encoder", "build_modality_encoders"]
