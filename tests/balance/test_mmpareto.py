import pytest
import torch

from polymodal.balance import ModelView, StepContext, build_balancer
from polymodal.balance.mmpareto import pareto_combination
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


@pytest.mark.parametrize("count", [2, 3])
def test_encoder_gradients_are_pareto_combined(count, kit):
    model, batch = kit.make_model(count), kit.make_batch(count)
    balancer = build_balancer("mmpareto")
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
        build_balancer("mmpareto", gamma=0.5)
