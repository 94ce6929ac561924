import pytest
import torch

from polymodal.balance import build_balancer
from polymodal.balance.pmr import prototype_logits
from polymodal.errors import PolymodalError


def test_prototype_logits_are_negative_distances():
    features = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    prototypes = torch.tensor([[0.0, 0.0], [3.0, 0.0]])
    logits = prototype_logits(features, prototypes, torch.tensor([True, True]))
    assert torch.allclose(logits, torch.tensor([[0.0, -3.0], [-5.0, -4.0]]))
    assert prototype_logits(features, prototypes, torch.tensor([True, False]))[0, 1] == float("-inf")


def test_prototypes_are_class_means_of_the_epoch(kit):
    model, batch = kit.make_model(2), kit.make_batch(2, size=6)
    balancer = build_balancer("pmr")
    kit.setup(balancer, model)
    kit.step(balancer, model, batch)
    balancer.train_epoch_end()
    features = model(batch["inputs"]).features["m1"]
    prototypes, known = balancer.prototypes("m1")
    for c in range(3):
        assert torch.allclose(prototypes[c], features[batch["target"] == c].mean(0), atol=1e-6)
    assert known.all()


@pytest.mark.parametrize("count", [2, 3])
def test_prototype_term_reaches_only_weaker_encoders(count, kit):
    model, batch = kit.make_model(count), kit.make_batch(count)
    balancer = build_balancer("pmr", alpha=1.0)
    kit.setup(balancer, model)
    plain, terms, _ = kit.step(balancer, model, batch)  # first epoch: no prototypes yet
    assert set(terms) == {"fused"}
    balancer.train_epoch_end()
    grads, terms, _ = kit.step(balancer, model, batch)
    boosted = [m for m in model.modalities if float(terms[f"proto/{m}"]) > 0]
    assert 1 <= len(boosted) < count
    for m in model.modalities:
        assert kit.changed(plain, grads, model.encoders[m].parameters()) == (m in boosted)
    assert not kit.changed(plain, grads, model.fusion.parameters())
    outside = build_balancer("pmr", end_epoch=3)
    kit.setup(outside, model)
    outside.load_state_dict(balancer.state_dict())  # prototypes travel in the checkpoint
    outside.epoch_start(3)
    assert set(kit.step(outside, model, batch)[1]) == {"fused"}


def test_bad_options_raise():
    with pytest.raises(PolymodalError, match="alpha"):
        build_balancer("pmr", alpha=-1.0)
    with pytest.raises(PolymodalError, match="pmr"):
        build_balancer("pmr", epochs=3)
