import math

import pytest
import torch

from polymodal.balance import build_balancer
from polymodal.balance.ogm_ge import ogm_coefficients
from polymodal.errors import PolymodalError


def test_coefficients_two_modalities():
    k = ogm_coefficients(torch.tensor([6.0, 3.0]), alpha=0.8)  # ρ_a = 2, ρ_v = 0.5: paper Eq. 10, 1 − tanh(αρ)
    assert torch.allclose(k, torch.tensor([1 - math.tanh(1.6), 1.0]))
    continuous = ogm_coefficients(torch.tensor([6.0, 3.0]), alpha=0.8, form="continuous")
    assert torch.allclose(continuous, torch.tensor([1 - math.tanh(0.8), 1.0]))


def test_published_coefficient_jumps_at_ratio_one():
    # ρ = 1.042, α = 0.8: 1 − tanh(0.8336) = 0.317 (the continuous variant gives 0.966)
    scores = torch.tensor([1.042, 1.0])
    assert float(ogm_coefficients(scores, 0.8)[0]) == pytest.approx(1 - math.tanh(0.8 * 1.042), rel=1e-5)
    assert float(ogm_coefficients(scores, 0.8)[0]) == pytest.approx(0.317, abs=1e-3)
    assert float(ogm_coefficients(scores, 0.8, "continuous")[0]) == pytest.approx(0.966, abs=1e-3)
    below = ogm_coefficients(torch.tensor([0.999, 1.0]), 0.8)
    assert torch.equal(below[0], torch.tensor(1.0))  # just below ρ = 1: unmodulated


def test_coefficients_one_vs_mean_of_others():
    k = ogm_coefficients(torch.tensor([4.0, 2.0, 2.0]), alpha=0.5)  # ρ = 2, 2/3, 2/3
    assert torch.allclose(k, torch.tensor([1 - math.tanh(1.0), 1.0, 1.0]))


@pytest.mark.parametrize("count", [2, 3])
def test_slows_dominant_modality_only(count, kit):
    model, batch = kit.make_model(count), kit.make_batch(count)
    plain, _, _ = kit.step(build_balancer("joint"), model, batch)
    grads, _, state = kit.step(build_balancer("ogm_ge", alpha=1.0, ge=False), model, batch)
    output = model(batch["inputs"])
    shares = model.fusion.modality_logits(output.features)
    s = torch.stack([shares[m].softmax(-1)[torch.arange(8), batch["target"]].mean() for m in model.modalities])
    expected = ogm_coefficients(s, 1.0)
    assert (expected < 1).sum() >= 1
    for i, m in enumerate(model.modalities):
        assert state[f"k/{m}"] == pytest.approx(float(expected[i]), rel=1e-5)
        for p in model.modality_parameters(m):
            assert torch.allclose(grads[id(p)], plain[id(p)] * expected[i], atol=1e-7)
    for p in model.shared_parameters():
        assert torch.equal(grads[id(p)], plain[id(p)])


def test_generalization_noise_has_gradient_std(kit):
    model, batch = kit.make_model(2, hidden=64), kit.make_batch(2)
    plain, _, _ = kit.step(build_balancer("joint"), model, batch)
    grads, _, state = kit.step(build_balancer("ogm_ge", alpha=1.0, ge=True), model, batch)
    weight = model.encoders["m0"].net[1].weight
    k = state["k/m0"]
    noise = grads[id(weight)] - k * plain[id(weight)]
    assert noise.std() == pytest.approx(float(plain[id(weight)].std()) + 1e-8, rel=0.15)
    for p in model.shared_parameters():
        assert torch.equal(grads[id(p)], plain[id(p)])


def test_needs_sum_head_and_conv_scope_needs_conv_weights(kit):
    with pytest.raises(PolymodalError, match="does not support fusion 'mid_mlp'"):
        kit.setup(build_balancer("ogm_ge"), kit.make_model(2, fusion="mid_mlp"))
    with pytest.raises(PolymodalError, match="convolution"):
        kit.setup(build_balancer("ogm_ge", scope="conv"), kit.make_model(2))
    with pytest.raises(PolymodalError, match="scope"):
        build_balancer("ogm_ge", scope="convs")
    with pytest.raises(PolymodalError, match="ogm_ge"):
        build_balancer("ogm_ge", beta=1.0)
    for fusion in ("late", "logit_sum", "cosine"):
        kit.setup(build_balancer("ogm_ge"), kit.make_model(2, fusion=fusion))


def test_conv_scope_modulates_only_convolution_kernels(kit):
    from polymodal.models.classifier import MultimodalClassifier

    info = kit.make_info(2)
    info = type(info)(info.modalities, {m: (1, 16) for m in info.modalities}, info.num_classes)
    model = MultimodalClassifier.from_info(info, encoder="cnn1d", encoder_options={"channels": [4, 4], "kernel_size": 3})
    g = torch.Generator().manual_seed(1)
    batch = {"inputs": {m: torch.randn(6, 1, 16, generator=g) for m in info.modalities}, "target": torch.arange(6) % 3,
             "present": {m: torch.ones(6, dtype=torch.bool) for m in info.modalities}}
    plain, _, _ = kit.step(build_balancer("joint"), model, batch)
    balancer = build_balancer("ogm_ge", alpha=5.0, ge=False, scope="conv")
    kit.setup(balancer, model)
    grads, _, state = kit.step(balancer, model, batch)
    dominant = min(state, key=lambda key: state[key] if key.startswith("k/") else 2.0)[2:]
    k = state[f"k/{dominant}"]
    assert k < 1
    for p in model.modality_parameters(dominant):
        expected = plain[id(p)] * k if p.dim() >= 3 else plain[id(p)]
        assert torch.allclose(grads[id(p)], expected, atol=1e-7)
