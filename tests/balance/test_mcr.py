import pytest
import torch

from polymodal.balance import ModelView, StepContext, build_balancer
from polymodal.balance.mcr_terms import draw_permutations, game_regularizer, js_divergence
from polymodal.errors import PolymodalError

NO_EXTRAS = {"lambda_pd": 0.0, "lambda_con": 0.0, "lambda_ceb": 0.0}


def divergence(model, features, perms, permuted, gradient_to):
    """D(S → n) by an explicit loop against the main forward's prediction (its gradient kept); the other
    modalities cut off: their whole term W_m z_m of the late head (MCR release), their features otherwise."""
    detach = [] if gradient_to is None else [m for m in features if m != gradient_to]
    reference = model.fuse(features)

    def fused(feats):
        if model.fusion.is_additive:
            return sum(o.detach() if m in detach else o for m, o in model.fusion.modality_logits(feats).items())
        return model.fuse(feats, detach=detach)

    values = [js_divergence(fused({m: z[p] if m in permuted else z for m, z in features.items()}), reference).mean()
              for p in perms]
    return torch.stack(values).mean()


def game_by_hand(model, features, perms, game):
    modalities = list(features)
    if game == "collaborative":  # −λ(D_all(a) + D_all(v))
        return -sum(divergence(model, features, perms, (m,), None) for m in modalities)
    total = 0.0
    for n in modalities:  # greedy: −D(n→n) + Σ_{m≠n} D(m→n); independent: −D(n→n)
        total = total - divergence(model, features, perms, (n,), n)
        if game == "greedy":
            total = total + sum(divergence(model, features, perms, (m,), n) for m in modalities if m != n)
    return total


@pytest.mark.parametrize("fusion", ["late", "mid_mlp"])
@pytest.mark.parametrize("game", ["greedy", "independent", "collaborative"])
@pytest.mark.parametrize("count", [2, 3])
def test_game_gradients_match_the_explicit_formula(game, count, fusion, kit):
    model, batch = kit.make_model(count, fusion=fusion), kit.make_batch(count)
    model.eval()  # no dropout in the head: both computations see the same function
    balancer = build_balancer("mcr", game=game, permutations=4, lambda_con=0.0, lambda_ceb=0.0)
    kit.setup(balancer, model)
    params = list(model.parameters())
    output = model(batch["inputs"])
    features = output.features
    divergences = balancer.divergences(ModelView(model), features, batch["present"], batch["target"], StepContext(),
                                       output.logits)
    value = game_regularizer(divergences, balancer.sets, game)
    got = torch.autograd.grad(value, params, allow_unused=True)
    perms = draw_permutations(4, 8, "any", StepContext().generator())
    features = model(batch["inputs"]).features
    expected_value = game_by_hand(model, features, perms, game)
    expected = torch.autograd.grad(expected_value, params, allow_unused=True)
    assert float(value) == pytest.approx(float(expected_value), abs=1e-6)
    for g, e in zip(got, expected):
        assert (g is None and e is None) or torch.allclose(g, e, atol=1e-6)
    assert any(g is not None and g.abs().sum() > 0 for g in got[: len(list(model.encoders.parameters()))])


def checked(model, **options):
    balancer = build_balancer("mcr", **options)
    balancer.setup(ModelView(model))
    return balancer


def test_pd_term_changes_encoder_gradients_only_through_the_fusion_path(kit):
    model, batch = kit.make_model(2), kit.make_batch(2)
    plain, _, _ = kit.step(checked(model, **NO_EXTRAS), model, batch)
    balancer = checked(model, lambda_pd=0.5, lambda_con=0.0, lambda_ceb=0.0, permutations=8)
    grads, terms, state = kit.step(balancer, model, batch)
    assert "pd" in terms
    assert {"pd/m0->m0", "pd/m0->m1", "pd/m1->m0", "pd/m1->m1"} <= set(state)
    for m in model.modalities:
        assert kit.changed(plain, grads, model.encoders[m].parameters())
    assert not kit.changed(plain, grads, model.heads.parameters())


