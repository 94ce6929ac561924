"""Multilayer perceptron encoder for vector (or flattened) inputs."""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import Tensor, nn

from polymodal.encoders.base import ENCODERS, Encoder
from polymodal.errors import PolymodalError


@ENCODERS.register("mlp")
class MLPEncoder(Encoder):
    """``Flatten → [Linear → LayerNorm? → ReLU → Dropout] × depth``.

    Args:
        input_shape: per-sample input shape (flattened).
        hidden_dim: width of every hidden layer; also ``output_dim``.
        depth: number of hidden layers (≥ 1).
        dropout: dropout after each activation.
        norm: apply LayerNorm before each activation.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        hidden_dim: int = 128,
        depth: int = 2,
        dropout: float = 0.1,
        norm: bool = True,
    ) -> None:
        super().__init__()
        if depth < 1:
            raise PolymodalError(f"depth must be >= 1 (hidden layers), got {depth}")
        if hidden_dim < 1:
            raise PolymodalError(f"hidden_dim must be >= 1, got {hidden_dim}")
        if not 0 <= dropout < 1:
            raise PolymodalError(f"dropout must be in [0, 1), got {dropout}")
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(input_shape)
        for _ in range(depth):
            layers += [nn.Linear(width, hidden_dim)]
            layers += [nn.LayerNorm(hidden_dim)] if norm else []
            layers += [nn.ReLU(), nn.Dropout(dropout)]
            width = hidden_dim
        self.net = nn.Sequential(*layers)
        self.output_dim = hidden_dim

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
