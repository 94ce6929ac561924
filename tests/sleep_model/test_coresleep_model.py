"""CoRe-Sleep and baselines: shapes, masks in the gradient, shared and fusion-specific weights."""

import pytest
import torch

from polymodal.encoders.sleep_transformer import SleepSizes
from polymodal.errors import PolymodalError, UnknownNameError
from polymodal.models import SLEEP_MODELS, CoReSleep, build_sleep_model, predict
from polymodal.models.sleep_losses import SleepLoss


@pytest.mark.parametrize("name", ["core", "early", "midlate", "eeg", "eog"])
@pytest.mark.parametrize("position", ["relative", "absolute"])
def test_every_model_gives_per_epoch_logits(name: str, position: str, kit) -> None:
    sizes = SleepSizes(**{**kit.TINY.__dict__, "position": position})
    model = build_sleep_model(name, sizes, kit.CLASSES, kit.MODALITIES)
    output = model(kit.make_inputs(3, 5), kit.full_presence(3, 5))
    assert output.logits.shape == (3, 5, kit.CLASSES)
    assert output.fused_mask.shape == (3, 5) and bool(output.fused_mask.all())
    assert set(output.unimodal) == ({"eeg", "eog"} if name == "core" else set())
    assert all(u.shape == (3, 5, kit.CLASSES) for u in output.unimodal.values())
    assert all(e.shape == (3, 5, kit.TINY.d_model) for e in output.embeddings.values())
    probs = predict(output, kit.full_presence(3, 5))
    assert torch.allclose(probs.sum(-1), torch.ones(3, 5))


def test_registry_lists_the_models_and_rejects_others(kit) -> None:
    assert SLEEP_MODELS.names() == ["core", "early", "midlate", "unimodal"]
    with pytest.raises(UnknownNameError, match="core, early, midlate, unimodal, or a modality of the data for its "
                                               "unimodal model \\(eeg, eog\\)"):
        build_sleep_model("late", kit.TINY, kit.CLASSES, kit.MODALITIES)


def test_models_take_the_modality_names_of_the_data(kit) -> None:
    names = ("eeg_c4", "emg")
    inputs = dict(zip(names, kit.make_inputs().values(), strict=True))
    present = dict(zip(names, kit.full_presence().values(), strict=True))
    core = build_sleep_model("core", kit.TINY, kit.CLASSES, names)
    assert set(core(inputs, present).unimodal) == set(names)
    assert build_sleep_model("emg", kit.TINY, kit.CLASSES, names).modalities == ("emg",)
    assert build_sleep_model("midlate", kit.TINY, kit.CLASSES, names)(inputs, present).logits.shape == (2, 4, kit.CLASSES)
    with pytest.raises(PolymodalError, match="model 'core' fuses two modalities; the data has 3"):
        build_sleep_model("core", kit.TINY, kit.CLASSES, (*names, "eog"))
    with pytest.raises(PolymodalError, match="model 'unimodal' stages from one modality; the data has 2"):
        build_sleep_model("unimodal", kit.TINY, kit.CLASSES, names)


def test_bad_input_shape_names_the_modality(kit) -> None:
    inputs = kit.make_inputs()
    inputs["eog"] = inputs["eog"][..., :-1]
    with pytest.raises(PolymodalError, match="'eog'"):
        CoReSleep(kit.TINY, kit.CLASSES, kit.MODALITIES)(inputs, kit.full_presence())


def test_absolute_positions_reject_sequences_longer_than_the_table(kit) -> None:
    sizes = SleepSizes(**{**kit.TINY.__dict__, "position": "absolute"})
    with pytest.raises(PolymodalError, match="max_epochs"):
        CoReSleep(sizes, kit.CLASSES, kit.MODALITIES)(kit.make_inputs(1, 7), kit.full_presence(1, 7))


@pytest.mark.parametrize("name", ["core", "early", "midlate", "eeg"])
def test_an_absent_modality_input_changes_neither_loss_nor_prediction(name: str, kit) -> None:
    model = build_sleep_model(name, kit.TINY, kit.CLASSES, kit.MODALITIES).eval()
    inputs, present, target = kit.make_inputs(), kit.eog_partly_absent(), torch.randint(0, kit.CLASSES, (2, 4))
    w_uni, w_align = (1.0, 0.5) if name == "core" else (0.0, 0.0)
    loss = kit.total_loss(model, inputs, present, target, w_uni, w_align)
    probs = predict(model(inputs, present), present)
    changed = {**inputs, "eog": inputs["eog"].clone()}
    absent = ~present["eog"]
    changed["eog"][absent] = 100 * torch.randn_like(changed["eog"][absent])
    assert torch.allclose(kit.total_loss(model, changed, present, target, w_uni, w_align), loss, atol=1e-6)
    assert torch.allclose(predict(model(changed, present), present), probs, atol=1e-6)


