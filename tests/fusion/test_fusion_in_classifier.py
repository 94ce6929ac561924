"""Every fusion head plugs into MultimodalClassifier.from_info and trains end to end."""

import pytest
import torch

from polymodal.data.contract import DataInfo
from polymodal.models.classifier import MultimodalClassifier

HEADS = ["film", "gated", "late", "logit_sum", "mid_mlp", "transformer"]
SMALL_OPTIONS = {
    "film": {"hidden_dim": 8},
    "gated": {"hidden_dim": 8},
    "mid_mlp": {"hidden_dim": 8},
    "transformer": {"d_model": 8, "num_heads": 2},
}


@pytest.mark.parametrize("name", HEADS)
def test_from_info_builds_and_every_encoder_gets_gradient(name):
    info = DataInfo(("a", "b", "c"), {"a": (4,), "b": (2, 3), "c": (5,)}, num_classes=3)
    model = MultimodalClassifier.from_info(info, fusion=name, encoder_options={"hidden_dim": 6},
                                           fusion_options=SMALL_OPTIONS.get(name))
    assert model.fusion.name == name
    inputs = {m: torch.randn(5, *s) for m, s in info.shapes.items()}
    present = {"b": torch.tensor([True, True, False, True, True])}
    output = model(inputs, present)
    assert output.logits.shape == (5, 3)
    output.logits.sum().backward()
    for m in info.modalities:
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoders[m].parameters()), m
    shared = {id(p) for p in model.shared_parameters()}
    for m in info.modalities:
        assert not shared & {id(p) for p in model.modality_parameters(m)}
