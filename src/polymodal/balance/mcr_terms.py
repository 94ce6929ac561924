"""The terms of MCR, the multimodal competition regularizer (arXiv 2411.07335).

* :func:`draw_permutations` and :func:`permutation_divergences` — the
  permutation divergence ``D``: an estimate of the unique,
  task-relevant information ``I(X_S; Y | X_rest)`` of a set S of modalities,
  ``E[JSD(p(y|z_S[π], z_rest) ‖ p(y|z_S, z_rest))]``. Only the fusion head runs
  again: the features of S are permuted along the batch for P permutations at
  once and stacked on the batch axis (``[(1 + |sets|·P)·B, D]``), one fusion
  call per gradient target; a sum-of-modalities head needs no rerun at all
  (its per-modality terms are permuted instead, :func:`permuted_predictions`).
* :func:`game_regularizer` — the per-player game.
* :func:`supervised_contrastive` — ``L_Con``, supervised NT-Xent.
* :class:`CEBDecoder` — ``L_CEB``, reconstruction of the features from the
  detached prediction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import combinations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from polymodal.balance.view import ModelView
from polymodal.errors import PolymodalError

PERMUTATIONS = ("any", "derangement", "different_labels")
GAMES = {"greedy": -1, "independent": 0, "collaborative": 1}
"""Game name → the paper's k: −1 greedy, 0 independent, +1 collaborative."""


def permuted_sets(modalities: Sequence[str], subsets: bool) -> list[tuple[str, ...]]:
    """Each single modality, or (``subsets``) every non-empty proper subset."""
    sizes = range(1, len(modalities)) if subsets else (1,)
    return [s for size in sizes for s in combinations(modalities, size)]


def draw_permutations(count: int, size: int, kind: str, generator: torch.Generator | None = None) -> Tensor:
    """``[P, B]`` permutations of ``range(B)``.

    ``"any"`` and ``"different_labels"`` draw uniform permutations (the latter's
    same-label pairs are masked in :func:`permutation_divergences`);
    ``"derangement"`` has no fixed points: a random order σ is shifted by a
    random ``s ∈ [1, B−1]``, ``π(σ_i) = σ_{(i+s) mod B}``. Drawn on the
    generator's device.
    """
    device = generator.device if generator is not None else None
    order = torch.rand(count, size, generator=generator, device=device).argsort(1)
    if kind != "derangement":
        return order
    if size < 2:
        raise PolymodalError("MCR: permutations without fixed points need a batch of at least 2 samples")
    shift = torch.randint(1, size, (count, 1), generator=generator, device=device)
    moved = order.gather(1, (torch.arange(size, device=device)[None, :] + shift) % size)
    return torch.empty_like(order).scatter_(1, order, moved)


def js_divergence(logits: Tensor, reference: Tensor) -> Tensor:
    """Per-sample Jensen–Shannon divergence (nats, ≤ ln 2) between two broadcastable logit tensors ``[..., C]``."""
    log_p, log_q = logits.log_softmax(-1), reference.log_softmax(-1)
    log_mid = torch.logaddexp(log_p, log_q) - math.log(2.0)
    return 0.5 * ((log_p.exp() * (log_p - log_mid)).sum(-1) + (log_q.exp() * (log_q - log_mid)).sum(-1))


