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
* :func:`pairwise_nt_xent` and :func:`supervised_contrastive` — ``L_Con``.
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
POSITIVES = ("label", "index")
"""What makes a pair positive in the supervised contrastive term: the same label, or the same sample."""
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
    if kind not in PERMUTATIONS:
        raise PolymodalError(f"MCR: unknown permutation kind {kind!r}; choose one of: {', '.join(PERMUTATIONS)}")
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
    """Unpermuted ``[B, C]`` and permuted ``[|sets|, P, B, C]`` fused predictions, ``detach`` cut off.

    A sum-of-modalities head (late, logit sum, cosine) is exactly
    ``g(z) = Σ_m o_m(z_m)``: a detached modality's whole term ``o_m`` (for the
    late head ``W_m z_m``) is detached, as in the MCR release, and permuting
    the features of S permutes the terms ``o_m``, m ∈ S, so the head runs once
    and only its ``[B, C]`` outputs are gathered. Any other head: one call of
    ``view.fuse`` on the stacked permuted features, the detached modalities'
    features detached.
    """
    count, size = perms.shape
    if view.additive_fusion:
        names = set(detach)
        shares = {m: o.detach() if m in names else o for m, o in view.modality_logits(features).items()}
        unpermuted = torch.stack(list(shares.values())).sum(0)
        permuted = torch.stack([
            unpermuted + sum(shares[m][perms] - shares[m] for m in s) for s in sets
        ])
        return unpermuted, permuted
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
    reference: Tensor | None = None,
) -> Tensor:
    """``[|sets|]`` divergences ``D(S → n)`` between permuted predictions and a reference.

    ``gradient_to=n`` detaches every other modality in the permuted
    predictions (the gradient reaches only player n); ``None`` detaches
    nothing. ``reference``: the prediction of the main forward pass (MCR
    release; its gradient is kept), or ``None`` to recompute it under the same
    detaching. ``different_labels`` averages only over pairs ``(i, π(i))``
    whose labels differ.
    """
    detach = [] if gradient_to is None else [m for m in features if m != gradient_to]
    unpermuted, permuted = permuted_predictions(view, features, present, sets, perms, detach)
    divergence = js_divergence(permuted, unpermuted if reference is None else reference)  # [|sets|, P, B]
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


def contrastive_candidates(
    features: Mapping[str, Tensor], target: Tensor, present: Mapping[str, Tensor], temperature: float, positives: str
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Similarities ``[N, N]`` of the ``N = M·B`` L2-normalized (modality, sample) features over τ,
    and the masks of valid anchors ``[N]``, positives and negatives ``[N, N]`` (self excluded).

    Positives share the label (``"label"``: across and within modalities) or
    the sample (``"index"``: the same sample in the other modalities).
    """
    if positives not in POSITIVES:
        raise PolymodalError(f"MCR: unknown positives {positives!r}; choose one of: {', '.join(POSITIVES)}")
    modalities = list(features)
    z = F.normalize(torch.cat([features[m] for m in modalities]), dim=-1)
    valid = torch.cat([present[m] for m in modalities])
    index = torch.arange(target.shape[0], device=z.device)
    key = (target if positives == "label" else index).repeat(len(modalities))
    candidates = valid[None, :] & valid[:, None] & ~torch.eye(len(z), dtype=torch.bool, device=z.device)
    same = key[:, None] == key[None, :]
    return z @ z.T / temperature, valid, same & candidates, ~same & candidates


def supervised_contrastive(
    features: Mapping[str, Tensor],
    target: Tensor,
    present: Mapping[str, Tensor],
    temperature: float = 0.5,
    positives: str = "label",
) -> Tensor:
    """Supervised contrastive loss of Khosla et al. (arXiv 2004.11362, Eq. 2, "SupCon"): per anchor,
    the mean over its positives of ``−log(e^{s_ip} / Σ_{a≠i} e^{s_ia})`` — every other sample in the denominator."""
    similarity, valid, positive, negative = contrastive_candidates(features, target, present, temperature, positives)
    log_prob = similarity - similarity.masked_fill(~(positive | negative), float("-inf")).logsumexp(1, keepdim=True)
    counts = positive.sum(1)
    anchors = valid & (counts > 0)
    per_anchor = -log_prob.masked_fill(~positive, 0.0).sum(1) / counts.clamp_min(1)
    return (per_anchor * anchors).sum() / anchors.sum().clamp_min(1)


def pairwise_nt_xent(
    features: Mapping[str, Tensor],
    target: Tensor,
    present: Mapping[str, Tensor],
    temperature: float = 0.5,
    positives: str = "label",
) -> Tensor:
    """NT-Xent per positive pair, as in the MCR release (``pytorch_metric_learning``'s ``NTXentLoss``):
    the mean over all positive pairs (i, p) of ``−log(e^{s_ip} / (e^{s_ip} + Σ_{n ∈ neg(i)} e^{s_in}))`` —
    only negatives (other labels) join the positive in the denominator."""
    similarity, _, positive, negative = contrastive_candidates(features, target, present, temperature, positives)
    negatives = similarity.masked_fill(~negative, float("-inf")).logsumexp(1, keepdim=True)  # [N, 1]
    per_pair = torch.logaddexp(similarity, negatives) - similarity
    return per_pair[positive].sum() / positive.sum().clamp_min(1)


class CEBDecoder(nn.Module):
    """Decoder from the detached fused prediction to the concatenated features (``L_CEB``).

    MCR release: ``Linear(C → d, no bias) → ReLU → Linear(d → Σ_m D_m, no bias)``
    on the raw logits, ``L_CEB = MSE(decoder(g(z).detach()), [z_1 ‖ … ‖ z_M])``:
    the decoder learns what the prediction explains, and the encoders are
    pushed to drop feature information it does not explain.
    ``input="probabilities"`` feeds ``softmax(g(z))`` instead and ``bias``
    adds biases (a variant).
    """

    def __init__(self, num_classes: int, feature_dims: Mapping[str, int], hidden_dim: int,
                 input: str = "logits", bias: bool = False) -> None:
        super().__init__()
        self.modalities = tuple(feature_dims)
        self.input = input
        self.net = nn.Sequential(
            nn.Linear(num_classes, hidden_dim, bias=bias), nn.ReLU(),
            nn.Linear(hidden_dim, sum(feature_dims.values()), bias=bias),
        )

    def forward(self, logits: Tensor, features: Mapping[str, Tensor]) -> Tensor:
        prediction = logits.detach()
        reconstruction = self.net(prediction.softmax(-1) if self.input == "probabilities" else prediction)
        return F.mse_loss(reconstruction, torch.cat([features[m] for m in self.modalities], dim=-1))