def test_absent_eog_sends_no_gradient_to_the_eog_branch(kit) -> None:
    model = CoReSleep(kit.TINY, kit.CLASSES, kit.MODALITIES).eval()
    inputs, present, target = kit.make_inputs(), kit.eog_partly_absent(), torch.randint(0, kit.CLASSES, (2, 4))
    inputs["eog"].requires_grad_(True)
    loss = kit.total_loss(model, inputs, present, target, w_uni=1.0, w_align=0.5)
    (input_grad,) = torch.autograd.grad(loss, inputs["eog"], retain_graph=True)
    assert bool((input_grad[~present["eog"]] == 0).all())
    assert bool((input_grad[present["eog"]] != 0).any())
    # The EOG branch's gradient is the same without the sequence whose EOG is absent.
    eog_params = [*model.encoders["eog"].parameters(), *model.heads["eog"].parameters()]
    with_absent = kit.gradients(model, loss)
    first = {m: x[:1] for m, x in inputs.items()}
    first_present = {m: p[:1] for m, p in present.items()}
    alone = kit.gradients(model, kit.total_loss(model, first, first_present, target[:1], w_uni=1.0, w_align=0.5))
    for p in eog_params:
        assert torch.allclose(with_absent[id(p)], alone[id(p)], atol=1e-6)
    assert any(bool(with_absent[id(p)].abs().sum() > 0) for p in eog_params)


def test_fused_head_trains_only_where_both_are_present(kit) -> None:
    model = CoReSleep(kit.TINY, kit.CLASSES, kit.MODALITIES).eval()
    inputs, present = kit.make_inputs(), kit.eog_partly_absent()
    output = model(inputs, present)
    assert torch.equal(output.fused_mask, present["eeg"] & present["eog"])
    fused = SleepLoss(w_uni=0.0)(output, torch.randint(0, kit.CLASSES, (2, 4)), present)["ce_fused"]
    (grad,) = torch.autograd.grad(fused, output.logits)
    assert bool((grad[~output.fused_mask] == 0).all()) and bool((grad[output.fused_mask] != 0).any())


def test_cross_attention_gets_gradient_only_from_the_multimodal_pass(kit) -> None:
    model = CoReSleep(kit.TINY, kit.CLASSES, kit.MODALITIES).eval()
    inputs, present, target = kit.make_inputs(), kit.full_presence(), torch.randint(0, kit.CLASSES, (2, 4))
    terms = SleepLoss(w_uni=1.0, w_align=0.5)(model(inputs, present), target, present)
    unimodal_only = kit.gradients(model, terms["ce_eeg"] + terms["ce_eog"] + terms["align"])
    fused_only = kit.gradients(model, terms["ce_fused"])
    cross = kit.cross_attention_parameters(model)
    # 2 encoders × 2 levels × depth blocks × (attention: 3 weights, 3 biases, bias table; norm: 2)
    assert len(cross) == 2 * 2 * kit.TINY.depth * 9
    assert all(bool((unimodal_only[id(p)] == 0).all()) for p in cross)
    assert all(bool(fused_only[id(p)].abs().sum() > 0) for p in cross)


def test_unimodal_and_multimodal_passes_share_the_self_attention_parameters(kit) -> None:
    model = CoReSleep(kit.TINY, kit.CLASSES, kit.MODALITIES).eval()
    inputs, present, target = kit.make_inputs(), kit.full_presence(), torch.randint(0, kit.CLASSES, (2, 4))
    terms = SleepLoss(w_uni=1.0)(model(inputs, present), target, present)
    unimodal_only = kit.gradients(model, terms["ce_eeg"])
    fused_only = kit.gradients(model, terms["ce_fused"])
    shared = [*kit.self_attention_parameters(model.encoders["eeg"])]
    assert all(bool(unimodal_only[id(p)].abs().sum() > 0) for p in shared)
    assert all(bool(fused_only[id(p)].abs().sum() > 0) for p in shared)
    # One parameter object per weight: the model is two encoders and three heads, nothing duplicated.
    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    parts = [*model.encoders.values(), *model.heads.values(), model.fused_head]
    assert count(model) == sum(count(part) for part in parts)
    assert len({id(p) for p in model.parameters()}) == len(list(model.parameters()))


def test_cross_attention_weights_do_not_touch_the_unimodal_pass(kit) -> None:
    model = CoReSleep(kit.TINY, kit.CLASSES, kit.MODALITIES).eval()
    inputs, present = kit.make_inputs(), kit.full_presence()
    before = model(inputs, present)
    with torch.no_grad():
        for p in kit.cross_attention_parameters(model):
            p.add_(torch.randn_like(p))
    after = model(inputs, present)
    for m in ("eeg", "eog"):
        assert torch.allclose(after.unimodal[m], before.unimodal[m])
    assert not torch.allclose(after.logits, before.logits)


def test_a_users_sleep_model_by_import_path(kit) -> None:
    from polymodal.models.sleep_baselines import MidLateFusionSleep

    model = build_sleep_model("polymodal.models.sleep_baselines.MidLateFusionSleep", kit.TINY, kit.CLASSES,
                              kit.MODALITIES)
    assert type(model) is MidLateFusionSleep
    with pytest.raises(PolymodalError, match="cannot import 'nowhere.Model'"):
        build_sleep_model("nowhere.Model", kit.TINY, kit.CLASSES, kit.MODALITIES)
