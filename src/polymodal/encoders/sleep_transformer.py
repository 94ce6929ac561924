"""SleepTransformer-style encoder of spectrogram epochs (arXiv 2105.11043; CoRe-Sleep, arXiv 2304.06485).

Input per modality: ``[B, L, F, bins]``, a sequence of L epochs, each F = 29
STFT frames of 128 log-magnitude bins (a frame is a token). An
**epoch-level** transformer runs over ``[CLS; frame tokens]`` of each epoch;
the CLS output is the epoch embedding. A **sequence-level** transformer runs
over the L epoch embeddings. Either level can run with cross-attention on
(the multimodal pass of CoRe-Sleep), attending to a partner encoding: its
frame tokens at the epoch level, its epoch tokens at the sequence level.

Several modalities can also be concatenated as token streams of one epoch
(early fusion): each stream has its own input projection and a learned
stream embedding; frames of the same time share a position.

Missing data: the frame tokens of a stream that is absent on an epoch are
hidden as keys, and so are absent epochs at the sequence level, so an absent
input never reaches a present epoch's representation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import torch
from torch import Tensor, nn

from polymodal.encoders.sleep_attention import CLS_POSITION, Context, TransformerStack
from polymodal.errors import PolymodalError

POSITIONS = ("relative", "absolute")


@dataclass(frozen=True)
class SleepSizes:
    """Sizes of the sleep-staging transformers and their MLP heads.

    Attributes:
        num_bins: frequency bins per frame (input width).
        num_frames: STFT frames per epoch.
        d_model: token width (the bins are projected to it unless equal).
        depth: blocks per level (epoch and sequence).
        heads: attention heads.
        ffn_dim: hidden width of the feed-forward sublayers.
        dropout: dropout in attention, residuals and heads.
        position: ``"relative"`` (clipped bias per head) or ``"absolute"``
            (learned embeddings added to the frame and epoch tokens).
        max_distance: clipping K of the relative bias.
        max_epochs: longest sequence L with absolute positions.
        head_hidden: hidden width of the MLP heads (``d → h → h → classes``).
    """

    num_bins: int = 128
    num_frames: int = 29
    d_model: int = 64
    depth: int = 2
    heads: int = 4
    ffn_dim: int = 128
    dropout: float = 0.1
    position: str = "relative"
    max_distance: int = 7
    max_epochs: int = 21
    head_hidden: int = 128

    def __post_init__(self) -> None:
        if self.position not in POSITIONS:
            raise PolymodalError(f"sizes.position {self.position!r} is unknown; choose one of: {', '.join(POSITIONS)}")
        for name in ("num_bins", "num_frames", "d_model", "depth", "heads", "ffn_dim", "max_epochs", "head_hidden"):
            if getattr(self, name) < 1:
                raise PolymodalError(f"sizes.{name} must be >= 1, got {getattr(self, name)}")
        if self.d_model % self.heads:
            raise PolymodalError(f"sizes.d_model ({self.d_model}) must be divisible by sizes.heads ({self.heads})")
        if not 0.0 <= self.dropout < 1.0:
            raise PolymodalError(f"sizes.dropout must be in [0, 1), got {self.dropout}")
        if self.max_distance < 0:
            raise PolymodalError(f"sizes.max_distance must be >= 0, got {self.max_distance}")

    @classmethod
    def from_options(cls, preset: str = "small", **overrides: Any) -> SleepSizes:
        """A preset (``"small"`` or ``"reference"``) with named fields overridden; unknown names raise."""
        if preset not in SIZE_PRESETS:
            raise PolymodalError(f"unknown sizes preset {preset!r}; choose one of: {', '.join(SIZE_PRESETS)}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise PolymodalError(f"unknown size {unknown[0]!r}; choose from: {', '.join(sorted(known))}")
        return replace(SIZE_PRESETS[preset], **overrides)


SIZE_PRESETS: dict[str, SleepSizes] = {
    "small": SleepSizes(),
    # The reference configuration of CoRe-Sleep (arXiv 2304.06485, Sec. 4).
    "reference": SleepSizes(d_model=128, depth=4, heads=8, ffn_dim=1024, dropout=0.3, head_hidden=1024),
}


@dataclass
class SleepEncoding:
    """What a sleep transformer computes for one batch of sequences.

    Attributes:
        frames: ``[B, L, T, D]`` epoch-level output tokens (frames, no CLS).
        frame_positions: ``[T]`` time index of each frame token.
        frame_mask: ``[B, L, T]`` True where the frame's stream is present.
        epochs: ``[B, L, D]`` sequence-level output tokens (one per epoch).
        present: ``[B, L]`` True where the epoch has a present stream.
    """

    frames: Tensor
    frame_positions: Tensor
    frame_mask: Tensor
    epochs: Tensor
    present: Tensor


class SleepTransformer(nn.Module):
    """Epoch-level then sequence-level transformer over spectrogram epochs.

    Args:
        sizes: model sizes.
        streams: number of token streams concatenated per epoch (1 for one
            modality, 2 for early fusion of two modalities).
        cross_attention: give every block a cross-attention sublayer, used
            when :meth:`forward` gets a ``partner``.
    """

    def __init__(self, sizes: SleepSizes, streams: int = 1, cross_attention: bool = False) -> None:
        super().__init__()
        d = sizes.d_model
        self.sizes = sizes
        self.projections = nn.ModuleList(
            nn.Identity() if sizes.num_bins == d else nn.Linear(sizes.num_bins, d) for _ in range(streams)
        )
        self.stream_embedding = nn.Parameter(torch.randn(streams, d) * 0.02) if streams > 1 else None
        self.cls = nn.Parameter(torch.randn(d) * 0.02)
        absolute = sizes.position == "absolute"
        self.frame_position = nn.Parameter(torch.randn(sizes.num_frames + 1, d) * 0.02) if absolute else None
        self.epoch_position = nn.Parameter(torch.randn(sizes.max_epochs, d) * 0.02) if absolute else None
        max_distance = None if absolute else sizes.max_distance
        level = (d, sizes.depth, sizes.heads, sizes.ffn_dim, sizes.dropout, max_distance, cross_attention)
        self.epoch_level = TransformerStack(*level)
        self.sequence_level = TransformerStack(*level)

    @property
    def output_dim(self) -> int:
        return self.sizes.d_model

    def forward(
        self, inputs: Sequence[Tensor], present: Sequence[Tensor], partner: SleepEncoding | None = None
    ) -> SleepEncoding:
        """Encode one ``[B, L, F, bins]`` input per stream with its ``[B, L]`` presence mask.

        With a ``partner`` (another modality's unimodal encoding) the
        cross-attention sublayers attend to its frames (epoch level) and its
        epoch tokens (sequence level), hiding its absent epochs.
        """
        if len(inputs) != len(self.projections) or len(present) != len(inputs):
            raise ValueError(
                f"expected {len(self.projections)} input streams and masks, got {len(inputs)}/{len(present)}"
            )
        batch, length, num_frames = inputs[0].shape[:3]
        self._check_lengths(length, num_frames)
        tokens = [proj(x) for proj, x in zip(self.projections, inputs, strict=True)]
        if self.stream_embedding is not None:
            tokens = [t + e for t, e in zip(tokens, self.stream_embedding, strict=True)]
        frames = torch.cat(tokens, dim=2)  # [B, L, S*F, D]
        frame_positions = torch.arange(num_frames, device=frames.device).repeat(len(inputs))
        frame_mask = torch.cat([p[:, :, None].expand(-1, -1, num_frames) for p in present], dim=2)
        epoch_present = torch.stack(list(present)).any(dim=0)

        cls = self.cls.expand(batch * length, 1, -1)
        epoch_tokens = torch.cat([cls, frames.flatten(0, 1)], dim=1)
        epoch_positions = torch.cat([frame_positions.new_tensor([CLS_POSITION]), frame_positions])
        if self.frame_position is not None:
            epoch_tokens = epoch_tokens + self.frame_position[epoch_positions + 1]
        key_mask = torch.cat([frame_mask.new_ones(batch * length, 1), frame_mask.flatten(0, 1)], dim=1)
        epoch_context = None
        if partner is not None:
            epoch_context = Context(
                partner.frames.flatten(0, 1), partner.frame_positions, partner.frame_mask.flatten(0, 1)
            )
        epoch_out = self.epoch_level(epoch_tokens, epoch_positions, key_mask, epoch_context)

        embeddings = epoch_out[:, 0].reshape(batch, length, -1)
        sequence_positions = torch.arange(length, device=frames.device)
        if self.epoch_position is not None:
            embeddings = embeddings + self.epoch_position[:length]
        sequence_context = None
        if partner is not None:
            sequence_context = Context(partner.epochs, sequence_positions, partner.present)
        epochs = self.sequence_level(embeddings, sequence_positions, epoch_present, sequence_context)
        return SleepEncoding(
            frames=epoch_out[:, 1:].reshape(batch, length, frames.shape[2], -1),
            frame_positions=frame_positions,
            frame_mask=frame_mask,
            epochs=epochs,
            present=epoch_present,
        )

    def _check_lengths(self, length: int, num_frames: int) -> None:
        if self.epoch_position is not None and length > self.sizes.max_epochs:
            raise PolymodalError(
                f"sequences of {length} epochs exceed sizes.max_epochs={self.sizes.max_epochs} (absolute positions)"
            )
        if self.frame_position is not None and num_frames > self.sizes.num_frames:
            raise PolymodalError(
                f"epochs of {num_frames} frames exceed sizes.num_frames={self.sizes.num_frames} (absolute positions)"
            )