def test_con_term_reaches_encoders_not_heads(kit):
    model, batch = kit.make_model(2), kit.make_batch(2)
    plain, _, _ = kit.step(checked(model, **NO_EXTRAS), model, batch)
    grads, terms, _ = kit.step(checked(model, **{**NO_EXTRAS, "lambda_con": 1.0}), model, batch)
    assert "con" in terms
    for m in model.modalities:
        assert kit.changed(plain, grads, model.encoders[m].parameters())
    assert not kit.changed(plain, grads, model.fusion.parameters())
    assert not kit.changed(plain, grads, model.heads.parameters())


def test_ceb_term_reaches_decoder_and_encoders_not_heads(kit):
    model, batch = kit.make_model(3), kit.make_batch(3)
    plain, _, _ = kit.step(checked(model, **NO_EXTRAS), model, batch)
    balancer = build_balancer("mcr", **{**NO_EXTRAS, "lambda_ceb": 1.0})
    kit.setup(balancer, model)
    grads, terms, _ = kit.step(balancer, model, batch)
    assert "ceb" in terms
    assert all(grads[id(p)].abs().sum() > 0 for p in balancer.decoder.parameters())
    for m in model.modalities:
        assert kit.changed(plain, grads, model.encoders[m].parameters())
    assert not kit.changed(plain, grads, model.fusion.parameters())
    assert not kit.changed(plain, grads, model.heads.parameters())


def test_uni_weight_scales_unimodal_terms(kit):
    model, batch = kit.make_model(2), kit.make_batch(2)
    _, terms, _ = kit.step(checked(model, lambda_uni=0.25, **NO_EXTRAS), model, batch)
    _, base, _ = kit.step(build_balancer("multiloss"), model, batch)
    assert torch.allclose(terms["uni/m0"], 0.25 * base["uni/m0"])
    assert set(terms) == {"fused", "uni/m0", "uni/m1"}


def test_subsets_and_projection(kit):
    model, batch = kit.make_model(3), kit.make_batch(3)
    balancer = build_balancer("mcr", subsets=True, permutations=2, con_projection=5, game="collaborative")
    kit.setup(balancer, model)
    assert len(balancer.sets) == 6
    grads, terms, state = kit.step(balancer, model, batch)
    assert {"pd/m0+m1", "pd/m2"} <= set(state)
    assert all(grads[id(p)].abs().sum() > 0 for p in balancer.projections.parameters())


def test_bad_options_raise(kit):
    with pytest.raises(PolymodalError, match="game 'greedyy'"):
        build_balancer("mcr", game="greedyy")
    with pytest.raises(PolymodalError, match="permutation 'some'"):
        build_balancer("mcr", permutation="some")
    with pytest.raises(PolymodalError, match="mcr"):
        build_balancer("mcr", lambda_mi=0.1)
    with pytest.raises(PolymodalError, match="lambda_pd"):
        build_balancer("mcr", lambda_pd=-1.0)
    from polymodal.models.classifier import MultimodalClassifier

    uneven = MultimodalClassifier.from_info(kit.make_info(2), encoder_options={"hidden_dim": 4, "m1": {"hidden_dim": 6}})
    with pytest.raises(PolymodalError, match="con_projection"):
        kit.setup(build_balancer("mcr"), uneven)


def test_greedy_game_reaches_the_late_head_weights(kit):
    """In the release's game (against the main forward's prediction) each player's own term W_m z_m
    carries the gradient, so the late head's weights learn from the regularizer too."""
    model, batch = kit.make_model(2), kit.make_batch(2)
    balancer = build_balancer("mcr", permutations=4, lambda_con=0.0, lambda_ceb=0.0)
    balancer.setup(ModelView(model))
    output = model(batch["inputs"])
    pd = balancer.loss(output, batch, ModelView(model), StepContext()).terms["pd"]
    grads = torch.autograd.grad(pd, [model.fusion.blocks["m0"].weight, model.fusion.blocks["m1"].weight])
    assert all(float(g.norm()) > 1e-6 for g in grads)
