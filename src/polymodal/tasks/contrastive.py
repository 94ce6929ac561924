"""Self-supervised multimodal contrastive training as a LightningModule.

The task builds a :class:`~polymodal.models.contrastive.ContrastiveModel`
with the heads its objective needs (:mod:`polymodal.contrastive`), sums and
logs the objective's named loss terms, and optimizes with AdamW and cosine
decay to ``min_lr`` (the ConFu reference, arXiv 2511.21331, Sec. 5). On test
it gathers the embeddings of the whole split and reports retrieval in every
direction as ``test/retrieval/<a>-><b>/R@1`` and
``test/retrieval/<a>+<b>-><c>/R@1`` (and R@5, R@10, MRR), scored by sample
identity or by the data's content keys. Labels are optional: training and
retrieval never read them, and linear probes run only when the data has
class labels.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric

from polymodal.contrastive import build_objective
from polymodal.contrastive.base import Embeddings, ObjectiveSpec
from polymodal.encoders.base import EncoderSpec
from polymodal.data.contract import Batch
from polymodal.errors import PolymodalError
from polymodal.eval.embeddings import RetrievalMetrics, SplitEmbeddings
from polymodal.eval.metrics import EvaluationLoss
from polymodal.eval.probes import named_embeddings, probe_accuracies
from polymodal.models.contrastive import ContrastiveModel
from polymodal.tasks.base import Evaluation, PolymodalTask
from polymodal.tasks.optimization import check_rates
from polymodal.tasks.registry import TASKS


@TASKS.register("contrastive")
class ContrastiveTask(PolymodalTask):
    """Joint embedding of three or more modalities with a contrastive objective.

    Args:
        objective: the contrastive objective — a registry name
            (``polymodal.contrastive.OBJECTIVES``) or import path with
            ``objective_options``, or a class with its options on the command
            line (``--model.objective ConFu --model.objective.fused_weight 0.5``).
        objective_options: options of an objective given by name (unknown names raise).
        encoder: the encoder of every modality, or a modality → encoder map: a registry
            name (``polymodal.encoders.ENCODERS``) or import path with
            ``encoder_options``, or a class with its options on the command line
            (``--model.encoder ResNet18Encoder --model.encoder.width 8``).
        encoder_options: options of encoders given by name; a modality's name maps to options for it alone.
        embed_dim: E, the shared embedding size.
        fusion_hidden_dim: H of the fused-pair (and joint) heads.
        fusion_dropout: dropout of the fused-pair (and joint) heads (0.1 in the reference).
        lr: initial learning rate of AdamW.
        weight_decay: AdamW weight decay.
        min_lr: learning rate at the end of the cosine decay.
        linear_probe: at test, when the data has class labels and a training
            split, fit a linear probe on the frozen training embeddings of
            every modality and fused pair and report its test accuracy
            (``test/probe/<name>/acc``).
        gather: under DDP, compute the objective on the embeddings of every
            process (negatives from the global batch, gradients flowing back to
            each process); off, each process contrasts its own shard only.
        modalities: use only these modalities of the data (default: all).
        data_info: modalities and shapes of the data (set by the CLI from the
            DataModule; stored in checkpoints).
    """

    task_name = "contrastive"
    needs_labels = False

    def __init__(
        self,
        objective: ObjectiveSpec = "confu",
        objective_options: dict[str, Any] | None = None,
        encoder: EncoderSpec | dict[str, EncoderSpec] = "mlp",
        encoder_options: dict[str, Any] | None = None,
        embed_dim: int = 128,
        fusion_hidden_dim: int = 512,
        fusion_dropout: float = 0.1,
        lr: float = 1e-4,
        weight_decay: float = 1e-4,
        min_lr: float = 1e-6,
        linear_probe: bool = True,
        gather: bool = True,
        modalities: list[str] | None = None,
        data_info: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        check_rates(lr, weight_decay, min_lr)
        self.data_info = self.resolve_data_info(data_info, modalities)
        self.objective = build_objective(objective, self.data_info.modalities, **(objective_options or {}))
        self.model = ContrastiveModel.from_info(
            self.data_info, encoder, encoder_options, embed_dim=embed_dim,
            fused_pairs=self.objective.fused_pairs, joint=self.objective.needs_joint,
            fusion_hidden_dim=fusion_hidden_dim, fusion_dropout=fusion_dropout,
        )
        # hyperparameters hold plain mappings (the components' {class_path, init_args}), never pickled modules
        encoder, encoder_options = {m: e.config() for m, e in self.model.encoders.items()}, None
        objective, objective_options = self.objective.config(), None
        data_info = self.plain_data_info(data_info)
        self.save_hyperparameters()

    def forward(self, inputs: dict[str, Tensor]) -> Embeddings:
        return self.model(inputs)

    # --- training ----------------------------------------------------------------
    def _inputs(self, batch: Batch) -> dict[str, Tensor]:
        """The batch's inputs of the task's modalities; contrastive training and
        validation pair every modality of a sample, so a missing one is an error."""
        for m in self.data_info.modalities:
            mask = batch.get("present", {}).get(m)
            if mask is not None and not bool(mask.all()):
                raise PolymodalError(f"contrastive training needs every modality of every sample; {m!r} is "
                                     f"missing for {int((~mask.bool()).sum())} samples of a batch")
        return {m: batch["inputs"][m] for m in self.data_info.modalities}

    def _terms(self, batch: Batch, training: bool) -> dict[str, Tensor]:
        embeddings = self.objective.embed(self.model, self._inputs(batch))
        if training and self.hparams.gather and self.distributed:
            embeddings = embeddings.apply(self.gather_batch)  # negatives from the global batch
        return self.objective(embeddings)

    def training_loss(self, batch: Batch) -> dict[str, Tensor]:
        return self._terms(batch, training=True)

    # --- evaluation: the loss on validation, retrieval over the whole test split ----------
    def evaluation_metrics(self, stage: str) -> dict[str, Metric]:
        """Validation: the loss and each term (``val/loss``, ``val/<term>``). Test: retrieval over every embedding
        of the split, and linear probes fit on the training split's embeddings (``test/probe/<name>/acc``)."""
        if stage == "val":
            return {"loss": EvaluationLoss(terms=True)}
        return {"embeddings": RetrievalMetrics(self.data_info.modalities, self.model.fused_pairs,
                                               self.objective.pair_scores, probe=self._probe_accuracies)}

    def evaluate(self, batch: Batch, stage: str) -> Evaluation:
        if stage == "val":
            return Evaluation(self._terms(batch, training=False))
        return Evaluation(inputs={"embeddings": self._embed(batch), "present": batch.get("present"),
                                  "keys": batch.get("keys"), "target": batch.get("target")})

    def _embed(self, batch: Batch) -> Embeddings:
        return self.model({m: batch["inputs"][m] for m in self.data_info.modalities})

    def predict(self, batch: Batch) -> dict[str, Tensor]:
        """Every unimodal (``m0``) and fused-pair (``m0+m1``) embedding of the batch, ``[B, E]`` each."""
        return named_embeddings(self._embed(batch))

    def _probe_accuracies(self, test: Embeddings, labels: Tensor) -> dict[str, float]:
        """Test accuracies of linear probes fit on the frozen embeddings of the training split (if any)."""
        train = self._training_loader()
        if train is None:
            return {}
        split = SplitEmbeddings(self.data_info.modalities, self.model.fused_pairs).to(self.device)
        with torch.no_grad():
            for batch in train:
                batch = self.trainer.strategy.batch_to_device(batch)
                split.update(self._embed(batch), target=batch["target"])
        embedded = split.compute()  # every process's shard
        return probe_accuracies(embedded["embeddings"], embedded["target"], test, labels, self.data_info.num_classes)

    def _training_loader(self):
        """The training split's loader (one shard per process) when a linear probe can be fit, else None."""
        data = getattr(self.trainer, "datamodule", None)
        if not self.hparams.linear_probe or self.data_info.num_classes < 2 or data is None:  # unlabelled data: 0
            return None
        return data.dataloader("train") if data.has_split("train") else None

    # --- setup -------------------------------------------------------------------
    def configure_optimizers(self) -> dict[str, Any]:
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        steps = self.trainer.estimated_stepping_batches
        if not math.isfinite(steps):
            raise PolymodalError("cosine learning-rate decay needs a finite trainer.max_epochs or trainer.max_steps")
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, int(steps)),
                                                              eta_min=self.hparams.min_lr)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

