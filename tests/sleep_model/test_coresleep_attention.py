"""Relative position buckets and the cross-attention sublayer of the sleep transformer blocks."""

import torch

from polymodal.encoders.sleep_attention import (
    CLS_POSITION,
    Context,
    TransformerBlock,
    TransformerStack,
    relative_buckets,
)
from polymodal.encoders.sleep_transformer import SleepTransformer


def test_relative_buckets_clip_and_give_cls_its_own_bucket() -> None:
    positions = torch.tensor([CLS_POSITION, 0, 1, 2, 3])
    buckets = relative_buckets(positions, positions, max_distance=2)
    expected = torch.tensor(
        [
            [5, 5, 5, 5, 5],
            [5, 2, 3, 4, 4],  # j - i = 0, 1, 2, 3 → clipped at +2 (bucket 4)
            [5, 1, 2, 3, 4],
            [5, 0, 1, 2, 3],
            [5, 0, 0, 1, 2],  # j - i = -3 → clipped at -2 (bucket 0)
        ]
    )
    assert torch.equal(buckets, expected)


def test_cross_attention_adds_nothing_where_the_context_is_absent() -> None:
    block = TransformerBlock(8, 2, 16, 0.0, max_distance=2, cross_attention=True).eval()
    x = torch.randn(3, 4, 8)
    positions = torch.arange(4)
    buckets = relative_buckets(positions, positions, 2)
    context = Context(torch.randn(3, 4, 8), positions, torch.tensor([[True] * 4, [False] * 4, [True, False] * 2]))
    with_context = block(x, None, buckets, context, buckets)
    without = block(x, None, buckets)
    assert torch.equal(with_context[1], without[1])  # no present context token: exactly the self-only block
    assert not torch.allclose(with_context[0], without[0])
    assert not torch.allclose(with_context[2], without[2])


def test_absent_context_tokens_do_not_change_the_output() -> None:
    block = TransformerBlock(8, 2, 16, 0.0, max_distance=None, cross_attention=True).eval()
    x, tokens = torch.randn(1, 3, 8), torch.randn(1, 4, 8)
    mask = torch.tensor([[True, False, True, False]])
    out = block(x, None, None, Context(tokens, torch.arange(4), mask))
    changed = tokens.clone()
    changed[:, ~mask[0]] = 1e3 * torch.randn(1, 2, 8)
    assert torch.allclose(out, block(x, None, None, Context(changed, torch.arange(4), mask)), atol=1e-6)


def test_hidden_keys_do_not_reach_the_visible_tokens() -> None:
    stack = TransformerStack(8, 2, 2, 16, 0.0, max_distance=2, cross_attention=False).eval()
    x = torch.randn(2, 5, 8)
    mask = torch.tensor([[True, False, True, True, False], [True] * 5])
    changed = x.clone()
    changed[~mask] = 100 * torch.randn(2, 8)
    out, out_changed = stack(x, torch.arange(5), mask), stack(changed, torch.arange(5), mask)
    assert torch.allclose(out[mask], out_changed[mask], atol=1e-6)
    assert not torch.allclose(stack(x, torch.arange(5))[0, 0], stack(changed, torch.arange(5))[0, 0])


def test_the_sequence_level_hides_absent_epochs(kit) -> None:
    encoder = SleepTransformer(kit.TINY)
    seen = []
    encoder.sequence_level.register_forward_pre_hook(lambda module, args: seen.append(args[2]))
    present = kit.eog_partly_absent()["eog"]
    encoder([kit.make_inputs()["eog"]], [present])
    assert torch.equal(seen[0], present)
