"""``polymodal bench contrastive``: contrastive objectives × datasets × seeds under one protocol.

Every run trains a :class:`~polymodal.tasks.contrastive.ContrastiveTask`
with the reference settings of ConFu (arXiv 2511.21331, Sec. 5: AdamW with
weight decay 1e-4, lr 1e-4 with cosine decay to 1e-6, fused heads with
H = 512, the best validation loss kept; 2-layer MLP encoders and embedding
16 as in its synthetic XOR study), tests it, and reports retrieval as the
mean over directions of 1→1 and 2→1 R@1, R@5 and MRR, plus the R@1 of each
pair of the first three modalities retrieving the other (``12->3/R@1``:
modalities 1 and 2 retrieving 3; the Latin-square target; ``13->2/R@1`` is
the XOR task whose optimum is ``p̂ + (1 − p̂)/2^d``). ``xor`` and
``xor-rotated`` (the XOR content mixed by a random orthogonal rotation with
three N(0, 1) distractor dimensions) run once per p̂ of
``--xor_probabilities``. Each run is
stored under ``OUT/runs/<dataset>/<objective>/seed<k>/`` with
``result.json`` and its full ``metrics.json``; rerunning with the same
``OUT`` skips finished runs, and a failed run is reported in the table with
its error.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
from rich.progress import Progress

from polymodal.bench.balance import cached_or_run
from polymodal.bench.contrastive_figure import xor_figure
from polymodal.bench.datasets import DatasetSpec
from polymodal.bench.protocol import bench_trainer
from polymodal.bench.report import Row
from polymodal.data.builtin import build_datamodule, parse_dataset_spec
from polymodal.errors import PolymodalError
from polymodal.eval.metrics import as_floats
from polymodal.tasks.contrastive import ContrastiveTask

XOR_DATASETS = ("xor", "xor-rotated")
"""Datasets run once per p̂ of ``--xor_probabilities``."""
RETRIEVAL_PREFIX = "test/retrieval/"
RANK_METRICS = ("R@1", "R@5", "MRR")
SUMMARY_METRICS = tuple(f"{kind}/{m}" for kind in ("1->1", "2->1") for m in RANK_METRICS)
TRIPLE_DIRECTIONS = {"12->3": (0, 1, 2), "13->2": (0, 2, 1), "23->1": (1, 2, 0)}
"""2→1 directions among the first three modalities, by position."""
TRIPLE_METRICS = tuple(f"{name}/R@1" for name in TRIPLE_DIRECTIONS)


@dataclass(frozen=True)
class ContrastiveProtocol:
    """Shared settings of every run; the defaults are the ConFu reference's."""

    max_epochs: int = 60
    batch_size: int = 256
    lr: float = 1e-4
    weight_decay: float = 1e-4
    min_lr: float = 1e-6
    encoder: str = "mlp"
    hidden_dim: int = 64
    encoder_depth: int = 2
    embed_dim: int = 16
    fusion_hidden_dim: int = 512
    accelerator: str = "cpu"

    def task_options(self) -> dict[str, Any]:
        return {
            "encoder": self.encoder,
            "encoder_options": {"hidden_dim": self.hidden_dim, "depth": self.encoder_depth, "dropout": 0.0},
            "embed_dim": self.embed_dim,
            "fusion_hidden_dim": self.fusion_hidden_dim,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "min_lr": self.min_lr,
        }


@dataclass(frozen=True)
class BenchDataset:
    """One dataset column of the suite; each of :data:`XOR_DATASETS` gets one per p̂."""

    spec: DatasetSpec
    directory: str
    xor_probability: float | None = None


