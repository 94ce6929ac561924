"""Tiny sizes, batches and gradient helpers for the sleep-model tests (fixture ``kit``)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import Tensor, nn

from polymodal.encoders.sleep_attention import TransformerBlock
from polymodal.encoders.sleep_transformer import SleepSizes
from polymodal.models.sleep_losses import SleepLoss

FRAMES, BINS, CLASSES = 5, 8, 5
MODALITIES = ("eeg", "eog")
TINY = SleepSizes(num_bins=BINS, num_frames=FRAMES, d_model=8, depth=2, heads=2, ffn_dim=16,
                  dropout=0.0, max_distance=2, max_epochs=6, head_hidden=16)


def make_inputs(batch: int = 2, length: int = 4) -> dict[str, Tensor]:
    return {m: torch.randn(batch, length, FRAMES, BINS) for m in MODALITIES}


def full_presence(batch: int = 2, length: int = 4) -> dict[str, Tensor]:
    return {m: torch.ones(batch, length, dtype=torch.bool) for m in MODALITIES}


def eog_partly_absent(batch: int = 2, length: int = 4) -> dict[str, Tensor]:
    """EOG absent on the whole second sequence and on epoch 1 of the first."""
    present = full_presence(batch, length)
    present["eog"][1] = False
    present["eog"][0, 1] = False
    return present


def cross_attention_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The fusion-specific parameters: cross-attention sublayers and their norms."""
    return [
        p
        for block in model.modules()
        if isinstance(block, TransformerBlock) and block.cross_attention is not None
        for p in [*block.cross_attention.parameters(), *block.cross_norm.parameters()]
    ]


def self_attention_parameters(model: nn.Module) -> list[nn.Parameter]:
    return [p for block in model.modules() if isinstance(block, TransformerBlock)
            for p in block.self_attention.parameters()]


def gradients(model: nn.Module, loss: Tensor) -> dict[int, Tensor]:
    """Gradient of ``loss`` per parameter (id → tensor; zeros where it does not reach)."""
    params = list(model.parameters())
    grads = torch.autograd.grad(loss, params, allow_unused=True, retain_graph=True)
    return {id(p): torch.zeros_like(p) if g is None else g for p, g in zip(params, grads, strict=True)}


def total_loss(model: nn.Module, inputs, present, target, w_uni: float = 1.0, w_align: float = 0.0) -> Tensor:
    terms = SleepLoss(w_uni=w_uni, w_align=w_align)(model(inputs, present), target, present)
    return torch.stack(list(terms.values())).sum()


@pytest.fixture
def kit() -> SimpleNamespace:
    return SimpleNamespace(
        FRAMES=FRAMES, BINS=BINS, CLASSES=CLASSES, MODALITIES=MODALITIES, TINY=TINY, make_inputs=make_inputs, full_presence=full_presence,
        eog_partly_absent=eog_partly_absent, cross_attention_parameters=cross_attention_parameters,
        self_attention_parameters=self_attention_parameters, gradients=gradients, total_loss=total_loss,
    )
