"""MCR: the multimodal competition regularizer (arXiv 2411.07335).

``L = CE(g(z)) + λ_uni·Σ_m CE(h_m(z_m)) + λ_pd·L_PD + λ_con·L_Con + λ_ceb·L_CEB``,
terms logged as ``fused``, ``uni/<m>``, ``pd``, ``con``, ``ceb``:

* ``L_PD`` — the competition game over permutation divergences
  (:func:`~polymodal.balance.mcr_terms.game_regularizer`). ``D(S → n)``: the
  JSD between the fused prediction with the features of the modalities in S
  permuted along the batch (P permutations, one batched fusion call per
  player; a sum-of-modalities head permutes its per-modality terms instead
  of running again) and the
  unpermuted one, with every modality except player n detached
  (``model.fuse(..., detach=...)``). Games: ``greedy`` (k = −1, default),
  ``independent`` (k = 0), ``collaborative`` (k = +1, nothing detached).
  S ranges over single modalities, or every non-empty proper subset
  (``subsets=True``). Each divergence is logged as ``pd/<S>-><n>``
  (``pd/<S>`` for the collaborative game). The regularizer *maximizes*
  divergences; JSD is bounded by ln 2 and λ_pd should stay small.
* ``L_Con`` — supervised NT-Xent over L2-normalized unimodal features
  (temperature 0.5; positives same label, or ``positives="index"``). The
  features must share a size, or set ``con_projection`` to learn a linear
  projection per modality to that size.
* ``L_CEB`` — a decoder (part of this module, hence trained by the task's
  optimizer) reconstructs the concatenated features from the detached fused
  prediction; MSE.

A term whose λ is 0 is not computed.

As in the reference, training starts from unimodal encoders: by default
the first half of the epochs is the unimodal first stage
(:mod:`~polymodal.balance.unimodal_stage`; the task's ``unimodal_epochs``
changes it, and ``pretrained`` checkpoints replace it).

Scale: the permutation divergence and the contrastive term take their
permutation partners and negatives from the batch, so under DDP they are
computed on the features gathered from every process (with gradients) and
permutations drawn from a generator shared by all processes: the result
equals one process on the global batch. Under gradient accumulation they
see one micro-batch (per micro-batch by definition), which is exactly DDP
with gathering off.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor, nn

from polymodal.balance.base import BALANCERS, BalancerLoss
from polymodal.balance.context import StepContext
from polymodal.balance.mcr_terms import (
    GAMES,
    PERMUTATIONS,
    POSITIVES,
    CEBDecoder,
    draw_permutations,
    game_regularizer,
    pairwise_nt_xent,
    permutation_divergences,
    permuted_sets,
    supervised_contrastive,
)
from polymodal.balance.modulation import check_choice
from polymodal.balance.multiloss import MultiLoss, multiloss_terms
from polymodal.balance.view import ModelView
from polymodal.data.contract import Batch, presence
from polymodal.errors import PolymodalError
from polymodal.models.output import ModelOutput


REFERENCES = ("main_forward", "recomputed")
CONTRASTIVE = {"nt_xent": pairwise_nt_xent, "supcon": supervised_contrastive}


@BALANCERS.register("mcr")
class MCR(MultiLoss):
    """Multi-loss objective plus the competition game, contrastive and CEB terms.

    Args:
        lambda_uni: weight of each unimodal cross-entropy.
        lambda_pd: weight of the permutation-divergence game.
        lambda_con: weight of the supervised contrastive loss.
        lambda_ceb: weight of the CEB reconstruction loss.
        permutations: P, permutations per step.
        permutation: ``"any"``, ``"derangement"`` (no fixed points) or
            ``"different_labels"`` (only pairs with different labels count).
        game: ``"greedy"``, ``"independent"`` or ``"collaborative"``.
        subsets: also permute every non-empty proper subset of modalities (M > 2).
        reference: the unpermuted prediction the divergences compare with:
            ``"main_forward"`` (the release: the model's fused prediction, its
            gradient kept) or ``"recomputed"`` (rerun under each player's detaching).
        contrastive: ``"nt_xent"`` (the release: per positive pair, negatives-only
            denominators) or ``"supcon"`` (Khosla et al., Eq. 2).
        temperature: contrastive temperature.
        positives: ``"label"`` or ``"index"`` positives of the contrastive loss.
        con_projection: size of a learned per-modality projection before the
            contrastive loss (``None``: use the features as they are).
        ceb_hidden: hidden size of the CEB decoder (``None``: the largest feature size, as the release's d).
        ceb_input: ``"logits"`` (the release) or ``"probabilities"`` into the CEB decoder.
        ceb_bias: biases in the CEB decoder (the release has none).
    """

    name = "mcr"
    unimodal_stage = 0.5  # the reference starts from unimodal encoders
    supports_regression = False
    min_modalities = 2

    def __init__(
        self,
        lambda_uni: float = 1.0,
        lambda_pd: float = 0.01,
        lambda_con: float = 1.0,
        lambda_ceb: float = 0.1,
        permutations: int = 32,
        permutation: str = "any",
        game: str = "greedy",
        subsets: bool = False,
        reference: str = "main_forward",
        contrastive: str = "nt_xent",
        temperature: float = 0.5,
        positives: str = "label",
        con_projection: int | None = None,
        ceb_hidden: int | None = None,
        ceb_input: str = "logits",
        ceb_bias: bool = False,
    ) -> None:
        super().__init__(1.0, lambda_uni)
        check_choice(self.name, "permutation", permutation, PERMUTATIONS)
        check_choice(self.name, "game", game, GAMES)
        check_choice(self.name, "reference", reference, REFERENCES)
        check_choice(self.name, "contrastive", contrastive, tuple(CONTRASTIVE))
        check_choice(self.name, "positives", positives, POSITIVES)
        check_choice(self.name, "ceb_input", ceb_input, ("logits", "probabilities"))
        for option, value in (("lambda_uni", lambda_uni), ("lambda_pd", lambda_pd),
                              ("lambda_con", lambda_con), ("lambda_ceb", lambda_ceb)):
            if value < 0:
                raise PolymodalError(f"method 'mcr': {option} must be >= 0, got {value}")
        if permutations < 1 or temperature <= 0:
            raise PolymodalError(f"method 'mcr': need permutations >= 1 and temperature > 0, got {permutations}, {temperature}")
        self.lambda_pd, self.lambda_con, self.lambda_ceb = lambda_pd, lambda_con, lambda_ceb
        self.permutations = permutations
        self.permutation = permutation
        self.game = game
        self.subsets = subsets
        self.reference = reference
        self.contrastive = contrastive
        self.temperature = temperature
        self.positives = positives
        self.con_projection = con_projection
        self.ceb_hidden = ceb_hidden
        self.ceb_input = ceb_input
        self.ceb_bias = ceb_bias
        self.sets: list[tuple[str, ...]] = []

    def setup(self, view: ModelView) -> None:
        super().setup(view)
        dims = view.feature_dims
        self.sets = permuted_sets(view.modalities, self.subsets)
        if self.lambda_con > 0 and self.con_projection is not None:
            self.projections = nn.ModuleDict({m: nn.Linear(d, self.con_projection) for m, d in dims.items()})
        elif self.lambda_con > 0 and len(set(dims.values())) > 1:
            raise PolymodalError(
                f"method 'mcr': the contrastive term needs features of one size, got {dims}; set con_projection"
            )
        if self.lambda_ceb > 0:
            hidden = self.ceb_hidden or max(dims.values())
            self.decoder = CEBDecoder(view.num_outputs, dims, hidden, self.ceb_input, self.ceb_bias)

    def loss(self, output: ModelOutput, batch: Batch, view: ModelView, context: StepContext) -> BalancerLoss:
        result = BalancerLoss(multiloss_terms(output, batch, self.fused_weight, self.unimodal_weight))
        if self.lambda_pd > 0 or self.lambda_con > 0:
            features = {m: context.gather(z) for m, z in output.features.items()}
            present = {m: context.gather(presence(batch, m)) for m in output.features}
            target = context.gather(batch["target"])
        if self.lambda_pd > 0:
            reference = context.gather(output.logits) if self.reference == "main_forward" else None
            divergences = self.divergences(view, features, present, target, context, reference)
            result.terms["pd"] = self.lambda_pd * game_regularizer(divergences, self.sets, self.game)
            result.logs = {
                f"pd/{'+'.join(s)}" + ("" if player == "all" else f"->{player}"): d
                for player, values in divergences.items() for s, d in zip(self.sets, values.detach())
            }
        if self.lambda_con > 0:
            if self.con_projection is not None:
                features = {m: self.projections[m](z) for m, z in features.items()}
            result.terms["con"] = self.lambda_con * CONTRASTIVE[self.contrastive](
                features, target, present, self.temperature, self.positives
            )
        if self.lambda_ceb > 0:
            result.terms["ceb"] = self.lambda_ceb * self.decoder(output.logits, output.features)
        return result

    def divergences(self, view: ModelView, features: Mapping[str, Tensor], present: Mapping[str, Tensor],
                    target: Tensor, context: StepContext, reference: Tensor | None = None) -> dict[str, Tensor]:
        """``{player: [|sets|] D(S → player)}`` (``{"all": ...}`` for the collaborative game)."""
        perms = draw_permutations(self.permutations, target.shape[0], self.permutation, context.generator())
        perms = perms.to(target.device)
        players: list[str | None] = [None] if self.game == "collaborative" else list(features)
        return {
            "all" if n is None else n: permutation_divergences(
                view, features, present, target, perms, self.sets, n, self.permutation == "different_labels", reference
            )
            for n in players
        }
