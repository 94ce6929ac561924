import math

import pytest
import torch
import torch.nn.functional as F

from polymodal.balance import ModelView
from polymodal.balance.mcr_terms import (
    CEBDecoder,
    draw_permutations,
    js_divergence,
    permutation_divergences,
    permuted_sets,
    pairwise_nt_xent,
    supervised_contrastive,
)
from polymodal.errors import PolymodalError


def test_permutation_kinds():
    any_perm = draw_permutations(16, 7, "any")
    assert torch.equal(any_perm.sort(1).values, torch.arange(7).expand(16, 7))
    derangements = draw_permutations(64, 5, "derangement")
    assert torch.equal(derangements.sort(1).values, torch.arange(5).expand(64, 5))
    assert not (derangements == torch.arange(5)).any()
    with pytest.raises(PolymodalError, match="at least 2"):
        draw_permutations(2, 1, "derangement")


def test_permuted_sets():
    assert permuted_sets(["a", "v"], subsets=False) == [("a",), ("v",)]
    assert permuted_sets(["a", "v", "t"], subsets=True) == [
        ("a",), ("v",), ("t",), ("a", "v"), ("a", "t"), ("v", "t")]


def test_js_divergence_by_hand():
    p, q = torch.tensor([0.5, 0.5]), torch.tensor([0.25, 0.75])
    mid = (p + q) / 2
    expected = 0.5 * (p * (p / mid).log()).sum() + 0.5 * (q * (q / mid).log()).sum()
    value = js_divergence(torch.zeros(2), torch.tensor([0.0, math.log(3.0)]))
    assert value == pytest.approx(float(expected), rel=1e-5)
    far = js_divergence(torch.tensor([50.0, -50.0]), torch.tensor([-50.0, 50.0]))
    assert far == pytest.approx(math.log(2.0), rel=1e-5)


def fuse_detached(model, features, detach):
    """The fused prediction with the detached modalities cut off: their whole term W_m z_m for a
    sum-of-modalities head (as in the MCR release), their features for any other head."""
    if model.fusion.is_additive:
        shares = model.fusion.modality_logits(features)
        return sum(o.detach() if m in detach else o for m, o in shares.items())
    return model.fuse(features, detach=detach)


def naive_divergence(model, features, perms, modality_set, gradient_to, reference=None):
    detach = [] if gradient_to is None else [m for m in features if m != gradient_to]
    reference = fuse_detached(model, features, detach) if reference is None else reference
    values = []
    for perm in perms:  # the loop the implementation avoids
        permuted = {m: (z[perm] if m in modality_set else z) for m, z in features.items()}
        values.append(js_divergence(fuse_detached(model, permuted, detach), reference).mean())
    return torch.stack(values).mean()


@pytest.mark.parametrize("count", [2, 3])
def test_batched_divergences_match_the_loop_in_one_fusion_call(count, kit):
    model, batch = kit.make_model(count, fusion="mid_mlp"), kit.make_batch(count)
    model.eval()  # no dropout: the loop and the batched call must see the same head
    features = model(batch["inputs"]).features
    perms = draw_permutations(5, 8, "any")
    sets = permuted_sets(model.modalities, subsets=count > 2)
    calls = []
    hook = model.fusion.register_forward_hook(lambda mod, args, out: calls.append(out.shape[0]))
    values = permutation_divergences(ModelView(model), features, batch["present"], batch["target"], perms, sets, "m1")
    hook.remove()
    assert calls == [(1 + len(sets) * 5) * 8]
    for s, value in zip(sets, values):
        assert float(value) == pytest.approx(float(naive_divergence(model, features, perms, s, "m1")), rel=1e-5)


def test_different_labels_counts_only_pairs_with_other_labels(kit):
    model, batch = kit.make_model(2), kit.make_batch(2)
    features = model(batch["inputs"]).features
    perms = draw_permutations(3, 8, "any")
    same = torch.zeros(8, dtype=torch.long)
    assert float(permutation_divergences(ModelView(model), features, batch["present"], same, perms, [("m0",)], None, True)[0]) == 0
    target = batch["target"]
    value = permutation_divergences(ModelView(model), features, batch["present"], target, perms, [("m0",)], None, True)[0]
    reference = model.fuse(features)
    pairs = [js_divergence(model.fuse({"m0": features["m0"][p], "m1": features["m1"]})[i], reference[i])
             for p in perms for i in range(8) if target[p[i]] != target[i]]
    assert float(value) == pytest.approx(float(torch.stack(pairs).mean()), rel=1e-5)


def naive_supcon(features, target, temperature, positives):
    z = F.normalize(torch.cat(list(features.values())), dim=-1)
    size = len(target)
    labels = target.repeat(len(features)) if positives == "label" else torch.arange(size).repeat(len(features))
    losses = []
    for i in range(len(z)):
        others = [k for k in range(len(z)) if k != i]
        denominator = torch.logsumexp(torch.stack([z[i] @ z[k] / temperature for k in others]), 0)
        pos = [k for k in others if labels[k] == labels[i]]
        losses.append(-torch.stack([z[i] @ z[k] / temperature - denominator for k in pos]).mean())
    return torch.stack(losses).mean()


