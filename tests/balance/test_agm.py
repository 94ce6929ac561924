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
    # official: running score means S start at 0, so r* = exp(0) = 1 before the first step
    first = balancer.coefficients(scores)
    assert torch.allclose(first, torch.exp(2.0 * (1.0 - torch.tensor([math.exp(0.5), math.exp(-0.5)]))))
    advance(balancer, model, scores)  # S = [0.5, 1.0]
    advance(balancer, model, torch.tensor([1.5, 1.0]))  # S = [1.0, 1.0]: cumulative mean over steps
    assert torch.allclose(balancer.running, torch.tensor([1.0, 1.0]))
    k = balancer.coefficients(torch.tensor([2.0, 1.0]))  # r = [e^-1, e^1], r* = [1, 1]
    assert torch.allclose(k, torch.exp(2.0 * (1.0 - torch.tensor([math.exp(-1.0), math.exp(1.0)]))))
    # the exponent is capped at 10: S = [0, 5] gives r*_0 = e^5 ≈ 148, and r_0 = 1 for equal scores
    balancer.running.copy_(torch.tensor([0.0, 5.0]))
    capped = balancer.coefficients(torch.tensor([1.0, 1.0]))
    assert float(capped[0]) == pytest.approx(math.exp(2.0 * 10.0), rel=1e-5)
    assert float(capped[1]) == pytest.approx(math.exp(2.0 * (math.exp(-5.0) - 1.0)), rel=1e-5)


def test_ratio_mean_variant(kit):
    balancer = build_balancer("agm", alpha=2.0, reference="ratio_mean")
    model = kit.make_model(2)
    kit.setup(balancer, model)
    scores = torch.tensor([0.5, 1.0])
    assert torch.allclose(balancer.coefficients(scores), torch.ones(2))  # no history yet: k = 1
    advance(balancer, model, scores)  # r̄ = [e^0.5, e^-0.5]
    k = balancer.coefficients(torch.tensor([1.0, 1.0]))  # r = [1, 1]
    assert torch.allclose(k, torch.exp(2.0 * (torch.tensor([math.exp(0.5), math.exp(-0.5)]) - 1.0)))


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
    plain_balancer = build_balancer("agm", alpha=0.0, clip="off")
    kit.setup(plain_balancer, model)
    plain, terms, _ = kit.step(plain_balancer, model, batch)
    joint, joint_terms, _ = kit.step(build_balancer("joint"), model, batch)
    assert torch.allclose(terms["fused"], joint_terms["fused"], atol=1e-6)
    for p in model.parameters():  # α = 0: exactly the joint gradient
        assert torch.allclose(plain[id(p)], joint[id(p)], atol=1e-6)
    balancer = build_balancer("agm", alpha=3.0, clip="off")
    kit.setup(balancer, model)
    advance(balancer, model, torch.tensor([0.1, 3.0]))  # history: modality 0 was far ahead
    modulated, _, state = kit.step(balancer, model, batch)
    assert state["k/m0"] != pytest.approx(1.0) and state["k/m1"] != pytest.approx(1.0)
    for m in model.modalities:
        assert kit.changed(plain, modulated, model.encoders[m].parameters())
    clipped = build_balancer("agm", alpha=0.0, clip="always", clip_norm=0.01)
    kit.setup(clipped, model)
    grads, _, _ = kit.step(clipped, model, batch)
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(grads[id(p)]) for p in model.parameters()]))
    assert norm == pytest.approx(0.01, rel=1e-3)


def test_bad_options_raise(kit):
    with pytest.raises(PolymodalError, match="agm"):
        build_balancer("agm", gamma=1.0)
    with pytest.raises(PolymodalError, match="clip_norm"):
        build_balancer("agm", clip_norm=0.0)
    with pytest.raises(PolymodalError, match="unknown clip 'sometimes'"):
        build_balancer("agm", clip="sometimes")


def test_official_clip_rule_looks_at_the_fusion_weight_gradient(kit):
    model, batch = kit.make_model(2), kit.make_batch(2)
    small = kit.setup(build_balancer("agm", alpha=0.0, clip="fusion_weight", clip_norm=10.0), model)
    plain, _, _ = kit.step(kit.setup(build_balancer("agm", alpha=0.0, clip="off"), model), model, batch)
    grads, _, _ = kit.step(small, model, batch)  # fusion-weight entries far below 10: untouched
    assert all(torch.equal(grads[id(p)], plain[id(p)]) for p in model.parameters())
    largest = max(float(plain[id(p)].abs().max()) for p in model.fusion.parameters() if p.dim() >= 2)
    tight = kit.setup(build_balancer("agm", alpha=0.0, clip="fusion_weight", clip_norm=largest / 2), model)
    grads, _, _ = kit.step(tight, model, batch)
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(grads[id(p)]) for p in model.parameters()]))
    assert float(norm) == pytest.approx(largest / 2, rel=1e-3)
    with pytest.raises(PolymodalError, match="regression"):
        kit.setup(build_balancer("agm"), kit.make_model(2, classes=0))
