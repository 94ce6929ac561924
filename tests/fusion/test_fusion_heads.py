"""Fusion heads: shapes for M = 2..4, gradients, presence masking, logit sums."""

import pytest
import torch

from polymodal.errors import PolymodalError, UnknownNameError
from polymodal.fusion import FUSIONS, build_fusion

HEADS = ["film", "gated", "late", "logit_sum", "mid_mlp", "transformer"]
SMALL_OPTIONS = {
    "film": {"hidden_dim": 8},
    "gated": {"hidden_dim": 8},
    "mid_mlp": {"hidden_dim": 8, "depth": 2},
    "transformer": {"d_model": 8, "num_heads": 2},
}
DIMS = [3, 5, 4, 6]
NUM_CLASSES = 3


def make(name, num_modalities):
    dims = {f"m{j}": DIMS[j] for j in range(num_modalities)}
    head = build_fusion(name, dims, NUM_CLASSES, **SMALL_OPTIONS.get(name, {})).eval()
    features = {m: torch.randn(6, d) for m, d in dims.items()}
    return head, features


def test_every_head_is_registered_under_its_name():
    assert set(HEADS) <= set(FUSIONS)
    for name in HEADS:
        assert FUSIONS.get(name).name == name


@pytest.mark.parametrize("num_modalities", [2, 3, 4])
@pytest.mark.parametrize("name", HEADS)
def test_shape_and_gradient_reaches_every_modality(name, num_modalities):
    head, features = make(name, num_modalities)
    features = {m: z.requires_grad_() for m, z in features.items()}
    logits = head(features)
    assert logits.shape == (6, NUM_CLASSES)
    logits.pow(2).sum().backward()
    for m, z in features.items():
        assert z.grad is not None and z.grad.abs().sum() > 0, m


@pytest.mark.parametrize("name", HEADS)
def test_modality_parameters_are_disjoint_own_parameters(name):
    head, _ = make(name, 3)
    groups = [{id(p) for p in head.modality_parameters(m)} for m in head.modalities]
    owned = {id(p) for p in head.parameters()}
    for group in groups:
        assert group <= owned
    assert all(not (a & b) for j, a in enumerate(groups) for b in groups[j + 1:])


@pytest.mark.parametrize("grad_enabled", [True, False])  # False takes PyTorch's fused inference path
@pytest.mark.parametrize("name", ["gated", "transformer"])
def test_absent_modality_cannot_influence_the_output(name, grad_enabled):
    head, features = make(name, 3)
    present = {"m0": torch.tensor([True] * 6), "m1": torch.tensor([True, False, True, False, True, True]),
               "m2": torch.tensor([True, True, False, False, True, False])}
    with torch.set_grad_enabled(grad_enabled):
        base = head(features, present)
        for m in ("m1", "m2"):
            perturbed = dict(features, **{m: features[m] + 10 * torch.randn_like(features[m])})
            changed = head(perturbed, present)
            torch.testing.assert_close(changed[~present[m]], base[~present[m]])
            assert not torch.allclose(changed[present[m]], base[present[m]])  # present rows do react


@pytest.mark.parametrize("name", ["gated", "transformer"])
def test_presence_masks_all_true_equal_no_masks_and_no_modality_stays_finite(name):
    head, features = make(name, 3)
    all_present = {m: torch.ones(6, dtype=torch.bool) for m in features}
    torch.testing.assert_close(head(features, all_present), head(features))
    none_present = {m: torch.zeros(6, dtype=torch.bool) for m in features}
    assert torch.isfinite(head(features, none_present)).all()


@pytest.mark.parametrize("name", ["gated", "transformer"])
def test_per_step_presence_masks_are_rejected(name):
    head, features = make(name, 2)
    with pytest.raises(PolymodalError, match="'m1'"):
        head(features, {"m1": torch.ones(6, 4, dtype=torch.bool)})


def test_gated_weights_softmax_over_present_modalities():
    head, features = make("gated", 3)
    present = {"m0": torch.tensor([True, True, False, False, True, False]),
               "m1": torch.tensor([True, False, True, False, True, False]),
               "m2": torch.tensor([True, False, False, True, False, False])}
    weights = head.gate_weights(features, present)  # [B, M, hidden]
    mask = torch.stack([present[m] for m in head.modalities], dim=1)
    assert torch.all(weights[~mask] == 0)
    sums = weights.sum(dim=1)
    torch.testing.assert_close(sums[mask.any(1)], torch.ones_like(sums[mask.any(1)]))
    assert torch.all(sums[~mask.any(1)] == 0)
    torch.testing.assert_close(weights[3, 2], torch.ones(8))  # the only present modality takes the whole gate


