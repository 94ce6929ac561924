"""The encoder registry.

An encoder maps one modality's input ``[B, *shape]`` to pooled features
``[B, output_dim]``. Encoders are built with
``cls(input_shape, **options)`` and expose ``output_dim``; sequence encoders
may also return token features from ``forward_tokens``.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from polymodal.registry import Registry

ENCODERS: Registry[type[nn.Module]] = Registry("encoder")


def build_encoder(name: str, input_shape: Sequence[int], **options) -> nn.Module:
    """Instantiate the encoder registered as ``name`` for inputs of ``input_shape``."""
    return ENCODERS.get(name)(tuple(input_shape), **options)
