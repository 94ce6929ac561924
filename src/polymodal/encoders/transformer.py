"""Transformer encoder over token sequences (Vaswani et al., 2017, arXiv 1706.03762).

Tokens ``x_t ∈ R^D`` are projected to ``d_model``, a learnable positional
embedding ``p_t`` is added (BERT / ViT style, arXiv 1810.04805), an optional
learnable CLS token is prepended, and a pre-norm ``nn.TransformerEncoder``
runs over the sequence. The pooled feature is the CLS token's output or the
mean of the token outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor, nn

from polymodal.encoders.base import ENCODERS, Encoder
from polymodal.errors import PolymodalError


@ENCODERS.register("transformer")
class TransformerSequenceEncoder(Encoder):
    """``[B, T, D]`` tokens → ``[B, d_model]`` pooled features.

    Args:
        input_shape: ``(T, D)``: sequence length × token size.
        d_model: token width inside the transformer; also ``output_dim``.
        num_layers: transformer layers.
        num_heads: attention heads (must divide ``d_model``).
        feedforward_dim: hidden width of each layer's MLP (``4 · d_model`` if None).
        dropout: dropout inside the layers.
        max_length: longest sequence accepted (positional embeddings kept);
            ``T`` if None. Shorter sequences use the first positions.
        pool: ``"cls"`` (a learnable CLS token's output) or ``"mean"``
            (average of the token outputs).
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        d_model: int = 128,
        num_layers: int = 2,
        num_heads: int = 4,
        feedforward_dim: int | None = None,
        dropout: float = 0.1,
        max_length: int | None = None,
        pool: Literal["cls", "mean"] = "cls",
    ) -> None:
        super().__init__()
        if len(input_shape) != 2:
            raise PolymodalError(f"transformer encoder takes token inputs [T, D], got shape {tuple(input_shape)}")
        length, token_dim = input_shape
        self.max_length = length if max_length is None else max_length
        if self.max_length < length:
            raise PolymodalError(f"transformer max_length {self.max_length} is shorter than the data's {length} tokens")
        if d_model % num_heads:
            raise PolymodalError(f"transformer num_heads {num_heads} does not divide d_model {d_model}")
        if pool not in ("cls", "mean"):
            raise PolymodalError(f"transformer pool must be 'cls' or 'mean', got {pool!r}")
        self.pool = pool
        self.input_projection = nn.Linear(token_dim, d_model)
        self.position_embedding = nn.Parameter(nn.init.trunc_normal_(torch.empty(self.max_length, d_model), std=0.02))
        self.cls_token = (
            nn.Parameter(nn.init.trunc_normal_(torch.empty(1, 1, d_model), std=0.02)) if pool == "cls" else None
        )
        layer = nn.TransformerEncoderLayer(
            d_model, num_heads, feedforward_dim or 4 * d_model, dropout,
            activation="gelu", batch_first=True, norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False)
        self.output_dim = d_model

    def _encode(self, x: Tensor) -> Tensor:
        """The encoder's output sequence, CLS token first when ``pool == "cls"``."""
        length = x.shape[1]
        if length > self.max_length:
            raise PolymodalError(f"transformer got {length} tokens, more than max_length {self.max_length}")
        tokens = self.input_projection(x) + self.position_embedding[:length]
        if self.cls_token is not None:
            tokens = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), tokens], dim=1)
        return self.encoder(tokens)

    def forward_tokens(self, x: Tensor) -> Tensor:
        """Per-token output features ``[B, T, d_model]`` (CLS token excluded)."""
        encoded = self._encode(x)
        return encoded[:, 1:] if self.cls_token is not None else encoded

    def forward(self, x: Tensor) -> Tensor:
        encoded = self._encode(x)
        return encoded[:, 0] if self.cls_token is not None else encoded.mean(dim=1)
