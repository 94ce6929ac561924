"""One-dimensional convolutional encoder for multichannel time series."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from polymodal.encoders.base import ENCODERS, Encoder
from polymodal.errors import PolymodalError


@ENCODERS.register("cnn1d")
class CNN1DEncoder(Encoder):
    """``[Conv1d → BatchNorm1d → ReLU] × len(channels) → global average pool → Dropout``.

    Each block convolves with ``kernel_size`` (``same``-style padding
    ``kernel_size // 2``) and ``stride``, so a series of length ``T`` leaves the
    last block with about ``T / stride**len(channels)`` steps; the average over
    those steps is the feature vector.

    Args:
        input_shape: ``(C, T)`` channels × time, or ``(T,)`` for one channel.
        channels: output channels of each block; ``output_dim`` is the last.
        kernel_size: temporal kernel width of every convolution.
        stride: temporal stride of every convolution.
        dropout: dropout on the pooled features.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        channels: Sequence[int] = (32, 64, 128),
        kernel_size: int = 7,
        stride: int = 2,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if len(input_shape) not in (1, 2):
            raise PolymodalError(f"cnn1d encoder takes inputs [C, T] or [T], got shape {tuple(input_shape)}")
        if not channels or min(channels) < 1:
            raise PolymodalError(f"cnn1d channels must be a non-empty list of positive ints, got {list(channels)}")
        if kernel_size < 1 or stride < 1:
            raise PolymodalError(f"cnn1d kernel_size and stride must be >= 1, got {kernel_size} and {stride}")
        self.adds_channel_dim = len(input_shape) == 1
        width = 1 if self.adds_channel_dim else input_shape[0]
        layers: list[nn.Module] = []
        for out_channels in channels:
            layers += [
                nn.Conv1d(width, out_channels, kernel_size, stride=stride, padding=kernel_size // 2, bias=False),
                nn.BatchNorm1d(out_channels),
                nn.ReLU(),
            ]
            width = out_channels
        self.blocks = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.output_dim = width

    def forward(self, x: Tensor) -> Tensor:
        if self.adds_channel_dim:
            x = x.unsqueeze(1)
        return self.dropout(self.blocks(x).mean(dim=-1))
