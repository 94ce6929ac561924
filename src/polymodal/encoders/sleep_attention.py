"""Transformer blocks of the sleep-staging encoders, with an optional cross-attention sublayer.

A block is pre-norm: ``x ← x + SelfAttn(LN(x))``, then, when a context is
given, ``x ← x + CrossAttn(LN_c(x), context)``, then ``x ← x + FFN(LN(x))``.
Running a block with or without a context uses the same self-attention and
FFN weights; only the cross-attention sublayer and its norm are specific to
the multimodal pass of CoRe-Sleep (arXiv 2304.06485, Sec. 3.2).

Positions enter as a learned per-head scalar bias on the attention logits,
indexed by the clipped relative distance ``clip(j − i, −K, K)`` (the bias form
of T5, arXiv 1910.10683, Sec. 2.1, with the clipping of Shaw et al.,
arXiv 1803.02155, Eq. 3; K = 7 in CoRe-Sleep). A CLS token has no position:
every pair that involves it shares one extra bias bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

CLS_POSITION = -1
"""The position given to a CLS token: pairs that involve it share one bias bucket."""


def relative_buckets(query_positions: Tensor, key_positions: Tensor, max_distance: int) -> Tensor:
    """Bias bucket ``[Tq, Tk]`` of each (query, key) pair.

    Tokens at positions i and j fall in bucket ``clip(j − i, −K, K) + K``;
    a pair with a CLS token (position :data:`CLS_POSITION`) falls in ``2K + 1``.
    """
    offset = (key_positions[None, :] - query_positions[:, None]).clamp(-max_distance, max_distance) + max_distance
    involves_cls = (query_positions[:, None] == CLS_POSITION) | (key_positions[None, :] == CLS_POSITION)
    return offset.masked_fill(involves_cls, 2 * max_distance + 1)


@dataclass
class Context:
    """Tokens a cross-attention sublayer attends to.

    Attributes:
        tokens: ``[N, Tk, D]`` context tokens.
        positions: ``[Tk]`` their positions (for the relative bias).
        mask: ``[N, Tk]`` True where a context token exists (its modality is present).
    """

    tokens: Tensor
    positions: Tensor
    mask: Tensor


class Attention(nn.Module):
    """Multi-head attention with an optional clipped relative position bias.

    Args:
        d_model: token width.
        heads: number of heads (divides ``d_model``).
        dropout: dropout on the attention weights.
        max_distance: clipping distance K of the relative bias; ``None`` for no bias.
    """

    def __init__(self, d_model: int, heads: int, dropout: float, max_distance: int | None) -> None:
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.query = nn.Linear(d_model, d_model)
        self.key_value = nn.Linear(d_model, 2 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.bias = None if max_distance is None else nn.Parameter(torch.zeros(heads, 2 * max_distance + 2))

    def forward(self, x: Tensor, context: Tensor, key_mask: Tensor | None, buckets: Tensor | None) -> Tensor:
        """Attend from ``x [N, Tq, D]`` to ``context [N, Tk, D]``.

        ``key_mask [N, Tk]`` blocks keys that are False with the most negative
        finite logit, so a row with no allowed key stays finite (uniform
        weights); callers discard such rows. ``buckets [Tq, Tk]`` index the bias.
        """
        n, tq, d = x.shape
        tk = context.shape[1]
        head_dim = d // self.heads
        q = self.query(x).view(n, tq, self.heads, head_dim).transpose(1, 2)
        k, v = self.key_value(context).view(n, tk, 2, self.heads, head_dim).permute(2, 0, 3, 1, 4)
        additive = None
        if self.bias is not None:
            additive = self.bias[:, buckets]
        if key_mask is not None:
            blocked = torch.zeros(n, 1, 1, tk, dtype=x.dtype, device=x.device)
            blocked = blocked.masked_fill(~key_mask[:, None, None, :], torch.finfo(x.dtype).min)
            additive = blocked if additive is None else additive + blocked
        attended = F.scaled_dot_product_attention(
            q, k, v, attn_mask=additive, dropout_p=self.dropout if self.training else 0.0
        )
        return self.out(attended.transpose(1, 2).reshape(n, tq, d))


class TransformerBlock(nn.Module):
    """Pre-norm block: self-attention, optional cross-attention, feed-forward.

    Args:
        d_model, heads, ffn_dim, dropout: sizes of the block.
        max_distance: relative-bias clipping K, or ``None`` (absolute positions).
        cross_attention: build the cross-attention sublayer (used when a context is given).
    """

    def __init__(
        self, d_model: int, heads: int, ffn_dim: int, dropout: float, max_distance: int | None, cross_attention: bool
    ) -> None:
        super().__init__()
        self.self_norm = nn.LayerNorm(d_model)
        self.self_attention = Attention(d_model, heads, dropout, max_distance)
        self.cross_norm = nn.LayerNorm(d_model) if cross_attention else None
        self.cross_attention = Attention(d_model, heads, dropout, max_distance) if cross_attention else None
        self.ffn_norm = nn.LayerNorm(d_model)
        self.ffn = nn.Sequential(
            nn.Linear(d_model, ffn_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(ffn_dim, d_model)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        x: Tensor,
        key_mask: Tensor | None,
        self_buckets: Tensor | None,
        context: Context | None = None,
        cross_buckets: Tensor | None = None,
    ) -> Tensor:
        """Update ``x [N, T, D]``; with a ``context`` the cross-attention sublayer runs.

        A query whose context has no present token gets no cross-attention
        update (the sublayer adds exactly zero), so an absent modality
        leaves the other one's stream as in the unimodal pass.
        """
        h = self.self_norm(x)
        x = x + self.dropout(self.self_attention(h, h, key_mask, self_buckets))
        if context is not None:
            if self.cross_attention is None or self.cross_norm is None:
                raise ValueError("this block was built without cross-attention")
            update = self.cross_attention(self.cross_norm(x), context.tokens, context.mask, cross_buckets)
            has_context = context.mask.any(dim=-1)[:, None, None]
            x = x + torch.where(has_context, self.dropout(update), 0.0)
        return x + self.dropout(self.ffn(self.ffn_norm(x)))


class TransformerStack(nn.Module):
    """``depth`` blocks followed by a final LayerNorm (shared by both passes).

    Args:
        d_model, depth, heads, ffn_dim, dropout: sizes.
        max_distance: relative-bias clipping K, or ``None`` (absolute positions).
        cross_attention: give every block a cross-attention sublayer.
    """

    def __init__(
        self,
        d_model: int,
        depth: int,
        heads: int,
        ffn_dim: int,
        dropout: float,
        max_distance: int | None,
        cross_attention: bool,
    ) -> None:
        super().__init__()
        self.max_distance = max_distance
        self.blocks = nn.ModuleList(
            TransformerBlock(d_model, heads, ffn_dim, dropout, max_distance, cross_attention) for _ in range(depth)
        )
        self.norm = nn.LayerNorm(d_model)

    def _buckets(self, query_positions: Tensor, key_positions: Tensor) -> Tensor | None:
        if self.max_distance is None:
            return None
        return relative_buckets(query_positions, key_positions, self.max_distance)

    def forward(
        self, x: Tensor, positions: Tensor, key_mask: Tensor | None = None, context: Context | None = None
    ) -> Tensor:
        """Encode ``x [N, T, D]`` at ``positions [T]``; ``key_mask [N, T]`` hides absent tokens."""
        self_buckets = self._buckets(positions, positions)
        cross_buckets = None if context is None else self._buckets(positions, context.positions)
        for block in self.blocks:
            x = block(x, key_mask, self_buckets, context, cross_buckets)
        return self.norm(x)
