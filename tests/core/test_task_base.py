"""The task base: a task that only fills the hooks trains, validates, tests and predicts through Lightning."""

from __future__ import annotations

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score
from torchmetrics.wrappers import ClasswiseWrapper

from polymodal.contrastive.base import Embeddings
from polymodal.eval.embeddings import RetrievalMetrics
from polymodal.eval.metrics import EvaluationLoss
from polymodal.eval.retrieval import retrieval_metrics
from polymodal.tasks.base import Evaluation, PolymodalTask

CLASSES = ("low", "mid", "high")


class TinyTask(PolymodalTask):
    """A linear classifier over one modality ``x``, written only through the base's hooks."""

    task_name = "tiny"

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, len(CLASSES))

    def training_loss(self, batch):
        logits = self.linear(batch["inputs"]["x"])
        return {"ce": F.cross_entropy(logits, batch["target"]), "l2": 1e-3 * self.linear.weight.pow(2).sum()}

    def evaluation_metrics(self, stage):
        return {"loss": EvaluationLoss(terms=True), "acc": MulticlassAccuracy(len(CLASSES), average="micro"),
                "f1": ClasswiseWrapper(MulticlassF1Score(len(CLASSES), average="none"), labels=list(CLASSES),
                                       prefix="f1/")}

    def evaluate(self, batch, stage):
        return Evaluation(self.training_loss(batch), {"preds": self.predict(batch), "target": batch["target"]})

    def predict(self, batch):
        return self.linear(batch["inputs"]["x"])

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def batches(sizes: tuple[int, ...] = (5, 3), seed: int = 0) -> list[dict]:
    generator = torch.Generator().manual_seed(seed)
    out = []
    for size in sizes:
        target = torch.randint(0, len(CLASSES), (size,), generator=generator)
        x = torch.randn(size, 4, generator=generator) + F.one_hot(target, 4).float() * 2
        out.append({"inputs": {"x": x}, "target": target})
    return out


def trainer(tmp_path) -> L.Trainer:
    return L.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                     enable_model_summary=False, default_root_dir=tmp_path)


def test_a_task_that_only_fills_the_hooks_trains_validates_tests_and_predicts(tmp_path) -> None:
    torch.manual_seed(0)
    task = TinyTask()
    data = DataLoader(batches(), batch_size=None)
    run = trainer(tmp_path)
    run.fit(task, train_dataloaders=data, val_dataloaders=data)
    logged = run.callback_metrics
    for key in ("train/loss", "train/ce", "train/l2", "val/loss", "val/ce", "val/l2", "val/acc", "val/f1/mid"):
        assert key in logged, key

    metrics = run.test(task, dataloaders=data, verbose=False)[0]
    assert set(metrics) == {"test/loss", "test/ce", "test/l2", "test/acc", *(f"test/f1/{c}" for c in CLASSES)}
    # by hand over both batches: the loss is the sample-weighted mean, accuracy and F1 pooled over the split
    task.eval()
    with torch.no_grad():
        parts = batches()
        losses = [sum(task.training_loss(b).values()) for b in parts]
        logits = torch.cat([task.predict(b) for b in parts])
        target = torch.cat([b["target"] for b in parts])
    sizes = torch.tensor([len(b["target"]) for b in parts], dtype=torch.float32)
    assert metrics["test/loss"] == pytest.approx(float((torch.stack(losses) * sizes).sum() / sizes.sum()), rel=1e-6)
    assert metrics["test/acc"] == pytest.approx(float((logits.argmax(-1) == target).float().mean()), rel=1e-6)
    f1 = MulticlassF1Score(len(CLASSES), average="none")(logits, target)
    assert [metrics[f"test/f1/{c}"] for c in CLASSES] == pytest.approx(f1.tolist(), rel=1e-6)

    predictions = run.predict(task, dataloaders=data)
    assert [tuple(p.shape) for p in predictions] == [(5, 3), (3, 3)]


def test_each_stage_has_its_own_prefixed_metric_collection() -> None:
    task = TinyTask()
    val, test = task.stage_metrics("val"), task.stage_metrics("test")
    assert isinstance(val, MetricCollection) and isinstance(test, MetricCollection)
    assert val is not test and val.prefix == "val/" and test.prefix == "test/"
    assert all(val[name] is not test[name] for name in val.keys(keep_base=True))
    assert task.stage_metrics("val") is val  # built once
    batch = batches((4,))[0]
    task._evaluate(batch, "val")  # the base's evaluation of one batch, outside a trainer
    assert set(val.compute()) == {"val/loss", "val/ce", "val/l2", "val/acc", *(f"val/f1/{c}" for c in CLASSES)}
    assert test["acc"].update_count == 0


def test_retrieval_over_batches_equals_retrieval_over_the_split() -> None:
    torch.manual_seed(0)
    modalities, pair = ("a", "b", "c"), ("a", "b")
    split = {m: F.normalize(torch.randn(10, 4), dim=-1) for m in (*modalities, "ab")}
    present = {"c": torch.arange(10) % 3 > 0}
    keys = {m: torch.arange(10) % 5 for m in modalities}

    def scores(first, second, fused, candidates):
        return (fused if fused is not None else first + second) @ candidates.T

    metric = RetrievalMetrics(modalities, [pair], scores, probe=lambda z, y: {"a": float(y.float().mean())})
    for rows in (slice(0, 6), slice(6, 10)):
        embeddings = Embeddings({m: split[m][rows] for m in modalities}, {pair: split["ab"][rows]})
        metric.update(embeddings, {m: p[rows] for m, p in present.items()}, {m: k[rows] for m, k in keys.items()},
                      torch.arange(10)[rows])
    values = metric.compute()
    expected = retrieval_metrics(Embeddings({m: split[m] for m in modalities}, {pair: split["ab"]}), scores,
                                 present, keys)
    assert {k: v for k, v in values.items() if k.startswith("retrieval/")} == {
        f"retrieval/{k}": v for k, v in expected.items()}
    assert values["probe/a/acc"] == pytest.approx(4.5)
