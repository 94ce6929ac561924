"""Cross-modal retrieval metrics: Recall@K and MRR, 1→1 and 2→1.

Each query is scored against every candidate of the target modality. A
candidate is a hit when its key equals the key of the query's own target:
by default the sample index (only the paired sample is right), or a content
key when the data has one, so that samples that share content (the same XOR
bits, the same Latin-square symbol) all count as right answers. The rank of
a query is ``1 + #(non-hit candidates scoring at least as high as its best
hit)``: ties count against the model, so collapsed (constant) embeddings get
the worst rank, not the best.

Metrics (ConFu, arXiv 2511.21331, Sec. 4): ``R@K`` = share of queries with
rank ≤ K, ``MRR`` = mean of 1/rank. Scores are computed in chunks of
queries, so memory stays ``chunk × N``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import combinations, permutations

import torch
from torch import Tensor

from polymodal.contrastive.base import Embeddings

PairScorer = Callable[[Tensor, Tensor, Tensor | None, Tensor], Tensor]
"""``(first, second, fused or None, candidates) → scores [n, N]`` (``ContrastiveObjective.pair_scores``)."""


def target_ranks(scores: Tensor, query_keys: Tensor, candidate_keys: Tensor) -> Tensor:
    """1-based rank ``[n]`` of each query's best hit among ``scores [n, N]``."""
    hits = query_keys[:, None] == candidate_keys[None, :]
    if not bool(hits.any(dim=1).all()):
        raise ValueError("a query's target key is not among the candidates")
    best_hit = scores.masked_fill(~hits, float("-inf")).amax(dim=1, keepdim=True)
    return ((scores >= best_hit) & ~hits).sum(dim=1) + 1


def summarize_ranks(ranks: Tensor, ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """``R@K`` for each K and ``MRR`` from 1-based ranks."""
    out = {f"R@{k}": float((ranks <= k).double().mean()) for k in ks}
    out["MRR"] = float((1.0 / ranks.double()).mean())
    return out


def chunked_ranks(score_rows: Callable[[slice], Tensor], num_queries: int, query_keys: Tensor,
                  candidate_keys: Tensor, chunk_size: int = 1024) -> Tensor:
    """Ranks of all queries, scoring ``chunk_size`` query rows at a time."""
    parts = []
    for start in range(0, num_queries, chunk_size):
        rows = slice(start, start + chunk_size)
        parts.append(target_ranks(score_rows(rows), query_keys[rows], candidate_keys))
    return torch.cat(parts)


def retrieval_metrics(
    embeddings: Embeddings,
    pair_scores: PairScorer,
    present: Mapping[str, Tensor] | None = None,
    keys: Mapping[str, Tensor] | None = None,
    ks: Sequence[int] = (1, 5, 10),
    chunk_size: int = 1024,
) -> dict[str, float]:
    """Retrieval in every direction over one evaluation set.

    1→1 for every ordered pair ``a->b`` (cosine ``z_a · z_b``) and 2→1 for
    every pair against every other modality ``a+b->c`` (``pair_scores``).
    Queries need their modalities and their target present; candidates are
    the samples whose target modality is present.

    Args:
        embeddings: embeddings of all evaluation samples, ``[N, E]`` each.
        pair_scores: the objective's 2→1 similarity.
        present: modality → ``[N]`` presence mask (default: all present).
        keys: modality → ``[N]`` content keys (default: the sample index).
        ks: the K of Recall@K.
        chunk_size: query rows scored at once.

    Returns:
        ``{"a->b/R@1": ..., "a+b->c/MRR": ...}``.
    """
    unimodal = embeddings.unimodal
    modalities = list(unimodal)
    count = len(next(iter(unimodal.values())))
    present = present or {}
    keys = keys or {}
    sample_index = torch.arange(count)
    results: dict[str, float] = {}

    def mask(*names: str) -> Tensor:
        out = torch.ones(count, dtype=torch.bool)
        for m in names:
            if m in present:
                out &= present[m].reshape(count).bool().cpu()
        return out

    def score(direction: str, query: Tensor, target: str, rows_fn: Callable[[Tensor, slice], Tensor]) -> None:
        candidates = mask(target)
        target_keys = keys[target].reshape(count).cpu() if target in keys else sample_index
        if not bool(query.any()):
            return
        query_index = query.nonzero().squeeze(1)
        ranks = chunked_ranks(lambda rows: rows_fn(query_index[rows], candidates), len(query_index),
                              target_keys[query_index], target_keys[candidates], chunk_size)
        results.update({f"{direction}/{name}": value for name, value in summarize_ranks(ranks, ks).items()})

    for a, b in permutations(modalities, 2):
        score(f"{a}->{b}", mask(a, b), b, lambda q, c, a=a, b=b: unimodal[a][q] @ unimodal[b][c].T)
    for i, j in combinations(modalities, 2):
        fused = embeddings.fused_or_none((i, j))
        for k in modalities:
            if k in (i, j):
                continue
            score(f"{i}+{j}->{k}", mask(i, j, k), k, lambda q, c, i=i, j=j, k=k, fused=fused: pair_scores(
                unimodal[i][q], unimodal[j][q], None if fused is None else fused[q], unimodal[k][c]))
    return results