def bench_datasets(names: Sequence[str], xor_probabilities: Sequence[float],
                   data_options: dict[str, dict[str, Any]]) -> list[BenchDataset]:
    """Resolve dataset names (``NAME`` or ``NAME:m1+m2+m3``); ``data_options`` maps a
    dataset name to constructor options of its DataModule. Unknown names and
    options raise at once, before any training."""
    out = []
    for text in names:
        name, modalities = parse_dataset_spec(text)
        options = dict(data_options.get(name, {}))
        if name not in XOR_DATASETS:
            build_datamodule(name, modalities=modalities, **options)
            spec = DatasetSpec(text, lambda seed, batch, n=name, m=modalities, o=options: build_datamodule(
                n, seed=seed, batch_size=batch, modalities=m, **o))
            out.append(BenchDataset(spec, text.replace(":", "_").replace("+", "-")))
            continue
        if "xor_probability" in options:
            raise PolymodalError(f"{name}: give p̂ with --xor_probabilities, not in --data_options")
        for p in xor_probabilities:
            build_datamodule(name, xor_probability=p, modalities=modalities, **options)
            spec = DatasetSpec(f"{name} p̂={p:g}", lambda seed, batch, n=name, p=p, m=modalities, o=options:
                               build_datamodule(n, xor_probability=p, seed=seed, batch_size=batch, modalities=m, **o))
            out.append(BenchDataset(spec, f"{name}-p{p:g}", p))
    return out


def summarize_retrieval(metrics: dict[str, float], modalities: Sequence[str]) -> dict[str, float | None]:
    """Mean R@1/R@5/MRR over the 1→1 (``a->b``) and 2→1 (``a+b->c``) directions, and
    :data:`TRIPLE_METRICS`, from the task's ``test/retrieval/...`` metrics."""
    directions: dict[str, dict[str, list[float]]] = {"1->1": {}, "2->1": {}}
    for key, value in metrics.items():
        if not key.startswith(RETRIEVAL_PREFIX):
            continue
        direction, metric = key[len(RETRIEVAL_PREFIX):].rsplit("/", 1)
        kind = "2->1" if "+" in direction else "1->1"
        directions[kind].setdefault(metric, []).append(value)
    row: dict[str, float | None] = {}
    for kind, values in directions.items():
        for metric in RANK_METRICS:
            found = values.get(metric)
            row[f"{kind}/{metric}"] = sum(found) / len(found) if found else None
    for name, (first, second, target) in TRIPLE_DIRECTIONS.items():
        direction = (f"{modalities[first]}+{modalities[second]}->{modalities[target]}"
                     if len(modalities) > 2 else "")
        row[f"{name}/R@1"] = metrics.get(f"{RETRIEVAL_PREFIX}{direction}/R@1")
    return row


def fit_and_test(task: ContrastiveTask, data: L.LightningDataModule, protocol: ContrastiveProtocol,
                 run_dir: Path, seed: int) -> tuple[dict[str, float], float]:
    """Train for ``max_epochs``, keep the best validation loss, test it; (metrics, train seconds)."""
    L.seed_everything(seed, verbose=False)
    trainer, checkpoint = bench_trainer(task, run_dir, protocol.max_epochs, protocol.accelerator, patience=None)
    start = time.perf_counter()
    trainer.fit(task, datamodule=data)
    wall = time.perf_counter() - start
    best = checkpoint.best_model_path or None
    return as_floats(trainer.test(task, datamodule=data, ckpt_path=best, verbose=False)[0]), wall


def train_objective(dataset: BenchDataset, objective: str, seed: int, protocol: ContrastiveProtocol,
                    run_dir: Path, objective_options: dict[str, Any]) -> dict[str, Any]:
    data = dataset.spec.build(seed, protocol.batch_size)
    task = ContrastiveTask(objective=objective, objective_options=objective_options,
                           data_info=data.info.to_dict(), **protocol.task_options())
    metrics, wall = fit_and_test(task, data, protocol, run_dir, seed)
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    return {**summarize_retrieval(metrics, data.info.modalities), "wall_s": round(wall, 2)}


def run_contrastive_grid(datasets: Sequence[BenchDataset], objectives: Sequence[str], seeds: Sequence[int],
                         out: Path, protocol: ContrastiveProtocol,
                         objective_options: dict[str, dict[str, Any]] | None = None) -> list[Row]:
    """Run every (dataset, objective, seed) and return one row per run."""
    objective_options = objective_options or {}
    rows: list[Row] = []
    plan = [(d, o, s) for d in datasets for s in seeds for o in objectives]
    with Progress() as progress:
        bar = progress.add_task("bench contrastive", total=len(plan))
        for dataset, objective, seed in plan:
            progress.update(bar, description=f"{dataset.spec.name} seed {seed}: {objective}")
            run_dir = out / "runs" / dataset.directory / objective / f"seed{seed}"
            base = {"dataset": dataset.spec.name, "xor_probability": dataset.xor_probability,
                    "objective": objective, "seed": seed}
            rows.append(cached_or_run(run_dir, base, lambda d=dataset, o=objective, s=seed, r=run_dir: train_objective(
                d, o, s, protocol, r, dict(objective_options.get(o, {})))))
            progress.advance(bar)
    return rows


