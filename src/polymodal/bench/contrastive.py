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
``--xor_probabilities``. The runs go through the grid runner
(:mod:`polymodal.bench.grid`): each is stored under
``OUT/runs/<dataset>/<objective>/seed<k>/`` with ``result.json`` and its
full ``metrics.json``; rerunning with the same ``OUT`` skips finished runs,
and a failed run is reported in the table with its error. The encoder
options follow the chosen encoder: the MLP defaults (``hidden_dim``,
``encoder_depth``) apply to MLP encoders only, and ``--encoder_options``
replaces them (e.g. ``--encoder resnet18 --encoder_options '{"width": 8}'``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Any

from polymodal.bench.contrastive_figure import xor_figure
from polymodal.bench.datasets import DatasetSpec
from polymodal.bench.grid import Cell, Fit, Outcome, run_grid
from polymodal.bench.options import Names, Numbers, parse_options
from polymodal.bench.protocol import require_positive
from polymodal.bench.report import Row, show_report
from polymodal.data.builtin import build_datamodule, parse_dataset_spec
from polymodal.errors import PolymodalError
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
    """Shared settings of every run; the defaults are the ConFu reference's.

    Attributes:
        max_epochs: epochs per run (the best validation loss is kept)
        batch_size: samples per batch
        lr: initial learning rate (AdamW, cosine decay to min_lr)
        weight_decay: AdamW weight decay
        min_lr: final learning rate of the cosine decay
        encoder: encoder of every modality, or a modality → encoder map, e.g. '{"audio": "resnet18", "caption": "transformer"}'
        encoder_options: options of the encoders (shared, or per modality under its name); default: the MLP's hidden_dim and encoder_depth for MLP encoders
        hidden_dim: width of the MLP encoders (without encoder_options)
        encoder_depth: layers of the MLP encoders (without encoder_options)
        embed_dim: embedding size
        fusion_hidden_dim: width H of the fused heads
        accelerator: Lightning accelerator (cpu, gpu, auto)
    """

    max_epochs: int = 60
    batch_size: int = 256
    lr: float = 1e-4
    weight_decay: float = 1e-4
    min_lr: float = 1e-6
    encoder: str | dict[str, str] = "mlp"
    encoder_options: dict[str, Any] | None = None
    hidden_dim: int = 64
    encoder_depth: int = 2
    embed_dim: int = 16
    fusion_hidden_dim: int = 512
    accelerator: str = "cpu"

    def __post_init__(self) -> None:
        require_positive(self, "max_epochs", "batch_size", "lr", "hidden_dim", "encoder_depth", "embed_dim",
                         "fusion_hidden_dim")

    def encoder_settings(self) -> dict[str, Any]:
        """``encoder_options``, or the MLP's options for the modalities whose encoder is the MLP."""
        if self.encoder_options is not None:
            return dict(self.encoder_options)
        mlp = {"hidden_dim": self.hidden_dim, "depth": self.encoder_depth, "dropout": 0.0}
        if isinstance(self.encoder, dict):
            return {m: dict(mlp) for m, name in self.encoder.items() if name == "mlp"}
        return mlp if self.encoder == "mlp" else {}

    def task_options(self) -> dict[str, Any]:
        return {
            "encoder": self.encoder,
            "encoder_options": self.encoder_settings(),
            "embed_dim": self.embed_dim,
            "fusion_hidden_dim": self.fusion_hidden_dim,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "min_lr": self.min_lr,
        }


@dataclass(frozen=True, kw_only=True)
class ContrastiveOptions(ContrastiveProtocol):
    """Compare contrastive objectives under one protocol.

    Attributes:
        out: output folder (results.csv, results.md, figures, runs/)
        objectives: contrastive objectives (polymodal.contrastive.OBJECTIVES)
        datasets: built-in datasets, NAME or NAME:m1+m2+m3 (e.g. xor,xor-rotated,latin-square,latin-square-rotated,mfeat:fou+kar+pix)
        xor_probabilities: p̂ values of the xor datasets, e.g. 1.0,0.75,0.5,0.25,0.0
        seeds: number of seeds (0..N-1)
        objective_options: objective → options, e.g. '{"confu": {"fused_weight": 0.5}}'
        data_options: dataset name → options of its DataModule, e.g. '{"xor": {"train_size": 5000}}'
    """

    out: Path
    objectives: Names = field(default_factory=lambda: Names(["confu", "pairwise", "symile", "triangle", "gram"]))
    datasets: Names = field(default_factory=lambda: Names(["xor", "latin-square"]))
    xor_probabilities: Numbers = field(default_factory=lambda: Numbers([1.0]))
    seeds: int = 3
    objective_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    data_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "seeds")

    def protocol(self) -> ContrastiveProtocol:
        return ContrastiveProtocol(**{f.name: getattr(self, f.name) for f in fields(ContrastiveProtocol)})


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


