"""MultimodalClassifier: parameter groups, detached fusion, absent modalities; the registry."""

from __future__ import annotations

import pytest
import torch

from polymodal.data.contract import DataInfo
from polymodal.errors import UnknownNameError
from polymodal.models.classifier import MultimodalClassifier
from polymodal.registry import Registry

INFO = DataInfo(("a", "b", "c"), {"a": (5,), "b": (3,), "c": (4,)}, num_classes=4)


@pytest.mark.parametrize("fusion", ["late", "mid_mlp", "gated", "logit_sum"])
def test_modality_groups_partition_the_parameters(fusion: str) -> None:
    model = MultimodalClassifier.from_info(INFO, fusion=fusion)
    groups = {m: {id(p) for p in model.modality_parameters(m)} for m in INFO.modalities}
    for m in groups:
        for n in groups:
            assert m == n or not groups[m] & groups[n]
    shared = {id(p) for p in model.shared_parameters()}
    assert set().union(*groups.values()) | shared == {id(p) for p in model.parameters()}
    assert all(id(p) in groups["a"] for p in model.encoders["a"].parameters())
    assert all(id(p) in groups["a"] for p in model.heads["a"].parameters())


def test_fuse_with_detached_modality_stops_its_gradient() -> None:
    model = MultimodalClassifier.from_info(INFO)
    inputs = {m: torch.randn(6, *INFO.shapes[m]) for m in INFO.modalities}
    features = model.encode(inputs)
    model.fuse(features, detach=["b"]).sum().backward()
    assert all(p.grad is None for p in model.encoders["b"].parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoders["a"].parameters())


def test_absent_modality_cannot_change_the_fused_prediction() -> None:
    model = MultimodalClassifier.from_info(INFO).eval()
    inputs = {m: torch.randn(6, *INFO.shapes[m]) for m in INFO.modalities}
    present = {m: torch.ones(6, dtype=torch.bool) for m in INFO.modalities}
    present["c"][:3] = False
    out = model(inputs, present)
    changed = dict(inputs, c=inputs["c"] + 100.0)
    again = model(changed, present)
    assert torch.allclose(out.logits[:3], again.logits[:3])
    assert not torch.allclose(out.logits[3:], again.logits[3:])
    assert torch.equal(out.features["c"][:3], torch.zeros_like(out.features["c"][:3]))


def test_registry_rejects_unknown_and_duplicate_names() -> None:
    registry: Registry[int] = Registry("widget")
    registry.register("one")(1)
    with pytest.raises(UnknownNameError, match="unknown widget 'two'; choose one of: one"):
        registry.get("two")
    with pytest.raises(ValueError, match="already registered"):
        registry.register("one")(2)