def write_contrastive_report(rows: Sequence[Row], out: Path, xor_bits: int | None) -> dict[str, Path]:
    """``results.csv``, ``results.md`` and, with XOR runs, the 2→1 accuracy-vs-p̂ figure."""
    from polymodal.bench.report import aggregate, failures_markdown, format_markdown, write_csv

    out.mkdir(parents=True, exist_ok=True)
    metrics = [*SUMMARY_METRICS, *TRIPLE_METRICS, "wall_s"]
    summary = aggregate(rows, ["dataset", "xor_probability", "objective"], metrics)
    paths = {"csv": out / "results.csv", "md": out / "results.md"}
    write_csv(rows, paths["csv"])
    table = format_markdown(summary, ["dataset", "objective"], metrics[:-1], best_within="dataset")
    paths["md"].write_text(
        "# polymodal bench contrastive\n\nTest retrieval, mean ± std over seeds (best per dataset in bold). "
        "1->1 and 2->1: mean over directions; 12->3: modalities 1 and 2 retrieving 3 (and so on).\n\n"
        + table + failures_markdown(rows, label="objective"))
    if xor_bits is not None and xor_figure(summary, xor_bits, out / "xor_accuracy.png"):
        paths["xor"] = out / "xor_accuracy.png"
    return paths


def contrastive_parser() -> argparse.ArgumentParser:
    from polymodal.bench.cli import comma_list

    defaults = ContrastiveProtocol()
    parser = argparse.ArgumentParser(prog="polymodal bench contrastive",
                                     description="Compare contrastive objectives under one protocol.")
    parser.add_argument("--objectives", type=comma_list, default=["confu", "pairwise", "symile", "triangle", "gram"])
    parser.add_argument("--datasets", type=comma_list, default=["xor", "latin-square"],
                        help="built-in datasets, NAME or NAME:m1+m2+m3 (e.g. xor,xor-rotated,latin-square,"
                             "latin-square-rotated,mfeat:fou+kar+pix)")
    parser.add_argument("--xor_probabilities", type=lambda t: [float(x) for x in comma_list(t)], default=[1.0],
                        help="p̂ values of the xor dataset, e.g. 1.0,0.75,0.5,0.25,0.0")
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0..N-1)")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--objective_options", type=json.loads, default={},
                        help='JSON: objective → options, e.g. \'{"confu": {"fused_weight": 0.5}}\'')
    parser.add_argument("--data_options", type=json.loads, default={},
                        help='JSON: dataset name → options, e.g. \'{"xor": {"train_size": 5000}}\'')
    for name in ("max_epochs", "batch_size", "hidden_dim", "encoder_depth", "embed_dim", "fusion_hidden_dim"):
        parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name))
    for name in ("lr", "weight_decay", "min_lr"):
        parser.add_argument(f"--{name}", type=float, default=getattr(defaults, name))
    parser.add_argument("--encoder", default=defaults.encoder)
    parser.add_argument("--accelerator", default=defaults.accelerator)
    return parser


def run_contrastive(argv: Sequence[str]) -> int:
    from polymodal.bench.cli import quiet_lightning
    from polymodal.contrastive import OBJECTIVES

    args = contrastive_parser().parse_args(argv)
    quiet_lightning()
    for objective in args.objectives:
        OBJECTIVES.get(objective)
    datasets = bench_datasets(args.datasets, args.xor_probabilities, args.data_options)
    protocol = ContrastiveProtocol(**{k: getattr(args, k) for k in ContrastiveProtocol.__dataclass_fields__})
    rows = run_contrastive_grid(datasets, args.objectives, list(range(args.seeds)), args.out, protocol,
                                args.objective_options)
    xor = [d for d in datasets if d.xor_probability is not None]
    bits = xor[0].spec.build(0, protocol.batch_size).bits if xor else None
    paths = write_contrastive_report(rows, args.out, bits)
    print(paths["md"].read_text())
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0
