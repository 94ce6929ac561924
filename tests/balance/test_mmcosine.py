import pytest
import torch
import torch.nn.functional as F

from polymodal.balance import build_balancer
from polymodal.errors import PolymodalError
from polymodal.fusion import build_fusion


def test_cosine_head_is_scaled_sum_of_cosines():
    head = build_fusion("cosine", {"a": 2, "v": 3}, 2, scale=10.0)
    with torch.no_grad():
        head.weights["a"].copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
        head.weights["v"].copy_(torch.tensor([[0.0, 0.0, 3.0], [1.0, 1.0, 0.0]]))
    features = {"a": torch.tensor([[3.0, 3.0]]), "v": torch.tensor([[0.0, 0.0, 5.0]])}
    r = 2**-0.5
    expected = 10.0 * torch.tensor([[r + 1.0, r + 0.0]])
    assert torch.allclose(head(features), expected, atol=1e-6)
    shares = head.modality_logits(features)
    assert torch.allclose(shares["a"], 10.0 * torch.tensor([[r, r]]), atol=1e-6)
    assert head.modality_parameters("v") == [head.weights["v"]]


def test_logits_ignore_feature_and_weight_norms():
    head = build_fusion("cosine", {"a": 4, "v": 4}, 3)
    features = {"a": torch.randn(5, 4), "v": torch.randn(5, 4)}
    scaled = {"a": 100 * features["a"], "v": features["v"]}
    assert torch.allclose(head(features), head(scaled), atol=1e-5)
    assert head(features).abs().max() <= 2 * head.scale + 1e-5


def test_method_needs_cosine_head_and_trains_its_weights(kit):
    with pytest.raises(PolymodalError, match="does not support fusion 'late'"):
        kit.setup(build_balancer("mmcosine"), kit.make_model(2))
    model, batch = kit.make_model(2, fusion="cosine"), kit.make_batch(2)
    balancer = build_balancer("mmcosine")
    kit.setup(balancer, model)
    grads, terms, _ = kit.step(balancer, model, batch)
    logits = model(batch["inputs"]).logits
    assert torch.allclose(terms["fused"], F.cross_entropy(logits, batch["target"]))
    assert all(grads[id(w)].abs().sum() > 0 for w in model.fusion.weights.values())
    with pytest.raises(PolymodalError, match="scale"):
        build_fusion("cosine", {"a": 2, "v": 2}, 3, scale=0.0)
