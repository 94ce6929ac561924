"""Objectives called on plain tensors: a mapping of ``[B, E]`` embeddings in, named loss terms out."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from polymodal.contrastive import Embeddings, build_objective
from polymodal.data.contract import DataInfo
from polymodal.errors import PolymodalError
from polymodal.tasks.contrastive import ContrastiveTask

INFO = DataInfo(("audio", "image", "caption"), {"audio": (4,), "image": (5,), "caption": (6,)}, 0).to_dict()
MODALITIES = ("audio", "image", "caption")
OBJECTIVES = ("pairwise", "symile", "triangle", "gram", "confu", "comm")


def plain(embeddings: Embeddings) -> dict:
    """The embeddings as a mapping of plain tensors, fused pairs keyed in reverse order."""
    out: dict = {m: z.detach().clone() for m, z in embeddings.unimodal.items()}
    out.update({(j, i): z.detach().clone() for (i, j), z in embeddings.fused.items()})
    if embeddings.joint is not None:
        out["joint"] = embeddings.joint.detach().clone()
    if embeddings.augmented is not None:
        out["augmented"] = plain(embeddings.augmented)
    return out


@pytest.mark.filterwarnings("ignore:.*self.log.*")
@pytest.mark.parametrize("name", OBJECTIVES)
def test_plain_call_equals_the_tasks_training_loss(name):
    task = ContrastiveTask(name, encoder_options={"hidden_dim": 8, "depth": 1}, embed_dim=4, fusion_hidden_dim=8,
                           data_info=INFO).eval()
    batch = {"inputs": {m: torch.randn(6, *INFO["shapes"][m]) for m in MODALITIES}, "target": torch.zeros(6)}
    torch.manual_seed(1)
    expected = task.training_step(batch, 0)
    torch.manual_seed(1)  # the same augmented views (CoMM) and shuffled negatives (Symile)
    mapping = plain(task.objective.embed(task.model, batch["inputs"]))
    terms = task.objective(mapping)
    assert torch.stack(list(terms.values())).sum().item() == pytest.approx(expected.item(), abs=1e-6)
    assert all(term.ndim == 0 for term in terms.values())


@pytest.mark.parametrize("name", ["pairwise", "triangle", "gram"])
def test_plain_call_on_three_raw_tensors_normalizes_them(name):
    raw = {m: 3.0 * torch.randn(5, 4) for m in MODALITIES}
    objective = build_objective(name, MODALITIES)
    terms = objective(raw)
    expected = objective.loss(Embeddings({m: F.normalize(z, dim=-1) for m, z in raw.items()}))
    assert terms.keys() == expected.keys()
    assert all(torch.allclose(terms[k], expected[k]) for k in terms)


def test_plain_call_reaches_the_given_tensors():
    raw = {m: torch.randn(5, 4, requires_grad=True) for m in MODALITIES}
    sum(build_objective("symile", MODALITIES)(raw).values()).backward()
    assert all(z.grad is not None and bool(z.grad.abs().sum() > 0) for z in raw.values())


def embeddings(n: int = 4, dim: int = 3) -> dict:
    return {m: torch.randn(n, dim) for m in MODALITIES}


@pytest.mark.parametrize("name, given, message", [
    ("pairwise", {"audio": torch.randn(4, 3), "image": torch.randn(4, 3)}, "'caption' is missing"),
    ("pairwise", {**embeddings(), "video": torch.randn(4, 3)}, "unknown embedding 'video'; expected a modality"),
    ("pairwise", {**embeddings(), "image": torch.randn(5, 3)}, "'image' is \\[5, 3\\], 'audio' is \\[4, 3\\]"),
    ("pairwise", {**embeddings(), "image": [[0.0]]}, "embedding 'image' must be a tensor"),
    ("pairwise", torch.randn(4, 3), "must be a mapping or an Embeddings"),
    ("confu", embeddings(), "needs the fused embedding of the pair \\('audio', 'image'\\)"),
    ("confu", {**embeddings(), ("audio", "audio"): torch.randn(4, 3)}, "two different modalities"),
    ("confu", {**embeddings(), ("audio", "image"): torch.randn(4, 3), ("image", "audio"): torch.randn(4, 3)},
     "given in both orders"),
    ("comm", embeddings(), "needs the 'joint' embedding"),
    ("comm", {**embeddings(), "joint": torch.randn(4, 3)}, "needs a second view \\('augmented'\\)"),
    ("comm", {**embeddings(), "joint": torch.randn(4, 3), "augmented": embeddings()},
     "'joint' embedding of all modalities of the augmented view"),
])
def test_plain_call_names_what_is_missing_or_wrong(name, given, message):
    with pytest.raises(PolymodalError, match=message):
        build_objective(name, MODALITIES)(given)
