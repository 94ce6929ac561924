"""ContrastiveModel heads and embeddings, gradient routing, and the task's optimizer."""

import pytest
import torch
from torch import nn

from polymodal.contrastive import build_objective
from polymodal.data.contract import DataInfo
from polymodal.errors import PolymodalError
from polymodal.models.contrastive import ContrastiveModel
from polymodal.tasks.contrastive import ContrastiveTask

INFO = DataInfo(("m0", "m1", "m2"), {"m0": (4,), "m1": (5,), "m2": (6,)}, num_classes=0)
ENCODER = {"hidden_dim": 8, "depth": 1, "dropout": 0.0}


def inputs(n: int = 6) -> dict[str, torch.Tensor]:
    return {m: torch.randn(n, *INFO.shapes[m]) for m in INFO.modalities}


def model_for(objective: str, **options) -> tuple[ContrastiveModel, object]:
    obj = build_objective(objective, INFO.modalities, **options)
    model = ContrastiveModel.from_info(INFO, "mlp", ENCODER, embed_dim=3, fused_pairs=obj.fused_pairs,
                                       joint=obj.needs_joint, fusion_hidden_dim=7)
    return model, obj


def test_fused_head_is_the_specified_mlp_on_concatenated_encoder_outputs():
    model, _ = model_for("confu")
    assert set(model.fused_heads) == {"m0+m1", "m0+m2", "m1+m2"}
    layers = list(model.fused_heads["m0+m1"].net)
    assert [type(layer) for layer in layers] == [nn.Linear, nn.ReLU, nn.Dropout, nn.Linear, nn.LeakyReLU, nn.Dropout]
    assert layers[0].in_features == 16 and layers[0].out_features == 7  # D_0 + D_1 = 8 + 8 → H
    assert layers[3].out_features == 3 and layers[4].negative_slope == 0.2 and layers[2].p == 0.1


def test_embed_returns_unit_unimodal_fused_and_fallback_pair_embeddings():
    model, _ = model_for("confu", fused_terms=["m0+m1->m2"])
    model.eval()
    x = inputs()
    with torch.no_grad():
        full = model(x)
        single = model.embed({"m2": x["m2"]}, ["m2"])
        fused = model.embed({"m0": x["m0"], "m1": x["m1"]}, ("m1", "m0"))
        fallback = model.embed(x, ("m1", "m2"))
    assert torch.allclose(single, full.unimodal["m2"])
    assert torch.allclose(fused, full.fused[("m0", "m1")])
    expected = torch.nn.functional.normalize(full.unimodal["m1"] + full.unimodal["m2"], dim=-1)
    assert torch.allclose(fallback, expected)
    assert torch.allclose(fused.norm(dim=-1), torch.ones(6))


def test_forward_embeds_only_the_modalities_given():
    model, _ = model_for("comm")
    out = model({"m0": torch.randn(2, 4), "m2": torch.randn(2, 6)})
    assert set(out.unimodal) == {"m0", "m2"} and out.fused == {} and out.joint is None
    with pytest.raises(PolymodalError, match="'m1' is missing"):
        model.embed({"m0": torch.randn(2, 4)}, ["m0", "m1"])
    with pytest.raises(PolymodalError, match="unknown modality 'audio'"):
        model.embed({"m0": torch.randn(2, 4)}, ["audio"])


def grad_norm(module: nn.Module) -> float:
    return sum(float(p.grad.abs().sum()) for p in module.parameters() if p.grad is not None)


def test_a_fused_term_reaches_its_head_both_encoders_and_the_target_projection_only():
    model, objective = model_for("confu")
    model.eval()  # no dropout: gradients are exact
    terms = objective.loss(model(inputs()))
    terms["fused/m0+m1->m2"].backward()
    assert grad_norm(model.fused_heads["m0+m1"]) > 0
    assert grad_norm(model.encoders["m0"]) > 0 and grad_norm(model.encoders["m1"]) > 0
    assert grad_norm(model.projections["m2"]) > 0
    assert grad_norm(model.projections["m0"]) == 0 and grad_norm(model.projections["m1"]) == 0
    assert grad_norm(model.fused_heads["m0+m2"]) == 0 and grad_norm(model.fused_heads["m1+m2"]) == 0


def task(objective: str, **options) -> ContrastiveTask:
    return ContrastiveTask(objective=objective, objective_options=options, encoder_options=ENCODER, embed_dim=3,
                           fusion_hidden_dim=7, data_info=INFO.to_dict())


class FakeTrainer:
    estimated_stepping_batches = 10


@pytest.mark.parametrize("objective, options", [
    ("confu", {}), ("confu", {"fused_weight": 0.0}), ("pairwise", {}), ("symile", {}), ("triangle", {}),
    ("gram", {}), ("comm", {"learnable_temperature": True}),
])
def test_every_trainable_module_is_in_the_optimizer(objective, options, monkeypatch):
    module = task(objective, **options)
    monkeypatch.setattr(ContrastiveTask, "trainer", FakeTrainer())
    optimizer = module.configure_optimizers()["optimizer"]
    in_optimizer = {id(p) for group in optimizer.param_groups for p in group["params"]}
    trainable = {id(p) for p in module.parameters() if p.requires_grad}
    assert in_optimizer == trainable
    # every parameter the loss can reach gets a gradient, so none is dead weight
    module.model.eval()
    terms = module.objective.loss(module.objective.embed(module.model, inputs()))
    torch.stack(list(terms.values())).sum().backward()
    unused = [n for n, p in module.named_parameters() if p.requires_grad and p.grad is None]
    assert unused == []


def test_zero_fused_weight_builds_no_fused_heads_and_comm_builds_a_joint_head():
    assert len(task("confu", fused_weight=0.0).model.fused_heads) == 0
    assert len(task("confu").model.fused_heads) == 3
    assert task("comm").model.joint_head is not None and task("pairwise").model.joint_head is None


def test_training_with_a_missing_modality_is_an_error():
    module = task("confu")
    batch = {"inputs": inputs(3), "target": torch.zeros(3), "present": {"m1": torch.tensor([True, False, True])}}
    with pytest.raises(PolymodalError, match="'m1' is missing for 1 samples"):
        module.training_step(batch, 0)
