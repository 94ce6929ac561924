"""ResNet-18 for spectrograms, images and videos (He et al., CVPR 2016, arXiv 1512.03385).

The 18-layer network of Table 1: a stem, four stages of two basic residual
blocks ``y = ReLU(F(x) + shortcut(x))`` (Eq. 1; Eq. 2's 1×1 projection
shortcut where the shape changes) with widths ``w, 2w, 4w, 8w``, then global
average pooling. ``width = 64`` is the paper's network (11.18 M parameters
for 3 input channels, 512-d output); smaller widths keep it fast on a CPU.

The input layouts follow the OGM-GE / MLB reference code (arXiv 2203.15332,
2405.07930), which trains one such network per modality from scratch: a
one-channel log spectrogram ``[1, F, T]`` (or ``[F, T]``), an image
``[C, H, W]``, or a video clip ``[T, C, H, W]`` whose frames are folded into
the batch and whose feature maps are then averaged over time and space
(the reference's ``adaptive_avg_pool3d``) to one vector per clip.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from polymodal.encoders.base import ENCODERS, Encoder
from polymodal.errors import PolymodalError


class BasicBlock(nn.Module):
    """Two 3×3 conv-BN layers with an identity or 1×1 projection shortcut."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.residual = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        reshapes = stride != 1 or in_channels != out_channels
        self.shortcut = (
            nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )
            if reshapes
            else nn.Identity()
        )
        self.activation = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.residual(x) + self.shortcut(x))


@ENCODERS.register("resnet18")
class ResNet18Encoder(Encoder):
    """ResNet-18 feature extractor: ``[B, C, H, W]``, ``[B, H, W]`` or ``[B, T, C, H, W]`` → ``[B, 8·width]``.

    Args:
        input_shape: ``(C, H, W)``; ``(H, W)`` for one channel; ``(T, C, H, W)``
            for ``T`` video frames (pooled over time and space).
        width: channels of the first stage (64 in the paper); stages use
            ``width × (1, 2, 4, 8)``.
        downsample_stem: the paper's stem (7×7 stride-2 conv + 3×3 stride-2
            max-pool, ÷4 resolution); ``False`` uses one 3×3 stride-1 conv,
            which suits small inputs (under ~64 px a side).
        dropout: dropout on the pooled features.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        width: int = 64,
        downsample_stem: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if len(input_shape) not in (2, 3, 4):
            raise PolymodalError(
                f"resnet18 encoder takes inputs [C, H, W], [H, W] or [T, C, H, W], got shape {tuple(input_shape)}"
            )
        if width < 1:
            raise PolymodalError(f"resnet18 width must be >= 1, got {width}")
        self.adds_channel_dim = len(input_shape) == 2
        self.video = len(input_shape) == 4
        in_channels = 1 if self.adds_channel_dim else input_shape[-3]
        if downsample_stem:
            stem = [nn.Conv2d(in_channels, width, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(width),
                    nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1)]
        else:
            stem = [nn.Conv2d(in_channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
        stages: list[nn.Module] = []
        channels = width
        for stage, stride in enumerate((1, 2, 2, 2)):
            out_channels = width * 2**stage
            stages += [BasicBlock(channels, out_channels, stride), BasicBlock(out_channels, out_channels, 1)]
            channels = out_channels
        self.features = nn.Sequential(*stem, *stages)
        self.dropout = nn.Dropout(dropout)
        self.output_dim = channels
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        if self.adds_channel_dim:
            x = x.unsqueeze(1)
        if self.video:
            batch, frames = x.shape[:2]
            maps = self.features(x.flatten(0, 1))  # frames folded into the batch
            return self.dropout(maps.unflatten(0, (batch, frames)).mean(dim=(1, -2, -1)))
        return self.dropout(self.features(x).mean(dim=(-2, -1)))
