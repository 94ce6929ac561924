"""``polymodal bench balance``: balancing methods × datasets × seeds under one protocol.

For each dataset and seed, the unimodal models are trained first (they are
the ``unimodal`` rows, the members of the ``ensemble`` and the starting
point of ``pretrain_finetune``), then every other method, through the grid
runner (:mod:`polymodal.bench.grid`). Each run is stored under
``OUT/runs/<dataset>/<method>/seed<k>/`` with ``result.json``; rerunning with
the same ``OUT`` skips finished runs. A failed run is recorded in the table
with its error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Any

import torch

from polymodal.balance import build_balancer
from polymodal.bench.datasets import DatasetSpec, builtin_spec, npz_spec
from polymodal.bench.grid import Cell, Fit, Outcome, run_grid
from polymodal.bench.options import Names, parse_options
from polymodal.bench.protocol import Protocol, require_positive
from polymodal.bench.report import Row, show_report
from polymodal.errors import PolymodalError
from polymodal.eval.ensemble import ensemble_metrics
from polymodal.tasks.supervised import SupervisedTask

UNIMODAL = "unimodal"
ENSEMBLE = "ensemble"
PRETRAINED = "pretrain_finetune"
PREDICTIONS_FILE = "predictions.pt"


@dataclass(frozen=True)
class UserData:
    """A user dataset: one ``.npz`` per split.

    Attributes:
        train: training .npz (the dataset is named after it)
        val: validation .npz (default: a seeded 10 % of train)
        test: test .npz
    """

    train: str | None = None
    val: str | None = None
    test: str | None = None


@dataclass(frozen=True, kw_only=True)
class BalanceOptions(Protocol):
    """Compare balancing methods under one protocol.

    Attributes:
        out: output folder (results.csv, results.md, figures, runs/)
        datasets: built-in datasets, NAME or NAME:m1+m2 (e.g. synthetic-imbalance,mfeat:kar+mor)
        data: a user dataset of .npz files
        methods: balancing methods (polymodal.balance.BALANCERS), unimodal, ensemble, pretrain_finetune
        method_options: method → options, e.g. '{"mlb": {"alpha": 1.0}}'
        seeds: number of seeds (0..N-1)
    """

    out: Path
    datasets: Names = field(default_factory=Names)
    data: UserData = field(default_factory=UserData)
    methods: Names = field(default_factory=lambda: Names(["joint", "multiloss", "unimodal", "ensemble"]))
    method_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    seeds: int = 3

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "seeds")

    def protocol(self) -> Protocol:
        return Protocol(**{f.name: getattr(self, f.name) for f in fields(Protocol)})

    def specs(self) -> list[DatasetSpec]:
        """The datasets to run; an unknown name is an error."""
        specs = [builtin_spec(name) for name in self.datasets]
        if self.data.train:
            specs.append(npz_spec(self.data.train, self.data.val, self.data.test))
        if not specs:
            raise PolymodalError("give --datasets and/or --data.train FILE")
        return specs


def run_dir_of(out: Path, dataset: str, method: str, seed: int) -> Path:
    return out / "runs" / dataset.replace(":", "_").replace("+", "-") / method / f"seed{seed}"


def supervised_task(method: str, method_options: dict[str, Any], data_info: dict[str, Any], protocol: Protocol,
                    modalities: list[str] | None, pretrained: dict[str, str] | None) -> SupervisedTask:
    """The suite's supervised task (the one place it is constructed).

    A method that works with one fusion head only (MMCosine's cosine head)
    gets that head instead of the protocol's; the table shows it as that method's row.
    """
    balancer = build_balancer(method, **method_options)
    options = protocol.task_options()
    supported = balancer.supported_fusions
    if supported is not None and options["fusion"] not in supported and len(supported) == 1:
        options["fusion"] = next(iter(supported))
    return SupervisedTask(balancer=balancer, modalities=modalities, pretrained=pretrained, data_info=data_info,
                          **options)


def unimodal_of(method: str) -> str | None:
    """The modality of a ``unimodal:<modality>`` row, else None."""
    return method.split(":", 1)[1] if method.startswith(f"{UNIMODAL}:") else None


def build_fit(cell: Cell, options: BalanceOptions, specs: dict[str, DatasetSpec],
              modalities: dict[str, list[str]]) -> Fit:
    """The task factory: a SupervisedTask of the cell's method on its dataset and seed."""
    dataset, method = cell.key["dataset"], cell.key["method"]
    data = specs[dataset].build(cell.seed, options.batch_size)
    modality = unimodal_of(method)
    pretrained = None
    if method == PRETRAINED:  # multi-loss training from the seed's unimodal encoders
        pretrained = {m: str(run_dir_of(options.out, dataset, f"{UNIMODAL}-{m}", cell.seed) / "checkpoints" / "best.ckpt")
                      for m in modalities[dataset]}
    task = supervised_task(
        UNIMODAL if modality else "multiloss" if method == PRETRAINED else method,
        dict(options.method_options.get(method, {})), data.info.to_dict(), options.protocol(),
        [modality] if modality else None, pretrained)
    return Fit(task, data, options.max_epochs, options.accelerator, options.patience)


def summarise(cell: Cell, outcome: Outcome, modalities: dict[str, list[str]]) -> Row:
    """The row summariser: fused accuracy/F1, each unimodal head's accuracy, wall time.

    A unimodal run also stores its test predictions for the ensemble.
    """
    metrics = outcome.metrics
    row: Row = {"acc": metrics.get("test/acc"), "f1_macro": metrics.get("test/f1_macro")}
    modality = unimodal_of(cell.key["method"])
    if modality:
        row[f"acc/{modality}"] = row["acc"]
        task, data = outcome.fit.task, outcome.fit.data
        logits = torch.cat(outcome.trainer.predict(task, dataloaders=data.test_dataloader(), ckpt_path=outcome.best_path))
        targets = torch.cat([batch["target"] for batch in data.test_dataloader()])
        torch.save({"logits": logits.float().cpu(), "targets": targets}, cell.run_dir / PREDICTIONS_FILE)
    else:
        row.update({f"acc/{m}": metrics.get(f"test/acc/{m}") for m in modalities[cell.key["dataset"]]})
    row["wall_s"] = round(outcome.wall_s, 2)
    return row


def grid_cells(options: BalanceOptions, specs: Sequence[DatasetSpec], modalities: dict[str, list[str]]) -> list[Cell]:
    """Per dataset and seed: the unimodal runs (when a row needs them), then every trained method."""
    trained = [m for m in options.methods if m not in (UNIMODAL, ENSEMBLE)]
    need_unimodal = bool({UNIMODAL, ENSEMBLE, PRETRAINED} & set(options.methods))
    cells = []
    for spec in specs:
        for seed in range(options.seeds):
            runs = [(f"{UNIMODAL}:{m}", f"{UNIMODAL}-{m}") for m in modalities[spec.name]] if need_unimodal else []
            runs += [(method, method) for method in trained]
            cells += [Cell({"dataset": spec.name, "method": method, "seed": seed},
                           run_dir_of(options.out, spec.name, directory, seed), f"{spec.name} {method} seed {seed}")
                      for method, directory in runs]
    return cells


def ensemble_row(out: Path, dataset: str, seed: int, members: dict[str, Row]) -> Row:
    """The soft vote (mean class probability) of the seed's unimodal runs."""
    row: Row = {"dataset": dataset, "method": ENSEMBLE, "seed": seed}
    failed = [m for m, member in members.items() if member.get("status") != "ok"]
    if failed:
        return {**row, "status": "failed", "error": f"unimodal member {failed[0]!r} failed"}
    saved = [torch.load(run_dir_of(out, dataset, f"{UNIMODAL}-{m}", seed) / PREDICTIONS_FILE, weights_only=True)
             for m in members]
    num_classes = int(saved[0]["logits"].shape[1])
    if num_classes < 2:
        raise PolymodalError("the ensemble baseline needs class labels")
    metrics = ensemble_metrics([s["logits"] for s in saved], saved[0]["targets"], num_classes)
    row.update({"acc": metrics["test/acc"], "f1_macro": metrics["test/f1_macro"]})
    row.update({f"acc/{m}": member["acc"] for m, member in members.items()})
    row["wall_s"] = round(sum(member["wall_s"] for member in members.values()), 2)
    return {**row, "status": "ok"}


def run_balance_grid(options: BalanceOptions, specs: Sequence[DatasetSpec],
                     modalities: dict[str, list[str]]) -> list[Row]:
    """Run the grid and return one row per reported run (ensembles after each dataset and seed's runs)."""
    cells = grid_cells(options, specs, modalities)
    runs = run_grid("balance", cells, partial(build_fit, options=options, specs={s.name: s for s in specs},
                                              modalities=modalities),
                    partial(summarise, modalities=modalities), headline="acc")
    rows: list[Row] = []
    for spec in specs:
        for seed in range(options.seeds):
            mine = [r for r in runs if r["dataset"] == spec.name and r["seed"] == seed]
            rows += [r for r in mine if UNIMODAL in options.methods or not unimodal_of(r["method"])]
            if ENSEMBLE in options.methods:
                members = {unimodal_of(r["method"]): r for r in mine if unimodal_of(r["method"])}
                rows.append(ensemble_row(options.out, spec.name, seed, members))
    return rows


def write_balance_report(rows: Sequence[Row], out: Path, modalities: dict[str, list[str]],
                         bayes: dict[str, float] | None = None) -> dict[str, Path]:
    """``results.csv``, ``results.md`` (a table per dataset) and the figures of the balance suite.

    ``bayes`` holds the Bayes-optimal accuracy of datasets that know it
    (synthetic data); it is drawn as a line and listed under the tables.
    """
    from polymodal.bench.plots import bar_panels, curve_panels, unimodal_panels
    from polymodal.bench.report import aggregate, dataset_tables, failures_markdown, write_csv

    out.mkdir(parents=True, exist_ok=True)
    unimodal_keys = list(dict.fromkeys(f"acc/{m}" for mods in modalities.values() for m in mods))
    quality = ["acc", "f1_macro", *unimodal_keys]
    summary = aggregate(rows, ["dataset", "method"], [*quality, "wall_s"])
    paths = {"csv": out / "results.csv", "md": out / "results.md", "accuracy": out / "accuracy.png",
             "unimodal": out / "unimodal_accuracy.png"}
    write_csv(rows, paths["csv"])
    tables = dataset_tables(summary, ["method"], [*quality, "wall_s"], ranked=quality)
    paths["md"].write_text(
        "# polymodal bench balance\n\nTest accuracy and macro F1 (acc/<modality>: the unimodal head or model "
        "of that modality), mean ± std over seeds; the best of each column in bold; wall_s: training seconds.\n\n"
        + tables + bayes_markdown(bayes or {}) + failures_markdown(rows))
    bar_panels(summary, "acc", paths["accuracy"], "fused test accuracy (acc)", bayes)
    unimodal_panels(summary, modalities, paths["unimodal"])
    mlb_runs = {f"{r['dataset']} seed {r['seed']}": run_dir_of(out, r["dataset"], "mlb", r["seed"]) / "metrics.csv"
                for r in rows if r["method"] == "mlb" and r.get("status") == "ok"}
    if curve_panels(mlb_runs, "train/k/", out / "mlb_k.png", "MLB coefficient k_m"):
        paths["mlb_k"] = out / "mlb_k.png"
    return paths


def bayes_markdown(bayes: dict[str, float]) -> str:
    if not bayes:
        return ""
    return "\nBayes-optimal accuracy: " + ", ".join(f"{name} {value:.3f}" for name, value in bayes.items()) + "\n"


def run_balance(argv: Sequence[str]) -> int:
    """``polymodal bench balance [OPTIONS]``."""
    from polymodal.balance import BALANCERS

    options = parse_options(BalanceOptions, argv, "polymodal bench balance")
    for method in options.methods:
        if method not in (UNIMODAL, ENSEMBLE, PRETRAINED):
            BALANCERS.get(method)
    specs = options.specs()
    data = {s.name: s.build(0, options.batch_size) for s in specs}
    modalities = {name: list(dm.info.modalities) for name, dm in data.items()}
    rows = run_balance_grid(options, specs, modalities)
    bayes = {name: dm.bayes_accuracy for name, dm in data.items() if hasattr(dm, "bayes_accuracy")}
    show_report(write_balance_report(rows, options.out, modalities, bayes))
    return 0
