import math

import pytest
import torch

from polymodal.balance import build_balancer
from polymodal.balance.mlb import mlb_coefficients, mlb_ratios
from polymodal.errors import PolymodalError


def test_ratios_two_and_three_modalities():
    assert torch.allclose(mlb_ratios(torch.tensor([0.8, 0.4])), torch.tensor([0.5, 2.0]))
    # r_m = mean of the others / s_m
    r = mlb_ratios(torch.tensor([0.2, 0.4, 0.6]))
    assert torch.allclose(r, torch.tensor([0.5 / 0.2, 0.4 / 0.4, 0.3 / 0.6]))
    # regression: lower MSE is better, the ratio is inverted
    assert torch.allclose(mlb_ratios(torch.tensor([2.0, 1.0]), regression=True), torch.tensor([2.0, 0.5]))


def test_default_coefficient_form():
    k = mlb_coefficients(torch.tensor([0.5, 2.0]), alpha=0.8)
    assert torch.allclose(k, torch.tensor([1 + math.tanh(-0.4), 1 + math.tanh(0.8)]))


def test_capped_coefficient_form():
    k = mlb_coefficients(torch.tensor([0.5, 2.0]), alpha=1.5, beta_max=4.0)
    # lagging (r > 1): 1 + (β_max − 1)·tanh(α(r−1)); dominant: β = 2
    assert torch.allclose(k, torch.tensor([1 + math.tanh(-0.75), 1 + 3 * math.tanh(1.5)]))


@pytest.mark.parametrize("count", [2, 3])
def test_scales_modality_groups_by_k_and_leaves_shared_untouched(count, kit):
    model, batch = kit.make_model(count), kit.make_batch(count)
    plain, _, _ = kit.step(build_balancer("mlb", alpha=0.0), model, batch)
    balancer = build_balancer("mlb", alpha=2.0)
    scaled, _, state = kit.step(balancer, model, batch)
    output = model(batch["inputs"])
    probs = {m: output.unimodal[m].softmax(-1)[torch.arange(8), batch["target"]].mean() for m in model.modalities}
    s = torch.stack([probs[m] for m in model.modalities])
    k = 1 + torch.tanh(2.0 * (((s.sum() - s) / (count - 1)) / s - 1))
    for i, m in enumerate(model.modalities):
        assert state[f"s/{m}"] == pytest.approx(float(s[i]), rel=1e-5)
        assert state[f"k/{m}"] == pytest.approx(float(k[i]), rel=1e-5)
        for p in model.modality_parameters(m):
            assert torch.allclose(scaled[id(p)], plain[id(p)] * k[i], atol=1e-6)
    shared = list(model.shared_parameters())
    assert shared  # the late head's bias
    for p in shared:
        assert torch.equal(scaled[id(p)], plain[id(p)])


def test_regression_variant_uses_head_mse(kit):
    model, batch = kit.make_model(2, classes=0), kit.make_batch(2, regression=True)
    balancer = kit.setup(build_balancer("mlb", alpha=1.0), model)
    _, _, state = kit.step(balancer, model, batch)
    output = model(batch["inputs"])
    mse = {m: ((output.unimodal[m].squeeze(1) - batch["target"]) ** 2).mean() for m in model.modalities}
    a, b = mse["m0"], mse["m1"]
    assert state["s/m0"] == pytest.approx(float(a), rel=1e-5)
    assert state["k/m0"] == pytest.approx(1 + math.tanh(a / b - 1), rel=1e-5)


def test_epoch_window_turns_modulation_off(kit):
    model, batch = kit.make_model(2), kit.make_batch(2)
    plain, _, _ = kit.step(build_balancer("mlb", alpha=0.0), model, batch)
    balancer = build_balancer("mlb", alpha=3.0, start_epoch=2)
    grads, _, state = kit.step(balancer, model, batch)
    assert state["k/m0"] == 1.0
    assert all(torch.equal(grads[i], plain[i]) for i in plain)


def test_bad_options_raise(kit):
    with pytest.raises(PolymodalError, match="mlb"):
        build_balancer("mlb", alpah=1.0)
    with pytest.raises(PolymodalError, match="start_epoch"):
        build_balancer("mlb", start_epoch=3, end_epoch=2)
    with pytest.raises(PolymodalError, match="at least 2"):
        kit.setup(build_balancer("mlb"), kit.make_model(1))