def test_gated_two_modalities_matches_the_gmu_by_hand():
    head = build_fusion("gated", {"a": 1, "b": 1}, 1, hidden_dim=1)
    with torch.no_grad():
        head.projections["a"].weight.fill_(1.0), head.projections["a"].bias.zero_()
        head.projections["b"].weight.fill_(2.0), head.projections["b"].bias.zero_()
        head.gate.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.0]])), head.gate.bias.zero_()
        head.output.weight.fill_(1.0), head.output.bias.zero_()
    za, zb = torch.tensor([[0.5]]), torch.tensor([[0.3]])
    gate = torch.sigmoid(torch.tensor(0.5 - 0.0))  # sigmoid of the gate-logit difference
    expected = gate * torch.tanh(torch.tensor(0.5)) + (1 - gate) * torch.tanh(torch.tensor(0.6))
    torch.testing.assert_close(head({"a": za, "b": zb}), expected.reshape(1, 1))


def test_film_modulation_couples_modalities_and_vanishes_with_zero_conditioning():
    head, features = make("film", 2)
    other = dict(features, m0=torch.randn(6, 3))

    def interaction():
        # f(z0, z1) − f(z0', z1) − [f(z0, z1') − f(z0', z1')]: zero iff the output is additive
        z1_changed = torch.randn(6, 5)
        return (head(features) - head(other)) - (head(dict(features, m1=z1_changed)) - head(dict(other, m1=z1_changed)))

    assert interaction().abs().max() > 1e-3
    with torch.no_grad():
        for conditioner in head.conditioners.values():
            conditioner.weight.zero_(), conditioner.bias.zero_()  # γ = 1, β = 0
    torch.testing.assert_close(interaction(), torch.zeros(6, NUM_CLASSES))


def test_film_needs_two_modalities():
    with pytest.raises(PolymodalError, match="two modalities"):
        build_fusion("film", {"a": 3}, 2)


@pytest.mark.parametrize("num_modalities", [2, 3, 4])
def test_logit_sum_is_the_sum_of_modality_logits(num_modalities):
    head, features = make("logit_sum", num_modalities)
    parts = head.modality_logits(features)
    assert set(parts) == set(features)
    torch.testing.assert_close(torch.stack(list(parts.values())).sum(0), head(features))
    for m, z in features.items():
        classifier_weight, classifier_bias = head.modality_parameters(m)
        torch.testing.assert_close(parts[m], z @ classifier_weight.T + classifier_bias)


def test_logit_sum_modality_logits_reach_only_their_own_parameters():
    head, features = make("logit_sum", 3)
    head.modality_logits(features)["m1"].sum().backward()
    for m in head.modalities:
        reached = all(p.grad is not None for p in head.modality_parameters(m))
        assert reached == (m == "m1")


def test_logit_sum_by_hand():
    head = build_fusion("logit_sum", {"a": 2, "b": 1}, 2)
    with torch.no_grad():
        head.classifiers["a"].weight.copy_(torch.tensor([[1.0, 2.0], [0.0, -1.0]]))
        head.classifiers["a"].bias.copy_(torch.tensor([0.5, 0.0]))
        head.classifiers["b"].weight.copy_(torch.tensor([[3.0], [1.0]]))
        head.classifiers["b"].bias.copy_(torch.tensor([0.0, -2.0]))
    out = head({"a": torch.tensor([[1.0, 1.0]]), "b": torch.tensor([[2.0]])})
    torch.testing.assert_close(out, torch.tensor([[3.5 + 6.0, -1.0 + 0.0]]))


@pytest.mark.parametrize("name", ["film", "gated", "mid_mlp", "transformer"])
def test_non_additive_heads_refuse_modality_logits(name):
    head, features = make(name, 2)
    with pytest.raises(PolymodalError, match="logit_sum"):
        head.modality_logits(features)


def test_mid_mlp_first_layer_is_the_concatenation_layer():
    head, features = make("mid_mlp", 3)
    weight = torch.cat([head.input_blocks[m].weight for m in head.modalities], dim=1)
    concatenated = torch.cat([features[m] for m in head.modalities], dim=1)
    torch.testing.assert_close(head(features), head.trunk(concatenated @ weight.T + head.input_bias))


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [("mid_mlp", {"depth": 0}, "depth"), ("transformer", {"d_model": 10, "num_heads": 4}, "divide")],
)
def test_bad_options_raise_user_errors(name, options, message):
    with pytest.raises(PolymodalError, match=message):
        build_fusion(name, {"a": 2, "b": 3}, 2, **options)


def test_unknown_fusion_name_lists_choices():
    with pytest.raises(UnknownNameError) as error:
        build_fusion("bilinear", {"a": 2, "b": 3}, 2)
    for name in HEADS:
        assert name in str(error.value)
