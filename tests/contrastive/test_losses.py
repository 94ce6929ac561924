"""Each objective against values computed by hand or by brute-force loops on tiny batches."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from polymodal.contrastive import OBJECTIVES, Embeddings, LogitScale, build_objective
from polymodal.contrastive.comm import nt_xent
from polymodal.contrastive.gram import gram_volumes
from polymodal.contrastive.infonce import symmetric_cross_entropy, symmetric_infonce
from polymodal.contrastive.symile import symile_logits_all, symile_logits_shuffled
from polymodal.contrastive.triangle import triangle_areas, triangle_squared_areas
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


def confu_sums(emb: Embeddings, scale: float) -> tuple[float, float]:
    """Σ of the three pairwise and of the three fused symmetric InfoNCE terms, by loops."""
    z, f = emb.unimodal, emb.fused
    pairwise = sum(reference_clip(z[i], z[j], scale) for i, j in [("m0", "m1"), ("m1", "m2"), ("m2", "m0")])
    fused = (reference_clip(f[("m0", "m1")], z["m2"], scale) + reference_clip(f[("m0", "m2")], z["m1"], scale)
             + reference_clip(f[("m1", "m2")], z["m0"], scale))
    return pairwise, fused


def test_confu_matches_the_official_formula():
    """[(1−λ)·Σ pairwise + λ·Σ fused] / 6 for λ > 0, Σ pairwise / 3 at λ = 0 (official ConFu code)."""
    lam = 0.3
    emb = embeddings_for()
    pairwise, fused = confu_sums(emb, 4.0)
    terms = build_objective("confu", MODALITIES, fused_weight=lam, temperature=0.25).loss(emb)
    assert sum(terms.values()).item() == pytest.approx(((1 - lam) * pairwise + lam * fused) / 6, abs=1e-5)
    f, z = emb.fused, emb.unimodal
    assert terms["fused/m0+m1->m2"].item() == pytest.approx(lam / 6 * reference_clip(f[("m0", "m1")], z["m2"], 4.0),
                                                            abs=1e-6)
    at_zero = build_objective("confu", MODALITIES, fused_weight=0.0, temperature=0.25).loss(emb)
    assert sum(at_zero.values()).item() == pytest.approx(pairwise / 3, abs=1e-5)


def test_confu_mean_scale_keeps_the_weighted_means_for_every_lambda():
    lam = 0.3
    emb = embeddings_for()
    pairwise, fused = confu_sums(emb, 4.0)
    terms = build_objective("confu", MODALITIES, fused_weight=lam, temperature=0.25, scale="mean").loss(emb)
    assert sum(terms.values()).item() == pytest.approx((1 - lam) * pairwise / 3 + lam * fused / 3, abs=1e-5)
    with pytest.raises(PolymodalError, match="confu: unknown scale 'sum'; choose one of: reference, mean"):
        build_objective("confu", MODALITIES, scale="sum")


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
    areas, squared = triangle_areas(p, q, c), triangle_squared_areas(p, q, c)
    for i in range(3):
        for j in range(4):
            sides = [np.linalg.norm((p[i] - q[i]).numpy()), np.linalg.norm((p[i] - c[j]).numpy()),
                     np.linalg.norm((q[i] - c[j]).numpy())]
            s = sum(sides) / 2
            heron = math.sqrt(max(s * (s - sides[0]) * (s - sides[1]) * (s - sides[2]), 0.0))
            assert areas[i, j].item() == pytest.approx(math.sqrt(2) * heron, abs=1e-4)  # area² = 2·heron²
            assert squared[i, j].item() == pytest.approx(2 * heron**2, abs=1e-5)


def test_triangle_loss_hand_worked_on_a_two_sample_batch():
    """Anchors a0=(1,0), a1=(0,1); pairs (b0, c0) = ((1,0), (0,1)), (b1, c1) = ((−1,0), (0,−1)).

    Triangles (a_i, b_j, c_j): (a0, b0, c0) and (a1, b0, c0) repeat a vertex (area 0);
    (a0, b1, c1) and (a1, b1, c1) have base 2 and height 1 (geometric area A = 1).
    The spec's area² = 2A² = 2, so with τ = 0.5 the logits −area²/τ are [[0, −4], [0, −4]]:
    rows: softplus(−4) and 4 + softplus(−4); columns: log 2 and log 2.
    """
    emb = Embeddings({"m0": torch.tensor([[1.0, 0.0], [0.0, 1.0]]), "m1": torch.tensor([[1.0, 0.0], [-1.0, 0.0]]),
                      "m2": torch.tensor([[0.0, 1.0], [0.0, -1.0]])})
    official = build_objective("triangle", MODALITIES, temperature=0.5, label_smoothing=0.0)
    expected = ((softplus(-4) + 4 + softplus(-4)) / 2 + math.log(2)) / 2
    assert official.loss(emb)["triangle"].item() == pytest.approx(expected, abs=1e-6)
    # score="area": −area/τ = −√2·A/τ, logits [[0, −2√2], [0, −2√2]] (up to the 1e-4 of the stabilizing ε)
    paper = build_objective("triangle", MODALITIES, temperature=0.5, label_smoothing=0.0, score="area")
    r = 2 * math.sqrt(2)
    assert paper.loss(emb)["triangle"].item() == pytest.approx(((2 * softplus(-r) + r) / 2 + math.log(2)) / 2, abs=1e-3)
    with pytest.raises(PolymodalError, match="triangle: unknown score 'volume'; choose one of: area_squared, area"):
        build_objective("triangle", MODALITIES, score="volume")


def test_gram_volume_matches_a_determinant_per_triple():
    p, q, c = unit(3, 5, 0), unit(3, 5, 1), unit(4, 5, 2)
    volumes = gram_volumes([p, q], c)
    for i in range(3):
        for j in range(4):
            v = torch.stack([p[i], q[i], c[j]]).double().numpy()
            assert volumes[i, j].item() == pytest.approx(math.sqrt(abs(np.linalg.det(v @ v.T))), abs=1e-4)


@pytest.mark.parametrize("name, similarity", [
    ("triangle", lambda z: -triangle_squared_areas(z["m1"], z["m2"], z["m0"]).T),
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


def reference_nt_xent(a: torch.Tensor, b: torch.Tensor, scale: float) -> float:
    """SimCLR's NT-Xent by loops: each of the 2N embeddings against its partner, negatives all others."""
    pool = list(a) + list(b)
    n, total = len(a), 0.0
    for k, anchor in enumerate(pool):
        partner = (k + n) % (2 * n)
        denominator = sum(math.exp(scale * float(anchor @ other)) for m, other in enumerate(pool) if m != k)
        total += math.log(denominator) - scale * float(anchor @ pool[partner])
    return total / (2 * n)


