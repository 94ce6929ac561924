"""The masked CoRe-Sleep objective: hand-computed values and where each term's gradient goes."""

import math

import pytest
import torch

from polymodal.errors import PolymodalError
from polymodal.models import CoReSleep
from polymodal.models import sleep_losses
from polymodal.models.sleep_losses import SleepLoss, alignment_loss, check_class_weights, masked_cross_entropy


def test_alignment_normalizes_along_the_feature_axis() -> None:
    first = torch.tensor([[[3.0, 0.0], [0.0, 2.0]]])  # unit rows after feature-axis normalisation: e1, e2
    second = torch.tensor([[[1.0, 1.0], [0.0, 5.0]]])  # → (1, 1)/√2, e2
    c = 1 / math.sqrt(2)
    # S[i, j] = cos(first_i, second_j) / τ with τ = 0.5: [[c, 0], [c, 1]] / 0.5
    s = [[2 * c, 0.0], [2 * c, 2.0]]
    nll = lambda logits, k: -logits[k] + math.log(sum(math.exp(v) for v in logits))  # noqa: E731
    rows = nll(s[0], 0) + nll(s[1], 1)
    cols = nll([s[0][0], s[1][0]], 0) + nll([s[0][1], s[1][1]], 1)
    expected = (rows + cols) / 4
    both = torch.ones(1, 2, dtype=torch.bool)
    assert alignment_loss(first, second, both, temperature=0.5).item() == pytest.approx(expected, rel=1e-6)


def test_alignment_leaves_out_epochs_where_a_modality_is_absent() -> None:
    first, second = torch.randn(2, 4, 3), torch.randn(2, 4, 3)
    both = torch.tensor([[True, False, True, True], [True, True, True, True]])
    kept = torch.tensor([0, 2, 3])
    # Pooled over epochs: sequence 0 keeps 3 epochs, sequence 1 all 4.
    part0 = alignment_loss(first[:1, kept], second[:1, kept], torch.ones(1, 3, dtype=torch.bool), 0.1)
    part1 = alignment_loss(first[1:], second[1:], torch.ones(1, 4, dtype=torch.bool), 0.1)
    expected = (3 * part0 + 4 * part1) / 7
    assert torch.allclose(alignment_loss(first, second, both, 0.1), expected)


def test_masked_cross_entropy_is_a_weighted_mean_over_kept_epochs() -> None:
    logits = torch.tensor([[[2.0, 0.0], [0.0, 1.0], [5.0, -5.0]]])
    target = torch.tensor([[0, 1, 1]])
    mask = torch.tensor([[True, True, False]])
    weights = torch.tensor([1.0, 3.0])
    ce0 = -2.0 + math.log(math.exp(2.0) + 1.0)
    ce1 = -1.0 + math.log(1.0 + math.exp(1.0))
    value = masked_cross_entropy(logits, target, mask, weights)
    assert value.item() == pytest.approx((ce0 + 3 * ce1) / 4, rel=1e-6)
    assert masked_cross_entropy(logits, target, torch.zeros_like(mask)).item() == 0.0


def _grads(model, loss):
    params = list(model.parameters())
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads, strict=True)]


def test_alignment_reaches_both_encoders_and_nothing_else(kit) -> None:
    model = CoReSleep(kit.TINY, kit.CLASSES, kit.MODALITIES).eval()
    inputs, present, target = kit.make_inputs(), kit.eog_partly_absent(), torch.randint(0, kit.CLASSES, (2, 4))
    without = _grads(model, kit.total_loss(model, inputs, present, target, w_align=0.0))
    with_align = _grads(model, kit.total_loss(model, inputs, present, target, w_align=0.5))
    change = {id(p): (a - b).abs().sum() for p, a, b in zip(model.parameters(), with_align, without, strict=True)}
    for m in ("eeg", "eog"):
        assert sum(change[id(p)] for p in model.encoders[m].parameters()) > 0
        assert all(change[id(p)] == 0 for p in model.heads[m].parameters())
    assert all(change[id(p)] == 0 for p in model.fused_head.parameters())
    assert all(change[id(p)] == 0 for p in kit.cross_attention_parameters(model))


def test_zero_alignment_weight_does_not_run_the_alignment(kit, monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise AssertionError("alignment computed with w_align = 0")

    monkeypatch.setattr(sleep_losses, "alignment_loss", fail)
    model = CoReSleep(kit.TINY, kit.CLASSES, kit.MODALITIES)
    present = kit.full_presence()
    terms = SleepLoss(w_uni=1.0, w_align=0.0)(model(kit.make_inputs(), present), torch.zeros(2, 4, dtype=torch.long),
                                              present)
    assert set(terms) == {"ce_fused", "ce_eeg", "ce_eog"}


def test_unimodal_weight_scales_the_unimodal_terms(kit) -> None:
    model = CoReSleep(kit.TINY, kit.CLASSES, kit.MODALITIES).eval()
    present, target = kit.eog_partly_absent(), torch.randint(0, kit.CLASSES, (2, 4))
    output = model(kit.make_inputs(), present)
    one = SleepLoss(w_uni=1.0)(output, target, present)
    half = SleepLoss(w_uni=0.5)(output, target, present)
    assert torch.allclose(half["ce_eog"], 0.5 * one["ce_eog"])
    assert torch.allclose(one["ce_eog"], masked_cross_entropy(output.unimodal["eog"], target, present["eog"]))
    assert set(SleepLoss(w_uni=0.0)(output, target, present)) == {"ce_fused"}


def test_class_weights_are_checked() -> None:
    assert torch.equal(check_class_weights([1, 2, 1, 1, 1], 5), torch.tensor([1.0, 2.0, 1.0, 1.0, 1.0]))
    with pytest.raises(PolymodalError, match="5 values"):
        check_class_weights([1.0, 2.0], 5)
    with pytest.raises(PolymodalError, match="> 0"):
        check_class_weights([1.0, 0.0, 1.0, 1.0, 1.0], 5)