def stack_permuted(
    features: Mapping[str, Tensor], present: Mapping[str, Tensor], sets: Sequence[tuple[str, ...]], perms: Tensor
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Features and masks for [unpermuted; set 1 × P permutations; set 2 × P; …] along the batch axis.

    Each modality is gathered once with a row index (``[(1 + |sets|·P)·B]``):
    the permutation's rows where the modality is in the set, identity rows otherwise.
    """
    count, size = perms.shape
    identity = torch.arange(size, device=perms.device)
    kept, moved = identity.repeat(count), perms.reshape(-1)
    feats, masks = {}, {}
    for m, z in features.items():
        rows = torch.cat([identity] + [moved if m in s else kept for s in sets])
        feats[m] = z.index_select(0, rows)
        masks[m] = present[m].index_select(0, rows)
    return feats, masks


def permuted_predictions(
    view: ModelView,
    features: Mapping[str, Tensor],
    present: Mapping[str, Tensor],
    sets: Sequence[tuple[str, ...]],
    perms: Tensor,
    detach: Sequence[str],
) -> tuple[Tensor, Tensor]:
    """Unpermuted ``[B, C]`` and permuted ``[|sets|, P, B, C]`` fused predictions.

    Any head: one call of ``view.fuse`` on the stacked permuted features.
    A sum-of-modalities head (late, logit sum, cosine) is exactly
    ``g(z) = Σ_m o_m(z_m)``, so permuting the features of S permutes the
    terms ``o_m``, m ∈ S: the head runs once on the unpermuted features and
    only its ``[B, C]`` outputs are gathered.
    """
    count, size = perms.shape
    if view.additive_fusion:
        names = set(detach)
        shares = view.modality_logits({m: z.detach() if m in names else z for m, z in features.items()})
        reference = torch.stack(list(shares.values())).sum(0)
        permuted = torch.stack([
            reference + sum(shares[m][perms] - shares[m] for m in s) for s in sets
        ])
        return reference, permuted
    feats, masks = stack_permuted(features, present, sets, perms)
    logits = view.fuse(feats, masks, detach=detach)
    return logits[:size], logits[size:].reshape(len(sets), count, size, -1)


def permutation_divergences(
    view: ModelView,
    features: Mapping[str, Tensor],
    present: Mapping[str, Tensor],
    target: Tensor,
    perms: Tensor,
    sets: Sequence[tuple[str, ...]],
    gradient_to: str | None,
    different_labels: bool = False,
) -> Tensor:
    """``[|sets|]`` divergences ``D(S → n)``: fused head rerun on permuted features.

    ``gradient_to=n`` detaches every other modality (the gradient reaches only
    player n); ``None`` detaches nothing. ``different_labels`` averages only
    over pairs ``(i, π(i))`` whose labels differ.
    """
    detach = [] if gradient_to is None else [m for m in features if m != gradient_to]
    reference, permuted = permuted_predictions(view, features, present, sets, perms, detach)
    divergence = js_divergence(permuted, reference)  # [|sets|, P, B]; the reference broadcasts
    if not different_labels:
        return divergence.mean((1, 2))
    weight = (target[perms] != target[None, :]).to(divergence.dtype)  # [P, B]
    return (divergence * weight).sum((1, 2)) / weight.sum().clamp_min(1.0)


def game_regularizer(divergences: Mapping[str, Tensor], sets: Sequence[tuple[str, ...]], game: str) -> Tensor:
    """The game's regularizer from ``{player: [|sets|] D(S → player)}``.

    greedy: ``Σ_n Σ_S (−D(S→n) if n ∈ S else +D(S→n))`` — each player raises
    the divergence of permuting its own modality and lowers that of the
    others; independent: ``−Σ_n Σ_{S∋n} D(S→n)``; collaborative (key ``"all"``,
    nothing detached): ``−Σ_S D(S)``.
    """
    if game == "collaborative":
        return -divergences["all"].sum()
    k = GAMES[game]
    total = torch.zeros((), device=next(iter(divergences.values())).device)
    for player, values in divergences.items():
        signs = torch.tensor([-1.0 if player in s else -float(k) for s in sets], device=values.device)
        total = total + (signs * values).sum()
    return total


def supervised_contrastive(
    features: Mapping[str, Tensor],
    target: Tensor,
    present: Mapping[str, Tensor],
    temperature: float = 0.5,
    positives: str = "label",
) -> Tensor:
    """Supervised NT-Xent over the L2-normalized features of all modalities (Khosla et al., arXiv 2004.11362, Eq. 2).

    Anchors are the ``M·B`` (modality, sample) pairs present; positives share
    the label (``"label"``, across and within modalities) or the sample index
    (``"index"``, the same sample in the other modalities).
    """
    modalities = list(features)
    z = F.normalize(torch.cat([features[m] for m in modalities]), dim=-1)
    size = target.shape[0]
    valid = torch.cat([present[m] for m in modalities])
    key = target.repeat(len(modalities)) if positives == "label" else torch.arange(size, device=z.device).repeat(len(modalities))
    eye = torch.eye(len(z), dtype=torch.bool, device=z.device)
    candidates = valid[None, :] & ~eye
    similarity = (z @ z.T / temperature).masked_fill(~candidates, float("-inf"))
    log_prob = similarity - similarity.logsumexp(1, keepdim=True)
    positive = (key[:, None] == key[None, :]) & candidates
    counts = positive.sum(1)
    anchors = valid & (counts > 0)
    per_anchor = -log_prob.masked_fill(~positive, 0.0).sum(1) / counts.clamp_min(1)
    return (per_anchor * anchors).sum() / anchors.sum().clamp_min(1)


class CEBDecoder(nn.Module):
    """Decoder ``C → hidden → Σ_m D_m`` from the detached fused prediction to the concatenated features.

    ``L_CEB = MSE(decoder(softmax(g(z)).detach()), [z_1 ‖ … ‖ z_M])``: the
    decoder learns what the prediction explains, and the encoders are pushed
    to drop feature information it does not explain.
    """

    def __init__(self, num_classes: int, feature_dims: Mapping[str, int], hidden_dim: int = 64) -> None:
        super().__init__()
        self.modalities = tuple(feature_dims)
        self.net = nn.Sequential(
            nn.Linear(num_classes, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, sum(feature_dims.values()))
        )

    def forward(self, logits: Tensor, features: Mapping[str, Tensor]) -> Tensor:
        reconstruction = self.net(logits.detach().softmax(-1))
        return F.mse_loss(reconstruction, torch.cat([features[m] for m in self.modalities], dim=-1))