def build_fit(cell: Cell, protocol: ContrastiveProtocol, datasets: dict[str, BenchDataset],
              objective_options: dict[str, dict[str, Any]]) -> Fit:
    """The task factory: a ContrastiveTask of the cell's objective on its dataset and seed."""
    data = datasets[cell.key["dataset"]].spec.build(cell.seed, protocol.batch_size)
    objective = cell.key["objective"]
    task = ContrastiveTask(objective=objective, objective_options=dict(objective_options.get(objective, {})),
                           data_info=data.info.to_dict(), **protocol.task_options())
    return Fit(task, data, protocol.max_epochs, protocol.accelerator)


def summarise(cell: Cell, outcome: Outcome) -> Row:
    """The row summariser: :func:`summarize_retrieval`, the modalities and the wall time; the
    full test metrics go to the run's ``metrics.json``."""
    (cell.run_dir / "metrics.json").write_text(json.dumps(outcome.metrics, indent=2, sort_keys=True) + "\n")
    modalities = outcome.fit.data.info.modalities
    return {**summarize_retrieval(outcome.metrics, modalities), "modalities": "+".join(modalities),
            "wall_s": round(outcome.wall_s, 2)}


def run_contrastive_grid(options: ContrastiveOptions, datasets: Sequence[BenchDataset]) -> list[Row]:
    """Run every (dataset, seed, objective) and return one row per run."""
    cells = [Cell({"dataset": d.spec.name, "xor_probability": d.xor_probability, "objective": objective, "seed": seed},
                  options.out / "runs" / d.directory / objective / f"seed{seed}", f"{d.spec.name} {objective} seed {seed}")
             for d in datasets for seed in range(options.seeds) for objective in options.objectives]
    build = partial(build_fit, protocol=options.protocol(), datasets={d.spec.name: d for d in datasets},
                    objective_options=options.objective_options)
    return run_grid("contrastive", cells, build, summarise, headline="2->1/R@1")


def direction_headers(rows: Sequence[Row]) -> dict[str, dict[str, str]]:
    """Dataset → display names of :data:`TRIPLE_METRICS` with the dataset's modality names
    (``12->3/R@1`` → ``m0+m1->m2 R@1``), as in the XOR figure."""
    headers: dict[str, dict[str, str]] = {}
    for row in rows:
        modalities = (row.get("modalities") or "").split("+")
        if len(modalities) > 2:
            headers[row["dataset"]] = {
                f"{name}/R@1": f"{modalities[a]}+{modalities[b]}->{modalities[c]} R@1"
                for name, (a, b, c) in TRIPLE_DIRECTIONS.items()}
    return headers


def write_contrastive_report(rows: Sequence[Row], out: Path, xor_bits: int | None) -> dict[str, Path]:
    """``results.csv``, ``results.md`` (a table per dataset) and, with XOR runs, the 2→1 accuracy-vs-p̂ figure."""
    from polymodal.bench.report import aggregate, dataset_tables, failures_markdown, write_csv

    out.mkdir(parents=True, exist_ok=True)
    quality = [*SUMMARY_METRICS, *TRIPLE_METRICS]
    summary = aggregate(rows, ["dataset", "xor_probability", "objective"], [*quality, "wall_s"])
    paths = {"csv": out / "results.csv", "md": out / "results.md"}
    write_csv(rows, paths["csv"])
    headers = direction_headers(rows)
    tables = dataset_tables(summary, ["objective"], [*quality, "wall_s"], ranked=quality,
                            headers=lambda dataset: headers.get(dataset, {}))
    paths["md"].write_text(
        "# polymodal bench contrastive\n\nTest retrieval, mean ± std over seeds; the best of each column in bold. "
        "1->1 and 2->1: mean over directions; a+b->c: modalities a and b retrieving c; "
        "wall_s: training seconds.\n\n" + tables + failures_markdown(rows, label="objective"))
    if xor_bits is not None and xor_figure(summary, xor_bits, out / "xor_accuracy.png"):
        paths["xor"] = out / "xor_accuracy.png"
    return paths


def run_contrastive(argv: Sequence[str]) -> int:
    """``polymodal bench contrastive [OPTIONS]``."""
    from polymodal.contrastive import OBJECTIVES

    options = parse_options(ContrastiveOptions, argv, "polymodal bench contrastive")
    for objective in options.objectives:
        OBJECTIVES.get(objective)
    datasets = bench_datasets(options.datasets, options.xor_probabilities, options.data_options)
    rows = run_contrastive_grid(options, datasets)
    xor = [d for d in datasets if d.xor_probability is not None]
    bits = xor[0].spec.build(0, options.batch_size).bits if xor else None
    show_report(write_contrastive_report(rows, options.out, bits))
    return 0
