from types import SimpleNamespace

import pytest
import torch

from polymodal.balance import build_balancer
from polymodal.balance.mslr import mslr_coefficients
from polymodal.errors import PolymodalError


class FakeMetrics:
    def __init__(self, values):
        self.values = values

    def compute(self):
        return {k: torch.tensor(v) for k, v in self.values.items()}


def validate(balancer, accuracies):
    task = SimpleNamespace(metrics={"val": FakeMetrics({f"val/acc/{m}": a for m, a in accuracies.items()})})
    return balancer.on_validation_epoch_end(task)


def test_coefficients_by_hand():
    history = torch.tensor([[0.0, 0.4, 0.6], [0.0, 0.5, 0.5]])
    k = mslr_coefficients(torch.tensor([0.75, 0.25]), history, filled=2, initial=torch.tensor([1.0, 2.0]))
    assert torch.allclose(k, torch.tensor([0.75 / 0.5 * 1.0, 0.25 / 0.5 * 2.0]))
    assert torch.allclose(mslr_coefficients(torch.tensor([0.3, 0.9]), history, 0, torch.tensor([1.0, 2.0])),
                          torch.tensor([1.0, 2.0]))


def test_window_of_last_k_epochs(kit):
    balancer = build_balancer("mslr", window=2, initial_scale={"m1": 0.5})
    balancer.check(kit.make_model(2))
    assert validate(balancer, {"m0": 0.2, "m1": 0.4}) == {"k/m0": 1.0, "k/m1": 0.5}
    validate(balancer, {"m0": 0.4, "m1": 0.4})
    state = validate(balancer, {"m0": 0.6, "m1": 0.2})  # mean of the last 2: 0.3 and 0.4
    assert state["k/m0"] == pytest.approx(0.6 / 0.3)
    assert state["k/m1"] == pytest.approx(0.2 / 0.4 * 0.5)


@pytest.mark.parametrize("count", [2, 3])
def test_scales_modality_gradients_only(count, kit):
    model, batch = kit.make_model(count), kit.make_batch(count)
    balancer = build_balancer("mslr", window=3)
    balancer.check(model)
    plain, _, _ = kit.step(balancer, model, batch)  # k = 1 before any validation
    validate(balancer, {m: 0.5 for m in model.modalities})
    accuracies = {m: 0.25 * (i + 1) for i, m in enumerate(model.modalities)}
    validate(balancer, accuracies)
    grads, terms, _ = kit.step(balancer, model, batch)
    assert set(terms) == {"fused"}
    for m in model.modalities:
        for p in model.modality_parameters(m):
            assert torch.allclose(grads[id(p)], plain[id(p)] * accuracies[m] / 0.5, atol=1e-7)
    for p in model.shared_parameters():
        assert torch.equal(grads[id(p)], plain[id(p)])


def test_bad_options_raise(kit):
    with pytest.raises(PolymodalError, match="window"):
        build_balancer("mslr", window=0)
    with pytest.raises(PolymodalError, match="mslr"):
        build_balancer("mslr", windows=3)
    with pytest.raises(PolymodalError, match="unknown modality 'audio'"):
        build_balancer("mslr", initial_scale={"audio": 2.0}).check(kit.make_model(2))