@pytest.mark.parametrize("positives", ["label", "index"])
def test_supervised_contrastive_matches_definition(positives):
    g = torch.Generator().manual_seed(3)
    features = {"a": torch.randn(5, 4, generator=g), "v": torch.randn(5, 4, generator=g), "t": torch.randn(5, 4, generator=g)}
    target = torch.tensor([0, 1, 0, 2, 1])
    present = {m: torch.ones(5, dtype=torch.bool) for m in features}
    value = supervised_contrastive(features, target, present, 0.5, positives)
    assert float(value) == pytest.approx(float(naive_supcon(features, target, 0.5, positives)), rel=1e-5)


def naive_nt_xent(features, target, temperature):
    """Per positive pair (i, p): −log(e^{s_ip} / (e^{s_ip} + Σ_{n: other label} e^{s_in})), averaged over pairs."""
    z = F.normalize(torch.cat(list(features.values())), dim=-1)
    labels = target.repeat(len(features))
    losses = []
    for i in range(len(z)):
        negatives = [z[i] @ z[k] / temperature for k in range(len(z)) if labels[k] != labels[i]]
        for p in range(len(z)):
            if p != i and labels[p] == labels[i]:
                positive = z[i] @ z[p] / temperature
                losses.append(-(positive - torch.logsumexp(torch.stack([positive, *negatives]), 0)))
    return torch.stack(losses).mean()


def test_release_nt_xent_matches_definition():
    g = torch.Generator().manual_seed(3)
    features = {"a": torch.randn(5, 4, generator=g), "v": torch.randn(5, 4, generator=g)}
    target = torch.tensor([0, 1, 0, 2, 1])
    present = {m: torch.ones(5, dtype=torch.bool) for m in features}
    value = pairwise_nt_xent(features, target, present, 0.5)
    assert float(value) == pytest.approx(float(naive_nt_xent(features, target, 0.5)), rel=1e-5)
    assert abs(float(value) - float(supervised_contrastive(features, target, present, 0.5))) > 1e-3


def test_ceb_reconstructs_concatenated_features_from_raw_logits():
    decoder = CEBDecoder(3, {"a": 2, "v": 4}, hidden_dim=5)
    assert all(layer.bias is None for layer in decoder.net if isinstance(layer, torch.nn.Linear))
    logits, features = torch.randn(6, 3), {"a": torch.randn(6, 2), "v": torch.randn(6, 4)}
    expected = F.mse_loss(decoder.net(logits), torch.cat([features["a"], features["v"]], 1))
    assert float(decoder(logits, features)) == pytest.approx(float(expected))
    variant = CEBDecoder(3, {"a": 2, "v": 4}, hidden_dim=5, input="probabilities", bias=True)
    expected = F.mse_loss(variant.net(logits.softmax(-1)), torch.cat([features["a"], features["v"]], 1))
    assert float(variant(logits, features)) == pytest.approx(float(expected))


@pytest.mark.parametrize("fusion", ["late", "logit_sum", "cosine"])
def test_sum_heads_permute_their_terms_exactly(fusion, kit):
    model, batch = kit.make_model(3, fusion=fusion), kit.make_batch(3)
    features = model(batch["inputs"]).features
    perms = draw_permutations(4, 8, "any")
    sets = permuted_sets(model.modalities, subsets=True)
    calls = []
    hook = model.fusion.register_forward_hook(lambda mod, args, out: calls.append(out.shape[0]))
    fast = permutation_divergences(ModelView(model), features, batch["present"], batch["target"], perms, sets, "m0")
    hook.remove()
    assert calls == []  # no rerun of the head
    params = list(model.parameters())
    got = torch.autograd.grad(fast.sum(), params, allow_unused=True, retain_graph=True)
    slow = torch.stack([naive_divergence(model, features, perms, s, "m0") for s in sets])
    expected = torch.autograd.grad(slow.sum(), params, allow_unused=True)
    assert torch.allclose(fast, slow, atol=1e-6)
    for g, e in zip(got, expected):
        assert (g is None and e is None) or torch.allclose(g, e, atol=1e-6)


def test_unknown_permutation_kind_and_positives_raise() -> None:
    from polymodal.balance.mcr_terms import draw_permutations, supervised_contrastive

    with pytest.raises(PolymodalError, match="unknown permutation kind 'derangment'"):
        draw_permutations(2, 4, "derangment")
    features = {"a": torch.randn(4, 3), "b": torch.randn(4, 3)}
    present = {m: torch.ones(4, dtype=torch.bool) for m in features}
    with pytest.raises(PolymodalError, match="unknown positives 'labels'"):
        supervised_contrastive(features, torch.arange(4) % 2, present, positives="labels")
