"""Metrics over every embedding of a split: collect per batch, compute once (torchmetrics, DDP-safe).

:class:`SplitEmbeddings` keeps the embeddings of each batch (every modality
and fused pair), with the presence masks, content keys and labels when the
batch has them, in list states that torchmetrics concatenates across
processes (``dist_reduce_fx="cat"``, in rank order) when the metric is
computed. Evaluation loaders give each process an unpadded shard
(:func:`polymodal.distributed.evaluation_sampler`), so every sample of the
split appears exactly once. :class:`RetrievalMetrics` computes cross-modal
retrieval (:func:`polymodal.eval.retrieval.retrieval_metrics`) and,
given a probe, linear-probe accuracies on them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from torch import Tensor
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from polymodal.contrastive.base import Embeddings, Pair
from polymodal.eval.retrieval import PairScorer, retrieval_metrics

Probe = Callable[[Embeddings, Tensor], Mapping[str, float]]
"""``(split embeddings, labels) → {name: accuracy}`` of linear probes on them."""


class SplitEmbeddings(Metric):
    """The embeddings of a whole split (with presence, content keys and labels), gathered over processes.

    Update inputs: ``embeddings`` (:class:`~polymodal.contrastive.base.Embeddings`
    of the batch, ``[b, E]`` each), optionally ``present`` and ``keys``
    (modality → ``[b]``) and ``target`` (``[b]`` labels). :meth:`compute`
    returns the split's ``{"embeddings", "present", "keys", "target"}``
    (``target`` None without labels).
    """

    full_state_update = False

    def __init__(self, modalities: Sequence[str], fused_pairs: Sequence[Pair] = ()) -> None:
        super().__init__()
        self.modalities = tuple(modalities)
        self.fused_pairs = tuple(tuple(p) for p in fused_pairs)
        for i in range(len(self.modalities)):
            for field in ("unimodal", "present", "keys"):
                self.add_state(f"{field}_{i}", default=[], dist_reduce_fx="cat")
        for j in range(len(self.fused_pairs)):
            self.add_state(f"fused_{j}", default=[], dist_reduce_fx="cat")
        self.add_state("target", default=[], dist_reduce_fx="cat")

    def update(self, embeddings: Embeddings, present: Mapping[str, Tensor] | None = None,
               keys: Mapping[str, Tensor] | None = None, target: Tensor | None = None) -> None:
        for i, m in enumerate(self.modalities):
            getattr(self, f"unimodal_{i}").append(embeddings.unimodal[m].detach())
            if present and m in present:
                getattr(self, f"present_{i}").append(present[m])
            if keys and m in keys:
                getattr(self, f"keys_{i}").append(keys[m])
        for j, pair in enumerate(self.fused_pairs):
            getattr(self, f"fused_{j}").append(embeddings.fused[pair].detach())
        if target is not None:
            self.target.append(target)

    def _split(self) -> dict[str, Any]:
        """The states, concatenated (over every process inside :meth:`compute`)."""

        def cat(name: str) -> Tensor | None:  # None: never given (synchronised, an empty tensor)
            state = getattr(self, name)
            value = dim_zero_cat(state) if isinstance(state, Tensor) or len(state) else None
            return value if value is not None and value.numel() else None

        def named(field: str) -> dict[str, Tensor]:
            values = {m: cat(f"{field}_{i}") for i, m in enumerate(self.modalities)}
            return {m: v for m, v in values.items() if v is not None}

        fused = {pair: cat(f"fused_{j}") for j, pair in enumerate(self.fused_pairs)}
        return {"embeddings": Embeddings(named("unimodal"), fused), "present": named("present"),
                "keys": named("keys"), "target": cat("target")}

    def compute(self) -> dict[str, Any]:
        return self._split()


class RetrievalMetrics(SplitEmbeddings):
    """Retrieval in every direction over the split (``retrieval/<a>-><b>/R@1``, ``retrieval/<a>+<b>-><c>/MRR``,
    ...) and, with a ``probe`` and labelled data, its accuracies (``probe/<name>/acc``).

    Args:
        modalities: the modalities, in data order.
        fused_pairs: the pairs with a fused embedding.
        pair_scores: the objective's 2→1 similarity.
        probe: linear probes fit elsewhere (on the training split) and scored on these embeddings.
    """

    def __init__(self, modalities: Sequence[str], fused_pairs: Sequence[Pair], pair_scores: PairScorer,
                 probe: Probe | None = None) -> None:
        super().__init__(modalities, fused_pairs)
        self.pair_scores = pair_scores
        self.probe = probe

    def compute(self) -> dict[str, float]:
        split = self._split()
        metrics = retrieval_metrics(split["embeddings"], self.pair_scores, split["present"], split["keys"])
        values = {f"retrieval/{k}": v for k, v in metrics.items()}
        if self.probe is not None and split["target"] is not None:
            values |= {f"probe/{name}/acc": acc for name, acc in self.probe(split["embeddings"], split["target"]).items()}
        return values
