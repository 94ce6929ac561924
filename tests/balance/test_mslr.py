import pytest
import torch

from polymodal.balance import build_balancer
from polymodal.balance.mslr import mslr_coefficients
from polymodal.errors import PolymodalError


def validate(balancer, accuracies):
    state = balancer.validation_end({f"val/acc/{m}": torch.tensor(a) for m, a in accuracies.items()})
    return {k: float(v) for k, v in state.items()}


def test_coefficients_by_hand():
    history = torch.tensor([[0.0, 0.4, 0.6], [0.0, 0.5, 0.5]])
    initial = torch.tensor([1.0, 2.0])
    k = mslr_coefficients(torch.tensor([0.75, 0.25]), history, filled=2, initial=initial, warmup="partial")
    assert torch.allclose(k, torch.tensor([0.75 / 0.5 * 1.0, 0.25 / 0.5 * 2.0]))
    # the paper adapts only once the window of K = 3 past accuracies is full
    assert torch.allclose(mslr_coefficients(torch.tensor([0.75, 0.25]), history, 2, initial), initial)
    full = torch.tensor([[0.2, 0.4, 0.6], [0.5, 0.5, 0.5]])
    assert torch.allclose(mslr_coefficients(torch.tensor([0.8, 0.25]), full, 3, initial),
                          torch.tensor([0.8 / 0.4, 0.25 / 0.5 * 2.0]))
    assert torch.allclose(mslr_coefficients(torch.tensor([0.3, 0.9]), history, 0, initial), initial)


def test_window_of_last_k_epochs(kit):
    balancer = build_balancer("mslr", window=2, initial_scale={"m1": 0.5})
    kit.setup(balancer, kit.make_model(2))
    assert validate(balancer, {"m0": 0.2, "m1": 0.4}) == {"k/m0": 1.0, "k/m1": 0.5}
    assert validate(balancer, {"m0": 0.4, "m1": 0.4}) == {"k/m0": 1.0, "k/m1": 0.5}  # window not full yet
    state = validate(balancer, {"m0": 0.6, "m1": 0.2})  # mean of the last 2: 0.3 and 0.4
    assert state["k/m0"] == pytest.approx(0.6 / 0.3)
    assert state["k/m1"] == pytest.approx(0.2 / 0.4 * 0.5)


@pytest.mark.parametrize("count", [2, 3])
def test_scales_modality_gradients_only(count, kit):
    model, batch = kit.make_model(count), kit.make_batch(count)
    balancer = build_balancer("mslr", window=1)
    kit.setup(balancer, model)
    plain, _, _ = kit.step(balancer, model, batch)  # k = 1 before any validation
    validate(balancer, {m: 0.5 for m in model.modalities})
    accuracies = {m: 0.25 * (i + 1) for i, m in enumerate(model.modalities)}
    validate(balancer, accuracies)
    grads, terms, _ = kit.step(balancer, model, batch)
    assert set(terms) == {"fused"} | {f"probe/{m}" for m in model.modalities}
    for m in model.modalities:
        for p in model.modality_parameters(m):
            assert torch.allclose(grads[id(p)], plain[id(p)] * accuracies[m] / 0.5, atol=1e-7)


def test_heads_are_probes_that_do_not_train_the_encoders(kit):
    model, batch = kit.make_model(2), kit.make_batch(2)
    probes_only, _, _ = kit.step(kit.setup(build_balancer("mslr"), model), model, batch)
    joint, _, _ = kit.step(build_balancer("joint"), model, batch)
    for p in list(model.encoders.parameters()) + list(model.fusion.parameters()):
        assert torch.allclose(probes_only[id(p)], joint[id(p)], atol=1e-7)
    assert all(probes_only[id(p)].abs().sum() > 0 for p in model.heads.parameters())


def test_shared_parameters_unscaled(kit):
    model, batch = kit.make_model(2), kit.make_batch(2)
    balancer = kit.setup(build_balancer("mslr", window=1), model)
    plain, _, _ = kit.step(balancer, model, batch)
    validate(balancer, {"m0": 0.5, "m1": 0.5})
    validate(balancer, {"m0": 0.25, "m1": 1.0})
    grads, _, _ = kit.step(balancer, model, batch)
    for p in model.shared_parameters():
        assert torch.equal(grads[id(p)], plain[id(p)])


def test_bad_options_raise(kit):
    with pytest.raises(PolymodalError, match="window"):
        build_balancer("mslr", window=0)
    with pytest.raises(PolymodalError, match="mslr"):
        build_balancer("mslr", windows=3)
    with pytest.raises(PolymodalError, match="unknown modality 'audio'"):
        kit.setup(build_balancer("mslr", initial_scale={"audio": 2.0}), kit.make_model(2))