def test_nt_xent_hand_worked_and_against_loops():
    a = b = torch.eye(2)
    # each anchor: positive e^1, other side e^0, own side e^0 -> -log(e / (e + 2)) = log(1 + 2/e)
    assert nt_xent(a, b, 1.0).item() == pytest.approx(math.log(1 + 2 / math.e), abs=1e-6)
    assert symmetric_infonce(a, b, 1.0).item() == pytest.approx(softplus(-1), abs=1e-6)  # no same-side negatives
    x, y = unit(5, 3, 0), unit(5, 3, 1)
    assert nt_xent(x, y, 2.0).item() == pytest.approx(reference_nt_xent(x, y, 2.0), abs=1e-5)


def comm_views() -> Embeddings:
    first, second = embeddings_for(), embeddings_for()
    first.unimodal["m1"] = unit(4, 3, 40)
    first.joint, second.joint = unit(4, 3, 50), unit(4, 3, 51)
    first.augmented = second
    return first


def test_comm_is_the_uniform_mean_of_nt_xent_terms():
    """L = 1/(M+1)·(nt(h', h'') + Σ_m ½[nt(z'_m, h'') + nt(z''_m, h')]) (official CoMM loss), M = 3."""
    first = comm_views()
    second = first.augmented
    terms = build_objective("comm", MODALITIES, temperature=1.0).loss(first)
    assert terms["comm/joint"].item() == pytest.approx(reference_nt_xent(first.joint, second.joint, 1.0) / 4, abs=1e-6)
    expected_m1 = (reference_nt_xent(first.unimodal["m1"], second.joint, 1.0)
                   + reference_nt_xent(second.unimodal["m1"], first.joint, 1.0)) / 2 / 4
    assert terms["comm/m1"].item() == pytest.approx(expected_m1, abs=1e-6)
    assert set(terms) == {"comm/joint", "comm/m0", "comm/m1", "comm/m2"}
    with pytest.raises(PolymodalError, match="two augmented views"):
        build_objective("comm", MODALITIES).loss(embeddings_for())
    with pytest.raises(PolymodalError, match="comm: unknown formulation 'simclr'; choose one of: nt_xent, clip"):
        build_objective("comm", MODALITIES, formulation="simclr")


def test_comm_clip_formulation_aligns_joint_views_and_each_modality_with_the_other_view():
    first = comm_views()
    second = first.augmented
    terms = build_objective("comm", MODALITIES, temperature=1.0, formulation="clip").loss(first)
    assert terms["comm/joint"].item() == pytest.approx(reference_clip(first.joint, second.joint, 1.0), abs=1e-6)
    expected_m1 = (reference_clip(first.unimodal["m1"], second.joint, 1.0)
                   + reference_clip(second.unimodal["m1"], first.joint, 1.0)) / 6
    assert terms["comm/m1"].item() == pytest.approx(expected_m1, abs=1e-6)


@pytest.mark.parametrize("name, options, message", [
    ("symile", {"negatives": "all"}, "symile: unknown negatives 'all'; choose one of: n, n_squared"),
    ("triangle", {"anchor": ""}, "triangle: anchor '' is not a modality; choose one of: m0, m1, m2"),
    ("gram", {"anchor": "m3"}, "gram: anchor 'm3' is not a modality; choose one of: m0, m1, m2"),
])
def test_unknown_option_values_raise_at_construction(name, options, message):
    with pytest.raises(PolymodalError, match=message):
        build_objective(name, MODALITIES, **options)
