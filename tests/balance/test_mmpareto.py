import pytest
import torch

from polymodal.balance import ModelView, StepContext, build_balancer
from polymodal.balance.mmpareto import pareto_combination, pareto_weight, published_combination
from polymodal.errors import PolymodalError


def test_agreeing_gradients_are_summed():
    fused, uni = torch.tensor([1.0, 0.0]), torch.tensor([1.0, 1.0])
    combined, weight = pareto_combination(fused, uni)
    assert float(weight) == 0.5
    assert torch.allclose(combined, fused + uni)


def test_conflicting_gradients_use_min_norm_weights_rescaled():
    fused, uni = torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 2.0])
    # w = ((u − f)·u) / ‖f − u‖² = ((−2)(−1) + 2·2) / (4 + 4) = 0.75
    combined, weight = pareto_combination(fused, uni)
    assert float(weight) == pytest.approx(0.75)
    direction = 0.75 * fused + 0.25 * uni  # (0.5, 0.5)
    expected = direction / direction.norm() * (fused + uni).norm()
    assert torch.allclose(combined, expected)


def test_published_rule_by_hand():
    # agreeing: ½/½, g = 2(½g_f + ½g_u) = g_f + g_u, ×1.5, never shrunk
    f, u = torch.tensor([3.0, 0.0]), torch.tensor([1.0, 1.0])
    assert torch.allclose(published_combination(f, u, torch.tensor(0.5), 1.5), 1.5 * (f + u))
    # conflicting, w_f = 0.75: g = 2(0.75 f + 0.25 u) = (1, 1), ‖f + u‖ / ‖g‖ = 2/√2 → up by √2, then ×1.5
    f, u = torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 2.0])
    expected = 1.5 * torch.tensor([1.0, 1.0]) * (2 / 2**0.5)
    assert torch.allclose(published_combination(f, u, pareto_weight(f, u), 1.5), expected)
    # the official solver's edge cases (reached when one gradient vanishes)
    assert float(pareto_weight(torch.zeros(2), torch.tensor([-1.0, 2.0]))) == pytest.approx(0.999)
    assert float(pareto_weight(torch.tensor([1.0, 0.0]), torch.zeros(2))) == pytest.approx(0.001)


@pytest.mark.parametrize("count", [2, 3])
def test_encoder_gradients_follow_the_published_rule_per_tensor(count, kit):
    model, batch = kit.make_model(count), kit.make_batch(count)
    balancer = build_balancer("mmpareto")
    grads, _, state = kit.step(balancer, model, batch)
    for m in model.modalities:
        encoder = list(model.encoders[m].parameters())
        terms = balancer.loss(model(batch["inputs"]), batch, ModelView(model), StepContext()).terms
        fused = torch.autograd.grad(terms["fused"], encoder, retain_graph=True)
        uni = torch.autograd.grad(terms[f"uni/{m}"], encoder)
        flat = lambda gs: torch.cat([g.reshape(-1) for g in gs])  # noqa: E731
        weight = pareto_weight(flat(fused), flat(uni))
        assert state[f"w_fused/{m}"] == pytest.approx(float(weight))
        for p, f, u in zip(encoder, fused, uni):
            assert torch.allclose(grads[id(p)], published_combination(f, u, weight, 1.5), atol=1e-5)


@pytest.mark.parametrize("count", [2, 3])
def test_sum_norm_variant_rescales_the_whole_encoder(count, kit):
    model, batch = kit.make_model(count), kit.make_batch(count)
    balancer = build_balancer("mmpareto", rescale="sum_norm")
    grads, terms, state = kit.step(balancer, model, batch)
    for m in model.modalities:
        encoder = list(model.encoders[m].parameters())
        model.zero_grad()
        terms = balancer.loss(model(batch["inputs"]), batch, ModelView(model), StepContext()).terms
        fused = torch.autograd.grad(terms["fused"], encoder, retain_graph=True)
        uni = torch.autograd.grad(terms[f"uni/{m}"], encoder)
        flat = lambda gs: torch.cat([g.reshape(-1) for g in gs])  # noqa: E731
        expected, weight = pareto_combination(flat(fused), flat(uni))
        assert state[f"w_fused/{m}"] == pytest.approx(float(weight))
        assert torch.allclose(torch.cat([grads[id(p)].reshape(-1) for p in encoder]), expected, atol=1e-6)
    plain, _, _ = kit.step(build_balancer("multiloss"), model, batch)
    for p in list(model.fusion.parameters()) + list(model.heads.parameters()):
        assert torch.allclose(grads[id(p)], plain[id(p)], atol=1e-7)


def test_bad_options_raise():
    with pytest.raises(PolymodalError, match="mmpareto"):
        build_balancer("mmpareto", gama=0.5)
    with pytest.raises(PolymodalError, match="unknown rescale 'none'"):
        build_balancer("mmpareto", rescale="none")
