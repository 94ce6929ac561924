import math

import pytest
import torch

from polymodal.balance import ModelView, StepContext, build_balancer
from polymodal.balance.agm import agm_ratios, scale_backward, shapley_matrix, subset_outputs
from polymodal.errors import PolymodalError


def test_two_modality_weights_are_the_paper_formula():
    # subsets in bit order: ∅, {a}, {v}, {a, v}; o_a = ½(f − f(a←0) + f(v←0)) = ½(f_av − f_v + f_a)
    expected = torch.tensor([[0.0, 0.5, -0.5, 0.5], [0.0, -0.5, 0.5, 0.5]])
    assert torch.allclose(shapley_matrix(2), expected)


@pytest.mark.parametrize("count", [2, 3])
def test_unimodal_outputs_sum_to_fused_output(count, kit):
    model, batch = kit.make_model(count, fusion="mid_mlp"), kit.make_batch(count)
    model.eval()
    balancer = build_balancer("agm")
    kit.setup(balancer, model)
    output = model(batch["inputs"])
    unimodal = balancer.unimodal_outputs(ModelView(model), output, batch)
    assert unimodal.shape == (count, 8, 3)
    assert torch.allclose(unimodal.sum(0), output.logits, atol=1e-5)


def test_subset_outputs_zero_the_dropped_modalities(kit):
    model, batch = kit.make_model(2), kit.make_batch(2)
    output = model(batch["inputs"])
    table = subset_outputs(ModelView(model), output.features, batch["present"])
    only_a = model.fusion({"m0": output.features["m0"], "m1": torch.zeros_like(output.features["m1"])})
    assert torch.allclose(table[1], only_a, atol=1e-6)
    assert torch.allclose(table[3], output.logits, atol=1e-6)


def test_ratios_and_coefficients_by_hand(kit):
    scores = torch.tensor([0.5, 1.0])
    assert torch.allclose(agm_ratios(scores), torch.tensor([math.exp(0.5), math.exp(-0.5)]))
    balancer = build_balancer("agm", alpha=2.0)
    model = kit.make_model(2)
    kit.setup(balancer, model)
    first = balancer.coefficients(scores)  # no history yet: k = 1
    assert torch.allclose(first, torch.ones(2))
    advance(balancer, model, scores)  # one optimizer step with these scores: r̄ = [e^0.5, e^-0.5]
    second_scores = torch.tensor([1.0, 1.0])  # r = [1, 1]
    k = balancer.coefficients(second_scores)
    assert torch.allclose(k, torch.exp(2.0 * (torch.tensor([math.exp(0.5), math.exp(-0.5)]) - 1.0)))
    advance(balancer, model, second_scores)
    assert torch.allclose(balancer.ratio_mean, (agm_ratios(scores) + 1.0) / 2)


def advance(balancer, model, scores):
    """One optimizer step whose pooled scores are ``scores``."""
    statistics = {}
    for m, s in zip(model.modalities, scores):
        statistics |= {f"score/{m}": s * 4, f"count/{m}": torch.tensor(4.0)}
    balancer.step(statistics, ModelView(model), StepContext())


def test_scale_backward_is_identity_forward_and_scales_gradient():
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    y = scale_backward(x, torch.tensor(0.25))
    assert torch.allclose(y, x)
    y.sum().backward()
    assert torch.allclose(x.grad, torch.full((2,), 0.25))


def test_modulation_changes_encoder_gradients_and_clips(kit):
    model, batch = kit.make_model(2), kit.make_batch(2)
    plain_balancer = build_balancer("agm", alpha=0.0, clip_norm=None)
    kit.setup(plain_balancer, model)
    plain, terms, _ = kit.step(plain_balancer, model, batch)
    joint, joint_terms, _ = kit.step(build_balancer("joint"), model, batch)
    assert torch.allclose(terms["fused"], joint_terms["fused"], atol=1e-6)
    for p in model.parameters():  # α = 0: exactly the joint gradient
        assert torch.allclose(plain[id(p)], joint[id(p)], atol=1e-6)
    balancer = build_balancer("agm", alpha=3.0, clip_norm=None)
    kit.setup(balancer, model)
    advance(balancer, model, torch.tensor([0.1, 3.0]))  # history: modality 0 was far ahead
    modulated, _, state = kit.step(balancer, model, batch)
    assert state["k/m0"] != pytest.approx(1.0) and state["k/m1"] != pytest.approx(1.0)
    for m in model.modalities:
        assert kit.changed(plain, modulated, model.encoders[m].parameters())
    clipped = build_balancer("agm", alpha=0.0, clip_norm=0.01)
    kit.setup(clipped, model)
    grads, _, _ = kit.step(clipped, model, batch)
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(grads[id(p)]) for p in model.parameters()]))
    assert norm == pytest.approx(0.01, rel=1e-3)


def test_bad_options_raise(kit):
    with pytest.raises(PolymodalError, match="agm"):
        build_balancer("agm", gamma=1.0)
    with pytest.raises(PolymodalError, match="clip_norm"):
        build_balancer("agm", clip_norm=0.0)
    with pytest.raises(PolymodalError, match="regression"):
        kit.setup(build_balancer("agm"), kit.make_model(2, classes=0))
