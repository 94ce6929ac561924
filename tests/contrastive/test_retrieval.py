"""Retrieval metrics against a brute-force ranking, and the task's test metrics end to end."""

import lightning as L
import pytest
import torch

from polymodal.contrastive import Embeddings
from polymodal.data.contrastive_synthetic import XorTriplesDataModule
from polymodal.eval.retrieval import retrieval_metrics, summarize_ranks, target_ranks
from polymodal.tasks.contrastive import ContrastiveTask


def brute_force_rank(scores: torch.Tensor, query_key: int, candidate_keys: torch.Tensor) -> int:
    """Walk the candidates from best to worst (non-hits first among ties) to the first hit."""
    order = sorted(range(len(scores)), key=lambda j: (-float(scores[j]), int(candidate_keys[j]) == query_key))
    return next(position + 1 for position, j in enumerate(order) if int(candidate_keys[j]) == query_key)


@pytest.mark.parametrize("with_content_keys", [False, True])
def test_ranks_match_a_brute_force_sort(with_content_keys):
    generator = torch.Generator().manual_seed(3)
    scores = torch.randn(30, 40, generator=generator)
    candidate_keys = torch.randint(0, 6, (40,), generator=generator) if with_content_keys else torch.arange(40)
    query_keys = candidate_keys[torch.randperm(40, generator=generator)[:30]]
    ranks = target_ranks(scores, query_keys, candidate_keys)
    expected = [brute_force_rank(scores[i], int(query_keys[i]), candidate_keys) for i in range(30)]
    assert ranks.tolist() == expected
    metrics = summarize_ranks(ranks)
    assert metrics["R@5"] == pytest.approx(sum(r <= 5 for r in expected) / 30)
    assert metrics["MRR"] == pytest.approx(sum(1 / r for r in expected) / 30)


def test_ties_count_against_the_model():
    ranks = target_ranks(torch.zeros(3, 5), torch.arange(3), torch.arange(5))
    assert ranks.tolist() == [5, 5, 5]  # constant embeddings: worst rank, not best


def test_directions_presence_and_content_keys():
    z = {m: torch.nn.functional.normalize(torch.randn(8, 4), dim=-1) for m in ("a", "b", "c")}
    z["b"] = z["a"].clone()  # a→b is perfect
    present = {"c": torch.tensor([True] * 6 + [False] * 2)}
    keys = {"c": torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])}
    seen = []

    def pair_scores(first, second, fused, candidates):
        seen.append((len(first), len(candidates)))
        return torch.zeros(len(first), len(candidates))

    metrics = retrieval_metrics(Embeddings(z), pair_scores, present, keys)
    assert metrics["a->b/R@1"] == 1.0 and metrics["b->a/MRR"] == 1.0
    assert {k.split("/")[0] for k in metrics} == {"a->b", "b->a", "a->c", "c->a", "b->c", "c->b",
                                                  "a+b->c", "a+c->b", "b+c->a"}
    assert set(metrics) >= {"a+b->c/R@1", "a+b->c/R@5", "a+b->c/R@10", "a+b->c/MRR"}
    assert (6, 6) in seen  # queries and candidates of c: only samples where c is present
    # all-equal scores: the rank is the number of non-hit candidates + 1 = 6 - 2 + 1 = 5
    assert metrics["a+b->c/R@1"] == 0.0 and metrics["a+b->c/MRR"] == pytest.approx(1 / 5)


def test_task_test_reports_retrieval_for_every_direction(tmp_path):
    data = XorTriplesDataModule(bits=2, train_size=64, val_size=32, test_size=48, batch_size=16)
    task = ContrastiveTask(objective="confu", encoder_options={"hidden_dim": 8, "depth": 1}, embed_dim=4,
                           fusion_hidden_dim=8, lr=1e-3, data_info=data.info.to_dict())
    trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(task, datamodule=data)
    metrics = trainer.test(task, datamodule=data, verbose=False)[0]
    assert "test/retrieval/m0->m1/R@1" in metrics and "test/retrieval/m1+m2->m0/MRR" in metrics
    assert len([k for k in metrics if k.startswith("test/retrieval/")]) == (6 + 3) * 4
    assert all(0.0 <= metrics[k] <= 1.0 for k in metrics if k.startswith("test/retrieval/"))
