"""Each objective against values computed by hand or by brute-force loops on tiny batches."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from polymodal.contrastive import OBJECTIVES, Embeddings, LogitScale, build_objective
from polymodal.contrastive.gram import gram_volumes
from polymodal.contrastive.infonce import symmetric_cross_entropy, symmetric_infonce
from polymodal.contrastive.symile import symile_logits_all, symile_logits_shuffled
from polymodal.contrastive.triangle import triangle_areas
from polymodal.errors import PolymodalError, UnknownNameError

MODALITIES = ("m0", "m1", "m2")


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def reference_clip(a: torch.Tensor, b: torch.Tensor, scale: float) -> float:
    """½[mean row CE + mean column CE] with explicit loops."""
    n = len(a)
    logits = [[scale * float(a[i] @ b[j]) for j in range(n)] for i in range(n)]

    def ce(row: list[float], target: int) -> float:
        return math.log(sum(math.exp(v) for v in row)) - row[target]

    rows = sum(ce(logits[i], i) for i in range(n)) / n
    cols = sum(ce([logits[j][i] for j in range(n)], i) for i in range(n)) / n
    return (rows + cols) / 2


def unit(n: int, dim: int, seed: int) -> torch.Tensor:
    return F.normalize(torch.randn(n, dim, generator=torch.Generator().manual_seed(seed)), dim=-1)


def embeddings_for(modalities=MODALITIES, n: int = 4, dim: int = 3) -> Embeddings:
    uni = {m: unit(n, dim, i) for i, m in enumerate(modalities)}
    fused = {(a, b): unit(n, dim, 10 + 3 * i + j) for i, a in enumerate(modalities)
             for j, b in enumerate(modalities) if i < j}
    return Embeddings(uni, fused)


def test_symmetric_infonce_matches_a_hand_computed_value():
    a = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    b = torch.eye(2)
    # logits [[1, 0], [0.6, 0.8]]: rows (1 vs 0), (0.8 vs 0.6); columns (1 vs 0.6), (0.8 vs 0)
    expected = ((softplus(-1) + softplus(-0.2)) / 2 + (softplus(-0.4) + softplus(-0.8)) / 2) / 2
    assert symmetric_infonce(a, b, 1.0).item() == pytest.approx(expected, abs=1e-6)
    assert symmetric_infonce(a, b, 2.0).item() == pytest.approx(reference_clip(a, b, 2.0), abs=1e-6)


def test_symmetric_infonce_is_symmetric_in_its_arguments():
    a, b = unit(5, 4, 0), unit(5, 4, 1)
    assert symmetric_infonce(a, b, 3.0).item() == pytest.approx(symmetric_infonce(b, a, 3.0).item(), abs=1e-6)


def test_lower_temperature_sharpens_the_loss_of_aligned_pairs():
    a = unit(6, 8, 0)
    b = F.normalize(a + 0.05 * unit(6, 8, 1), dim=-1)
    losses = [symmetric_infonce(a, b, 1 / t).item() for t in (1.0, 0.3, 0.07)]
    assert losses[0] > losses[1] > losses[2]


def test_learnable_temperature_is_a_parameter_and_fixed_one_is_not():
    learned, fixed = LogitScale(0.07, learnable=True), LogitScale(0.07, learnable=False)
    assert learned().item() == pytest.approx(1 / 0.07) == fixed().item()
    assert len(list(learned.parameters())) == 1 and len(list(fixed.parameters())) == 0
    with pytest.raises(PolymodalError, match="temperature"):
        LogitScale(0.0)


def test_pairwise_is_the_mean_over_pairs_and_its_temperature_learns():
    objective = build_objective("pairwise", MODALITIES, temperature=0.5)
    emb = embeddings_for()
    terms = objective.loss(emb)
    assert set(terms) == {"pair/m0-m1", "pair/m0-m2", "pair/m1-m2"}
    expected = sum(reference_clip(emb.unimodal[i], emb.unimodal[j], 2.0) for i, j in
                   [("m0", "m1"), ("m0", "m2"), ("m1", "m2")]) / 3
    assert sum(terms.values()).item() == pytest.approx(expected, abs=1e-5)
    sum(terms.values()).backward()
    assert objective.logit_scale.log_scale.grad is not None


def test_confu_matches_the_hand_written_formula():
    lam = 0.3
    objective = build_objective("confu", MODALITIES, fused_weight=lam, temperature=0.25)
    emb = embeddings_for()
    z, f = emb.unimodal, emb.fused
    pairwise = sum(reference_clip(z[i], z[j], 4.0) for i, j in [("m0", "m1"), ("m1", "m2"), ("m0", "m2")]) / 3
    fused = (reference_clip(f[("m0", "m1")], z["m2"], 4.0) + reference_clip(f[("m0", "m2")], z["m1"], 4.0)
             + reference_clip(f[("m1", "m2")], z["m0"], 4.0)) / 3
    terms = objective.loss(emb)
    assert sum(terms.values()).item() == pytest.approx((1 - lam) * pairwise + lam * fused, abs=1e-5)
    assert terms["fused/m0+m1->m2"].item() == pytest.approx(lam / 3 * reference_clip(f[("m0", "m1")], z["m2"], 4.0),
                                                            abs=1e-6)


def test_confu_with_zero_weight_equals_pairwise_and_needs_no_fused_heads():
    confu = build_objective("confu", MODALITIES, fused_weight=0.0)
    pairwise = build_objective("pairwise", MODALITIES)
    emb = embeddings_for()
    assert confu.fused_pairs == ()
    a, b = confu.loss(emb), pairwise.loss(emb)
    assert a.keys() == b.keys()
    assert sum(a.values()).item() == pytest.approx(sum(b.values()).item(), abs=1e-6)


def test_confu_term_count_grows_as_m_cubed_and_terms_can_be_restricted():
    four = ("m0", "m1", "m2", "m3")
    full = build_objective("confu", four)
    terms = full.loss(embeddings_for(four))
    assert len([t for t in terms if t.startswith("fused/")]) == 12  # M(M-1)(M-2)/2
    assert len(full.fused_pairs) == 6
    restricted = build_objective("confu", four, fused_terms=["m1+m0->m3", "m0+m1->m2"])
    assert restricted.fused_pairs == (("m0", "m1"),)
    assert {t for t in restricted.loss(embeddings_for(four)) if t.startswith("fused/")} == {
        "fused/m0+m1->m3", "fused/m0+m1->m2"}


@pytest.mark.parametrize("terms, message", [
    (["m0+m9->m2"], "unknown modality 'm9'"),
    (["m0+m1"], "a\\+b->c"),
    (["m0+m1->m1"], "three different"),
])
def test_confu_rejects_bad_fused_terms(terms, message):
    with pytest.raises(PolymodalError, match=message):
        build_objective("confu", MODALITIES, fused_terms=terms)


def test_unknown_objectives_and_options_fail_loudly():
    with pytest.raises(UnknownNameError, match="choose one of: comm, confu, gram, pairwise, symile, triangle"):
        build_objective("clip", MODALITIES)
    with pytest.raises(PolymodalError, match="lamda"):
        build_objective("confu", MODALITIES, lamda=0.5)
    with pytest.raises(PolymodalError, match="exactly 3"):
        build_objective("triangle", ("m0", "m1", "m2", "m3"))
    with pytest.raises(PolymodalError, match="at least three"):
        build_objective("confu", ("m0", "m1"))
    assert set(OBJECTIVES) == {"comm", "confu", "gram", "pairwise", "symile", "triangle"}


def test_symile_all_combinations_match_brute_force():
    x, y, z = unit(3, 4, 0), unit(3, 4, 1), unit(3, 4, 2)
    logits, positives = symile_logits_all(x, [y, z])
    loss = F.cross_entropy(logits, positives).item()
    expected = 0.0
    for i in range(3):
        scores = [float((x[i] * y[j] * z[k]).sum()) for j in range(3) for k in range(3)]
        expected += math.log(sum(math.exp(s) for s in scores)) - float((x[i] * y[i] * z[i]).sum())
    assert loss == pytest.approx(expected / 3, abs=1e-6)


def test_symile_shuffled_negatives_match_brute_force():
    x, y, z = unit(4, 3, 0), unit(4, 3, 1), unit(4, 3, 2)
    p, q = torch.tensor([2, 0, 3, 1]), torch.tensor([1, 3, 0, 2])
    logits = symile_logits_shuffled(x, [y, z], [p, q])
    for i in range(4):
        for j in range(4):
            expected = (x[i] * y[i] * z[i]).sum() if i == j else (x[i] * y[p[j]] * z[q[j]]).sum()
            assert logits[i, j].item() == pytest.approx(expected.item(), abs=1e-6)


def test_symile_loss_and_retrieval_use_the_multilinear_product():
    objective = build_objective("symile", MODALITIES, negatives="n_squared", temperature=1.0)
    emb = embeddings_for()
    z = emb.unimodal
    expected = 0.0
    for anchor in MODALITIES:
        others = [z[m] for m in MODALITIES if m != anchor]
        logits, positives = symile_logits_all(z[anchor], others)
        expected += F.cross_entropy(logits, positives).item() / 3
    assert sum(objective.loss(emb).values()).item() == pytest.approx(expected, abs=1e-6)
    scores = objective.pair_scores(z["m0"], z["m1"], None, z["m2"])
    assert scores[1, 2].item() == pytest.approx((z["m0"][1] * z["m1"][1] * z["m2"][2]).sum().item(), abs=1e-6)


def test_triangle_area_matches_herons_formula_scaled_as_in_the_spec():
    p, q, c = unit(3, 5, 0), unit(3, 5, 1), unit(4, 5, 2)
    areas = triangle_areas(p, q, c)
    for i in range(3):
        for j in range(4):
            sides = [np.linalg.norm((p[i] - q[i]).numpy()), np.linalg.norm((p[i] - c[j]).numpy()),
                     np.linalg.norm((q[i] - c[j]).numpy())]
            s = sum(sides) / 2
            heron = math.sqrt(max(s * (s - sides[0]) * (s - sides[1]) * (s - sides[2]), 0.0))
            assert areas[i, j].item() == pytest.approx(math.sqrt(2) * heron, abs=1e-4)  # area² = 2·heron²


def test_gram_volume_matches_a_determinant_per_triple():
    p, q, c = unit(3, 5, 0), unit(3, 5, 1), unit(4, 5, 2)
    volumes = gram_volumes([p, q], c)
    for i in range(3):
        for j in range(4):
            v = torch.stack([p[i], q[i], c[j]]).double().numpy()
            assert volumes[i, j].item() == pytest.approx(math.sqrt(abs(np.linalg.det(v @ v.T))), abs=1e-4)


@pytest.mark.parametrize("name, similarity", [
    ("triangle", lambda z: -triangle_areas(z["m1"], z["m2"], z["m0"]).T),
    ("gram", lambda z: -gram_volumes([z["m1"], z["m2"]], z["m0"]).T),
])
def test_geometric_objectives_contrast_anchor_rows_against_pair_columns(name, similarity):
    objective = build_objective(name, MODALITIES, temperature=0.5, label_smoothing=0.1)
    emb = embeddings_for()
    logits = 2.0 * similarity(emb.unimodal)
    targets = torch.arange(4)
    expected = (F.cross_entropy(logits, targets, label_smoothing=0.1)
                + F.cross_entropy(logits.T, targets, label_smoothing=0.1)) / 2
    assert sum(objective.loss(emb).values()).item() == pytest.approx(expected.item(), abs=1e-5)


def test_symmetric_cross_entropy_with_smoothing_matches_torch():
    logits = torch.randn(5, 5)
    targets = torch.arange(5)
    expected = (F.cross_entropy(logits, targets, label_smoothing=0.2)
                + F.cross_entropy(logits.T, targets, label_smoothing=0.2)) / 2
    assert symmetric_cross_entropy(logits, 0.2).item() == pytest.approx(expected.item(), abs=1e-6)


def test_comm_aligns_joint_views_and_each_modality_with_the_other_view():
    objective = build_objective("comm", MODALITIES, temperature=1.0)
    first, second = embeddings_for(), embeddings_for()
    first.joint, second.joint = unit(4, 3, 50), unit(4, 3, 51)
    first.augmented = second
    terms = objective.loss(first)
    assert terms["comm/joint"].item() == pytest.approx(reference_clip(first.joint, second.joint, 1.0), abs=1e-6)
    expected_m1 = (reference_clip(first.unimodal["m1"], second.joint, 1.0)
                   + reference_clip(second.unimodal["m1"], first.joint, 1.0)) / 6
    assert terms["comm/m1"].item() == pytest.approx(expected_m1, abs=1e-6)
    with pytest.raises(PolymodalError, match="two augmented views"):
        objective.loss(embeddings_for())
